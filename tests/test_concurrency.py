"""Concurrent reads equal serial ones: the same file and different files
from 8 threads (headers, full reads, patches; .nii, .nii.gz with and without
an index, a pair), an index built by several threads at once, and torch
DataLoaders with 2 workers under fork and spawn (patches of .nii, full reads
of .nii and .nii.gz, Image objects). tests/test_gz_index.py covers gzip
patches in DataLoader workers; tests/test_gil.py that reads release the GIL."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest

import tioxide
from tioxide import gz, nifti

THREADS = 8


def _volume(shape: tuple[int, ...], dtype: str, seed: int) -> Any:
    rng = np.random.default_rng(seed)
    smooth = np.cumsum(rng.integers(-3, 4, size=shape), axis=0)
    return (smooth + rng.integers(0, 9, size=shape)).astype(dtype)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Any]]:
    """Eight images of different kinds, each with its data."""
    root = tmp_path_factory.mktemp("concurrency")
    out: dict[str, tuple[Path, Any]] = {}
    specs = [
        ("a.nii", (64, 64, 48), "int16"),
        ("b.nii.gz", (64, 64, 48), "float32"),
        ("c.nii", (40, 30, 20, 3), "float64"),
        ("d.nii.gz", (96, 80, 40), "int16"),  # indexed below
        ("e.nii.gz", (32, 32, 32), "uint8"),
        ("f.img", (48, 40, 36), "int32"),  # a pair
        ("g.nii", (128, 128, 16), "uint16"),
        ("h.nii.gz", (50, 50, 50), "int32"),
    ]
    for i, (name, shape, dtype) in enumerate(specs):
        data = _volume(shape, dtype, seed=i)
        klass = nib.Nifti1Pair if name.endswith(".img") else nib.Nifti1Image
        img = klass(data, np.diag([1.0, 1.5, 2.0, 1.0]))
        img.header.set_slope_inter(1.0, 0.0)
        nib.save(img, root / name)
        out[name] = (root / name, data)
    gz.build_index(out["d.nii.gz"][0])
    return out


def _patches(shape: tuple[int, ...], seed: int, n: int = 12) -> list[tuple[slice, ...]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        corner = [int(rng.integers(0, max(1, s - 16))) for s in shape[:3]]
        step = int(rng.choice([1, 1, 2, -1]))
        region = tuple(
            slice(c, c + 16, step) if step > 0 else slice(c + 15, c - 1 if c else None, step)
            for c in corner
        )
        out.append(region)
    return out


def _run_threads(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run every job on a pool of 8 threads, all released at once."""
    barrier = threading.Barrier(THREADS)

    def start(job: Callable[[], Any], i: int) -> Any:
        if i < THREADS:
            barrier.wait(timeout=30)
        return job()

    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(start, job, i) for i, job in enumerate(jobs)]
        return [f.result(timeout=120) for f in futures]


def _same(got: Any, want: Any) -> None:
    assert got.dtype == want.dtype and got.shape == want.shape
    assert got.tobytes() == np.ascontiguousarray(want).tobytes()


@pytest.mark.parametrize("name", ["a.nii", "b.nii.gz", "d.nii.gz", "f.img"])
def test_same_file_from_8_threads(files: dict[str, tuple[Path, Any]], name: str) -> None:
    path, data = files[name]
    regions = _patches(data.shape, seed=len(name))
    serial_full = nifti.read(path)
    serial = [nifti.read(path, r) for r in regions]
    _same(serial_full, data)
    nifti.clear_cache()  # the threads race to fill the caches
    jobs: list[Callable[[], Any]] = []
    for t in range(THREADS):
        jobs.append(lambda: nifti.read(path))
        jobs.append(lambda: nifti.read_header(path).shape)
        jobs.extend((lambda r=r: nifti.read(path, r)) for r in regions[t::2])
    results = _run_threads(jobs)
    k = 0
    for t in range(THREADS):
        _same(results[k], serial_full)
        assert tuple(results[k + 1]) == data.shape
        k += 2
        for r in regions[t::2]:
            _same(results[k], serial[regions.index(r)])
            k += 1


