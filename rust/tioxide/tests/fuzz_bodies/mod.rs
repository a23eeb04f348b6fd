//! The bodies of the cargo-fuzz targets (rust/tioxide/fuzz), shared with
//! `tests/fuzz_regressions.rs`, which replays the kept inputs in a plain
//! `cargo test`. Each body must never panic on any input except where it
//! asserts a property (two decoders, or a region and a full read, agree).

#![allow(dead_code)]

use tioxide::gz::{
    continue_chunk, decode_chunk, extend, first_data_offset, inflate_members, Checkpoint, GzStream,
    IndexedGz, Inflated, RawInflater, RawOutcome, SeekIndex, WINDOW,
};
use tioxide::header::{serialize, sniff, NiftiHeader};
use tioxide::region::{extract, AxisRange, Region};
use tioxide::StreamImage;

/// Most decompressed output a body looks at (keeps executions fast).
const MAX_OUT: usize = 1 << 20;

/// The header parser: parse as a single file and as a pair, then use every
/// derived value; a parsed header serialized again must parse again.
pub fn header(data: &[u8]) {
    let _ = sniff(data);
    for pair in [false, true] {
        let Ok(mut h) = NiftiHeader::parse(data, pair) else {
            continue;
        };
        let _ = h.affine();
        let _ = h.scaling();
        let _ = h.zooms();
        let _ = (h.num_voxels(), h.data_bytes(), h.vox_offset());
        let _ = tioxide::affine::qform(&h);
        for (name, _) in h.fields() {
            let _ = (
                h.int(name),
                h.float(name),
                h.number(name),
                h.ints(name),
                h.floats(name),
            );
        }
        let again = serialize(h.format(), h.endian(), h.fields());
        let back = NiftiHeader::parse(&again, pair)
            .unwrap_or_else(|e| panic!("a parsed header, serialized again, is refused: {e}"));
        assert_eq!(back.shape(), h.shape());
        assert_eq!(back.datatype(), h.datatype());
        let tail = data.get(h.format().header_size()..).unwrap_or(&[]);
        let _ = h.parse_extensions(tail, !pair);
        let _ = h.extensions().len();
    }
}

/// Everything the streaming decoder yields, up to `MAX_OUT + 1` bytes, and
/// whether it reached the end of the stream cleanly.
fn stream_decode(data: &[u8]) -> (Vec<u8>, tioxide::Result<()>) {
    let mut s = GzStream::new(data, 512);
    let mut out = vec![0u8; MAX_OUT + 1];
    match s.read_up_to(&mut out) {
        Ok(n) => {
            out.truncate(n);
            let end = if n > MAX_OUT { Ok(()) } else { s.drain() };
            (out, end)
        }
        Err(e) => (Vec::new(), Err(e)),
    }
}

/// tioxide's raw DEFLATE decoder against zlib (zlib-rs): the first byte
/// sets the output's room (in 4 KiB), the rest is a raw stream. Both must
/// agree on whether the stream is valid, where it ends and its bytes.
pub fn raw_inflate(data: &[u8]) {
    let Some((&room, stream)) = data.split_first() else {
        return;
    };
    let out_len = (usize::from(room) << 12).min(MAX_OUT);
    let mut ours = vec![0u8; out_len];
    let r = RawInflater::new().inflate(stream, &mut ours);
    let mut theirs = vec![0u8; out_len];
    let mut z = flate2::Decompress::new(false);
    let zr = z.decompress(stream, &mut theirs, flate2::FlushDecompress::Finish);
    let (zin, zout) = (z.total_in() as usize, z.total_out() as usize);
    match (r, &zr) {
        (RawOutcome::Done { used, produced }, Ok(flate2::Status::StreamEnd)) => {
            assert_eq!((used, produced), (zin, zout), "where the stream ends");
            assert!(
                ours[..produced] == theirs[..produced],
                "decoded bytes differ"
            );
        }
        // Refused by both. zlib says "out of input" for a stream cut short,
        // and stops without looking further once its output is full, where
        // the stream may go on to be damaged.
        (RawOutcome::Bad(_), Err(_) | Ok(_)) => {}
        (RawOutcome::Overflow, Ok(_)) if zout == out_len => {}
        (r, zr) => panic!("tioxide {r:?}, zlib {zr:?} ({zin} in, {zout} out of {out_len})"),
    }
}

