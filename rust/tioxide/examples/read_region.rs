//! Read an image's header and one region of its voxels.
//!
//! ```sh
//! cargo run --release --example read_region -- brain.nii.gz 10:42,10:42,5:37
//! ```
//!
//! The region is one `start:stop[:step]` (or a single index) per axis, in
//! file order; axes left out are read whole. Without a region, a 32-voxel
//! cube (or less) at the centre of the first three axes is read.

use std::process::ExitCode;

use tioxide::affine::axcodes;
use tioxide::{AxisRange, NiftiFile, Region};

/// Parse `start:stop[:step]` or `index` for an axis of length `n`.
fn parse_axis(text: &str, n: usize) -> Result<AxisRange, String> {
    let parts: Vec<&str> = text.split(':').collect();
    let num = |s: &str, default: usize| -> Result<usize, String> {
        if s.is_empty() {
            Ok(default)
        } else {
            s.trim().parse().map_err(|_| format!("not an index: {s:?}"))
        }
    };
    match parts.as_slice() {
        [i] => Ok(AxisRange {
            start: num(i, 0)?,
            step: 1,
            count: 1,
        }),
        [a, b] | [a, b, ""] => Ok(AxisRange::span(num(a, 0)?, num(b, n)?)),
        [a, b, s] => {
            let (start, stop) = (num(a, 0)?, num(b, n)?);
            let step: usize = num(s, 1)?;
            if step == 0 {
                return Err("step must be positive".into());
            }
            let count = stop.saturating_sub(start).div_ceil(step);
            let step = isize::try_from(step).map_err(|_| "step too large".to_string())?;
            Ok(AxisRange { start, step, count })
        }
        _ => Err(format!("bad axis range {text:?}")),
    }
}

fn run(path: &str, region: Option<&str>) -> tioxide::Result<Result<(), String>> {
    let img = NiftiFile::open(path)?;
    let h = img.header();
    let affine = h.affine()?;
    println!("file:        {path}");
    println!("format:      {:?} ({:?}-endian)", h.format(), h.endian());
    println!("shape:       {:?}", h.shape());
    println!(
        "datatype:    {:?} ({} bytes)",
        h.datatype(),
        h.datatype().size()
    );
    println!("zooms:       {:?}", h.zooms());
    println!(
        "orientation: {}",
        axcodes(&affine).iter().collect::<String>()
    );
    for row in affine {
        println!("affine:      {row:10.4?}");
    }

    let shape = h.shape();
    let axes: Result<Vec<AxisRange>, String> = match region {
        Some(text) => {
            let given: Vec<&str> = text.split(',').collect();
            if given.len() > shape.len() {
                return Ok(Err(format!(
                    "{} axes given, the image has {}",
                    given.len(),
                    shape.len()
                )));
            }
            shape
                .iter()
                .enumerate()
                .map(|(i, &n)| {
                    given
                        .get(i)
                        .map_or(Ok(AxisRange::full(n)), |t| parse_axis(t, n))
                })
                .collect()
        }
        None => Ok(shape
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                if i < 3 {
                    let half = n.min(32) / 2;
                    AxisRange::span(n / 2 - half, n / 2 - half + n.min(32))
                } else {
                    AxisRange::full(n)
                }
            })
            .collect()),
    };
    let region = match axes {
        Ok(axes) => Region(axes),
        Err(why) => return Ok(Err(why)),
    };
    let voxels = img.read(Some(&region))?;
    println!(
        "region:      {:?} -> shape {:?}, {:?}",
        region.0, voxels.shape, voxels.dtype
    );
    // Summarise the values as f64 when the element type is a plain number.
    let values: Option<Vec<f64>> = match voxels.dtype.numpy_str() {
        "u1" => voxels
            .data
            .as_slice::<u8>()
            .map(|v| v.iter().map(|&x| f64::from(x)).collect()),
        "i1" => voxels
            .data
            .as_slice::<i8>()
            .map(|v| v.iter().map(|&x| f64::from(x)).collect()),
        "i2" => voxels
            .data
            .as_slice::<i16>()
            .map(|v| v.iter().map(|&x| f64::from(x)).collect()),
        "u2" => voxels
            .data
            .as_slice::<u16>()
            .map(|v| v.iter().map(|&x| f64::from(x)).collect()),
        "i4" => voxels
            .data
            .as_slice::<i32>()
            .map(|v| v.iter().map(|&x| f64::from(x)).collect()),
        "u4" => voxels
            .data
            .as_slice::<u32>()
            .map(|v| v.iter().map(|&x| f64::from(x)).collect()),
        "f4" => voxels
            .data
            .as_slice::<f32>()
            .map(|v| v.iter().map(|&x| f64::from(x)).collect()),
        "f8" => voxels.data.as_slice::<f64>().map(<[f64]>::to_vec),
        _ => None,
    };
    match values {
        Some(v) if !v.is_empty() => {
            let min = v.iter().copied().fold(f64::INFINITY, f64::min);
            let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            println!("values:      min {min}, max {max}, mean {mean:.4}");
        }
        _ => println!("values:      {} bytes", voxels.data.len()),
    }
    Ok(Ok(()))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: read_region FILE [start:stop[:step],...]");
        return ExitCode::from(2);
    };
    match run(path, args.get(1).map(String::as_str)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(usage)) => {
            eprintln!("read_region: {usage}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("read_region: {e}");
            ExitCode::FAILURE
        }
    }
}
