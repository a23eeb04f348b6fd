"""``PatchAggregator`` against TorchIO 2.0.0a2, and putting a volume back together.

Grid patches of a volume read from a file go through both aggregators in
batches; the outputs must be bit-equal, dtype included.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torchio

import tioxide as tio
from tioxide import nifti
from tioxide.data._accumulation import InMemoryAccumulation

SHAPE = (23, 19, 17)


@pytest.fixture(scope="module")
def volume(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(3)
    path = tmp_path_factory.mktemp("aggregator") / "volume.nii.gz"
    nifti.write(path, rng.integers(-2000, 2000, size=(*SHAPE, 2)).astype(np.int16), np.eye(4))
    return path


def _grid(lib: Any, path: Path, patch_size: Any, overlap: Any, padding: Any = None) -> Any:
    return lib.GridSampler(
        lib.Subject(t1=lib.ScalarImage(path)), patch_size, overlap, padding_mode=padding
    )


def _aggregate(
    lib: Any,
    sampler: Any,
    mode: str,
    overlap: Any,
    model: Any,
    *,
    batch_size: int = 4,
    output_shape: Any = None,
) -> Any:
    aggregator = lib.PatchAggregator(
        sampler.subject.spatial_shape, mode, overlap, output_shape=output_shape
    )
    for start in range(0, len(sampler), batch_size):
        indices = range(start, min(start + batch_size, len(sampler)))
        batch = torch.stack([model(sampler[n].t1.data) for n in indices])
        aggregator.add_batch(batch, [sampler.locations[n] for n in indices])
    return aggregator.get_output()


def _scaled_model(data: torch.Tensor) -> torch.Tensor:
    return data.double() * 1.37 - 5


@pytest.mark.parametrize("mode", ["crop", "average", "hann"])
@pytest.mark.parametrize(
    ("patch_size", "overlap"),
    [(8, 0), (8, 4), (8, 2), ((9, 7, 6), (4, 2, 2)), ((9, 7, 6), (3, 1, 5)), ((6, 6, 6), 6)],
)
def test_output_equals_torchio(volume: Path, mode: str, patch_size: Any, overlap: Any) -> None:
    theirs = _aggregate(
        torchio, _grid(torchio, volume, patch_size, overlap), mode, overlap, _scaled_model
    )
    ours = _aggregate(tio, _grid(tio, volume, patch_size, overlap), mode, overlap, _scaled_model)
    assert ours.dtype == theirs.dtype == torch.float64
    assert ours.shape == theirs.shape == (2, *SHAPE)
    assert torch.equal(ours, theirs)


@pytest.mark.parametrize("mode", ["crop", "average", "hann"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.int64])
def test_output_dtype_follows_the_patches(volume: Path, mode: str, dtype: torch.dtype) -> None:
    """Integer patches: average divides into floats; Hann fails to add float weights (both)."""

    def model(data: torch.Tensor) -> torch.Tensor:
        return data.to(dtype)

    results = []
    for lib in (torchio, tio):
        try:
            results.append(_aggregate(lib, _grid(lib, volume, 8, 4), mode, 4, model))
        except RuntimeError as error:
            results.append(type(error))
    if isinstance(results[0], type):
        assert results[1] is results[0] and mode == "hann" and dtype == torch.int64
    else:
        assert results[1].dtype == results[0].dtype
        assert torch.equal(results[1], results[0])


@pytest.mark.parametrize("mode", ["crop", "average", "hann"])
@pytest.mark.parametrize("output_shape", [(12, 10, 9), (46, 38, 34), (23, 38, 9)])
def test_output_shape_scales_locations(volume: Path, mode: str, output_shape: Any) -> None:
    """A model whose output has another resolution: locations and overlap are scaled."""
    factor = [o / s for o, s in zip(output_shape, SHAPE, strict=True)]

    def model(data: torch.Tensor) -> torch.Tensor:
        size = [round(n * f) for n, f in zip(data.shape[1:], factor, strict=True)]
        resized = torch.nn.functional.interpolate(data[None].float(), size=size, mode="nearest")
        return resized[0]

    outputs = [
        _aggregate(lib, _grid(lib, volume, 8, 4), mode, 4, model, output_shape=output_shape)
        for lib in (torchio, tio)
    ]
    assert outputs[1].shape == (2, *output_shape)
    assert torch.equal(outputs[1], outputs[0])


@pytest.mark.parametrize("mode", ["crop", "average"])
@pytest.mark.parametrize(
    ("patch_size", "overlap", "padding"),
    [(8, 4, None), ((9, 7, 6), (4, 2, 2), None), (8, 2, "constant"), ((7, 8, 9), 4, "reflect")],
)
def test_a_grid_with_overlap_gives_the_volume_back(
    volume: Path, mode: str, patch_size: Any, overlap: Any, padding: Any
) -> None:
    """Identity "model": crop and average rebuild the volume exactly (padded, if padding)."""
    sampler = _grid(tio, volume, patch_size, overlap, padding)
    output = _aggregate(tio, sampler, mode, overlap, lambda data: data.float(), batch_size=3)
    assert torch.equal(output, sampler.subject.t1.data.float())
    if padding is None:
        assert torch.equal(output, tio.ScalarImage(volume).data.float())


def test_hann_gives_the_volume_back_where_windows_add_up_to_one(volume: Path) -> None:
    """Like TorchIO, voxels whose weights sum below 1 (near the border) are divided by 1."""
    sampler = _grid(tio, volume, 8, 4)
    output = _aggregate(tio, sampler, "hann", 4, lambda data: data.double())
    weights = tio.PatchAggregator(SHAPE, "hann", 4)
    for location in sampler.locations:
        weights.add_batch(torch.ones(1, 1, 8, 8, 8, dtype=torch.float64), [location])
    total = weights._outputs["__default__"].weights  # type: ignore[attr-defined]
    full = total[0] >= 1
    assert 0 < full.sum() < full.numel()
    original = sampler.subject.t1.data.double()
    assert torch.allclose(output[:, full], original[:, full], rtol=1e-12, atol=1e-9)
    assert not torch.allclose(output[:, ~full], original[:, ~full])


def test_dict_batches_give_one_output_per_key(volume: Path) -> None:
    outputs = []
    for lib in (torchio, tio):
        sampler = _grid(lib, volume, 8, 2)
        aggregator = lib.PatchAggregator(SHAPE, "average")
        for n, location in enumerate(sampler.locations):
            data = sampler[n].t1.data[None].float()
            aggregator.add_batch({"a": data, "b": -data[:, :1]}, [location])
        outputs.append((aggregator.get_output("a"), aggregator.get_output("b")))
        with pytest.raises(KeyError) as caught:
            aggregator.get_output()
        outputs.append(str(caught.value))
    assert torch.equal(outputs[2][0], outputs[0][0]) and torch.equal(outputs[2][1], outputs[0][1])
    assert outputs[3] == outputs[1] == "\"No output for key None. Available: ['a', 'b']\""


def test_crop_output_is_the_buffer_and_means_are_new() -> None:
    """As in TorchIO, 'crop' returns its buffer itself; the means are computed anew."""
    location = tio.PatchLocation((0, 0, 0), (2, 2, 2))
    crop = tio.PatchAggregator((2, 2, 2))
    crop.add_batch(torch.ones(1, 1, 2, 2, 2), [location])
    assert crop.get_output() is crop.get_output()
    average = tio.PatchAggregator((2, 2, 2), "average")
    average.add_batch(torch.ones(1, 1, 2, 2, 2), [location])
    assert average.get_output() is not average.get_output()


@pytest.mark.parametrize("mode", ["sum", "Crop", "", "max"])
def test_bad_overlap_mode(mode: str) -> None:
    with pytest.raises(ValueError) as theirs:
        torchio.PatchAggregator((4, 4, 4), overlap_mode=mode)
    with pytest.raises(ValueError) as ours:
        tio.PatchAggregator((4, 4, 4), overlap_mode=mode)
    assert str(ours.value) == str(theirs.value)
    assert "('crop', 'average', 'hann')" in str(ours.value) and repr(mode) in str(ours.value)


def test_hann_window_equals_torchios() -> None:
    from torchio.data.aggregator import _build_hann_3d

    from tioxide.data.aggregator import hann_window_3d

    for size in [(1, 1, 1), (4, 5, 6), (8, 8, 8), (3, 1, 7)]:
        ours = hann_window_3d(size)
        assert torch.equal(ours, _build_hann_3d(size))
        assert ours.min() > 0


def test_another_accumulation_can_be_plugged_in() -> None:
    """The storage of the outputs is one overridable method (e.g. for outputs on disk)."""
    calls: list[str] = []

    class Recording(InMemoryAccumulation):
        def accumulate(self, box: Any, values: torch.Tensor, weights: Any) -> None:
            calls.append("accumulate")
            super().accumulate(box, values, weights)

        def result(self) -> torch.Tensor:
            calls.append("result")
            return super().result()

    class Aggregator(tio.PatchAggregator):
        def _new_accumulation(self, key: str, num_channels: int, dtype: torch.dtype) -> Any:
            calls.append(f"new {key} {num_channels} {dtype}")
            return Recording(num_channels, self.spatial_shape, dtype, weighted=True)

    aggregator = Aggregator((4, 4, 4), "average")
    location = tio.PatchLocation((0, 0, 0), (4, 4, 4))
    aggregator.add_batch(torch.ones(2, 3, 4, 4, 4), [location, location])
    assert torch.equal(aggregator.get_output(), torch.ones(3, 4, 4, 4))
    assert calls == ["new __default__ 3 torch.float32", "accumulate", "accumulate", "result"]
    with pytest.raises(RuntimeError, match="places values; it has no weights"):
        InMemoryAccumulation(1, (2, 2, 2), torch.float32, weighted=False).accumulate(
            (slice(0, 1),) * 3, torch.ones(1, 1, 1, 1), 1
        )


def test_docstring_examples() -> None:
    import doctest

    import tioxide.data.aggregator
    import tioxide.data.patch
    import tioxide.data.sampler

    for module in (tioxide.data.aggregator, tioxide.data.patch, tioxide.data.sampler):
        failed, attempted = doctest.testmod(module)
        assert failed == 0 and attempted > 0, module.__name__
