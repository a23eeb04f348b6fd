//! The seek index: chunks inflated from checkpoints equal a full decode, for
//! every compression level, single- and multi-member streams and any span.

mod common;

use std::io::Write;

use common::Lcg;
use flate2::write::GzEncoder;
use flate2::Compression;
use tioxide::gz::{
    continue_chunk, decode_chunk, extend, first_data_offset, prefix_len, Checkpoint, SeekIndex,
    WINDOW,
};

/// Data that compresses like images: smooth runs, noise and repeats.
fn image_like(n: usize, seed: u64) -> Vec<u8> {
    let mut rng = Lcg(seed);
    let mut out = Vec::with_capacity(n);
    let mut v = 0i32;
    while out.len() < n {
        match rng.below(4) {
            0 => {
                let run = 1 + rng.below(5000);
                out.extend(std::iter::repeat_n((v & 0xff) as u8, run));
            }
            1 => {
                let n = 1 + rng.below(3000);
                out.extend(rng.bytes(n));
            }
            2 if out.len() > 40_000 => {
                let back = 1 + rng.below(32_000);
                let len = 3 + rng.below(300);
                let start = out.len() - back;
                for i in 0..len {
                    out.push(out[start + i]);
                }
            }
            _ => {
                for _ in 0..rng.below(4000) {
                    v += rng.below(7) as i32 - 3;
                    out.extend_from_slice(&(v as i16).to_le_bytes());
                }
            }
        }
    }
    out.truncate(n);
    out
}

fn gzip(data: &[u8], level: u32) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::new(level));
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Build a full index (in several lazy steps) and check every chunk.
fn check_all_chunks(compressed: &[u8], data: &[u8], span: u64) -> SeekIndex {
    let mut index = SeekIndex::new(span, first_data_offset(&compressed).unwrap());
    let mut target = 1u64;
    while !index.complete {
        target = (target * 3).max(index.covered() + 1);
        let kept = extend(&compressed, &mut index, target, &|s, _| s % 2 == 0).unwrap();
        for chunk in kept {
            let (s, e) = index.chunk_range(chunk.number);
            let (s, e, head) = (s as usize, e as usize, chunk.head);
            assert_eq!(
                &chunk.buf[head..],
                &data[s..e],
                "kept chunk {}",
                chunk.number
            );
            // Before it, in the buffer it was inflated into: the output
            // before it, at most a window of it.
            assert!(head <= WINDOW.min(s), "history of {head} bytes before {s}");
            assert_eq!(&chunk.buf[..head], &data[s - head..s]);
        }
    }
    assert_eq!(index.total_out(), Some(data.len() as u64));
    for i in 0..index.chunks() {
        let (a, b) = (&index.points[i], &index.points[i + 1]);
        let whole = decode_chunk(&compressed, a, b, None).unwrap();
        let (out, valid) = (whole.buf, whole.valid);
        assert!(whole.stop.is_none());
        let got = &out[prefix_len(a)..];
        assert_eq!(valid, got.len());
        assert_eq!(got, &data[a.out as usize..b.out as usize], "chunk {i}");
        // Cut short: the first `need` bytes are right whatever the blocks are.
        for need in [1usize, 1000, 40_000, 100_000] {
            let part = decode_chunk(&compressed, a, b, Some(need)).unwrap();
            assert!(part.valid >= need.min(got.len()));
            let got = &part.buf[prefix_len(a)..prefix_len(a) + need.min(got.len())];
            let want = &data[a.out as usize..][..got.len()];
            assert_eq!(got, want, "chunk {i}, first {need} bytes");
        }
        check_continued(compressed, data, a, b);
    }
    index
}