/// The gzip decoders: libdeflate over the whole stream and the streaming
/// zlib-rs reader must agree on the bytes and on whether the stream is valid.
pub fn gz_decode(data: &[u8]) {
    let mut out = vec![0u8; MAX_OUT];
    let whole = inflate_members(data, &mut out);
    let (streamed, end) = stream_decode(data);
    match whole {
        Ok(Inflated::Complete(n)) => {
            assert!(
                end.is_ok(),
                "libdeflate accepts, the stream reader says {end:?}"
            );
            assert_eq!(streamed.len(), n, "decoded lengths differ");
            assert!(streamed == out[..n], "decoded bytes differ");
        }
        Ok(Inflated::Overflow) => {}
        Err(e) => assert!(
            end.is_err(),
            "libdeflate refuses ({e}), the stream reader accepts {} bytes",
            streamed.len()
        ),
    }
}

/// A sidecar of `index` for `src`, as bytes (through a temporary file).
fn sidecar_bytes(index: &SeekIndex, src: &[u8]) -> Option<Vec<u8>> {
    let path = std::env::temp_dir().join(format!("tioxide-fuzz-{}.tioxidx", std::process::id()));
    tioxide::gz::save_sidecar(&path, index, &src).ok()?;
    let bytes = std::fs::read(&path).ok();
    let _ = std::fs::remove_file(&path);
    bytes
}

/// The seek index: `ctl` picks a span (1 KiB to 64 KiB), ranges to read and
/// a damage to a saved index; `gz` is the stream. Indexing (`extend`),
/// each chunk decoded from its checkpoints (`decode_chunk`), and range reads
/// (`IndexedGz::read_ranges`, also through a damaged saved index) must equal
/// a whole-stream decode, or fail.
pub fn gz_index(data: &[u8]) {
    if data.len() < 8 {
        return;
    }
    let (ctl, gz) = data.split_at(8);
    let src: &[u8] = gz;
    let mut full = vec![0u8; MAX_OUT];
    let full = match inflate_members(gz, &mut full) {
        Ok(Inflated::Complete(n)) => {
            full.truncate(n);
            Some(full)
        }
        _ => None,
    };
    let Ok(first) = first_data_offset(&src) else {
        return;
    };
    let span = 1024u64 << (ctl[0] % 7);
    let mut index = SeekIndex {
        span,
        points: vec![Checkpoint::member_start(0, first)],
        complete: false,
    };
    let kept = extend(&src, &mut index, u64::MAX, &|_, _| true);
    let Some(full) = full else {
        return;
    };
    let kept = kept.unwrap_or_else(|e| panic!("libdeflate decodes the stream, indexing says {e}"));
    assert!(index.complete, "an index built to the end is not complete");
    assert_eq!(index.total_out(), Some(full.len() as u64), "indexed length");
    for chunk in &kept {
        let (a, b) = index.chunk_range(chunk.number);
        let (a, b, head) = (a as usize, b as usize, chunk.head);
        assert!(
            chunk.buf[head..] == full[a..b] && head <= a && chunk.buf[..head] == full[a - head..a],
            "chunk {} kept by extend, or the history before it",
            chunk.number
        );
    }
    for i in 0..index.chunks() {
        let (a, b) = (&index.points[i], &index.points[i + 1]);
        let part = decode_chunk(&src, a, b, None)
            .unwrap_or_else(|e| panic!("chunk {i} of a good stream: {e}"));
        let (buf, valid) = (part.buf, part.valid);
        let start = tioxide::gz::prefix_len(a);
        let (lo, hi) = index.chunk_range(i);
        assert_eq!(valid as u64, hi - lo);
        assert!(
            buf[start..start + valid] == full[lo as usize..hi as usize],
            "chunk {i}"
        );
        // The same chunk from its first block end on, continued in steps
        // whose sizes the control bytes pick.
        let mut part = decode_chunk(&src, a, b, Some(1))
            .unwrap_or_else(|e| panic!("chunk {i} up to its first block end: {e}"));
        let mut step = 0usize;
        while part.stop.is_some() {
            let need = part.valid + 1 + usize::from(ctl[1 + step % 6]) * 64;
            if ctl[step % 6] & 1 == 1 {
                // Cut down to its last bytes, as the chunk cache keeps them.
                let extra = usize::from(ctl[2]) * 16;
                let kept = part.compact(part.valid.saturating_sub(WINDOW + extra));
                if kept.continuable(a) {
                    part = kept;
                }
            }
            continue_chunk(&src, a, b, &mut part, need)
                .unwrap_or_else(|e| panic!("chunk {i} continued to {need}: {e}"));
            step += 1;
        }
        if step > 0 {
            assert_eq!(part.valid as u64, hi - lo, "chunk {i} continued to its end");
        }
        let held = part.range(part.first, part.valid);
        assert!(
            held == Some(&full[lo as usize + part.first..lo as usize + part.valid]),
            "chunk {i} continued"
        );
    }
    // Up to three sorted, disjoint ranges from the control bytes.
    let n = full.len() as u64;
    let mut cuts: Vec<u64> = ctl[1..7]
        .iter()
        .map(|&c| {
            if n == 0 {
                0
            } else {
                u64::from(c) * (n + 1) / 256
            }
        })
        .collect();
    cuts.sort_unstable();
    let ranges: Vec<(u64, u64)> = cuts.chunks(2).map(|c| (c[0], c[1])).collect();
    let check = |gz: &IndexedGz<'_>, what: &str| {
        let mut got: Vec<Vec<u8>> = vec![Vec::new(); ranges.len()];
        let r = gz.read_ranges(&ranges, &mut |k, bytes| got[k].extend_from_slice(bytes));
        if r.is_ok() {
            for (k, &(a, b)) in ranges.iter().enumerate() {
                assert!(got[k] == full[a as usize..b as usize], "range {k} ({what})");
            }
        }
        r
    };
    check(&IndexedGz::new(&src, None, None), "fresh index")
        .unwrap_or_else(|e| panic!("range read of a good stream: {e}"));
    // Through the chunk cache: all ranges, then each alone from the last
    // (chunks kept from a deeper first byte serve, or inflate again).
    static RUN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let id = format!(
        "fuzz-{}",
        RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let cached = IndexedGz::new(&src, Some(id), None);
    for (k, &(lo, hi)) in std::iter::once(&(0, 0))
        .chain(ranges.iter().rev())
        .enumerate()
    {
        let mut got = Vec::new();
        let one = [(lo, hi)];
        let wanted: &[(u64, u64)] = if k == 0 { &ranges } else { &one };
        cached
            .read_ranges(wanted, &mut |_, bytes| got.extend_from_slice(bytes))
            .unwrap_or_else(|e| panic!("cached range read {k} of a good stream: {e}"));
        let want: Vec<u8> = wanted
            .iter()
            .flat_map(|&(a, b)| full[a as usize..b as usize].iter().copied())
            .collect();
        assert!(got == want, "cached range read {k}");
    }
    // A saved index with one byte changed (and its checksum fixed): refused
    // with a warning, or used with correct results, or a clean error.
    if let Some(mut saved) = sidecar_bytes(&index, src) {
        // Spans under the smallest a sidecar accepts (the harness builds
        // indexes finer than the API allows) are refused; others round-trip.
        let loaded = tioxide::gz::IndexedGz::new(&src, None, None)
            .with_saved_index(Some(saved.clone()))
            .complete_index();
        let warnings = tioxide::gz::take_warnings();
        if index.span >= tioxide::gz::MIN_SPAN {
            assert!(
                loaded.as_deref() == Some(&index),
                "a saved index of a good stream loads back as it was: {warnings:?}"
            );
        }
        let body = saved.len() - 4;
        let at = usize::from(u16::from_le_bytes([ctl[7], ctl[0]])) % body;
        saved[at] ^= ctl[7] | 1;
        let crc = crc32fast::hash(&saved[..body]).to_le_bytes();
        saved[body..].copy_from_slice(&crc);
        let _ = check(
            &IndexedGz::new(&src, None, None).with_saved_index(Some(saved)),
            "damaged saved index",
        );
        let _ = tioxide::gz::take_warnings();
    }
}

