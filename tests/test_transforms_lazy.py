"""Crop-first lazy loading: spatial crops, pads, flips and permutations of unread images.

A chain of them on an image read from a file reads, when the data is needed,
only the kept voxels, in one region read; the result and the history equal
those of the same chain on the loaded image.
"""

from __future__ import annotations

import copy
import pickle
import random
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
import torch

import tioxide as tio
from read_spy import ReadSpy
from tioxide.data.indexing import normalize_index
from transforms_helpers import assert_images_equal, history, random_affine


@pytest.fixture(scope="module")
def volumes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    folder = tmp_path_factory.mktemp("lazy")
    array = rng.integers(-1000, 1000, size=(9, 11, 7)).astype(np.int16)
    affine = random_affine(rng)
    paths = {}
    for suffix in (".nii", ".nii.gz"):
        path = folder / f"image{suffix}"
        nib.save(nib.Nifti1Image(array, affine), path)
        paths[suffix] = path
    labels = folder / "labels.nii"
    nib.save(nib.Nifti1Image(rng.integers(0, 4, size=(9, 11, 7)).astype(np.uint8), affine), labels)
    paths["labels"] = labels
    return paths


def _random_chain(rng: random.Random) -> list[tio.Transform]:
    steps: list[tio.Transform] = []
    for _ in range(rng.randint(1, 5)):
        kind = rng.choice(
            ["crop", "pad", "crop_or_pad", "flip", "transpose", "reorient", "multiple"]
        )
        if kind == "crop":
            steps.append(tio.Crop(cropping=tuple(rng.randint(0, 2) for _ in range(6))))
        elif kind == "pad":
            steps.append(tio.Pad(padding=tuple(rng.randint(0, 2) for _ in range(6))))
        elif kind == "crop_or_pad":
            target = tuple(rng.choice([None, rng.randint(2, 14)]) for _ in range(3))
            steps.append(tio.CropOrPad(target, location=rng.choice(["center", "random"])))
        elif kind == "flip":
            steps.append(tio.Flip(axes=tuple(rng.sample([0, 1, 2], rng.randint(1, 3)))))
        elif kind == "transpose":
            steps.append(tio.Transpose())
        elif kind == "reorient":
            steps.append(
                tio.Reorient("".join(rng.choice(p) for p in rng.sample(["RL", "AP", "SI"], 3)))
            )
        else:
            steps.append(
                tio.EnsureShapeMultiple(rng.randint(2, 4), method=rng.choice(["crop", "pad"]))
            )
    return steps