/// A chunk inflated in steps, each going on from the block end the last
/// stopped at, equals the chunk; stops lie inside it, in order.
fn check_continued(compressed: &[u8], data: &[u8], a: &Checkpoint, b: &Checkpoint) {
    let stops = a.stops();
    assert!(stops
        .windows(2)
        .all(|w| w[0].out < w[1].out && w[0].bit < w[1].bit));
    assert!(stops.iter().all(|s| a.out < s.out && s.out < b.out));
    let Some(first) = stops.first() else { return };
    let want = &data[a.out as usize..b.out as usize];
    let mut part = decode_chunk(&compressed, a, b, Some(1)).unwrap();
    assert_eq!(
        part.valid as u64,
        first.out - a.out,
        "stops at the first block end"
    );
    let mut need = 1usize;
    while part.stop.is_some() {
        need = part.valid + 1 + need * 3 % 70_000;
        let before = part.valid;
        continue_chunk(&compressed, a, b, &mut part, need).unwrap();
        assert!(part.valid > before && part.valid >= need.min(want.len()));
        let p = prefix_len(a);
        assert_eq!(
            &part.buf[p..p + part.valid],
            &want[..part.valid],
            "continued to {need}"
        );
    }
    assert_eq!(part.valid, want.len());
}

#[test]
fn every_level_single_member() {
    let data = image_like(6 << 20, 1);
    for level in 0..=9 {
        let gz = gzip(&data, level);
        let index = check_all_chunks(&gz, &data, 256 << 10);
        // zlib-rs's level 1 (zlib-ng's deflate_quick) writes few, huge
        // blocks: the index can only stop between blocks.
        if level != 1 {
            assert!(
                index.chunks() >= 8,
                "level {level}: {} chunks",
                index.chunks()
            );
        }
    }
}

/// Files from GNU gzip, the usual producer of `.nii.gz`.
#[test]
fn gnu_gzip_levels() {
    let data = image_like(3 << 20, 5);
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("d.bin");
    std::fs::write(&raw, &data).unwrap();
    for level in ["-1", "-6", "-9"] {
        let out = std::process::Command::new("gzip")
            .args([level, "-c"])
            .arg(&raw)
            .output()
            .expect("gzip(1) is part of every Debian system");
        assert!(out.status.success());
        let index = check_all_chunks(&out.stdout, &data, 256 << 10);
        assert!(
            index.chunks() >= 8,
            "gzip {level}: {} chunks",
            index.chunks()
        );
    }
}

#[test]
fn multi_member_and_empty_members() {
    let data = image_like(2 << 20, 2);
    let mut gz = Vec::new();
    let mut cuts = vec![
        0usize,
        1,
        70_000,
        70_000,
        300_001,
        1 << 20,
        (1 << 20) + 65_536,
    ];
    cuts.push(data.len());
    for w in cuts.windows(2) {
        gz.extend(gzip(&data[w[0]..w[1]], 6));
    }
    gz.extend(gzip(&[], 6));
    check_all_chunks(&gz, &data, 64 << 10);
    // Trailing zeros are padding, as gzip(1) reads them.
    gz.extend([0u8; 100]);
    check_all_chunks(&gz, &data, 200 << 10);
}

#[test]
fn bgzip_style_small_members() {
    let data = image_like(1 << 20, 3);
    let gz: Vec<u8> = data.chunks(65_280).flat_map(|c| gzip(c, 5)).collect();
    check_all_chunks(&gz, &data, 64 << 10);
}

/// A noisy int16 image: a smooth field plus noise in the low bits, which
/// compresses to well over 40% of its size (an EPI series, a noisy T1).
fn noisy_int16(n: usize, seed: u64) -> Vec<u8> {
    let mut rng = Lcg(seed);
    let mut field = 0i32;
    (0..n / 2)
        .flat_map(|i| {
            if i % 256 == 0 {
                field = 400 + rng.below(200) as i32;
            }
            ((field + rng.below(64) as i32) as i16).to_le_bytes()
        })
        .collect()
}

