"""Patch samplers against TorchIO 2.0.0a2, on real files, loaded and lazy.

With the same torch seed both libraries must pick the same locations and cut
bit-equal patches; on an unloaded subject tioxide must read only the patches
(and a weighted sampler's map, once).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
import torch
import torchio

import tioxide as tio
from read_spy import ReadSpy
from tioxide import nifti

SHAPE = (21, 18, 16)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An int16 image as .nii and .nii.gz, a sparse uint8 label map and a float weight map."""
    rng = np.random.default_rng(7)
    folder = tmp_path_factory.mktemp("samplers")
    affine = np.array(
        [[0.0, -1.5, 0.1, 30.0], [1.2, 0.0, 0.0, -20.0], [0.0, 0.2, 2.0, 5.0], [0, 0, 0, 1]]
    )
    image = rng.integers(-1000, 3000, size=SHAPE).astype(np.int16)
    labels = np.where(rng.random(SHAPE) > 0.93, rng.integers(1, 4, size=SHAPE), 0)
    weights = rng.random(SHAPE).astype(np.float32) ** 4
    paths = {}
    for suffix in (".nii", ".nii.gz"):
        paths[f"image{suffix}"] = folder / f"image{suffix}"
        nifti.write(paths[f"image{suffix}"], image, affine)
    paths["labels"] = folder / "labels.nii.gz"
    nib.save(nib.Nifti1Image(labels.astype(np.uint8), affine), paths["labels"])
    paths["weights"] = folder / "weights.nii"
    nib.save(nib.Nifti1Image(weights, affine), paths["weights"])
    return paths


def make_subject(lib: Any, files: dict[str, Path], suffix: str, *, load: bool) -> Any:
    subject = lib.Subject(
        t1=lib.ScalarImage(files[f"image{suffix}"]),
        seg=lib.LabelMap(files["labels"]),
        weights=lib.ScalarImage(files["weights"]),
        age=42,
    )
    if load:
        subject.load()
    return subject


def where(location: Any) -> tuple[Any, ...]:
    return (location.index, location.size, location.subject_index)


def assert_patches_equal(ours: Any, theirs: Any) -> None:
    """Same location, metadata, and bit-equal tensors (same dtype) and affines."""
    assert where(ours.patch_location) == where(theirs.patch_location)
    assert list(ours.metadata) == list(theirs.metadata)
    assert all(
        ours.metadata[k] == theirs.metadata[k] for k in ours.metadata if k != "patch_location"
    )
    assert list(ours.images) == list(theirs.images)
    for name, image in ours.images.items():
        reference = theirs.images[name]
        assert type(image).__name__ == type(reference).__name__
        assert image.data.dtype == reference.data.dtype
        assert torch.equal(image.data, reference.data), name
        assert np.array_equal(image.affine.numpy(), reference.affine.numpy())


SAMPLERS: dict[str, tuple[str, dict[str, Any]]] = {
    "uniform": ("UniformSampler", {}),
    "weighted": ("WeightedSampler", {"probability_map": "weights"}),
    "label": ("LabelSampler", {"label_name": "seg"}),
    "label-probabilities": (
        "LabelSampler",
        {"label_name": "seg", "label_probabilities": {0: 0.05, 1: 1.0, 3: 4.0}},
    ),
}


def _sample(lib: Any, subject: Any, kind: str, patch_size: Any, count: int, seed: int) -> list[Any]:
    name, kwargs = SAMPLERS[kind]
    torch.manual_seed(seed)
    sampler = getattr(lib, name)(subject, patch_size, num_patches=count, **kwargs)
    return list(sampler)


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
@pytest.mark.parametrize("kind", list(SAMPLERS))
@pytest.mark.parametrize("patch_size", [7, (5, 9, 4), (1, 17, 2)])
def test_random_samplers_match_torchio(
    files: dict[str, Path], suffix: str, kind: str, patch_size: Any
) -> None:
    theirs = _sample(
        torchio, make_subject(torchio, files, suffix, load=True), kind, patch_size, 25, 3
    )
    loaded = _sample(tio, make_subject(tio, files, suffix, load=True), kind, patch_size, 25, 3)
    lazy_subject = make_subject(tio, files, suffix, load=False)
    lazy = _sample(tio, lazy_subject, kind, patch_size, 25, 3)
    assert len(theirs) == len(loaded) == len(lazy) == 25
    assert len({where(p.patch_location) for p in theirs}) > 5  # the seed does pick places
    for ours_loaded, ours_lazy, reference in zip(loaded, lazy, theirs, strict=True):
        assert_patches_equal(ours_loaded, reference)
        assert_patches_equal(ours_lazy, reference)
    assert not lazy_subject.t1.is_loaded


