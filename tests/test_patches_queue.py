"""``Queue`` against TorchIO 2.0.0a2's, and what it reads.

With the same ``torch`` and ``random`` seeds both queues must yield the same
patches in the same order (as the same multiset with threads, where the order
depends on timing). tioxide's must leave subjects unloaded when its transform
needs no voxels, so that only patches are read, and never load the dataset's
own subjects.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torchio

import tioxide as tio
from read_spy import ReadSpy
from tioxide import nifti
from tioxide.data._laziness import stays_lazy

SHAPE = (40, 36, 32)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Path]]:
    """Four subjects: an int16 image (.nii for two, .nii.gz for two) and a uint8 label map."""
    rng = np.random.default_rng(5)
    folder = tmp_path_factory.mktemp("queue")
    subjects = []
    for n in range(4):
        suffix = ".nii" if n % 2 else ".nii.gz"
        affine = np.diag([1.0 + n / 10, 1.2, 0.9, 1.0])
        image = rng.integers(0, 4000, size=SHAPE).astype(np.int16)
        labels = np.zeros(SHAPE, np.uint8)
        labels[5 + n : 20 + n, 10:30, 8:25] = rng.integers(0, 3, size=(15, 20, 17))
        paths = {"t1": folder / f"t1_{n}{suffix}", "seg": folder / f"seg_{n}.nii.gz"}
        nifti.write(paths["t1"], image, affine)
        nifti.write(paths["seg"], labels, affine)
        subjects.append(paths)
    return subjects


def make_subjects(lib: Any, files: list[dict[str, Path]]) -> list[Any]:
    return [
        lib.Subject(t1=lib.ScalarImage(p["t1"]), seg=lib.LabelMap(p["seg"]), name=p["t1"].name)
        for p in files
    ]


def make_sampler(lib: Any, kind: str) -> Any:
    placeholder = lib.Subject(
        t1=lib.ScalarImage(torch.zeros(1, 4, 4, 4)), seg=lib.LabelMap(torch.zeros(1, 4, 4, 4))
    )
    if kind == "uniform":
        return lib.UniformSampler(placeholder, (12, 10, 8))
    return lib.LabelSampler(placeholder, (12, 10, 8), "seg", {1: 1.0, 2: 3.0})


def make_transform(lib: Any, kind: str | None) -> Any:
    if kind is None:
        return None
    if kind == "lazy":  # crops, pads, flips, axis changes: nothing needs the voxels
        return lib.Compose(
            [
                lib.CropOrPad((36, 40, 30), location="random"),
                lib.Flip(axes=(0, 1, 2), flip_probability=0.5),
                lib.Pad(padding=2),
                lib.Transpose(),
            ]
        )
    # An intensity transform needs the voxels; Flip draws random numbers too.
    return lib.Compose([lib.Flip(axes=(0,), flip_probability=0.5), lib.Noise(std=(0, 5))])


def run_queue(
    lib: Any,
    files: list[dict[str, Path]],
    *,
    sampler: str = "uniform",
    transform: str | None = None,
    seed: int = 0,
    **kwargs: Any,
) -> list[Any]:
    subjects = make_subjects(lib, files)
    options = {"max_length": 9, "patches_per_volume": 5, **kwargs}
    queue = lib.Queue(
        subjects, make_sampler(lib, sampler), transform=make_transform(lib, transform), **options
    )
    torch.manual_seed(seed)
    random.seed(seed)
    return list(queue)


def key(patch: Any) -> tuple[Any, ...]:
    """What identifies a patch: subject, location and a digest of the voxels."""
    location = patch.patch_location
    return (
        patch.name,
        location.index,
        location.size,
        float(patch.t1.data.double().sum()),
        int(patch.seg.data.sum()),
    )


def assert_same_patches(ours: list[Any], theirs: list[Any]) -> None:
    assert len(ours) == len(theirs) > 0
    for mine, reference in zip(ours, theirs, strict=True):
        assert key(mine) == key(reference)
        for name in ("t1", "seg"):
            assert mine[name].data.dtype == reference[name].data.dtype
            assert torch.equal(mine[name].data, reference[name].data)
            assert np.array_equal(mine[name].affine.numpy(), reference[name].affine.numpy())


@pytest.mark.parametrize("sampler", ["uniform", "label"])
@pytest.mark.parametrize("transform", [None, "lazy", "eager"])
@pytest.mark.parametrize("shuffle", [True, False])
def test_same_patches_in_the_same_order_as_torchio(
    files: list[dict[str, Path]], sampler: str, transform: str | None, shuffle: bool
) -> None:
    kwargs = {"shuffle_subjects": shuffle, "shuffle_patches": shuffle}
    theirs = run_queue(torchio, files, sampler=sampler, transform=transform, seed=4, **kwargs)
    ours = run_queue(tio, files, sampler=sampler, transform=transform, seed=4, **kwargs)
    assert len(ours) == 4 * 5
    assert_same_patches(ours, theirs)
    # The seed matters: another gives other patches.
    other = run_queue(tio, files, sampler=sampler, transform=transform, seed=5, **kwargs)
    assert [key(p) for p in other] != [key(p) for p in ours]


@pytest.mark.parametrize("num_workers", [1, 2])
def test_threads_give_the_same_multiset(files: list[dict[str, Path]], num_workers: int) -> None:
    """With threads the order depends on timing, in TorchIO too; the patches do not.

    (Without a transform: a transform run in a thread draws from torch's generator
    while the iterating thread samples, so its patches depend on timing, as in TorchIO.)
    """
    results = []
    for lib in (torchio, tio):
        queue = lib.Queue(
            make_subjects(lib, files),
            make_sampler(lib, "label"),
            max_length=7,
            patches_per_volume=6,
            num_workers=num_workers,
        )
        torch.manual_seed(2)
        random.seed(2)
        results.append(Counter(key(p) for p in queue))
    assert sum(results[1].values()) == 4 * 6
    assert results[1] == results[0]


def test_threaded_without_shuffling_keeps_subject_order(files: list[dict[str, Path]]) -> None:
    kwargs = {"shuffle_subjects": False, "shuffle_patches": False, "max_length": 1000}
    serial = run_queue(tio, files, num_workers=0, **kwargs)
    threaded = run_queue(tio, files, num_workers=2, **kwargs)
    theirs = run_queue(torchio, files, num_workers=2, **kwargs)
    assert_same_patches(threaded, serial)
    assert_same_patches(threaded, theirs)


@pytest.mark.parametrize("transform", [None, "lazy"])
@pytest.mark.parametrize("num_workers", [0, 2])
def test_only_patches_are_read_when_nothing_needs_the_volume(
    files: list[dict[str, Path]],
    transform: str | None,
    num_workers: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spy = ReadSpy(monkeypatch)
    subjects = make_subjects(tio, files)
    queue = tio.Queue(
        subjects,
        make_sampler(tio, "uniform"),
        patches_per_volume=5,
        num_workers=num_workers,
        transform=make_transform(tio, transform),
    )
    patches = list(queue)
    assert len(patches) == 20
    assert spy.whole_reads(SHAPE) == []
    t1_reads = [size for name, size in spy.reads if name.startswith("t1_")]
    assert len(t1_reads) == 20 and max(t1_reads) <= 12 * 10 * 8
    assert not any(image.is_loaded for s in subjects for image in s.images.values())


def test_worker_threads_inflate_compressed_images_ahead(
    files: list[dict[str, Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With worker threads, each unloaded .nii.gz is inflated in a worker
    (``nifti.prefetch``), and the patches then cut from it are the same."""
    import threading

    from tioxide import gz

    prefetched: list[tuple[str, bool]] = []
    real = nifti.prefetch

    def spy(path: Any) -> None:
        prefetched.append((Path(path).name, threading.current_thread() is threading.main_thread()))
        real(path)

    monkeypatch.setattr(nifti, "prefetch", spy)
    nifti.clear_cache()
    threaded = Counter(key(p) for p in run_queue(tio, files, seed=3, num_workers=2))
    names = sorted(name for name, _ in prefetched)
    expected = sorted(p.name for f in files for p in f.values() if p.name.endswith(".gz"))
    assert names == expected
    assert not any(in_main for _, in_main in prefetched)
    assert gz.cache_stats()["streams"]["hits"] > 0
    # Released once their patches were cut: the cache does not fill with
    # subjects already sampled (and evict the ones prefetched ahead).
    assert gz.cache_stats()["streams"]["entries"] == 0
    nifti.clear_cache()
    serial = Counter(key(p) for p in run_queue(torchio, files, seed=3))
    assert sum(threaded.values()) == 20
    assert threaded == serial