/// Region reads of an image in a byte source: `ctl` (3 bytes per axis)
/// picks a region; it must equal the same region cut from a full read
/// whenever the full read succeeds.
pub fn region(data: &[u8]) {
    if data.len() < 21 {
        return;
    }
    let (ctl, image) = data.split_at(21);
    let src: &[u8] = image;
    let Ok(img) = StreamImage::open(&src, None, None) else {
        return;
    };
    let h = img.header();
    let region = pick_region(ctl, h.shape());
    // A gzip stream's header may claim any size: StreamImage allocates a
    // region before inflating it (docs/bad-inputs.md, known bugs), so keep
    // regions small enough not to trip the fuzzer's allocation limit.
    if region.num_elements().saturating_mul(h.datatype().size()) > MAX_OUT * 64 {
        return;
    }
    let part = img.read(Some(&region));
    // A full read only when the image is small (the header may claim any size).
    if h.data_bytes() > MAX_OUT * 4 {
        return;
    }
    let Ok(full) = img.read(None) else {
        return;
    };
    let part = part.unwrap_or_else(|e| panic!("the full read works, the region read says {e}"));
    let elem = full.dtype.size();
    let want = naive_region(full.data.bytes(), &full.shape, elem, &region);
    assert_eq!(part.dtype, full.dtype);
    assert_eq!(part.shape, region.shape());
    assert!(
        part.data.bytes() == &want[..],
        "region bytes differ from the full read's"
    );
    if region.0.iter().all(|a| a.step > 0) {
        let cut = extract(full.data.bytes(), &full.shape, elem, &region)
            .unwrap_or_else(|e| panic!("cutting a valid region: {e}"));
        assert!(
            cut.bytes() == &want[..],
            "extract differs from element-wise indexing"
        );
    }
}