@pytest.mark.parametrize("kind", list(SAMPLERS))
def test_calling_a_sampler_on_another_subject(files: dict[str, Path], kind: str) -> None:
    """``sampler(subject, n)`` (what queues do) samples ``subject``, not the sampler's own."""
    name, kwargs = SAMPLERS[kind]
    results = []
    for lib in (torchio, tio):
        own = lib.Subject(
            t1=lib.ScalarImage(torch.zeros(1, 30, 30, 30)),
            seg=lib.LabelMap(torch.ones(1, 30, 30, 30)),
            weights=lib.ScalarImage(torch.ones(1, 30, 30, 30)),
            age=0,
        )
        sampler = getattr(lib, name)(own, 6, num_patches=3, **kwargs)
        torch.manual_seed(11)
        results.append(list(sampler(make_subject(lib, files, ".nii.gz", load=False), 8)))
    assert len(results[1]) == 8
    for ours, theirs in zip(results[1], results[0], strict=True):
        assert_patches_equal(ours, theirs)


def test_endless_sampling(files: dict[str, Path]) -> None:
    """No ``num_patches`` means an endless stream, in both libraries."""
    from itertools import islice

    streams = []
    for lib in (torchio, tio):
        torch.manual_seed(5)
        sampler = lib.LabelSampler(make_subject(lib, files, ".nii", load=False), 4, "seg")
        streams.append(list(islice(iter(sampler), 300)))
    for ours, theirs in zip(streams[1], streams[0], strict=True):
        assert_patches_equal(ours, theirs)


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
@pytest.mark.parametrize(
    ("patch_size", "overlap"),
    [(8, 0), (8, 4), ((7, 6, 5), (2, 4, 0)), ((21, 5, 16), (0, 3, 2)), ((4, 4, 4), (4, 4, 4))],
)
# 'mean' padding of integers warns (in both libraries) that the mean is truncated.
@pytest.mark.filterwarnings("ignore:The constant value computed for padding mode")
@pytest.mark.parametrize(
    "padding_mode", [None, "constant", "reflect", "replicate", "circular", "mean", "minimum"]
)
def test_grid_sampler_matches_torchio(
    files: dict[str, Path], suffix: str, patch_size: Any, overlap: Any, padding_mode: Any
) -> None:
    # TorchIO passes ``fill`` to torch in every mode, and torch refuses it but in 'constant'.
    fill = 7 if padding_mode == "constant" else 0
    kwargs = {"patch_overlap": overlap, "padding_mode": padding_mode, "fill": fill}
    theirs = torchio.GridSampler(
        make_subject(torchio, files, suffix, load=True), patch_size, **kwargs
    )
    loaded = tio.GridSampler(make_subject(tio, files, suffix, load=True), patch_size, **kwargs)
    original = make_subject(tio, files, suffix, load=False)
    lazy = tio.GridSampler(original, patch_size, **kwargs)
    assert [where(x) for x in loaded.locations] == [where(x) for x in theirs.locations]
    assert [where(x) for x in lazy.locations] == [where(x) for x in theirs.locations]
    assert len(lazy) == len(theirs) > 1
    assert lazy.subject.spatial_shape == theirs.subject.spatial_shape
    for index in range(len(theirs)):
        assert_patches_equal(loaded[index], theirs[index])
        assert_patches_equal(lazy[index], theirs[index])
    # The caller's subject is left as it was (TorchIO pads a new subject too).
    assert original.spatial_shape == SHAPE
    assert not original.t1.is_loaded


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
def test_patches_larger_than_the_volume(files: dict[str, Path], suffix: str) -> None:
    """TorchIO cuts uniform and grid patches to the volume; weighted samplers find no centre."""
    big = (30, 10, 40)
    theirs = _sample(torchio, make_subject(torchio, files, suffix, load=True), "uniform", big, 4, 1)
    lazy = _sample(tio, make_subject(tio, files, suffix, load=False), "uniform", big, 4, 1)
    for ours, reference in zip(lazy, theirs, strict=True):
        assert_patches_equal(ours, reference)
        assert ours.t1.spatial_shape == (SHAPE[0], 10, SHAPE[2])
    theirs_grid = torchio.GridSampler(make_subject(torchio, files, suffix, load=True), big)
    ours_grid = tio.GridSampler(make_subject(tio, files, suffix, load=False), big)
    assert [where(x) for x in ours_grid.locations] == [where(x) for x in theirs_grid.locations]
    for index in range(len(theirs_grid)):
        assert_patches_equal(ours_grid[index], theirs_grid[index])
    with pytest.raises(RuntimeError, match="all zeros"):
        _sample(torchio, make_subject(torchio, files, suffix, load=True), "label", big, 4, 1)
    message = r"'seg' is all zeros where a patch of size \(30, 10, 40\) can be centred in a"
    with pytest.raises(RuntimeError, match=message + r" volume of shape \(21, 18, 16\)"):
        _sample(tio, make_subject(tio, files, suffix, load=False), "label", big, 4, 1)