def test_a_label_sampler_reads_its_map_whole_and_the_image_by_patch(
    files: list[dict[str, Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = ReadSpy(monkeypatch)
    subjects = make_subjects(tio, files)
    queue = tio.Queue(subjects, make_sampler(tio, "label"), patches_per_volume=5)
    assert len(list(queue)) == 20
    assert sorted(spy.whole_reads(SHAPE)) == [f"seg_{n}.nii.gz" for n in range(4)]
    # The dataset's subjects are not left loaded (TorchIO's queue loads them for good).
    assert not any(image.is_loaded for s in subjects for image in s.images.values())


def test_a_transform_that_needs_the_voxels_loads_a_copy(
    files: list[dict[str, Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = ReadSpy(monkeypatch)
    subjects = make_subjects(tio, files)
    queue = tio.Queue(
        subjects, make_sampler(tio, "uniform"), transform=make_transform(tio, "eager")
    )
    assert len(list(queue)) == 40
    assert sorted(spy.whole_reads(SHAPE)) == sorted(
        [f"t1_{n}{'.nii' if n % 2 else '.nii.gz'}" for n in range(4)]
        + [f"seg_{n}.nii.gz" for n in range(4)]
    )
    assert not any(image.is_loaded for s in subjects for image in s.images.values())


def test_padding_that_needs_the_data_reads_each_volume_once(
    files: list[dict[str, Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reflect padding is lazy in the transform; the image is then read once, not per patch."""
    spy = ReadSpy(monkeypatch)
    transform = tio.Pad(padding=3, padding_mode="reflect")
    queue = tio.Queue(make_subjects(tio, files), make_sampler(tio, "uniform"), transform=transform)
    ours = list(queue)
    assert len(spy.whole_reads(SHAPE)) == 8
    torch.manual_seed(0)
    random.seed(0)
    ours = list(queue)
    theirs_queue = torchio.Queue(
        make_subjects(torchio, files),
        make_sampler(torchio, "uniform"),
        transform=torchio.Pad(padding=3, padding_mode="reflect"),
    )
    torch.manual_seed(0)
    random.seed(0)
    assert_same_patches(ours, list(theirs_queue))


def test_stays_lazy() -> None:
    assert stays_lazy(None)
    crop, pad, flip = tio.Crop(cropping=1), tio.Pad(padding=1), tio.Flip(axes=(0,))
    assert stays_lazy(tio.Compose([crop, tio.OneOf([flip, pad])]))
    assert stays_lazy(tio.SomeOf([tio.Reorient(orientation="LPS"), tio.EnsureShapeMultiple(4)]))
    assert stays_lazy(tio.CopyAffine(target="t1")) and stays_lazy(tio.Transpose())
    assert not stays_lazy(tio.Compose([crop, tio.RescaleIntensity()]))
    assert not stays_lazy(tio.Resample(target=2))

    class MyCrop(tio.Crop):
        pass

    assert not stays_lazy(MyCrop(cropping=1))  # a subclass may need the voxels
    assert not stays_lazy(lambda subject: subject)


def test_subject_sampler(files: list[dict[str, Path]]) -> None:
    results = []
    for lib in (torchio, tio):
        torch.manual_seed(1)
        queue = lib.Queue(
            make_subjects(lib, files),
            make_sampler(lib, "uniform"),
            patches_per_volume=2,
            shuffle_subjects=False,
            shuffle_patches=False,
            subject_sampler=[3, 1, 3],
        )
        assert queue.num_subjects == 3 and queue.patches_per_epoch == 6
        results.append(list(queue))
    assert [p.name for p in results[1]] == ["t1_3.nii"] * 2 + ["t1_1.nii"] * 2 + ["t1_3.nii"] * 2
    assert_same_patches(results[1][::-1], results[0][::-1])


def test_subject_sampler_and_shuffling_exclude_each_other() -> None:
    subject = tio.Subject(t1=tio.ScalarImage(torch.zeros(1, 4, 4, 4)))
    with pytest.raises(ValueError, match="shuffle_subjects must be False when a subject_sampler"):
        tio.Queue([subject], tio.UniformSampler(subject, 2), subject_sampler=[0])
    with pytest.raises(ValueError, match="shuffle_subjects must be False"):
        torchio.Queue([subject], torchio.UniformSampler(subject, 2), subject_sampler=[0])


def test_sizes_match_torchio(files: list[dict[str, Path]]) -> None:
    queues = []
    for lib in (torchio, tio):
        queues.append(
            lib.Queue(
                make_subjects(lib, files),
                make_sampler(lib, "uniform"),
                max_length=123,
                patches_per_volume=7,
            )
        )
    theirs, ours = queues
    assert ours.num_subjects == theirs.num_subjects == 4
    assert ours.patches_per_epoch == theirs.patches_per_epoch == 28
    assert ours.max_memory == theirs.max_memory == 4 * 2 * 12 * 10 * 8 * 123
    assert ours.max_memory_pretty == theirs.max_memory_pretty == "922.5 KiB"
    unsized = tio.Queue(
        make_subjects(tio, files),
        make_sampler(tio, "uniform"),
        shuffle_subjects=False,
        subject_sampler=iter([0]),  # type: ignore[arg-type]
    )
    with pytest.raises(TypeError, match="subject_sampler must have a __len__"):
        unsized.num_subjects  # noqa: B018


@pytest.mark.parametrize(
    "size", [0, 1, 2, 1023, 1024, 1536, 10**6, 1024**2 - 1, 5 * 2**30, 3 * 2**70, 2**100]
)
def test_pretty_sizes_as_humanize(size: int) -> None:
    import humanize  # a TorchIO dependency

    from tioxide.data.queue import _binary_size

    assert _binary_size(size) == humanize.naturalsize(size, binary=True)


@pytest.mark.parametrize("num_workers", [1, 2])
def test_threads_prepare_at_most_two_subjects_each_ahead(num_workers: int) -> None:
    """Prepared subjects may hold volumes: the threads wait for the sampling to catch up."""
    import threading
    import time

    lock = threading.Lock()
    counts = {"prepared": 0, "sampled": 0}
    ahead: list[int] = []

    def slow_to_prepare(subject: tio.Subject) -> tio.Subject:
        time.sleep(0.01)
        with lock:
            counts["prepared"] += 1
        return subject

    class SlowSampler(tio.UniformSampler):
        def __call__(self, subject: tio.Subject, num_patches: int | None = None) -> Any:
            with lock:
                counts["sampled"] += 1
                ahead.append(counts["prepared"] - counts["sampled"])
            time.sleep(0.05)
            return super().__call__(subject, num_patches)

    subjects = [tio.Subject(t1=tio.ScalarImage(torch.rand(1, 6, 6, 6))) for _ in range(10)]
    queue = tio.Queue(
        subjects,
        SlowSampler(subjects[0], 2),
        patches_per_volume=1,
        num_workers=num_workers,
        transform=slow_to_prepare,
    )
    assert len(list(queue)) == 10
    assert max(ahead) <= 2 * num_workers
    assert counts == {"prepared": 10, "sampled": 10}