def _apply_chain(chain: list[tio.Transform], data: Any, seed: int, composed: bool) -> Any:
    torch.manual_seed(seed)
    if composed:
        return tio.Compose(chain)(data)
    for step in chain:
        data = step(data)
    return data


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
@pytest.mark.parametrize("seed", range(30))
def test_lazy_chain_equals_eager(
    volumes: dict[str, Path], suffix: str, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(seed)
    chain = _random_chain(rng)
    composed = rng.random() < 0.5
    eager_input = tio.ScalarImage(volumes[suffix])
    eager_input.load()
    eager = _apply_chain(chain, eager_input, seed, composed)

    spy = ReadSpy(monkeypatch)
    lazy = _apply_chain(chain, tio.ScalarImage(volumes[suffix]), seed, composed)
    assert spy.calls == []  # transforms read no voxels
    assert not lazy.is_loaded
    assert lazy.shape == eager.shape and lazy.affine == eager.affine
    assert history(lazy) == history(eager)
    assert_images_equal(lazy, eager)
    # One read, of at most the kept voxels (padding is not read).
    assert len(spy.calls) == 1
    assert spy.voxels((9, 11, 7))[0] <= int(np.prod(lazy.spatial_shape))
    assert lazy.is_loaded


def test_crop_or_pad_reads_only_the_kept_region(
    volumes: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = ReadSpy(monkeypatch)
    image = tio.CropOrPad((4, 5, 3))(tio.ScalarImage(volumes[".nii.gz"]))
    assert spy.calls == []
    data = image.data
    assert data.shape == (1, 4, 5, 3)
    ((path, region),) = spy.calls
    assert path == volumes[".nii.gz"]
    assert spy.voxels((9, 11, 7)) == [4 * 5 * 3]
    full = tio.ScalarImage(volumes[".nii"]).data
    assert torch.equal(data, full[:, 3:7, 3:8, 2:5])


def test_subject_with_several_images(
    volumes: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    def make() -> tio.Subject:
        return tio.Subject(t1=tio.ScalarImage(volumes[".nii"]), seg=tio.LabelMap(volumes["labels"]))

    chain = tio.Compose([tio.Reorient("PLI"), tio.CropOrPad((6, 12, 4)), tio.Flip(axes=(0, 2))])
    eager_input = make()
    eager_input.load()
    eager = chain(eager_input)
    spy = ReadSpy(monkeypatch)
    lazy = chain(make())
    assert spy.calls == []
    for name in ("t1", "seg"):
        assert_images_equal(lazy[name], eager[name])
    assert history(lazy) == history(eager)
    assert len(spy.calls) == 2
    restored = lazy.apply_inverse_transform(warn=False)
    original = make()
    assert restored.t1.affine == original.t1.affine


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular", "mean", "median", "minimum"])
def test_padding_that_needs_the_data_runs_after_the_read(
    volumes: dict[str, Path], mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = tio.Compose(
        [
            tio.Crop(cropping=(1, 2, 0, 1, 2, 0)),
            tio.Pad(padding=(2, 1, 0, 2, 1, 1), padding_mode=mode),
            tio.Flip(axes=(0, 2)),
            tio.Transpose(),
            tio.Crop(cropping=(0, 1, 2, 0, 1, 1)),
            tio.Pad(padding=1),
        ]
    )
    loaded = tio.ScalarImage(volumes[".nii"])
    loaded.load()
    with pytest.warns(RuntimeWarning) if mode in ("mean", "median") else _no_warning():
        eager = chain(loaded)
    spy = ReadSpy(monkeypatch)
    lazy = chain(tio.ScalarImage(volumes[".nii"]))
    assert spy.calls == [] and lazy.shape == eager.shape
    with pytest.warns(RuntimeWarning) if mode in ("mean", "median") else _no_warning():
        assert_images_equal(lazy, eager)
    assert spy.voxels((9, 11, 7)) == [6 * 10 * 5]  # the first crop only


def _no_warning() -> Any:
    import contextlib

    return contextlib.nullcontext()


def test_two_fill_values(volumes: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    def chain(image: tio.ScalarImage) -> tio.ScalarImage:
        padded = tio.Pad(padding=1, fill=3)(tio.Flip(axes=(1,))(tio.Pad(padding=2, fill=-1)(image)))
        return tio.Crop(cropping=(2, 0, 1, 1, 0, 2))(padded)

    loaded = tio.ScalarImage(volumes[".nii"])
    loaded.load()
    eager = chain(loaded)
    spy = ReadSpy(monkeypatch)
    lazy = chain(tio.ScalarImage(volumes[".nii"]))
    assert spy.calls == []
    assert_images_equal(lazy, eager)


def test_lazy_results_copy_pickle_and_index(
    volumes: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    lazy = tio.Compose([tio.Transpose(), tio.Crop(cropping=(1, 0, 2, 1, 0, 3))])(
        tio.ScalarImage(volumes[".nii"])
    )
    loaded = tio.ScalarImage(volumes[".nii"])
    loaded.load()
    eager = tio.Compose([tio.Transpose(), tio.Crop(cropping=(1, 0, 2, 1, 0, 3))])(loaded)
    for clone in (copy.deepcopy(lazy), pickle.loads(pickle.dumps(lazy))):
        assert not clone.is_loaded
        assert_images_equal(clone, eager)
        assert history(clone) == history(eager)
    spy = ReadSpy(monkeypatch)
    patch = lazy[:, 1:3, 2:4, 0:2]
    assert torch.equal(patch.data, eager.data[:, 1:3, 2:4, 0:2])
    assert patch.affine == eager[:, 1:3, 2:4, 0:2].affine
    assert spy.voxels((9, 11, 7)) == [2 * 2 * 2]
    assert not lazy.is_loaded


def test_images_with_a_plain_reader_are_loaded(volumes: dict[str, Path]) -> None:
    def reader(path: Any) -> tuple[torch.Tensor, np.ndarray]:
        image = nib.load(path)
        return torch.from_numpy(np.asarray(image.dataobj)[np.newaxis].copy()), image.affine

    image = tio.ScalarImage(volumes[".nii"], reader=reader)
    cropped = tio.Crop(cropping=1)(image)
    assert cropped.is_loaded
    assert torch.equal(cropped.data, tio.ScalarImage(volumes[".nii"]).data[:, 1:-1, 1:-1, 1:-1])


def test_intensity_after_lazy_crop(volumes: dict[str, Path]) -> None:
    lazy = tio.Compose([tio.CropOrPad(5), tio.RescaleIntensity(out_min=0.0, out_max=1.0)])(
        tio.ScalarImage(volumes[".nii.gz"])
    )
    loaded = tio.ScalarImage(volumes[".nii.gz"])
    loaded.load()
    eager = tio.Compose([tio.CropOrPad(5), tio.RescaleIntensity(out_min=0.0, out_max=1.0)])(loaded)
    assert_images_equal(lazy, eager)


def test_simpleitk_files_are_read_by_region(tmp_path: Path) -> None:
    sitk = pytest.importorskip("SimpleITK")
    array = np.random.default_rng(1).integers(0, 100, size=(7, 9, 11)).astype(np.int16)
    image = sitk.GetImageFromArray(array)
    image.SetSpacing((1.0, 1.5, 2.0))
    image.SetOrigin((3.0, -4.0, 5.0))
    path = tmp_path / "image.nrrd"
    sitk.WriteImage(image, str(path))
    chain = tio.Compose([tio.Reorient("LAI"), tio.CropOrPad((8, 5, 9)), tio.Flip(axes=(1,))])
    loaded = tio.ScalarImage(path)
    loaded.load()
    eager = chain(loaded)
    lazy = chain(tio.ScalarImage(path))
    assert not lazy.is_loaded
    assert_images_equal(lazy, eager)
    assert history(lazy) == history(eager)


class _Patches(torch.utils.data.Dataset[torch.Tensor]):
    """Lazy images transformed in DataLoader workers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.transform = tio.Compose([tio.CropOrPad((6, 8, 5)), tio.Flip(axes=(1,))])

    def __len__(self) -> int:
        return 4

    def __getitem__(self, index: int) -> torch.Tensor:
        image = self.transform(tio.ScalarImage(self.path))
        assert not image.is_loaded
        return image.data


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_lazy_transforms_in_dataloader_workers(volumes: dict[str, Path], context: str) -> None:
    loaded = tio.ScalarImage(volumes[".nii.gz"])
    loaded.load()
    expected = tio.Compose([tio.CropOrPad((6, 8, 5)), tio.Flip(axes=(1,))])(loaded).data
    loader = torch.utils.data.DataLoader(
        _Patches(volumes[".nii.gz"]), batch_size=2, num_workers=2, multiprocessing_context=context
    )
    batches = list(loader)
    assert len(batches) == 2
    for batch in batches:
        for patch in batch:
            assert torch.equal(patch, expected)


@pytest.mark.parametrize(
    "index",
    [
        (slice(None), slice(None, None, -1), slice(2, 8, 2), slice(None, None, -3)),
        (0, slice(1, 2), slice(9, 1, -2), slice(None)),
        (slice(None), slice(3, 3), slice(None), slice(None)),
        (Ellipsis, slice(-2, None)),
    ],
)
def test_indexing_lazy_results(
    volumes: dict[str, Path], index: tuple[Any, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = tio.Compose(
        [tio.Pad(padding=(1, 0, 2, 1, 0, 2)), tio.Transpose(), tio.Crop(cropping=1)]
    )
    loaded = tio.ScalarImage(volumes[".nii"])
    loaded.load()
    eager = chain(loaded)
    lazy = chain(tio.ScalarImage(volumes[".nii"]))
    # Images keep every axis (an int selects one voxel): index numpy with slices.
    slices = normalize_index(index)
    expected = torch.from_numpy(eager.data.numpy()[slices].copy())
    spy = ReadSpy(monkeypatch)
    patch = lazy[index]
    assert torch.equal(patch.data, expected)
    assert len(spy.calls) <= 1 and not lazy.is_loaded