/// Chunks compressed to 40% of their size or more are inflated by tioxide's
/// own decoder: they equal the data whole, cut short and continued, across
/// multiple members, and a changed byte fails them.
#[test]
fn noisy_chunks_through_the_own_decoder() {
    let data = noisy_int16(3 << 20, 9);
    for level in [4, 6, 9] {
        let gz = gzip(&data, level);
        assert!(
            gz.len() * 5 >= data.len() * 2,
            "level {level}: {} bytes",
            gz.len()
        );
        let index = check_all_chunks(&gz, &data, 64 << 10);
        assert!(
            index.chunks() >= 6,
            "level {level}: {} chunks",
            index.chunks()
        );
        let mut flipped = gz.clone();
        let (a, b) = (&index.points[3], &index.points[4]);
        flipped[(a.bit / 8 + b.bit / 8) as usize / 2] ^= 0x10;
        assert!(decode_chunk(&flipped, a, b, None).is_err(), "level {level}");
    }
    let members: Vec<u8> = data.chunks(700_001).flat_map(|c| gzip(c, 6)).collect();
    check_all_chunks(&members, &data, 128 << 10);
}

#[test]
fn corrupt_and_truncated_streams() {
    let data = image_like(1 << 20, 4);
    let gz = gzip(&data, 6);
    let start = first_data_offset(&gz).unwrap();
    let cut = &gz[..gz.len() / 2];
    let mut index = SeekIndex::new(64 << 10, start);
    let err = extend(&cut, &mut index, u64::MAX, &|_, _| false).unwrap_err();
    assert!(matches!(err, tioxide::Error::TruncatedFile { .. }), "{err}");
    let mut bad_crc = gz.clone();
    let n = bad_crc.len();
    bad_crc[n - 6] ^= 1;
    let mut index = SeekIndex::new(64 << 10, start);
    let err = extend(&bad_crc, &mut index, u64::MAX, &|_, _| false).unwrap_err();
    assert!(err.to_string().contains("CRC32"), "{err}");
    // A chunk decoded from a good index over a changed file fails its CRC check.
    let index = check_all_chunks(&gz, &data, 64 << 10);
    let mut flipped = gz.clone();
    let (a, b) = (&index.points[3], &index.points[4]);
    flipped[(a.bit / 8 + b.bit / 8) as usize / 2] ^= 0x10;
    assert!(decode_chunk(&flipped, a, b, None).is_err());
}

#[test]
fn sidecar_round_trip_and_lies() {
    use tioxide::gz::{load_sidecar, save_sidecar};
    let data = image_like(2 << 20, 6);
    let gz = gzip(&data, 6);
    let index = check_all_chunks(&gz, &data, 128 << 10);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.tioxidx");
    save_sidecar(&path, &index, &gz).unwrap();
    assert_eq!(load_sidecar(&path, &gz).unwrap(), Some(index.clone()));
    assert_eq!(load_sidecar(&dir.path().join("none"), &gz).unwrap(), None);
    // A version 1 file (no block ends) is still read, without its stops.
    let v2 = std::fs::read(&path).unwrap();
    let stops: usize = index.points.iter().map(|p| 4 + 20 * p.stops().len()).sum();
    assert!(stops > 4 * index.points.len(), "the index has block ends");
    let mut v1 = v2[..v2.len() - 4 - stops].to_vec();
    v1[8..12].copy_from_slice(&1u32.to_le_bytes());
    let crc = crc32fast::hash(&v1);
    v1.extend_from_slice(&crc.to_le_bytes());
    let old = dir.path().join("v1.tioxidx");
    std::fs::write(&old, &v1).unwrap();
    let read = load_sidecar(&old, &gz).unwrap().unwrap();
    assert!(read.points.iter().all(|p| p.stops().is_empty()));
    assert_eq!(read.points.len(), index.points.len());
    assert_eq!(read.points[1].window_len(), index.points[1].window_len());
    // Other contents of the same size: stale.
    let mut other = gz.clone();
    let n = other.len();
    other[n - 1] ^= 1;
    assert!(load_sidecar(&path, &other)
        .unwrap_err()
        .contains("other contents"));
    // A checkpoint claiming far more output than its bytes can hold, with
    // a valid checksum: refused before anyone allocates for it.
    let mut bytes = std::fs::read(&path).unwrap();
    let first_point = 8 + 4 + 8 + 4 + 4 + 8 + 1 + 8;
    let second_out = first_point + 8 + 8 + 8 + 4 + 1 + 1 + 4 + 4; // first has no window
    bytes[second_out..second_out + 8].copy_from_slice(&(1u64 << 50).to_le_bytes());
    let body = bytes.len() - 4;
    let crc = crc32fast::hash(&bytes[..body]);
    bytes[body..].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&path, &bytes).unwrap();
    assert!(load_sidecar(&path, &gz).unwrap_err().contains("invalid"));
}

