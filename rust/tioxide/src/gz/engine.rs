//! Which decoder inflates a whole gzip member: libdeflate, or tioxide's own
//! [`RawInflater`] with the gzip framing around it, chosen per stream.

use super::libdeflate::{Decoded, Decompressor};
use super::member::{check_trailer, scan_header, HeaderScan, TRAILER_LEN};
use super::raw_inflate::{RawInflater, RawOutcome, Span};
use crate::error::Result;

/// What one member's decode gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Member {
    /// The member ended: bytes of the stream used (header, data, trailer)
    /// and bytes written, CRC32 and ISIZE checked.
    Done { used: usize, produced: usize },
    /// The output has no room for the member.
    Overflow,
    /// In place, the output would have overwritten input not yet read.
    NoRoom,
    /// The member is damaged or cut short.
    Bad(&'static str),
}

/// A whole-member decoder.
pub(super) enum Engine {
    Libdeflate(Decompressor),
    Own(Box<RawInflater>),
}

impl Engine {
    /// The decoder for a stream of `in_len` compressed bytes expected to
    /// give `out_len`. tioxide's own decoder takes streams compressed to 40%
    /// or more of their size: noisy integer images, whose literals alternate
    /// with short matches, which its fused table entries and branch-free
    /// steps decode in 0.78-0.84x libdeflate's time (EPI series, int16 T1).
    /// Below that the stream is mostly literal runs or long copies (float
    /// images, 0.23-0.29; label maps, 0.02), where libdeflate's loop is
    /// 1.07-1.35x faster.
    pub(super) fn for_stream(in_len: usize, out_len: usize) -> Result<Engine> {
        if own_is_faster(in_len, out_len) {
            Ok(Engine::Own(Box::new(RawInflater::new().with_crc())))
        } else {
            Ok(Engine::Libdeflate(Decompressor::new()?))
        }
    }

    /// Decode the gzip member at the start of `span`'s input.
    ///
    /// # Safety
    ///
    /// As [`RawInflater::inflate_ptr`].
    pub(super) unsafe fn member(&mut self, span: Span) -> Member {
        match self {
            // SAFETY: the caller's contract; libdeflate keeps its output
            // behind its input far enough in the streams the in-place
            // caller accepts (see `inflate_members_in_place`).
            Engine::Libdeflate(d) => {
                match unsafe { d.gzip_raw(span.input, span.in_len, span.out, span.out_len) } {
                    Decoded::Done { used, produced } => Member::Done { used, produced },
                    Decoded::Overflow => Member::Overflow,
                    Decoded::Bad => Member::Bad("bad deflate data, CRC32 or ISIZE"),
                }
            }
            // SAFETY: the caller's contract.
            Engine::Own(r) => unsafe { own_member(r, span) },
        }
    }
}

/// Whether tioxide's own decoder inflates a stream of `in_len` compressed
/// bytes giving `out_len` faster than libdeflate (see [`Engine::for_stream`]).
pub(super) fn own_is_faster(in_len: usize, out_len: usize) -> bool {
    in_len.saturating_mul(5) >= out_len.saturating_mul(2)
}

/// A gzip member through [`RawInflater`]: header, raw stream, trailer.
///
/// # Safety
///
/// As [`RawInflater::inflate_ptr`].
unsafe fn own_member(inflater: &mut RawInflater, span: Span) -> Member {
    let (input, in_len, out) = (span.input, span.in_len, span.out);
    // SAFETY: the input is readable and initialised for `in_len` bytes, and
    // nothing writes to it while this borrow lives (the decode comes after).
    let whole = unsafe { std::slice::from_raw_parts(input, in_len) };
    let head = match scan_header(whole) {
        HeaderScan::Complete(n) => n,
        HeaderScan::NeedMore => return Member::Bad("the stream ends inside a member header"),
        HeaderScan::Invalid(why) => return Member::Bad(why),
    };
    // SAFETY: `head <= in_len`; the caller's contract for the rest. In
    // place, the output never reaches an input byte not yet consumed, nor
    // the bytes after the deflate stream (the trailer).
    let raw = unsafe {
        inflater.inflate_ptr(Span {
            input: input.add(head),
            in_len: in_len - head,
            in_place: span.in_place.map(|start| start + head),
            ..span
        })
    };
    match raw {
        RawOutcome::Done { used, produced } => {
            let end = head + used;
            // SAFETY: re-borrowed after the writes, inside the input.
            let whole = unsafe { std::slice::from_raw_parts(input, in_len) };
            let Some(trailer) = whole
                .get(end..end + TRAILER_LEN)
                .and_then(|t| <&[u8; TRAILER_LEN]>::try_from(t).ok())
            else {
                return Member::Bad("the stream ends inside a member trailer");
            };
            let crc = inflater.crc().unwrap_or_else(|| {
                // SAFETY: the decoder wrote these `produced` bytes.
                crc32fast::hash(unsafe { std::slice::from_raw_parts(out.cast_const(), produced) })
            });
            match check_trailer(trailer, crc, produced as u64) {
                Ok(()) => Member::Done {
                    used: end + TRAILER_LEN,
                    produced,
                },
                Err(why) => Member::Bad(why),
            }
        }
        RawOutcome::Overflow => Member::Overflow,
        RawOutcome::NoRoom => Member::NoRoom,
        RawOutcome::Bad(why) => Member::Bad(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_compressed_to_40_percent_or_more_take_the_own_decoder() {
        let own = |i, o| matches!(Engine::for_stream(i, o), Ok(Engine::Own(_)));
        assert!(own(40, 100) && own(52, 100) && own(100, 100) && own(5, 0));
        assert!(!own(39, 100) && !own(29, 100) && !own(2, 100));
        // No overflow at the extremes.
        assert!(own(usize::MAX, usize::MAX) && !own(0, usize::MAX));
    }
}
