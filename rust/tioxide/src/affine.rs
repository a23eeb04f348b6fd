//! Voxel-to-world affines: nibabel's best-affine rules, quaternions and
//! orientation codes.
//!
//! nibabel evaluates the qform quaternion in `longdouble`; so does this
//! module (see [`crate::xfloat`]), so every affine equals nibabel's exactly.

use nalgebra::{Matrix3, Matrix4, SymmetricEigen};

use crate::error::{Error, Result};
use crate::header::{Format, NiftiHeader};
use crate::xfloat::X80;

/// A 4x4 row-major affine.
pub type Affine = [[f64; 4]; 4];

/// The identity affine.
pub const IDENTITY: Affine = [
    [1.0, 0.0, 0.0, 0.0],
    [0.0, 1.0, 0.0, 0.0],
    [0.0, 0.0, 1.0, 0.0],
    [0.0, 0.0, 0.0, 1.0],
];

/// nibabel's `get_best_affine()` for this header.
pub fn best_affine(h: &NiftiHeader) -> Result<Affine> {
    match h.format() {
        Format::Analyze => Ok(spm_origin_affine(h)),
        Format::Nifti1 | Format::Nifti2 => {
            if h.int("sform_code") != 0 {
                Ok(sform(h))
            } else if h.int("qform_code") != 0 {
                qform(h)
            } else {
                Ok(base_affine(h))
            }
        }
    }
}

/// The affine stored in `srow_x/y/z`.
pub fn sform(h: &NiftiHeader) -> Affine {
    let mut a = IDENTITY;
    for (row, name) in ["srow_x", "srow_y", "srow_z"].iter().enumerate() {
        let r = h.floats(name);
        for (c, v) in r.iter().take(4).enumerate() {
            a[row][c] = *v;
        }
    }
    a
}

/// The affine encoded by the qform quaternion, offsets and `pixdim`.
///
/// Evaluated in x87 extended precision in nibabel's order of operations, so
/// the result equals nibabel's `get_qform()` bit for bit.
pub fn qform(h: &NiftiHeader) -> Result<Affine> {
    let (b, c, d) = (
        h.float("quatern_b"),
        h.float("quatern_c"),
        h.float("quatern_d"),
    );
    // nibabel's threshold scales with the precision the values were stored in.
    let thresh = match h.format() {
        Format::Nifti2 => 3.0 * f64::EPSILON,
        _ => f64::from(3.0 * f32::EPSILON),
    };
    let (xb, xc, xd) = (X80::from_f64(b), X80::from_f64(c), X80::from_f64(d));
    let norm = xb.times(xb).plus(xc.times(xc)).plus(xd.times(xd));
    let w2 = X80::from_f64(1.0).minus(norm);
    let w = if w2.abs() < X80::from_f64(thresh) {
        X80::from_f64(0.0)
    } else if w2.is_negative() {
        return Err(Error::header(
            "quatern_b",
            format!("({b}, {c}, {d}) is longer than a unit quaternion's vector part"),
        ));
    } else {
        w2.sqrt()
    };
    let r = quat2mat_x80([w, xb, xc, xd]);
    let pixdim = h.floats("pixdim");
    let px = |i: usize| pixdim.get(i).copied().unwrap_or(1.0);
    let vox = [px(1), px(2), px(3) * px(0)];
    let offs = [
        h.float("qoffset_x"),
        h.float("qoffset_y"),
        h.float("qoffset_z"),
    ];
    let mut a = IDENTITY;
    for (i, row) in a.iter_mut().enumerate().take(3) {
        for (j, v) in vox.iter().enumerate() {
            // numpy's dot starts from +0, so a zero product is +0.
            row[j] = r[i][j].times(X80::from_f64(*v)).to_f64() + 0.0;
        }
        row[3] = offs[i];
    }
    Ok(a)
}

/// nibabel's `quat2mat` in extended precision.
fn quat2mat_x80(q: [X80; 4]) -> [[X80; 3]; 3] {
    let [w, x, y, z] = q;
    let one = X80::from_f64(1.0);
    let nq = w
        .times(w)
        .plus(x.times(x))
        .plus(y.times(y))
        .plus(z.times(z));
    if nq < X80::from_f64(f64::EPSILON) {
        let zero = X80::from_f64(0.0);
        return [[one, zero, zero], [zero, one, zero], [zero, zero, one]];
    }
    let s = X80::from_f64(2.0).over(nq);
    let (xs, ys, zs) = (x.times(s), y.times(s), z.times(s));
    let (wx, wy, wz) = (w.times(xs), w.times(ys), w.times(zs));
    let (xx, xy, xz) = (x.times(xs), x.times(ys), x.times(zs));
    let (yy, yz, zz) = (y.times(ys), y.times(zs), z.times(zs));
    [
        [one.minus(yy.plus(zz)), xy.minus(wz), xz.plus(wy)],
        [xy.plus(wz), one.minus(xx.plus(zz)), yz.minus(wx)],
        [xz.minus(wy), yz.plus(wx), one.minus(xx.plus(yy))],
    ]
}

