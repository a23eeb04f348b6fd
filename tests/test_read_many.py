"""``nifti.read_many``: several regions of one image at once equal nibabel's slicing."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from tioxide import gz, nifti


@pytest.fixture(params=[".nii", ".nii.gz"])
def image(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    data = rng.integers(-500, 3000, (48, 40, 90)).astype(np.int16)
    header = nib.Nifti1Header()
    header.set_slope_inter(0.5, 10)
    path = tmp_path / f"img{request.param}"
    nib.save(nib.Nifti1Image(data, np.eye(4), header), path)
    return path


def patches(n: int, size: int, shape: tuple[int, ...], seed: int) -> list[tuple[slice, ...]]:
    rng = np.random.default_rng(seed)
    corners = rng.integers(0, np.array(shape) - size + 1, (n, 3))
    return [tuple(slice(int(c), int(c) + size) for c in corner) for corner in corners]


@pytest.mark.parametrize("first_read_needs_most", [True, False])
def test_patches_read_together_equal_nibabel(image: Path, first_read_needs_most: bool) -> None:
    nifti.clear_cache()
    gz.configure(span=64 << 10)
    try:
        expected = np.asanyarray(nib.load(image).dataobj)
        wanted = patches(16, 24, expected.shape, 0)
        wanted += [(slice(40, 2, -3), 5, slice(None, None, -1)), (Ellipsis, 0), (slice(0, 0),)]
        if not first_read_needs_most:
            nifti.read(image, (slice(0, 4), slice(0, 4), slice(0, 4)))
        for _ in range(2):
            got = nifti.read_many(image, wanted)
            assert len(got) == len(wanted)
            for region, array in zip(wanted, got, strict=True):
                np.testing.assert_array_equal(array, expected[region])
                assert array.dtype == expected.dtype
    finally:
        gz.configure(span=1 << 20)


def test_bad_regions_name_the_file(image: Path) -> None:
    with pytest.raises(IndexError, match=image.name):
        nifti.read_many(image, [(slice(0, 4),), (100, 0, 0)])
    with pytest.raises(FileNotFoundError, match="missing"):
        nifti.read_many(image.parent / "missing.nii.gz", [(0, 0, 0)])
    assert nifti.read_many(image, []) == []


def test_prefetch_keeps_the_voxels_for_the_next_reads(image: Path) -> None:
    nifti.clear_cache()
    expected = np.asanyarray(nib.load(image).dataobj)
    nifti.prefetch(image)
    kept = gz.cache_stats()["streams"]
    assert kept["entries"] == (1 if image.suffix == ".gz" else 0)
    for region in patches(5, 8, expected.shape, 1):
        np.testing.assert_array_equal(nifti.read(image, region), expected[region])
    if image.suffix == ".gz":
        assert gz.cache_stats()["streams"]["hits"] >= kept["hits"] + 5
        assert gz.cache_stats()["chunks"]["entries"] == 0
    nifti.prefetch(image)
    assert gz.cache_stats()["streams"]["entries"] == kept["entries"]
    nifti.release(image)
    assert gz.cache_stats()["streams"]["entries"] == 0
    np.testing.assert_array_equal(nifti.read(image, (1, 2, 3)), expected[1, 2, 3])
    with pytest.raises(FileNotFoundError, match="missing"):
        nifti.prefetch(image.parent / "missing.nii.gz")
