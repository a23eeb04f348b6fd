//! The framing around each deflate stream of a gzip file (RFC 1952): the
//! member header before it and the CRC32/ISIZE trailer after it.

const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;
const RESERVED: u8 = 0xe0;

/// Size of the member trailer (CRC32 then ISIZE, little-endian).
pub const TRAILER_LEN: usize = 8;

/// What the start of a byte slice holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderScan {
    /// A complete member header of this many bytes.
    Complete(usize),
    /// A header that continues past the end of the slice.
    NeedMore,
    /// Not a valid member header.
    Invalid(&'static str),
}

/// Scan the gzip member header at the start of `bytes`.
pub fn scan_header(bytes: &[u8]) -> HeaderScan {
    if bytes.len() < 10 {
        if bytes.len() >= 2 && bytes[..2] != [0x1f, 0x8b]
            || bytes.first().is_some_and(|&b| b != 0x1f)
        {
            return HeaderScan::Invalid("not a gzip member (bad magic)");
        }
        return HeaderScan::NeedMore;
    }
    if bytes[..2] != [0x1f, 0x8b] {
        return HeaderScan::Invalid("not a gzip member (bad magic)");
    }
    if bytes[2] != 8 {
        return HeaderScan::Invalid("unknown compression method (only deflate is gzip)");
    }
    let flags = bytes[3];
    if flags & RESERVED != 0 {
        return HeaderScan::Invalid("reserved header flags set");
    }
    let mut pos = 10usize;
    if flags & FEXTRA != 0 {
        let Some(len) = bytes.get(pos..pos + 2) else {
            return HeaderScan::NeedMore;
        };
        pos += 2 + usize::from(u16::from_le_bytes([len[0], len[1]]));
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            match bytes
                .get(pos..)
                .and_then(|rest| rest.iter().position(|&b| b == 0))
            {
                Some(nul) => pos += nul + 1,
                None => return HeaderScan::NeedMore,
            }
        }
    }
    if flags & FHCRC != 0 {
        pos += 2;
    }
    if pos > bytes.len() {
        HeaderScan::NeedMore
    } else {
        HeaderScan::Complete(pos)
    }
}

/// Check a member's trailer against the CRC32 and length of its output;
/// the error says which does not match.
pub fn check_trailer(
    trailer: &[u8; TRAILER_LEN],
    crc: u32,
    len: u64,
) -> std::result::Result<(), &'static str> {
    let want_crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    let want_size = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
    if want_crc != crc {
        Err("CRC32 mismatch: the member is damaged")
    } else if want_size != len as u32 {
        Err("ISIZE mismatch: the member is damaged")
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_with_name_and_extra() {
        let mut h = vec![0x1f, 0x8b, 8, FEXTRA | FNAME | FHCRC, 0, 0, 0, 0, 0, 3];
        h.extend_from_slice(&[2, 0, 9, 9]);
        h.extend_from_slice(b"a.nii\0");
        h.extend_from_slice(&[0, 0]);
        assert_eq!(scan_header(&h), HeaderScan::Complete(h.len()));
        assert_eq!(scan_header(&h[..h.len() - 1]), HeaderScan::NeedMore);
        assert_eq!(scan_header(&h[..12]), HeaderScan::NeedMore);
        assert_eq!(scan_header(&[0x1f]), HeaderScan::NeedMore);
        assert!(matches!(scan_header(b"PK\x03\x04"), HeaderScan::Invalid(_)));
        let mut bad = h.clone();
        bad[3] |= 0x80;
        assert!(matches!(scan_header(&bad), HeaderScan::Invalid(_)));
    }
}
