"""Regions given as a tuple of slices take the core's one-call path
(``_core.read_slices``): they must cut exactly what numpy cuts, for any
bounds (negative, past the axis, huge) and steps, and refuse what numpy refuses."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from tioxide import _core, nifti

SHAPE = (5, 6, 7, 3)


@pytest.fixture(scope="module", params=[".nii", ".nii.gz"])
def image(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = np.arange(np.prod(SHAPE), dtype=np.int16).reshape(SHAPE)
    path = tmp_path_factory.mktemp("slices") / f"img{request.param}"
    nib.save(nib.Nifti1Image(data, np.eye(4)), path)
    return path


def _bound(rng: np.random.Generator) -> int | None:
    pick = rng.integers(5)
    if pick == 0:
        return None
    if pick == 1:
        return int(rng.choice([-(10**18), 10**18, -(2**70), 2**70]))
    return int(rng.integers(-12, 13))


def test_random_slices_equal_numpy(image: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = np.asanyarray(nib.load(image).dataobj)
    rng = np.random.default_rng(3)
    fast = 0
    real_read_slices = _core.read_slices

    def counting(*args: object) -> object:
        nonlocal fast
        done = real_read_slices(*args)  # type: ignore[arg-type]
        fast += done is not None
        return done

    monkeypatch.setattr(_core, "read_slices", counting)
    expected = 0
    for _ in range(600):
        region = tuple(
            slice(_bound(rng), _bound(rng), rng.choice([None, 1, 2, 3, -1, -2, -5]))
            for _ in range(rng.integers(0, 5))
        )
        bounds = [b for s in region for b in (s.start, s.stop) if b is not None]
        expected += all(-(2**63) <= b < 2**63 for b in bounds)  # larger: the general path
        got = nifti.read(image, region)
        want = data[region]
        assert got.dtype == want.dtype and got.shape == want.shape, region
        np.testing.assert_array_equal(got, want, err_msg=str(region))
    assert fast == expected > 400


@pytest.mark.parametrize(
    ("region", "error"),
    [
        ((slice(None),) * 5, IndexError),
        ((slice(0, 3, 0),), ValueError),
    ],
)
def test_what_numpy_refuses_is_refused(image: Path, region: tuple[slice, ...], error: type) -> None:
    data = np.asanyarray(nib.load(image).dataobj)
    with pytest.raises(error):
        data[region]
    with pytest.raises(error):
        nifti.read(image, region)


@pytest.mark.parametrize(
    "region",
    [
        (1, slice(None)),
        (Ellipsis, slice(1, 3)),
        (slice(np.int64(1), np.int64(4)),),
        (slice(True, 4),),
        (None, slice(0, 2)),
        (slice(2**70, None, -1),),
    ],
)
def test_other_indices_take_the_general_path(image: Path, region: tuple[object, ...]) -> None:
    data = np.asanyarray(nib.load(image).dataobj)
    handled = _core.read_slices(str(image), region)
    want = data[region]
    if handled is not None:
        # Only tuples of slices with exact-int (bool is one) or None fields.
        assert all(type(s) is slice for s in region)
        np.testing.assert_array_equal(handled, want)
    got = nifti.read(image, region)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def test_float_bounds_are_refused_as_numpy_does(image: Path) -> None:
    data = np.asanyarray(nib.load(image).dataobj)
    region = (slice(0.0, 2.0),)
    assert _core.read_slices(str(image), region) is None
    with pytest.raises(TypeError):
        data[region]
    with pytest.raises(TypeError):
        nifti.read(image, region)


def test_the_array_owns_its_voxels(image: Path) -> None:
    """The array made in the core is a writable, Fortran-ordered array of
    the voxels' dtype whose memory outlives every other reference."""
    got = _core.read_slices(str(image), (slice(1, 4), slice(None), slice(2, 3)))
    assert got is not None
    want = np.asanyarray(nib.load(image).dataobj)[1:4, :, 2:3]
    assert got.dtype == want.dtype and got.flags.f_contiguous and got.flags.writeable
    view = got[..., 0]
    del got
    np.testing.assert_array_equal(view, want[..., 0])
    view[...] = 7
    assert (view == 7).all()
