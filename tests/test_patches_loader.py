"""Batches, collate functions and loaders, against TorchIO 2.0.0a2, and the queue in workers."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torchio

import tioxide as tio
from tioxide import nifti

SHAPE = (30, 28, 26)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Path]]:
    rng = np.random.default_rng(9)
    folder = tmp_path_factory.mktemp("loader")
    subjects = []
    for n in range(3):
        affine = np.diag([1.0, 1.0 + n / 4, 2.0, 1.0])
        affine[:3, 3] = [n, -n, 4]
        paths = {"t1": folder / f"t1_{n}.nii.gz", "seg": folder / f"seg_{n}.nii"}
        nifti.write(paths["t1"], rng.normal(size=SHAPE).astype(np.float32), affine)
        nifti.write(paths["seg"], rng.integers(0, 3, size=SHAPE).astype(np.uint8), affine)
        subjects.append(paths)
    return subjects


def make_subjects(lib: Any, files: list[dict[str, Path]]) -> list[Any]:
    return [
        lib.Subject(t1=lib.ScalarImage(p["t1"]), seg=lib.LabelMap(p["seg"]), id=n)
        for n, p in enumerate(files)
    ]


def patches(lib: Any, files: list[dict[str, Path]]) -> list[Any]:
    torch.manual_seed(0)
    result = []
    for subject in make_subjects(lib, files):
        result.extend(lib.UniformSampler(subject, (6, 5, 4), num_patches=2))
    return result


def assert_batches_equal(ours: Any, theirs: Any) -> None:
    assert repr(ours) == repr(theirs)
    assert ours.batch_size == theirs.batch_size == len(ours)
    assert list(ours.images) == list(theirs.images)
    for name in theirs.images:
        assert type(ours[name]).__name__ == "ImagesBatch"
        assert ours[name]._image_class.__name__ == theirs[name]._image_class.__name__
        assert ours[name].data.dtype == theirs[name].data.dtype
        assert torch.equal(getattr(ours, name).data, getattr(theirs, name).data)
        for mine, reference in zip(ours[name].affines, theirs[name].affines, strict=True):
            assert np.array_equal(mine.numpy(), reference.numpy())
    assert list(ours.metadata) == list(theirs.metadata)
    assert ours.metadata["id"] == theirs.metadata["id"]
    assert [(p.index, p.size) for p in ours.metadata["patch_location"]] == [
        (p.index, p.size) for p in theirs.metadata["patch_location"]
    ]


def test_collate_subjects_matches_torchio(files: list[dict[str, Path]]) -> None:
    ours = tio.collate_subjects(patches(tio, files))
    theirs = torchio.collate_subjects(patches(torchio, files))
    assert_batches_equal(ours, theirs)
    assert ours.t1.data.shape == (6, 1, 6, 5, 4)
    assert tio.collate_studies is tio.collate_subjects
    assert tio.StudiesBatch is tio.SubjectsBatch
    assert tio.StudiesLoader is tio.SubjectsLoader


def test_subjects_batch_access(files: list[dict[str, Path]]) -> None:
    batch = tio.collate_subjects(patches(tio, files))
    assert batch["seg"] is batch.seg and batch.images["t1"] is batch.t1
    # Metadata lists are attributes too (TorchIO raises AttributeError for them).
    assert batch.patch_location is batch.metadata["patch_location"]
    assert batch.id == [0, 0, 1, 1, 2, 2]
    with pytest.raises(AttributeError, match="SubjectsBatch has no attribute 'nothing'"):
        batch.nothing  # noqa: B018
    with pytest.raises(AttributeError):
        batch._private  # noqa: B018
    assert batch.device == torch.device("cpu")
    assert batch.to(torch.float64) is batch and batch.t1.data.dtype == torch.float64


def test_unbatch_gives_the_subjects_back(files: list[dict[str, Path]]) -> None:
    originals = patches(tio, files)
    batch = tio.collate_subjects(originals)
    batch.applied_transforms = ["shared"]
    batch.set_per_element_history([[n] for n in range(6)])
    assert batch.applied_transforms == []
    batch.applied_transforms.append("later")
    subjects = batch.unbatch()
    assert len(subjects) == 6
    for n, (subject, original) in enumerate(zip(subjects, originals, strict=True)):
        assert isinstance(subject.t1, tio.ScalarImage) and isinstance(subject.seg, tio.LabelMap)
        assert torch.equal(subject.t1.data, original.t1.data)
        assert subject.t1.affine == original.t1.affine
        assert subject.patch_location == original.patch_location
        assert subject.applied_transforms == [n, "later"]
    with pytest.raises(ValueError, match="Expected 6 per-element histories, got 2"):
        batch.set_per_element_history([[], []])
    batch.clear_history()
    assert batch.unbatch()[0].applied_transforms == []


def test_images_batch_matches_torchio(files: list[dict[str, Path]]) -> None:
    ours = tio.collate_images([s.seg for s in make_subjects(tio, files)])
    theirs = torchio.collate_images([s.seg for s in make_subjects(torchio, files)])
    assert (
        repr(ours) == repr(theirs) == "ImagesBatch(LabelMap, batch_size=3, shape=(1, 30, 28, 26))"
    )
    assert torch.equal(ours.data, theirs.data) and ours.data.dtype == theirs.data.dtype
    images = ours.unbatch()
    assert [type(i) for i in images] == [tio.LabelMap] * 3
    for image, affine in zip(images, ours.affines, strict=True):
        assert image.affine == affine and image.affine is not affine
    assert ours.to(torch.float32).data.dtype == torch.float32 and ours.batch_size == len(ours) == 3


@pytest.mark.parametrize("lib", [torchio, tio], ids=["torchio", "tioxide"])
def test_batch_errors(lib: Any) -> None:
    """Both libraries refuse the same things with the same messages."""
    affine = lib.AffineMatrix()
    with pytest.raises(ValueError, match=r"Expected 5D tensor \(B, C, I, J, K\), got 4D"):
        lib.ImagesBatch(torch.zeros(1, 2, 2, 2), [affine])
    with pytest.raises(ValueError, match="Expected 2 affines, got 1"):
        lib.ImagesBatch(torch.zeros(2, 1, 2, 2, 2), [affine])
    batch = lib.ImagesBatch(torch.zeros(1, 1, 2, 2, 2), [affine])
    with pytest.raises(ValueError, match="Expected 5D tensor, got 3D"):
        batch.data = torch.zeros(2, 2, 2)
    for collate in (lib.collate_images, lib.collate_subjects):
        with pytest.raises(ValueError, match="Cannot create batch from empty list"):
            collate([])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        lib.collate_images(
            [lib.ScalarImage(torch.zeros(1, 2, 2, 2)), lib.ScalarImage(torch.zeros(1, 3, 2, 2))]
        )
    for loader in (lib.SubjectsLoader, lib.ImagesLoader):
        with pytest.raises(ValueError, match="collate_fn"):
            loader([], collate_fn=list)


def test_images_loader(files: list[dict[str, Path]]) -> None:
    images = [tio.ScalarImage(p["t1"]) for p in files]
    (batch,) = list(tio.ImagesLoader(images, batch_size=3))
    assert isinstance(batch, tio.ImagesBatch)
    assert torch.equal(batch.data, torch.stack([i.data for i in images]))


def test_grid_inference_through_a_subjects_loader(files: list[dict[str, Path]]) -> None:
    """The documented loop: grid patches in batches, aggregated back into the volume."""
    subject = make_subjects(tio, files)[0]
    sampler = tio.GridSampler(subject, (12, 10, 8), patch_overlap=(4, 2, 2))
    aggregator = tio.PatchAggregator(subject.spatial_shape, "crop", patch_overlap=(4, 2, 2))
    for batch in tio.SubjectsLoader(sampler, batch_size=5):
        aggregator.add_batch(batch.t1.data * 2, batch.patch_location)
    assert torch.equal(aggregator.get_output(), tio.ScalarImage(files[0]["t1"]).data * 2)
    assert not subject.t1.is_loaded


def _queue_batches(lib: Any, files: list[dict[str, Path]], context: str | None) -> list[Any]:
    subjects = make_subjects(lib, files)
    sampler = lib.LabelSampler(subjects[0], (8, 8, 8), "seg")
    transform = lib.Compose([lib.Flip(axes=(0, 1), flip_probability=0.5), lib.Pad(padding=1)])
    queue = lib.Queue(subjects, sampler, max_length=4, patches_per_volume=3, transform=transform)
    workers = 0 if context is None else 2
    loader = lib.SubjectsLoader(
        queue, batch_size=4, num_workers=workers, multiprocessing_context=context
    )
    torch.manual_seed(7)
    random.seed(7)
    return list(loader)


@pytest.mark.parametrize("context", [None, "fork", "spawn"])
def test_queue_in_a_dataloader_matches_torchio(
    files: list[dict[str, Path]], context: str | None
) -> None:
    """Worker processes each run the whole queue with their own seeds, as in TorchIO."""
    theirs = _queue_batches(torchio, files, context)
    ours = _queue_batches(tio, files, context)
    # 3 subjects x 3 patches per worker; each worker's last batch is short.
    expected = [4, 4, 1] if context is None else [4, 4, 4, 4, 1, 1]
    assert [b.batch_size for b in ours] == [b.batch_size for b in theirs] == expected
    for mine, reference in zip(ours, theirs, strict=True):
        assert_batches_equal(mine, reference)
    again = _queue_batches(tio, files, context)
    for first, second in zip(ours, again, strict=True):
        assert torch.equal(first.t1.data, second.t1.data)


PATCH_API = [
    "PatchLocation",
    "PatchSampler",
    "GridSampler",
    "UniformSampler",
    "WeightedSampler",
    "LabelSampler",
    "Queue",
    "PatchAggregator",
    "ImagesBatch",
    "SubjectsBatch",
    "StudiesBatch",
]
LOADER_API = [
    "SubjectsLoader",
    "ImagesLoader",
    "StudiesLoader",
    "collate_subjects",
    "collate_images",
    "collate_studies",
]


def test_exported_where_torchio_exports_them() -> None:
    import torchio.data

    import tioxide.data
    import tioxide.loader

    for name in PATCH_API:
        assert name in torchio.__all__ and name in torchio.data.__all__
        assert name in tio.__all__ and name in tioxide.data.__all__
        assert getattr(tio, name) is getattr(tioxide.data, name)
    for name in LOADER_API:
        assert name in torchio.__all__ and name in tio.__all__
        assert getattr(tio, name) is getattr(tioxide.loader, name)