/// A region of an image of `shape` from 3 control bytes per axis: start,
/// count (at most 16) and step (1, 2, 3, -1 or -2).
fn pick_region(ctl: &[u8], shape: &[usize]) -> Region {
    let axes = shape
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let c = &ctl[(3 * i) % 21..(3 * i) % 21 + 3];
            let step = [1isize, 1, 2, 3, -1, -2][usize::from(c[2]) % 6];
            let start = usize::from(c[0]) % n;
            let room = if step > 0 {
                (n - start).div_ceil(step as usize)
            } else {
                start / step.unsigned_abs() + 1
            };
            let count = 1 + usize::from(c[1]) % room.min(16);
            AxisRange { start, step, count }
        })
        .collect();
    Region(axes)
}

/// Files on disk: `ctl` (21 bytes) picks a region, the rest is written to a
/// new `.nii` file. `NiftiFile` (memory map, whole-stream inflate, seek
/// index) must agree with `StreamImage` over the same bytes whenever both
/// succeed, and its region read with its full read.
pub fn file(data: &[u8]) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNT: AtomicU64 = AtomicU64::new(0);
    if data.len() < 21 {
        return;
    }
    let (ctl, image) = data.split_at(21);
    let dir = std::env::temp_dir().join(format!("tioxide-fuzz-file-{}", std::process::id()));
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    // A new name each time: the header and map caches are keyed by path,
    // size and mtime, which a rewrite within one clock tick could repeat.
    let path = dir.join(format!("{}.nii", COUNT.fetch_add(1, Ordering::Relaxed)));
    if std::fs::write(&path, image).is_err() {
        return;
    }
    file_checks(ctl, image, &path);
    let _ = std::fs::remove_file(&path);
}

fn file_checks(ctl: &[u8], image: &[u8], path: &std::path::Path) {
    let Ok(img) = tioxide::NiftiFile::open(path) else {
        return;
    };
    let h = img.header();
    let region = pick_region(ctl, h.shape());
    let src: &[u8] = image;
    let stream = StreamImage::open(&src, None, None).ok();
    if let Some(s) = &stream {
        assert_eq!(
            s.header().shape(),
            h.shape(),
            "stream and file headers differ"
        );
        assert_eq!(s.header().datatype(), h.datatype());
    }
    if region.num_elements().saturating_mul(h.datatype().size()) > MAX_OUT * 64 {
        return;
    }
    let part = img.read(Some(&region));
    if let (Ok(p), Some(Ok(q))) = (&part, stream.as_ref().map(|s| s.read(Some(&region)))) {
        assert!(
            p.data.bytes() == q.data.bytes(),
            "file and stream regions differ"
        );
    }
    if h.data_bytes() > MAX_OUT * 4 {
        return;
    }
    let Ok(full) = img.read(None) else {
        return;
    };
    if let Some(Ok(q)) = stream.as_ref().map(|s| s.read(None)) {
        assert!(
            full.data.bytes() == q.data.bytes(),
            "file and stream full reads differ"
        );
    }
    let part = part.unwrap_or_else(|e| panic!("the full read works, the region read says {e}"));
    let want = naive_region(full.data.bytes(), &full.shape, full.dtype.size(), &region);
    assert_eq!(part.shape, region.shape());
    assert!(
        part.data.bytes() == &want[..],
        "file region differs from its full read"
    );
}

/// The region's elements one by one (Fortran order), by index arithmetic.
fn naive_region(data: &[u8], shape: &[usize], elem: usize, region: &Region) -> Vec<u8> {
    let counts = region.shape();
    let total: usize = counts.iter().product();
    let mut out = Vec::with_capacity(total * elem);
    let mut pos = vec![0usize; counts.len()];
    for _ in 0..total {
        let mut linear = 0usize;
        let mut stride = 1usize;
        for (k, a) in region.0.iter().enumerate() {
            let index = a.start as isize + a.step * pos[k] as isize;
            linear += index as usize * stride;
            stride *= shape[k];
        }
        out.extend_from_slice(&data[linear * elem..(linear + 1) * elem]);
        for (k, p) in pos.iter_mut().enumerate() {
            *p += 1;
            if *p < counts[k] {
                break;
            }
            *p = 0;
        }
    }
    out
}
