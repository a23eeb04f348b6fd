//! Whole-stream inflate, member by member (libdeflate or tioxide's own
//! decoder, see [`Engine::for_stream`]): into a separate buffer, or in
//! place, from the tail of the output buffer to its head.

use super::engine::{Engine, Member};
use super::raw_inflate::Span;
use crate::error::{Error, Result};

/// Outcome of [`inflate_members`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inflated {
    /// The stream ended after this many output bytes (CRC32 and ISIZE of every member checked).
    Complete(usize),
    /// The stream holds more than the output buffer; the buffer is full and checked
    /// only up to the last complete member.
    Overflow,
}

/// Inflate every gzip member of `input` into `out`.
///
/// After the last member, zero padding and any other trailing bytes that do
/// not start a gzip member are ignored, as gzip(1) does.
pub fn inflate_members(input: &[u8], out: &mut [u8]) -> Result<Inflated> {
    // SAFETY: two live slices, distinct since `out` is borrowed mutably.
    unsafe {
        members(Span {
            input: input.as_ptr(),
            in_len: input.len(),
            out: out.as_mut_ptr(),
            out_len: out.len(),
            in_place: None,
        })
    }
}

/// Room that in-place inflate keeps between the output written so far and
/// the compressed bytes still to read, for a stream of `in_len` bytes: a
/// whole stored block (64 KiB, copied in one go) plus what libdeflate writes
/// past its output position, plus what encoders that fall back to stored
/// blocks for incompressible data can expand a stretch of it by (5 bytes
/// per 64 KiB block, far below 1/16; a fixed-Huffman tail could expand
/// more, and is caught as described at [`inflate_members_in_place`]).
pub fn in_place_margin(in_len: usize) -> usize {
    (256 << 10) + in_len / 16
}

/// Inflate the gzip stream held in the last `in_len` of the `len` bytes at
/// `base` into the first `out_len` bytes there, so that a whole-file
/// inflate needs no memory beyond its output and [`in_place_margin`].
///
/// Every byte of the stream is read before the output reaches it as long
/// as no part of the stream after the current position expands its data by
/// more than the margin (`len - out_len`): true of the streams of encoders
/// that fall back to stored blocks for incompressible data (zlib, zlib-ng,
/// libdeflate, pigz, ISA-L at their usual settings). A stream that expands
/// more than that between member starts sees unread bytes overwritten; it
/// then almost always fails the CRC32/ISIZE check of its member, overflows,
/// or ends short, and the caller inflates it again out of place. The one
/// gap, with libdeflate only (tioxide's own decoder never writes past the
/// next unconsumed byte, and fails instead): a stream crafted for it can
/// make the overwritten bytes decode to
/// data that matches the member's trailer, so that a file gzip(1) rejects
/// (or reads differently) is accepted: memory-safe, but a difference from
/// gzip(1) that only a crafted file shows.
///
/// # Safety
///
/// `base` must be valid for reads and writes of `len` bytes for the whole
/// call, with nothing else accessing them; its last `in_len` bytes must be
/// initialised (the stream). The rest may be uninitialised: only what the
/// inflate writes is read back.
pub unsafe fn inflate_members_in_place(
    base: *mut u8,
    len: usize,
    in_len: usize,
    out_len: usize,
) -> Result<Inflated> {
    let in_len = in_len.min(len);
    let out_len = out_len.min(len);
    let start = len - in_len;
    // SAFETY: both ranges lie inside the caller's `len` bytes, which
    // nothing else touches meanwhile. They overlap in one allocation;
    // libdeflate declares its arguments `restrict`, which is honoured in
    // effect because a byte is read through the input pointer at least the
    // margin's worth of progress (more than any access libdeflate holds in
    // flight) before the output pointer can write it, and `members` stops
    // at a member boundary where that no longer holds. Reads of bytes that
    // a crafted stream let the output overwrite are detected as described
    // above.
    unsafe {
        members(Span {
            input: base.add(start).cast_const(),
            in_len,
            out: base,
            out_len,
            in_place: Some(start),
        })
    }
}

