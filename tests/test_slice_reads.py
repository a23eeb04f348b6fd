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
        fast += 1
        return real_read_slices(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(_core, "read_slices", counting)
    expected = 0
    for _ in range(600):
        region = tuple(
            slice(_bound(rng), _bound(rng), rng.choice([None, 1, 2, 3, -1, -2, -5]))
            for _ in range(rng.integers(0, 5))
        )
        bounds = [b for s in region for b in (s.start, s.stop) if b is not None]
        expected += all(abs(b) < 2**62 for b in bounds)  # larger ones: the general path
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
