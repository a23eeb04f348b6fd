//! tioxide's own raw DEFLATE decoder against zlib (flate2, zlib-rs):
//! every level, stored/fixed/dynamic blocks, in place, truncated and
//! corrupted streams.

use std::io::Write;

use tioxide::gz::{RawInflater, RawOutcome};

fn deflate(data: &[u8], level: u32) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(level));
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as u32
    }
}

/// Little-endian int16 voxels: a smooth image plus noise, repeating every
/// "slice" with fresh noise (short matches between literals, like EPI).
fn epi_like(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = Lcg(seed);
    let mut out = Vec::with_capacity(len);
    let mut i = 0u32;
    while out.len() < len {
        let base = 400 + ((i % 4096) / 64) as i32 * 3;
        let v = (base + (rng.next() % 25) as i32 - 12).max(0) as i16;
        out.extend_from_slice(&v.to_le_bytes());
        i += 1;
    }
    out.truncate(len);
    out
}

fn kinds(len: usize) -> Vec<(&'static str, Vec<u8>)> {
    let mut rng = Lcg(7);
    vec![
        ("epi", epi_like(len, 1)),
        ("random", (0..len).map(|_| rng.next() as u8).collect()),
        ("zeros", vec![0u8; len]),
        (
            "runs",
            (0..len).map(|i| ((i / 300) % 7) as u8 * 30).collect(),
        ),
        (
            "text",
            b"the quick brown fox jumps over the lazy dog; "
                .iter()
                .cycle()
                .take(len)
                .copied()
                .collect(),
        ),
    ]
}

fn decode(raw: &[u8], out_len: usize) -> (RawOutcome, Vec<u8>) {
    let mut out = vec![0u8; out_len];
    let r = RawInflater::new().inflate(raw, &mut out);
    (r, out)
}

#[test]
fn every_level_and_kind_decodes_like_zlib() {
    let mut block_types = [false; 3];
    let mut inflater = RawInflater::new().with_crc();
    for len in [0usize, 1, 2, 15, 16, 17, 100, 1000, 70_000, 300_000] {
        for (kind, data) in kinds(len) {
            for level in 0..=9 {
                let raw = deflate(&data, level);
                block_types[usize::from((raw[0] >> 1) & 3)] = true;
                let mut out = vec![0u8; len];
                let r = inflater.inflate(&raw, &mut out);
                assert_eq!(
                    r,
                    RawOutcome::Done {
                        used: raw.len(),
                        produced: len
                    },
                    "{kind} {len} level {level}"
                );
                assert!(out == data, "{kind} {len} level {level}");
                assert_eq!(
                    inflater.crc(),
                    Some(crc32fast::hash(&data)),
                    "{kind} {len} level {level}"
                );
                // Bytes after the final block are not read.
                let mut tail = raw.clone();
                tail.extend_from_slice(&[0xff; 40]);
                assert_eq!(inflater.inflate(&tail, &mut out), r);
            }
        }
    }
    assert_eq!(
        block_types, [true; 3],
        "stored, fixed and dynamic blocks covered"
    );
}

#[test]
fn a_short_output_overflows() {
    let data = epi_like(50_000, 3);
    let raw = deflate(&data, 6);
    for short in [0, 1, 17, 4000, 49_999] {
        assert_eq!(decode(&raw, short).0, RawOutcome::Overflow, "{short}");
    }
    // Room to spare is fine.
    let (r, out) = decode(&raw, 60_000);
    assert_eq!(
        r,
        RawOutcome::Done {
            used: raw.len(),
            produced: data.len()
        }
    );
    assert!(out[..data.len()] == data[..]);
}

#[test]
fn in_place_equals_out_of_place_or_says_no_room() {
    let mut inflater = RawInflater::new();
    for (kind, data) in kinds(200_000) {
        for level in [0, 1, 6, 9] {
            let raw = deflate(&data, level);
            for margin in [0usize, 64, 1 << 10, 64 << 10] {
                // The stream, then 8 bytes standing for a gzip trailer,
                // which the output must not overwrite.
                let trailer = *b"CRC!SIZE";
                let mut buf = vec![0u8; data.len().max(raw.len()) + margin + 8];
                let start = buf.len() - raw.len() - 8;
                buf[start..start + raw.len()].copy_from_slice(&raw);
                buf[start + raw.len()..].copy_from_slice(&trailer);
                match inflater.inflate_in_place(&mut buf, start) {
                    RawOutcome::Done { used, produced } => {
                        assert_eq!((used, produced), (raw.len(), data.len()));
                        assert!(buf[..produced] == data[..], "{kind} {level} {margin}");
                        assert_eq!(buf[start + used..], trailer, "{kind} {level} {margin}");
                    }
                    RawOutcome::NoRoom => {
                        assert!(margin < 64 << 10, "{kind} {level} {margin}: no room");
                    }
                    other => panic!("{kind} {level} {margin}: {other:?}"),
                }
            }
        }
    }
}