/// zlib-rs level 1 writes very long blocks: indexing without keeping chunks
/// drops their output as it goes (only windows are kept) and stays correct.
#[test]
fn long_blocks_are_indexed_without_holding_them() {
    let data = image_like(24 << 20, 7);
    let gz = gzip(&data, 1);
    let mut index = SeekIndex::new(1 << 20, first_data_offset(&gz).unwrap());
    extend(&gz, &mut index, u64::MAX, &|_, _| false).unwrap();
    assert!(index.complete);
    let longest = (0..index.chunks())
        .map(|i| index.chunk_range(i))
        .map(|(a, b)| b - a)
        .max();
    // Longer than the point where unwanted output is dropped (8 MiB).
    assert!(longest > Some(8 << 20), "{longest:?}");
    assert_eq!(index.total_out(), Some(data.len() as u64));
    for i in 0..index.chunks() {
        let (a, b) = (&index.points[i], &index.points[i + 1]);
        let out = decode_chunk(&gz, a, b, None).unwrap().buf;
        assert_eq!(&out[prefix_len(a)..], &data[a.out as usize..b.out as usize]);
    }
}

/// Range reads through the chunk cache: a chunk inflated only up to the
/// first range is continued for the later, deeper ones; every byte equals
/// the data (ranges sorted per read, as region reads give them).
#[test]
fn cached_partial_chunks_are_continued_correctly() {
    use tioxide::gz::IndexedGz;
    let data = image_like(4 << 20, 9);
    let gz = gzip(&data, 6);
    let id = format!("continued-{}", std::process::id());
    let reader = IndexedGz::new(&gz, Some(id), None);
    let index = reader.build().unwrap();
    assert!(index.points[1..].iter().any(|p| !p.stops().is_empty()));
    let mut rng = Lcg(11);
    for round in 0..200 {
        let chunk = rng.below(index.chunks());
        let (c0, c1) = index.chunk_range(chunk);
        // Deeper into the chunk each time it comes back, now and then.
        let at = c0 + rng.below((c1 - c0) as usize) as u64;
        let len = 1 + rng.below(5000) as u64;
        let ranges = [(c0, c0 + 10), (at, (at + len).min(data.len() as u64))];
        assert_reads(&reader, &data, &ranges, round);
    }
}

/// Read `ranges` (sorted, disjoint) through `reader`: each equals `data`'s.
fn assert_reads(
    reader: &tioxide::gz::IndexedGz<'_>,
    data: &[u8],
    ranges: &[(u64, u64)],
    round: usize,
) {
    let mut got = Vec::new();
    reader
        .read_ranges(ranges, &mut |_, bytes| got.push(bytes.to_vec()))
        .unwrap();
    for (k, &(s, e)) in ranges.iter().enumerate() {
        assert_eq!(
            got[k],
            data[s as usize..e as usize],
            "round {round}, range {k}"
        );
    }
}