def test_different_files_from_8_threads(files: dict[str, tuple[Path, Any]]) -> None:
    names = sorted(files)
    serial = {n: nifti.read(files[n][0]) for n in names}
    region = (slice(3, 19), slice(None, None, -3), 5)
    serial_region = {n: nifti.read(files[n][0], region) for n in names}
    nifti.clear_cache()
    jobs: list[Callable[[], Any]] = []
    order: list[tuple[str, bool]] = []
    for t in range(THREADS):
        for n in names[t:] + names[:t]:  # each thread its own order
            jobs.append(lambda n=n: nifti.read(files[n][0]))
            jobs.append(lambda n=n: nifti.read(files[n][0], region))
            order += [(n, False), (n, True)]
    for (n, is_region), got in zip(order, _run_threads(jobs), strict=True):
        _same(got, serial_region[n] if is_region else serial[n])
    for n in names:
        _same(serial[n], files[n][1])


def test_index_built_by_many_threads_at_once(tmp_path: Path) -> None:
    """Eight threads read patches of an unindexed .nii.gz at once: each
    grows the (shared, cached) index as far as it needs."""
    data = _volume((80, 80, 160), "int16", seed=99)
    path = tmp_path / "race.nii.gz"
    nib.save(nib.Nifti1Image(data, np.eye(4)), path)
    regions = _patches(data.shape, seed=5, n=THREADS * 3)
    regions = [(*r[:2], slice(8 * i, 8 * i + 16)) for i, r in enumerate(regions)]
    gz.configure(span=64 << 10)
    try:
        nifti.clear_cache()
        results = _run_threads([lambda r=r: nifti.read(path, r) for r in regions])
    finally:
        gz.configure(span=1 << 20)
        nifti.clear_cache()
    for r, got in zip(regions, results, strict=True):
        _same(got, data[r])


# --------------------------------------------------------------------------- DataLoader


class Reads:
    """A map-style dataset: item i is one read from one of several files
    (full reads and patches), or an Image's data."""

    def __init__(self, items: list[tuple[str, Any]], image: bool = False) -> None:
        self.items, self.image = items, image

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> Any:
        path, region = self.items[i]
        if self.image:
            img = tioxide.ScalarImage(path)
            return img.data if region is None else img[region].data
        return nifti.read(path, region)


@pytest.fixture
def items(files: dict[str, tuple[Path, Any]]) -> Iterator[list[tuple[str, Any]]]:
    out: list[tuple[str, Any]] = []
    for name in ("a.nii", "g.nii", "c.nii", "b.nii.gz", "h.nii.gz", "d.nii.gz"):
        path, data = files[name]
        out.append((str(path), None))  # full read
        if name.endswith(".nii"):
            out += [(str(path), r) for r in _patches(data.shape, seed=len(out), n=4)]
    yield out


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_dataloader_workers_equal_serial_reads(items: list[tuple[str, Any]], method: str) -> None:
    import torch.utils.data

    dataset = Reads(items)
    serial = [dataset[i] for i in range(len(dataset))]  # caches warm when workers fork
    loader = torch.utils.data.DataLoader(
        dataset,  # type: ignore[arg-type]
        batch_size=None,
        num_workers=2,
        multiprocessing_context=multiprocessing.get_context(method),
        timeout=120,
    )
    got = list(loader)
    assert len(got) == len(serial)
    for g, want in zip(got, serial, strict=True):
        _same(np.asarray(g), want)


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_dataloader_workers_load_images(items: list[tuple[str, Any]], method: str) -> None:
    """Images built in the workers (lazy header, then data or a crop)."""
    import torch.utils.data

    images = [(p, None if r is None else (slice(None), *r)) for p, r in items if "c.nii" not in p]
    dataset = Reads(images, image=True)
    serial = [dataset[i] for i in range(len(dataset))]
    loader = torch.utils.data.DataLoader(
        dataset,  # type: ignore[arg-type]
        batch_size=None,
        num_workers=2,
        multiprocessing_context=multiprocessing.get_context(method),
        timeout=120,
    )
    for g, want in zip(loader, serial, strict=True):
        assert g.shape == want.shape and g.dtype == want.dtype
        assert bool((g == want).all())