@pytest.mark.parametrize("name", ["WeightedSampler", "LabelSampler"])
def test_all_zero_probability_map(name: str) -> None:
    """A map without a voxel that can centre a patch is a RuntimeError when iterated."""
    weights = torch.zeros(1, 12, 12, 12)
    weights[0, 0, 5, 5] = 1  # only on the border, where no 6-voxel patch can be centred
    errors = []
    for lib in (torchio, tio):
        subject = lib.Subject(
            t1=lib.ScalarImage(torch.rand(1, 12, 12, 12)), m=lib.LabelMap(weights)
        )
        sampler = getattr(lib, name)(subject, 6, "m", num_patches=2)
        iterator = iter(sampler)  # nothing is checked before iterating, as in TorchIO
        with pytest.raises(RuntimeError) as caught:
            next(iterator)
        errors.append(str(caught.value))
    assert "'m'" in errors[1] and "all zeros" in errors[1] and "(6, 6, 6)" in errors[1]
    assert errors[0] in errors[1]


@pytest.mark.parametrize("patch_size", [(4, 4), "big", (2.5, 3, 3)])
def test_patch_size_must_be_three_ints(patch_size: Any) -> None:
    with pytest.raises(ValueError, match="patch_size must be an int or a sequence of three"):
        tio.UniformSampler(tio.Subject(t1=tio.ScalarImage(torch.zeros(1, 4, 4, 4))), patch_size)


def test_numpy_integers_are_sizes() -> None:
    subject = tio.Subject(t1=tio.ScalarImage(torch.zeros(1, 9, 9, 9)))
    sampler = tio.GridSampler(subject, np.int64(4), (np.int32(2), 1, 0))
    assert sampler.patch_size == (4, 4, 4) and sampler.patch_overlap == (2, 1, 0)
    assert all(type(v) is int for v in sampler.locations[-1].index)


def test_base_sampler_is_abstract() -> None:
    sampler = tio.PatchSampler(4)
    assert sampler.patch_size == (4, 4, 4)
    with pytest.raises(NotImplementedError, match="PatchSampler must implement __call__"):
        sampler(tio.Subject(t1=tio.ScalarImage(torch.zeros(1, 4, 4, 4))))


def test_grid_sampler_called_yields_its_grid(files: dict[str, Path]) -> None:
    """Called as a queue calls samplers, a grid sampler cuts its grid of that subject."""
    own = tio.Subject(t1=tio.ScalarImage(torch.zeros(1, 8, 8, 8)))
    sampler = tio.GridSampler(own, 10, 4, padding_mode="constant")
    subject = make_subject(tio, files, ".nii", load=False)
    expected = tio.GridSampler(subject, 10, 4, padding_mode="constant")
    patches = list(sampler(subject))
    assert len(patches) == len(expected) and not subject.t1.is_loaded
    for index, patch in enumerate(patches):
        assert where(patch.patch_location) == where(expected.locations[index])
        assert torch.equal(patch.t1.data, expected[index].t1.data)
    assert len(list(sampler(subject, 3))) == 3


