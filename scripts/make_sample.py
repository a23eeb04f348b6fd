"""Regenerate the bundled sample image ``python/tioxide/samples/phantom.nii.gz``.

A deterministic head-like phantom (ellipsoid shells, ventricles, a bright
block in the right-anterior-superior corner so orientation is visible) with
an oblique, left-posterior-superior affine. Written with nibabel so the
bundled file does not depend on tioxide's own writer.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np


def phantom(shape: tuple[int, int, int] = (64, 72, 48)) -> np.ndarray:
    grids = np.meshgrid(*[np.linspace(-1, 1, n) for n in shape], indexing="ij")
    x, y, z = grids
    r = np.sqrt((x / 0.85) ** 2 + (y / 0.95) ** 2 + (z / 0.8) ** 2)
    img = np.where(r < 1.0, 300.0, 0.0)
    img += np.where(r < 0.9, 500.0, 0.0)
    vent = np.sqrt(((np.abs(x) - 0.15) / 0.1) ** 2 + (y / 0.35) ** 2 + (z / 0.2) ** 2) < 1
    img[vent] = 150.0
    img[-10:-4, -10:-4, -10:-4] = 1200.0  # marker: high i, j, k corner
    rng = np.random.default_rng(0)
    img += rng.normal(0, 12, shape) * (r < 1.0)
    return np.round(img).astype(np.int16)


def main() -> None:
    angle = np.deg2rad(8.0)
    rot = np.array(
        [[1, 0, 0], [0, np.cos(angle), -np.sin(angle)], [0, np.sin(angle), np.cos(angle)]]
    )
    affine = np.eye(4)
    affine[:3, :3] = rot @ np.diag([-3.0, -2.5, 3.2])
    affine[:3, 3] = [96.0, 90.0, -76.0]
    img = nib.Nifti1Image(phantom(), affine)
    img.header.set_xyzt_units("mm", "sec")
    img.header["descrip"] = b"tioxide sample phantom"
    img.set_qform(affine, code=1)
    img.set_sform(affine, code=1)
    out = Path(__file__).resolve().parents[1] / "python" / "tioxide" / "samples" / "phantom.nii.gz"
    nib.save(img, out)
    print(out, out.stat().st_size)


if __name__ == "__main__":
    main()