/// The member loop over raw ranges.
///
/// # Safety
///
/// As [`super::raw_inflate::RawInflater::inflate_ptr`].
unsafe fn members(span: Span) -> Result<Inflated> {
    let engine = Engine::for_stream(span.in_len, span.out_len)?;
    // SAFETY: the caller's contract.
    unsafe { members_with(engine, span) }
}

/// [`members`] with a given decoder.
///
/// # Safety
///
/// As [`members`].
unsafe fn members_with(mut engine: Engine, span: Span) -> Result<Inflated> {
    let Span {
        input,
        in_len,
        out,
        out_len,
        in_place,
    } = span;
    let (mut pos, mut written) = (0usize, 0usize);
    let out_of_room = |pos: usize| {
        Err(Error::gzip(
            pos as u64,
            "in-place inflate ran out of room (the stream expands)",
        ))
    };
    loop {
        if in_place.is_some_and(|start| written > start + pos) {
            // The output has passed the next input byte: it can no longer
            // be trusted (the caller inflates out of place).
            return out_of_room(pos);
        }
        // SAFETY: pos <= in_len; at most two bytes ahead are read, still
        // inside the input, and no output write is in flight.
        let magic = unsafe { std::slice::from_raw_parts(input.add(pos), (in_len - pos).min(2)) };
        if magic == [0x1f] {
            // gzip(1) reads a lone 0x1f at the end as a member cut short.
            return Err(Error::gzip(
                pos as u64,
                "the stream ends inside a member header",
            ));
        }
        if !super::is_gzip(magic) {
            if pos == 0 {
                return Err(Error::gzip(0, "not a gzip stream (bad magic)"));
            }
            return Ok(Inflated::Complete(written));
        }
        if in_place.is_some_and(|start| written + in_place_margin(0) > start + pos) {
            // Another member, without the margin before it.
            return out_of_room(pos);
        }
        // SAFETY: the remaining input and output ranges lie inside the
        // caller's ranges (pos <= in_len, written <= out_len); in place the
        // input starts `start + pos - written` bytes after this member's
        // output (written <= start + pos, checked above).
        let decoded = unsafe {
            engine.member(Span {
                input: input.add(pos),
                in_len: in_len - pos,
                out: out.add(written),
                out_len: out_len - written,
                in_place: in_place.map(|start| start + pos - written),
            })
        };
        match decoded {
            Member::Done { used, produced } => {
                pos += used;
                written += produced;
            }
            Member::Overflow => return Ok(Inflated::Overflow),
            Member::NoRoom => return out_of_room(pos),
            Member::Bad(why) => {
                return Err(Error::gzip(
                    pos as u64,
                    format!("member is damaged or truncated ({why})"),
                ))
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::gz::Decompressor;
    use std::io::Write;

    pub(crate) fn gzip(data: &[u8], level: u32) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// Both decoders, named.
    fn engines() -> [(&'static str, Engine); 2] {
        [
            (
                "libdeflate",
                Engine::Libdeflate(Decompressor::new().unwrap()),
            ),
            ("tioxide", Engine::Own(Box::default())),
        ]
    }

    /// In place with each decoder; both must agree, and the result is theirs.
    fn in_place(gz: &[u8], out_len: usize) -> Result<(Inflated, Vec<u8>)> {
        let mut results = engines().map(|(name, engine)| {
            let mut buf = vec![0u8; out_len + in_place_margin(gz.len())];
            let n = buf.len();
            buf[n - gz.len()..].copy_from_slice(gz);
            let start = n - gz.len();
            // SAFETY: the pointer and length describe `buf`, initialised;
            // the input starts `start` bytes in.
            let r = unsafe {
                members_with(
                    engine,
                    Span {
                        input: buf.as_mut_ptr().add(start),
                        in_len: gz.len(),
                        out: buf.as_mut_ptr(),
                        out_len: out_len.min(n),
                        in_place: Some(start),
                    },
                )
            };
            buf.truncate(out_len);
            (name, r.map(|r| (r, buf)))
        });
        let [(_, lib), (_, own)] = &mut results;
        match (&lib, &own) {
            (Ok(a), Ok(b)) => assert!(a == b, "the decoders disagree"),
            (Err(_), Err(_)) => {}
            _ => panic!("the decoders disagree: libdeflate {lib:?}, tioxide {own:?}"),
        }
        std::mem::replace(own, Ok((Inflated::Overflow, Vec::new())))
    }

    pub(crate) fn phantom(len: usize) -> Vec<u8> {
        // Smooth runs with noise: compresses to about half, like images.
        let mut x = 12345u32;
        (0..len)
            .map(|i| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                ((i / 700) as u8).wrapping_add((x >> 29) as u8)
            })
            .collect()
    }

    #[test]
    fn in_place_equals_the_data_for_every_level_and_multiple_members() {
        let data = phantom(3 << 20);
        for level in [0, 1, 6, 9] {
            let gz = gzip(&data, level);
            let (r, out) = in_place(&gz, data.len()).unwrap();
            assert_eq!(r, Inflated::Complete(data.len()), "level {level}");
            assert!(out == data, "level {level}");
        }
        // Three members, the middle one stored (level 0), then trailing zeros.
        let (a, b, c) = (&data[..1 << 20], &data[1 << 20..2 << 20], &data[2 << 20..]);
        let mut gz = gzip(a, 6);
        gz.extend(gzip(b, 0));
        gz.extend(gzip(c, 9));
        gz.extend([0u8; 100]);
        let (r, out) = in_place(&gz, data.len()).unwrap();
        assert_eq!(r, Inflated::Complete(data.len()));
        assert!(out == data);
    }

    #[test]
    fn in_place_takes_long_zero_padding_after_the_last_member() {
        // Tape-style padding: more than the margin's share of the stream, but
        // no member follows it, so the output may run into it.
        let data = phantom(1 << 20);
        let mut gz = gzip(&data, 6);
        gz.extend(vec![0u8; 200 << 10]);
        let (r, out) = in_place(&gz, data.len()).unwrap();
        assert_eq!(r, Inflated::Complete(data.len()));
        assert!(out == data);
    }

    #[test]
    fn in_place_reports_damage_and_overflow_like_out_of_place() {
        let data = phantom(1 << 20);
        let mut gz = gzip(&data, 6);
        let n = gz.len();
        gz[n - 8] ^= 1; // CRC32
        assert!(in_place(&gz, data.len()).is_err());
        assert!(inflate_members(&gz, &mut vec![0; data.len()]).is_err());
        for (name, engine) in engines() {
            let mut out = vec![0; data.len()];
            // SAFETY: two live, distinct slices.
            let r = unsafe {
                members_with(
                    engine,
                    Span {
                        input: gz.as_ptr(),
                        in_len: gz.len(),
                        out: out.as_mut_ptr(),
                        out_len: out.len(),
                        in_place: None,
                    },
                )
            };
            assert!(r.is_err(), "{name}: a bad CRC32 accepted");
        }
        let gz = gzip(&data, 6);
        assert_eq!(in_place(&gz, data.len() - 1).unwrap().0, Inflated::Overflow);
        assert!(in_place(&gz[..gz.len() / 2], data.len()).is_err());
    }

    #[test]
    fn a_stream_that_expands_past_the_margin_fails_instead_of_lying() {
        // Members of empty stored blocks produce nothing and use input: the
        // output outruns the margin; the result must be an error or the
        // exact data, never other bytes.
        let data = phantom(1 << 20);
        let mut gz = gzip(&data, 9);
        for _ in 0..20_000 {
            gz.extend(gzip(b"", 0));
        }
        gz.extend(gzip(&data, 9));
        let mut want = data.clone();
        want.extend(&data);
        let mut buf = vec![0u8; want.len().max(gz.len()) + (64 << 10)];
        let n = buf.len();
        buf[n - gz.len()..].copy_from_slice(&gz);
        // SAFETY: the pointer and length describe `buf`, initialised.
        match unsafe { inflate_members_in_place(buf.as_mut_ptr(), n, gz.len(), want.len()) } {
            Ok(Inflated::Complete(m)) => assert!(m == want.len() && buf[..m] == want[..]),
            Ok(Inflated::Overflow) => panic!("cannot overflow"),
            Err(_) => {}
        }
    }
}