def test_patch_location_matches_torchio() -> None:
    theirs = torchio.PatchLocation(index=(3, 0, 7), size=(5, 6, 3), subject_index=2)
    ours = tio.PatchLocation(index=(3, 0, 7), size=(5, 6, 3), subject_index=2)
    assert ours.index_ini == theirs.index_ini and ours.index_fin == theirs.index_fin
    assert ours.to_slices() == theirs.to_slices()
    for factor in [(0.5, 0.5, 0.5), (2.0, 1.0, 0.25), (1 / 3, 0.75, 1.5)]:
        assert where(ours.scaled(factor)) == where(theirs.scaled(factor))
    with pytest.raises(AttributeError):
        ours.index = (0, 0, 0)  # type: ignore[misc]
    assert ours == copy.deepcopy(ours) and hash(ours) == hash(copy.copy(ours))


# -- reading only the patches ------------------------------------------------------------


@pytest.fixture(scope="module")
def cube(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    rng = np.random.default_rng(1)
    folder = tmp_path_factory.mktemp("cube")
    paths = {}
    image = rng.integers(0, 1000, size=(64, 64, 64)).astype(np.int16)
    labels = np.zeros((64, 64, 64), np.uint8)
    labels[20:40, 30:50, 10:30] = 1
    for suffix in (".nii", ".nii.gz"):
        paths[f"image{suffix}"] = folder / f"image{suffix}"
        nifti.write(paths[f"image{suffix}"], image, np.eye(4))
    paths["labels"] = folder / "labels.nii.gz"
    nifti.write(paths["labels"], labels, np.eye(4))
    return paths


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
@pytest.mark.parametrize("kind", ["uniform", "label", "grid"])
def test_an_unloaded_subject_is_read_patch_by_patch(
    cube: dict[str, Path], suffix: str, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def subject() -> tio.Subject:
        return tio.Subject(
            t1=tio.ScalarImage(cube[f"image{suffix}"]), seg=tio.LabelMap(cube["labels"])
        )

    loaded = subject()
    loaded.load()
    spy = ReadSpy(monkeypatch)
    lazy = subject()
    torch.manual_seed(0)
    if kind == "grid":
        patches = list(tio.GridSampler(lazy, 16, 4, padding_mode="constant"))
    elif kind == "uniform":
        patches = list(tio.UniformSampler(lazy, 16, num_patches=10))
    else:
        patches = list(tio.LabelSampler(lazy, 16, "seg", num_patches=10))
    image_reads = spy.voxels((64, 64, 64), f"image{suffix}")
    label_reads = spy.voxels((64, 64, 64), "labels.nii.gz")
    assert len(image_reads) == len(patches)
    assert max(image_reads) <= 16**3  # each read is one patch (padding is not read)
    if kind != "grid":  # ten patches: much less than the volume in all
        assert sum(image_reads) < 64**3 / 4
    if kind == "label":  # the map is read whole, once, and its patches cut from memory
        assert label_reads == [64**3]
    else:
        assert max(label_reads) <= 16**3
    assert not lazy.t1.is_loaded
    # And the patches are those of the loaded subject.
    torch.manual_seed(0)
    if kind == "grid":
        expected = list(tio.GridSampler(loaded, 16, 4, padding_mode="constant"))
    elif kind == "uniform":
        expected = list(tio.UniformSampler(loaded, 16, num_patches=10))
    else:
        expected = list(tio.LabelSampler(loaded, 16, "seg", num_patches=10))
    for ours, reference in zip(patches, expected, strict=True):
        assert_patches_equal(ours, reference)


def test_grid_padding_that_needs_the_data_reads_the_volume_once(
    cube: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reflect padding of an unloaded image is done on one read, not on one read per patch."""
    spy = ReadSpy(monkeypatch)
    sampler = tio.GridSampler(
        tio.Subject(t1=tio.ScalarImage(cube["image.nii"])), 16, 4, padding_mode="reflect"
    )
    patches = list(sampler)
    assert len(patches) > 10
    assert spy.voxels((64, 64, 64), "image.nii") == [64**3]


def test_patches_of_loaded_images_do_not_keep_the_volume_alive() -> None:
    """TorchIO's patches are views of the volume; tioxide's own their voxels only."""
    subject = tio.Subject(t1=tio.ScalarImage(torch.rand(1, 40, 40, 40)))
    patch = next(iter(tio.UniformSampler(subject, 5, num_patches=1)))
    data = patch.t1.data
    assert data.untyped_storage().nbytes() == 5**3 * 4
    assert data.data_ptr() != subject.t1.data.data_ptr()