/// Range reads keep only the bytes from the first one needed (and the last
/// window): ranges that come back lower in a chunk inflate it again, ranges
/// deeper continue the kept bytes. Every byte equals the data either way.
#[test]
fn chunks_kept_from_their_first_needed_byte_serve_any_later_range() {
    use tioxide::gz::IndexedGz;
    let data = image_like(4 << 20, 21);
    let gz = gzip(&data, 6);
    let id = format!("kept-{}", std::process::id());
    let reader = IndexedGz::new(&gz, Some(id), None);
    let index = reader.build().unwrap();
    let mut rng = Lcg(5);
    for round in 0..400 {
        let chunk = rng.below(index.chunks().min(3));
        let (c0, c1) = index.chunk_range(chunk);
        let mut ranges: Vec<(u64, u64)> = (0..1 + rng.below(3))
            .map(|_| {
                let at = c0 + rng.below((c1 - c0) as usize) as u64;
                (at, (at + 1 + rng.below(3000) as u64).min(data.len() as u64))
            })
            .collect();
        ranges.sort_unstable();
        ranges.dedup_by(|b, a| b.0 < a.1);
        assert_reads(&reader, &data, &ranges, round);
    }
}

/// A part cut down to its last bytes (at least a window) still continues.
#[test]
fn compacted_parts_continue() {
    let data = image_like(3 << 20, 4);
    let gz = gzip(&data, 9);
    let index = check_all_chunks(&gz, &data, 1 << 20);
    let mut checked = 0;
    for w in index.points.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        let want = &data[a.out as usize..b.out as usize];
        let Some(mid) = a.stops().iter().find(|s| s.out - a.out > 100_000) else {
            continue;
        };
        let need = (mid.out - a.out) as usize;
        let part = decode_chunk(&gz, a, b, Some(need)).unwrap();
        let keep_from = part.valid - 40_000;
        let mut kept = part.compact(keep_from);
        assert_eq!(
            (kept.head, kept.first, kept.buf.len()),
            (0, keep_from, 40_000)
        );
        assert!(kept.continuable(a));
        assert_eq!(
            kept.range(keep_from, part.valid),
            Some(&want[keep_from..part.valid])
        );
        assert_eq!(kept.range(keep_from - 1, part.valid), None);
        continue_chunk(&gz, a, b, &mut kept, part.valid + 1).unwrap();
        assert!(kept.valid > part.valid);
        assert_eq!(
            kept.range(keep_from, kept.valid),
            Some(&want[keep_from..kept.valid])
        );
        // Less than the history before the stop: not continuable.
        let short = part.compact(part.valid - 1000);
        assert!(!short.continuable(a));
        assert!(continue_chunk(
            &gz,
            a,
            b,
            &mut part.compact(part.valid - 1000),
            part.valid + 1
        )
        .is_err());
        checked += 1;
    }
    assert!(checked > 0);
}