#[test]
fn every_truncation_is_refused() {
    for (kind, data) in kinds(20_000) {
        let raw = deflate(&data, 6);
        for cut in (0..raw.len()).step_by(7).chain([raw.len() - 1]) {
            let (r, _) = decode(&raw[..cut], data.len());
            assert!(
                matches!(r, RawOutcome::Bad(_)),
                "{kind} cut at {cut}: {r:?}"
            );
        }
    }
}

/// zlib's verdict (through zlib-rs), in the decoder's terms.
fn zlib(input: &[u8], out: &mut [u8]) -> RawOutcome {
    let mut z = flate2::Decompress::new(false);
    match z.decompress(input, out, flate2::FlushDecompress::Finish) {
        Ok(flate2::Status::StreamEnd) => RawOutcome::Done {
            used: z.total_in() as usize,
            produced: z.total_out() as usize,
        },
        Ok(_) if z.total_out() as usize == out.len() => RawOutcome::Overflow,
        // Out of input before the final block ended.
        Ok(_) => RawOutcome::Bad("the stream ends early"),
        Err(_) => RawOutcome::Bad("zlib refused it"),
    }
}

#[test]
fn corrupted_streams_are_judged_as_zlib_judges_them() {
    // zlib, not libdeflate: libdeflate also accepts a code of one length-1
    // codeword whose unused half is sent, which zlib and gzip(1) refuse.
    let mut rng = Lcg(11);
    let mut inflater = RawInflater::new();
    let (mut accepted, mut refused) = (0, 0);
    for (kind, data) in kinds(30_000) {
        for level in [1, 6, 9] {
            let raw = deflate(&data, level);
            for _ in 0..300 {
                let mut bad = raw.clone();
                for _ in 0..1 + rng.next() % 3 {
                    let at = rng.next() as usize % bad.len();
                    bad[at] ^= 1 << (rng.next() % 8);
                }
                let mut ours = vec![0u8; data.len() + 1000];
                let mut theirs = ours.clone();
                let r = inflater.inflate(&bad, &mut ours);
                match (r, zlib(&bad, &mut theirs)) {
                    (RawOutcome::Done { .. }, z @ RawOutcome::Done { produced, .. }) => {
                        assert_eq!(r, z, "{kind} {level}");
                        assert!(ours[..produced] == theirs[..produced], "{kind} {level}");
                        accepted += 1;
                    }
                    (RawOutcome::Bad(_), RawOutcome::Bad(_))
                    | (RawOutcome::Overflow, RawOutcome::Overflow) => refused += 1,
                    (r, z) => panic!("{kind} {level}: ours {r:?}, zlib {z:?}"),
                }
            }
        }
    }
    assert!(
        accepted > 0 && refused > 0,
        "{accepted} accepted, {refused} refused"
    );
}

#[test]
fn malformed_headers_name_the_problem() {
    // Block type 3 is reserved.
    assert_eq!(
        decode(&[0b111], 10).0,
        RawOutcome::Bad("invalid block type")
    );
    // A stored block whose length check does not match.
    assert_eq!(
        decode(&[0b001, 5, 0, 0, 0, 1, 2, 3, 4, 5], 10).0,
        RawOutcome::Bad("invalid stored block lengths")
    );
    // A stored block longer than the input.
    assert_eq!(
        decode(&[0b001, 5, 0, 0xfa, 0xff, 1, 2], 10).0,
        RawOutcome::Bad("the stream ends early")
    );
    assert_eq!(decode(&[], 10).0, RawOutcome::Bad("the stream ends early"));
    // A dynamic block whose code-length code is a single 1-bit code (for
    // symbol 18): incomplete, which zlib refuses however it is used.
    let incomplete = [0b101, 0, 0x80, 0, 0, 0, 0, 0];
    assert_eq!(
        decode(&incomplete, 1000).0,
        RawOutcome::Bad("invalid code lengths set")
    );
    assert!(matches!(
        zlib(&incomplete, &mut [0u8; 1000]),
        RawOutcome::Bad(_)
    ));
}
