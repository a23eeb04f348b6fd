//! Opened images hold no file descriptors: a program that opens thousands
//! of them and keeps them must not run out. (A binary of its own, so that
//! no other test opens files while the descriptors are counted.)

mod common;

use common::*;
use tioxide::{AxisRange, DataType, Endian, NiftiFile, Region};

fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn images_kept_open_hold_at_most_one_descriptor() {
    let dir = tempfile::tempdir().unwrap();
    let shape = [6usize, 5, 4];
    let files: Vec<(std::path::PathBuf, Vec<u8>)> = (0..64u8)
        .map(|k| {
            let native: Vec<u8> = (0..shape.iter().product::<usize>() as u16)
                .flat_map(|v| (v + u16::from(k)).to_le_bytes())
                .collect();
            let bytes = single_file(&shape, DataType::U16, Endian::Little, &native);
            (put(dir.path(), &format!("i{k}.nii"), &bytes), native)
        })
        .collect();
    let before = open_descriptors();
    let images: Vec<NiftiFile> = files
        .iter()
        .map(|(p, _)| NiftiFile::open(p).unwrap())
        .collect();
    assert!(
        open_descriptors() <= before + 1,
        "{} > {before} + 1",
        open_descriptors()
    );
    let region = Region(vec![
        AxisRange {
            start: 1,
            step: 1,
            count: 3,
        },
        AxisRange {
            start: 0,
            step: 2,
            count: 2,
        },
        AxisRange {
            start: 3,
            step: 1,
            count: 1,
        },
    ]);
    for (img, (_, native)) in images.iter().zip(&files) {
        let got = img.read_raw(Some(&region)).unwrap();
        let value = |x: usize, y: usize| {
            let i = 2 * (x + 6 * y + 30 * 3);
            [native[i], native[i + 1]]
        };
        let want: Vec<u8> = [0, 2]
            .iter()
            .flat_map(|&y| (1..4).flat_map(move |x| value(x, y)))
            .collect();
        assert_eq!(got.data.bytes(), want.as_slice());
    }
    assert!(open_descriptors() <= before + 1);
    tioxide::cache::clear();
    assert!(open_descriptors() <= before);
}