/// A stream whose last data block is followed by a sync flush and an empty
/// final block (GzipFile.flush() then close()): its block ends at the very
/// end are not stops, and its saved index loads back as it was.
#[test]
fn sync_flushed_streams_save_and_load_their_index() {
    use tioxide::gz::{load_sidecar, save_sidecar};
    let data = image_like(1 << 20, 12);
    let mut e = GzEncoder::new(Vec::new(), Compression::new(6));
    e.write_all(&data).unwrap();
    e.flush().unwrap();
    let gz = e.finish().unwrap();
    let index = check_all_chunks(&gz, &data, 64 << 10);
    for i in 0..index.chunks() {
        let (a, b) = (&index.points[i], &index.points[i + 1]);
        assert!(a.stops().iter().all(|s| s.out < b.out), "chunk {i}");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.tioxidx");
    save_sidecar(&path, &index, &gz).unwrap();
    assert_eq!(load_sidecar(&path, &gz).unwrap(), Some(index));
}

/// Continuing a chunk from a stop that is not where the part ends, or to
/// no further than it already reaches, is an error, not a huge allocation.
#[test]
fn continuing_a_chunk_wrongly_is_an_error() {
    let data = image_like(1 << 20, 13);
    let gz = gzip(&data, 6);
    let index = check_all_chunks(&gz, &data, 256 << 10);
    let i = (0..index.chunks())
        .find(|&i| index.points[i].stops().len() >= 2)
        .expect("a chunk with two block ends");
    let (a, b) = (&index.points[i], &index.points[i + 1]);
    let part = decode_chunk(&gz, a, b, Some(1)).unwrap();
    let mut again = decode_chunk(&gz, a, b, Some(1)).unwrap();
    assert!(continue_chunk(&gz, a, b, &mut again, part.valid).is_err());
    let mut shifted = decode_chunk(&gz, a, b, Some(1)).unwrap();
    shifted.valid -= 1;
    assert!(continue_chunk(&gz, a, b, &mut shifted, part.valid + 10).is_err());
}

/// A patch read again from a hot file is cut from the cached chunks alone:
/// rows of every chunk, rows across checkpoints and empty rows each give
/// the data's bytes, the first time (inflating) and the next (cached).
#[test]
fn patch_rows_read_again_from_cached_chunks() {
    use tioxide::gz::IndexedGz;
    let data = image_like(6 << 20, 33);
    let gz = gzip(&data, 6);
    let id = format!("hot-rows-{}", std::process::id());
    let reader = IndexedGz::new(&gz, Some(id), None);
    let index = reader.build().unwrap();
    let mut rng = Lcg(11);
    for round in 0..60 {
        // A patch: rows of `row` bytes, `stride` apart, from a random start;
        // strides near a chunk's size put rows across checkpoints.
        let row = 1 + rng.below(3000) as u64;
        let stride = row + rng.below(300_000) as u64;
        let start = rng.below(1 << 20) as u64;
        let mut ranges: Vec<(u64, u64)> = (0..1 + rng.below(200) as u64)
            .map(|k| start + k * stride)
            .take_while(|&s| s + row <= data.len() as u64)
            .map(|s| (s, s + row))
            .collect();
        if round % 7 == 0 {
            // An empty range among the rows.
            let at = ranges.first().map_or(0, |r| r.0);
            ranges.insert(0, (at, at));
        }
        for pass in 0..2 {
            assert_reads(&reader, &data, &ranges, round * 2 + pass);
        }
    }
    // Only empty ranges: no chunk is needed, each range comes back empty.
    let empty = [(10u64, 10u64), (5000, 5000)];
    for pass in 0..2 {
        assert_reads(&reader, &data, &empty, 1000 + pass);
    }
    assert!(index.chunks() >= 6, "{} chunks", index.chunks());
}

/// Many rows per chunk, some empty, some across checkpoints, read cold (the
/// chunks inflated) and then hot (all cut from the chunk cache): every range
/// comes back once, in order, equal to the data.
#[test]
fn row_runs_with_empty_and_crossing_ranges_read_cold_and_hot() {
    use tioxide::gz::IndexedGz;
    let data = image_like(3 << 20, 17);
    let gz = gzip(&data, 6);
    let id = format!("rows-{}", std::process::id());
    let reader = IndexedGz::new(&gz, Some(id), None);
    reader.build().unwrap();
    let mut rng = Lcg(23);
    for round in 0..60 {
        let mut ranges = Vec::new();
        let mut at = rng.below(4096) as u64;
        while at < data.len() as u64 {
            let len = match rng.below(10) {
                0 => 0,                            // empty
                1 => 300_000 + rng.below(1 << 20), // across checkpoints
                _ => 1 + rng.below(512),           // a patch's row
            } as u64;
            let end = (at + len).min(data.len() as u64);
            ranges.push((at, end));
            at = end + rng.below(1 << 14) as u64;
        }
        for pass in ["cold", "hot"] {
            let mut got = Vec::new();
            reader
                .read_ranges(&ranges, &mut |k, bytes| got.push((k, bytes.to_vec())))
                .unwrap();
            assert_eq!(got.len(), ranges.len(), "round {round} {pass}");
            for (k, (&(s, e), (gk, bytes))) in ranges.iter().zip(&got).enumerate() {
                assert_eq!(*gk, k, "round {round} {pass}: order");
                assert!(
                    bytes[..] == data[s as usize..e as usize],
                    "round {round} {pass} range {k}"
                );
            }
        }
        if round % 20 == 19 {
            tioxide::gz::clear_caches();
        }
    }
}