/// The `w` of a unit quaternion from its vector part, or `None` if
/// `b^2 + c^2 + d^2` exceeds 1 by more than `thresh`.
pub fn fill_positive(b: f64, c: f64, d: f64, thresh: f64) -> Option<f64> {
    let w2 = 1.0 - (b * b + c * c + d * d);
    if w2.abs() < thresh {
        Some(0.0)
    } else if w2 < 0.0 {
        None
    } else {
        Some(w2.sqrt())
    }
}

/// Rotation matrix of quaternion `[w, x, y, z]` (normalised first, as nibabel).
pub fn quat2mat(q: [f64; 4]) -> [[f64; 3]; 3] {
    let [w, x, y, z] = q;
    let nq = w * w + x * x + y * y + z * z;
    if nq < f64::EPSILON {
        return [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    }
    let s = 2.0 / nq;
    let (xs, ys, zs) = (x * s, y * s, z * s);
    let (wx, wy, wz) = (w * xs, w * ys, w * zs);
    let (xx, xy, xz) = (x * xs, x * ys, x * zs);
    let (yy, yz, zz) = (y * ys, y * zs, z * zs);
    [
        [1.0 - (yy + zz), xy - wz, xz + wy],
        [xy + wz, 1.0 - (xx + zz), yz - wx],
        [xz - wy, yz + wx, 1.0 - (xx + yy)],
    ]
}

/// Quaternion `[w, x, y, z]` (w >= 0) closest to rotation matrix `m`
/// (Bar-Itzhack's method, as nibabel's `mat2quat`).
pub fn mat2quat(m: [[f64; 3]; 3]) -> [f64; 4] {
    let [[qxx, qyx, qzx], [qxy, qyy, qzy], [qxz, qyz, qzz]] = m;
    let k = Matrix4::new(
        qxx - qyy - qzz,
        qyx + qxy,
        qzx + qxz,
        qyz - qzy,
        qyx + qxy,
        qyy - qxx - qzz,
        qzy + qyz,
        qzx - qxz,
        qzx + qxz,
        qzy + qyz,
        qzz - qxx - qyy,
        qxy - qyx,
        qyz - qzy,
        qzx - qxz,
        qxy - qyx,
        qxx + qyy + qzz,
    ) / 3.0;
    let eig = SymmetricEigen::new(k);
    let mut best = 0;
    for i in 1..4 {
        if eig.eigenvalues[i] > eig.eigenvalues[best] {
            best = i;
        }
    }
    let v = eig.eigenvectors.column(best);
    let mut q = [v[3], v[0], v[1], v[2]];
    if q[0] < 0.0 {
        q.iter_mut().for_each(|x| *x = -*x);
    }
    q
}

/// Quaternion parameters for an affine, as nibabel's `set_qform`
/// (shears stripped by polar decomposition): `(quat, qfac, zooms, offsets)`.
pub fn affine_to_qform(a: &Affine) -> ([f64; 4], f64, [f64; 3], [f64; 3]) {
    let rzs = Matrix3::from_fn(|i, j| a[i][j]);
    let mut zooms = [0.0; 3];
    for (j, z) in zooms.iter_mut().enumerate() {
        *z = rzs.column(j).norm();
    }
    let mut r = Matrix3::from_fn(|i, j| {
        if zooms[j] == 0.0 {
            rzs[(i, j)]
        } else {
            rzs[(i, j)] / zooms[j]
        }
    });
    let qfac = if r.determinant() > 0.0 { 1.0 } else { -1.0 };
    if qfac < 0.0 {
        r.column_mut(2).scale_mut(-1.0);
    }
    let svd = r.svd(true, true);
    let pr = match (svd.u, svd.v_t) {
        (Some(u), Some(vt)) => u * vt,
        _ => Matrix3::identity(),
    };
    let m = [
        [pr[(0, 0)], pr[(0, 1)], pr[(0, 2)]],
        [pr[(1, 0)], pr[(1, 1)], pr[(1, 2)]],
        [pr[(2, 0)], pr[(2, 1)], pr[(2, 2)]],
    ];
    (mat2quat(m), qfac, zooms, [a[0][3], a[1][3], a[2][3]])
}

/// nibabel's `shape_zoom_affine` with the x axis flipped (`get_base_affine`).
pub fn base_affine(h: &NiftiHeader) -> Affine {
    let zooms = h.zooms();
    let shape = h.shape();
    let mut a = IDENTITY;
    for (i, row) in a.iter_mut().enumerate().take(3) {
        let n = shape.get(i).copied().unwrap_or(1) as f64;
        let mut z = zooms.get(i).copied().unwrap_or(1.0);
        if i == 0 {
            z = -z;
        }
        let origin = (n - 1.0) / 2.0;
        row[i] = z;
        row[3] = -origin * z;
    }
    a
}

/// SPM99/SPM2's ANALYZE affine: translations from the `origin` field when it
/// is sensible, else from the centre of the image.
pub fn spm_origin_affine(h: &NiftiHeader) -> Affine {
    let pixdim = h.floats("pixdim");
    let dim = h.ints("dim");
    let origin = h.ints("origin");
    let dims: Vec<i64> = (1..4).map(|i| dim.get(i).copied().unwrap_or(0)).collect();
    let org: Vec<i64> = (0..3)
        .map(|i| origin.get(i).copied().unwrap_or(0))
        .collect();
    let mut zooms: Vec<f32> = (1..4)
        .map(|i| pixdim.get(i).copied().unwrap_or(1.0) as f32)
        .collect();
    zooms[0] = -zooms[0];
    let use_origin = org.iter().any(|&o| o != 0)
        && org
            .iter()
            .zip(&dims)
            .all(|(&o, &d)| o > -d && o < (d * 2) as i16 as i64);
    let mut a = IDENTITY;
    for i in 0..3 {
        a[i][i] = f64::from(zooms[i]);
        a[i][3] = if use_origin {
            // nibabel computes this in float32 (int16 * float32).
            f64::from(-((org[i] - 1) as f32) * zooms[i])
        } else {
            -((dims[i] as f64 - 1.0) / 2.0) * f64::from(zooms[i])
        };
    }
    a
}

/// Voxel spacing: the norm of each of the first three affine columns.
pub fn spacing(a: &Affine) -> [f64; 3] {
    let mut s = [0.0; 3];
    for (j, v) in s.iter_mut().enumerate() {
        *v = (0..3).map(|i| a[i][j] * a[i][j]).sum::<f64>().sqrt();
    }
    s
}

/// nibabel's `io_orientation`: for each voxel axis, `(world axis, +1/-1)`,
/// or `None` where the affine does not determine it.
pub fn io_orientation(a: &Affine) -> [Option<(usize, i8)>; 3] {
    let rzs = Matrix3::from_fn(|i, j| a[i][j]);
    let mut rs = rzs;
    for j in 0..3 {
        let n = rzs.column(j).norm();
        let n = if n == 0.0 { 1.0 } else { n };
        rs.column_mut(j).unscale_mut(n);
    }
    let svd = rs.svd(true, true);
    let (Some(u), Some(vt)) = (svd.u, svd.v_t) else {
        return [None; 3];
    };
    let smax = svd.singular_values.max();
    let tol = smax * 3.0 * f64::EPSILON;
    let mut r = Matrix3::zeros();
    for k in 0..3 {
        if svd.singular_values[k] > tol {
            r += u.column(k) * vt.row(k);
        }
    }
    // Columns with the most dominant entry claim their world axis first.
    let peak = |j: usize| {
        -(0..3)
            .map(|i| r[(i, j)] * r[(i, j)])
            .fold(f64::MIN, f64::max)
    };
    let mut order = [0usize, 1, 2];
    order.sort_by(|&a, &b| peak(a).total_cmp(&peak(b)));
    let mut out = [None; 3];
    for in_ax in order {
        let col = r.column(in_ax).into_owned();
        if col.iter().all(|v| v.abs() <= 1e-8) {
            continue;
        }
        let mut out_ax = 0;
        for k in 1..3 {
            if col[k].abs() > col[out_ax].abs() {
                out_ax = k;
            }
        }
        out[in_ax] = Some((out_ax, if col[out_ax] < 0.0 { -1 } else { 1 }));
        for j in 0..3 {
            r[(out_ax, j)] = 0.0;
        }
    }
    out
}

/// Orientation codes such as `RAS` or `LPS` (`?` where undetermined).
pub fn axcodes(a: &Affine) -> [char; 3] {
    const LABELS: [(char, char); 3] = [('L', 'R'), ('P', 'A'), ('I', 'S')];
    io_orientation(a).map(|o| match o {
        Some((ax, 1)) => LABELS[ax].1,
        Some((ax, _)) => LABELS[ax].0,
        None => '?',
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quaternion_round_trip() {
        let q = [0.5f64.sqrt(), 0.5f64.sqrt(), 0.0, 0.0];
        let m = quat2mat(q);
        let back = mat2quat(m);
        for (a, b) in q.iter().zip(back) {
            assert!((a - b).abs() < 1e-12);
        }
    }

    #[test]
    fn codes_of_simple_affines() {
        assert_eq!(axcodes(&IDENTITY), ['R', 'A', 'S']);
        let mut lps = IDENTITY;
        lps[0][0] = -2.0;
        lps[1][1] = -3.0;
        assert_eq!(axcodes(&lps), ['L', 'P', 'S']);
        let mut swapped = [[0.0; 4]; 4];
        swapped[0][1] = 1.0;
        swapped[1][2] = 1.0;
        swapped[2][0] = -1.0;
        swapped[3][3] = 1.0;
        assert_eq!(axcodes(&swapped), ['I', 'R', 'A']);
    }

    #[test]
    fn fill_positive_refuses_long_vectors() {
        assert_eq!(fill_positive(0.0, 0.0, 0.0, 1e-7), Some(1.0));
        assert_eq!(fill_positive(1.0, 0.0, 0.0, 1e-7), Some(0.0));
        assert_eq!(fill_positive(1.0, 0.5, 0.0, 1e-7), None);
    }
}
