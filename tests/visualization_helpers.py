"""A synthetic asymmetric phantom, written with several voxel orders, for picture tests.

The object lives in world space (RAS+ millimetres): a grid of 20 x 16 x 24
points spaced (1, 2, 1.5) mm along x, y, z, a low ramp everywhere (so that no
two slices are alike and GIF encoders keep every frame) and a bright block in
the right-anterior-superior corner covering the last quarter of x, the last
half of y and the last quarter of z. Each file stores that same object with a
different voxel order, so every picture of it must come out the same.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import nibabel as nib
import numpy as np

from tioxide.visualization import ffmpeg_executable

WORLD_SHAPE = (20, 16, 24)
WORLD_SPACING = (1.0, 2.0, 1.5)
BRIGHT = 1000.0
#: Fraction of each world axis (x: R, y: A, z: S) the block covers, at its positive end.
BLOCK = {"LR": 0.25, "AP": 0.5, "SI": 0.25}
#: World-grid index of a point inside the block.
INSIDE = (17, 12, 21)

# Voxel axis -> (world axis, direction) for each test orientation.
ORIENTATIONS = {
    "RAS": ((0, 1), (1, 1), (2, 1)),
    "LPS": ((0, -1), (1, -1), (2, 1)),
    "SLA": ((2, 1), (0, -1), (1, 1)),  # axes permuted: a transposed display is caught
}


def world_volume() -> np.ndarray:
    x, y, z = np.indices(WORLD_SHAPE)
    volume = 3.0 * (x + y + z)
    nx, ny, nz = WORLD_SHAPE
    block = (
        (x >= nx * (1 - BLOCK["LR"]))
        & (y >= ny * (1 - BLOCK["AP"]))
        & (z >= nz * (1 - BLOCK["SI"]))
    )
    volume[block] = BRIGHT
    return volume.astype(np.float32)


def voxel_order(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The world volume re-indexed to an orientation, and the affine that says so."""
    axes = ORIENTATIONS[name]
    volume = world_volume()
    data = np.transpose(volume, [world for world, _ in axes])
    flips = [n for n, (_, sign) in enumerate(axes) if sign < 0]
    data = np.flip(data, axis=flips) if flips else data
    affine = np.zeros((4, 4))
    affine[3, 3] = 1.0
    for n, (world, sign) in enumerate(axes):
        affine[world, n] = sign * WORLD_SPACING[world]
        if sign < 0:
            affine[world, 3] = (WORLD_SHAPE[world] - 1) * WORLD_SPACING[world]
    return np.ascontiguousarray(data), affine


def write_phantom(folder: Path, name: str, suffix: str = ".nii") -> Path:
    data, affine = voxel_order(name)
    path = folder / f"phantom_{name}{suffix}"
    nib.save(nib.Nifti1Image(data, affine), path)
    return path


def inside_coordinates() -> tuple[float, float, float]:
    """World coordinates (mm) of a point inside the block."""
    x, y, z = (i * s for i, s in zip(INSIDE, WORLD_SPACING, strict=True))
    return (x, y, z)


def bright_box(pixels: np.ndarray, threshold: float = 128) -> tuple[float, float, float, float]:
    """(top, bottom, left, right) of the bright pixels, as fractions of the picture."""
    rows, cols = np.nonzero(pixels > threshold)
    assert rows.size, "no bright pixels"
    height, width = pixels.shape
    return (
        rows.min() / height,
        (rows.max() + 1) / height,
        cols.min() / width,
        (cols.max() + 1) / width,
    )


def expected_span(code: str) -> tuple[float, float]:
    """Where the block lies along a display axis whose index grows towards ``code``."""
    pair = {"R": "LR", "L": "LR", "A": "AP", "P": "AP", "S": "SI", "I": "SI"}[code]
    fraction = BLOCK[pair]
    # The block is at the R, A and S ends of the world.
    return (1 - fraction, 1.0) if code in "RAS" else (0.0, fraction)


def video_frames(path: Path) -> np.ndarray:
    """The grey bytes of every frame of a video, decoded by ffmpeg."""
    probe = subprocess.run(
        [
            ffmpeg_executable(),
            "-v",
            "error",
            "-i",
            str(path),
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-",
        ],
        capture_output=True,
        check=True,
    )
    return np.frombuffer(probe.stdout, np.uint8)
