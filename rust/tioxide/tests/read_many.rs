//! Several regions read together equal the same regions read one by one,
//! from `.nii.gz` files indexed or not and from plain files, with
//! overlapping regions and negative steps.

mod common;

use common::{gzip, put, single_file, Lcg};
use tioxide::gz::{clear_caches, set_span, MIN_SPAN};
use tioxide::{AxisRange, DataType, Endian, NiftiFile, Region};

fn axis(start: usize, step: isize, count: usize) -> AxisRange {
    AxisRange { start, step, count }
}

fn regions() -> Vec<Region> {
    vec![
        Region(vec![axis(3, 1, 20), axis(5, 1, 17), axis(0, 1, 9)]),
        // Overlaps the first on the same image lines.
        Region(vec![axis(10, 1, 30), axis(8, 1, 10), axis(4, 1, 30)]),
        Region(vec![axis(39, -2, 12), axis(30, -1, 7), axis(33, -3, 6)]),
        Region(vec![axis(0, 1, 0), axis(0, 1, 4), axis(0, 1, 4)]),
        Region(vec![axis(0, 1, 40), axis(0, 1, 31), axis(100, 1, 240)]),
    ]
}

#[test]
fn regions_read_together_equal_regions_read_alone() {
    let shape = [40usize, 31, 340];
    let mut rng = Lcg(7);
    let native: Vec<u8> = (0..shape.iter().product::<usize>())
        .flat_map(|_| (rng.below(3000) as i16).to_ne_bytes())
        .collect();
    // Many chunks, so that rows and unions cross chunk boundaries.
    set_span(MIN_SPAN);
    let plain = single_file(&shape, DataType::I16, Endian::NATIVE, &native);
    let dir = std::env::temp_dir().join(format!("tioxide-read-many-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in [("a.nii", plain.clone()), ("a.nii.gz", gzip(&plain))] {
        let path = put(&dir, name, &bytes);
        for first_needs_most in [true, false] {
            clear_caches();
            let file = NiftiFile::open(&path).unwrap();
            let mut wanted = regions();
            if !first_needs_most {
                // A small first batch: it builds the index as it goes.
                wanted.truncate(1);
            }
            let together = file.read_many(&wanted).unwrap();
            let together_again = file.read_many(&regions()).unwrap();
            clear_caches();
            for (k, r) in regions().iter().enumerate() {
                let alone = file.read(Some(r)).unwrap();
                for batch in [&together, &together_again] {
                    if let Some(got) = batch.get(k) {
                        assert_eq!(got.shape, alone.shape, "{name} region {k}");
                        assert_eq!(got.data.bytes(), alone.data.bytes(), "{name} region {k}");
                    }
                }
            }
        }
        let bad = Region(vec![axis(0, 1, 41), axis(0, 1, 1), axis(0, 1, 1)]);
        let err = NiftiFile::open(&path)
            .unwrap()
            .read_many(&[regions()[0].clone(), bad])
            .unwrap_err();
        assert!(err.to_string().contains(name), "{err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
