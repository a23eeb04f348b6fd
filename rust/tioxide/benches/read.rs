//! Criterion benches of the core: header, full and region reads, and the two
//! inflate engines on the same stream (the reason libdeflate reads whole files).

use std::io::{Read, Write};
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use flate2::write::GzEncoder;
use flate2::Compression;
use tioxide::header::serialize;
use tioxide::{AxisRange, Endian, FieldValue, Format, NiftiFile, Region};

const SHAPE: [usize; 3] = [256, 256, 176];

/// A smooth phantom with noise, so that gzip ratios are realistic.
fn volume() -> Vec<u8> {
    let mut out = Vec::with_capacity(SHAPE.iter().product::<usize>() * 2);
    let mut seed = 1u32;
    for k in 0..SHAPE[2] {
        for j in 0..SHAPE[1] {
            for i in 0..SHAPE[0] {
                let (x, y, z) = (
                    i as f32 / 128.0 - 1.0,
                    j as f32 / 128.0 - 1.0,
                    k as f32 / 88.0 - 1.0,
                );
                let r = (x * x + y * y + z * z).sqrt();
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = (seed >> 24) as f32 / 16.0;
                let v = if r < 0.9 {
                    800.0 + 200.0 * (6.0 * r).sin() + noise
                } else {
                    noise
                };
                out.extend_from_slice(&(v as i16).to_ne_bytes());
            }
        }
    }
    out
}

fn write_files(dir: &Path) -> Vec<u8> {
    let mut dim = vec![3i64];
    dim.extend(SHAPE.iter().map(|&d| d as i64));
    dim.resize(8, 1);
    let fields = vec![
        ("sizeof_hdr", FieldValue::Int(348)),
        ("dim", FieldValue::Ints(dim)),
        ("datatype", FieldValue::Int(4)),
        ("bitpix", FieldValue::Int(16)),
        ("pixdim", FieldValue::Floats(vec![1.0; 8])),
        ("vox_offset", FieldValue::Float(352.0)),
        ("magic", FieldValue::Bytes(b"n+1".to_vec())),
    ];
    let mut file = serialize(Format::Nifti1, Endian::NATIVE, &fields);
    file.extend_from_slice(&[0; 4]);
    file.extend(volume());
    std::fs::write(dir.join("v.nii"), &file).unwrap();
    let mut enc = GzEncoder::new(Vec::new(), Compression::new(6));
    enc.write_all(&file).unwrap();
    let gz = enc.finish().unwrap();
    std::fs::create_dir_all(dir.join("gz")).unwrap();
    std::fs::write(dir.join("gz/v.nii.gz"), &gz).unwrap();
    gz
}

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let gz = write_files(dir.path());
    let (plain, gzp) = (dir.path().join("v.nii"), dir.path().join("gz/v.nii.gz"));
    let total = SHAPE.iter().product::<usize>() * 2 + 352;

    let mut g = c.benchmark_group("header");
    for (name, path) in [("nii", &plain), ("nii.gz", &gzp)] {
        g.bench_function(format!("{name} cold"), |b| {
            b.iter(|| {
                tioxide::cache::clear();
                NiftiFile::open(path).unwrap()
            })
        });
        g.bench_function(format!("{name} cached"), |b| {
            b.iter(|| NiftiFile::open(path).unwrap())
        });
    }
    g.finish();

    let mut g = c.benchmark_group("full");
    g.sample_size(20);
    let (fp, fz) = (
        NiftiFile::open(&plain).unwrap(),
        NiftiFile::open(&gzp).unwrap(),
    );
    g.bench_function("nii", |b| b.iter(|| fp.read(None).unwrap()));
    g.bench_function("nii.gz", |b| b.iter(|| fz.read(None).unwrap()));
    g.finish();

    let mut g = c.benchmark_group("inflate");
    g.sample_size(20);
    g.bench_function("libdeflate", |b| {
        let mut out = vec![0u8; total];
        b.iter(|| tioxide::gz::inflate_members(&gz, &mut out).unwrap())
    });
    g.bench_function("tioxide raw inflate", |b| {
        // The member's deflate stream: after the 10-byte header (no name is
        // written), before the 8-byte trailer.
        let raw = &gz[10..gz.len() - 8];
        let mut out = vec![0u8; total];
        let mut inflater = tioxide::gz::RawInflater::new();
        b.iter(|| {
            let r = inflater.inflate(raw, &mut out);
            assert!(matches!(r, tioxide::gz::RawOutcome::Done { .. }), "{r:?}");
        })
    });
    g.bench_function("zlib-rs (flate2)", |b| {
        let mut out = vec![0u8; total];
        b.iter(|| {
            flate2::read::GzDecoder::new(&gz[..])
                .read_exact(&mut out)
                .unwrap()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("patch32");
    let patch = |s: usize| {
        Region(vec![
            AxisRange::span(s, s + 32),
            AxisRange::span(s, s + 32),
            AxisRange::span(s / 2, s / 2 + 32),
        ])
    };
    g.bench_function("nii middle", |b| {
        b.iter(|| fp.read(Some(&patch(112))).unwrap())
    });
    g.bench_function("nii.gz start", |b| {
        b.iter(|| fz.read(Some(&patch(0))).unwrap())
    });
    let axial = Region(vec![
        AxisRange::full(256),
        AxisRange::full(256),
        AxisRange::span(88, 89),
    ]);
    g.bench_function("nii axial slice", |b| {
        b.iter(|| fp.read(Some(&axial)).unwrap())
    });
    g.finish();
}

criterion_group!(read, benches);
criterion_main!(read);
