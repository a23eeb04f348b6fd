"""The seek index of ``.nii.gz``: region reads through it equal nibabel's
full decode, for every compression level, multi-member streams and any
span; sidecars are used when they match and ignored (with a warning) when
stale or damaged; damaged streams raise; DataLoader workers read the same."""

from __future__ import annotations

import gzip
import multiprocessing
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest

import tioxide
from tioxide import gz, nifti

SMALL_SPAN = 64 << 10


@pytest.fixture(autouse=True)
def small_span() -> Iterator[None]:
    """Many checkpoints per file, so regions cross chunk boundaries often."""
    nifti.clear_cache()
    default = gz.cache_stats()["span"]["bytes"]
    gz.configure(span=SMALL_SPAN)
    yield
    gz.configure(span=default)
    nifti.clear_cache()


def _volume(shape: tuple[int, ...], dtype: str, seed: int) -> Any:
    rng = np.random.default_rng(seed)
    smooth = np.cumsum(rng.integers(-3, 4, size=shape), axis=0)
    noisy = smooth + rng.integers(0, 50, size=shape) * (rng.random(shape) < 0.3)
    return noisy.astype(dtype)


def _nii_bytes(data: Any, tmp: Path) -> bytes:
    plain = tmp / "plain.nii"
    nib.save(nib.Nifti1Image(data, np.diag([1.5, 1.0, 2.0, 1.0])), plain)
    return plain.read_bytes()


def _members(raw: bytes, cuts: list[int], level: int) -> bytes:
    """pigz/mgzip-style output: independent gzip members, concatenated."""
    bounds = [0, *cuts, len(raw)]
    pieces = zip(bounds, bounds[1:], strict=False)
    return b"".join(gzip.compress(raw[a:b], compresslevel=level) for a, b in pieces)


def _random_index(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[slice, ...]:
    out = []
    for n in shape:
        a, b = sorted(int(x) for x in rng.integers(0, n + 1, size=2))
        step = int(rng.choice([1, 1, 1, 2, 3, -1, -2]))
        out.append(slice(a, b, step) if step > 0 else slice(b, a if a else None, step))
    return tuple(out)


CASES = [
    ("level1", lambda raw: _members(raw, [], 1)),
    ("level6", lambda raw: _members(raw, [], 6)),
    ("level9", lambda raw: _members(raw, [], 9)),
    ("stored", lambda raw: _members(raw, [], 0)),
    ("pigz", lambda raw: _members(raw, list(range(128 << 10, len(raw), 128 << 10)), 6)),
    ("empty-members", lambda raw: _members(raw, [1000, 1000, 200_000, 200_000], 4)),
    ("trailing-zeros", lambda raw: _members(raw, [], 6) + bytes(64)),
]


@pytest.mark.parametrize(("name", "make"), CASES, ids=[c[0] for c in CASES])
def test_random_regions_equal_full_decode(tmp_path: Path, name: str, make: Any) -> None:
    shape = (61, 47, 83)
    data = _volume(shape, "int16" if name != "level9" else "float32", seed=len(name))
    path = tmp_path / f"{name}.nii.gz"
    path.write_bytes(make(_nii_bytes(data, tmp_path)))
    expected = np.asanyarray(nib.load(path).dataobj)
    np.testing.assert_array_equal(expected, data)
    rng = np.random.default_rng(7)
    for _ in range(250):
        index = _random_index(rng, shape)
        np.testing.assert_array_equal(nifti.read(path, index), expected[index], err_msg=str(index))
    # A complete index now: the full read inflates chunk by chunk on all cores.
    gz.build_index(path)
    np.testing.assert_array_equal(nifti.read(path), expected)


def test_lazy_index_then_cache_hits(tmp_path: Path) -> None:
    data = _volume((64, 64, 64), "float32", seed=3)
    path = tmp_path / "v.nii.gz"
    nib.save(nib.Nifti1Image(data, np.eye(4)), path)
    patch = (slice(8, 40), slice(8, 40), slice(2, 34))
    # A first read needing most of the stream inflates it whole (libdeflate
    # is faster than indexing) and keeps the voxels for the next regions.
    np.testing.assert_array_equal(nifti.read(path, patch), data[patch])
    kept = gz.cache_stats()
    assert kept["chunks"]["entries"] == 0
    assert kept["streams"]["entries"] == 1
    assert kept["streams"]["bytes"] == data.nbytes
    corner = (slice(60, 64), slice(0, 3), slice(61, 64))
    np.testing.assert_array_equal(nifti.read(path, corner), data[corner])
    np.testing.assert_array_equal(nifti.read(path), data)
    assert gz.cache_stats()["streams"]["hits"] == kept["streams"]["hits"] + 2
    assert gz.cache_stats()["chunks"]["entries"] == 0
    # Once they are dropped, a read indexes the stream and caches chunks.
    gz.configure(chunk_cache_bytes=0)
    gz.configure(chunk_cache_bytes=256 << 20)
    assert gz.cache_stats()["streams"]["entries"] == 0
    np.testing.assert_array_equal(nifti.read(path, patch), data[patch])
    assert gz.cache_stats()["streams"]["entries"] == 0
    first = gz.cache_stats()["chunks"]
    assert first["entries"] > 0
    np.testing.assert_array_equal(nifti.read(path, patch), data[patch])
    again = gz.cache_stats()["chunks"]
    assert again["hits"] >= first["hits"] + first["entries"]
    gz.configure(chunk_cache_bytes=0)
    try:
        assert gz.cache_stats()["chunks"]["entries"] == 0
        np.testing.assert_array_equal(nifti.read(path, patch), data[patch])
    finally:
        gz.configure(chunk_cache_bytes=256 << 20)


def test_index_memory_is_small(tmp_path: Path) -> None:
    data = _volume((128, 128, 96), "float32", seed=4)
    path = tmp_path / "v.nii.gz"
    nib.save(nib.Nifti1Image(data, np.eye(4)), path)
    gz.configure(span=512 << 10)
    info = gz.build_index(path)
    assert info.complete and info.span == 512 << 10
    assert info.covered == 352 + data.nbytes
    assert info.points >= data.nbytes // (1 << 20)
    assert info.memory < 0.05 * data.nbytes


def test_index_memory_stays_under_four_percent_whatever_the_span(tmp_path: Path) -> None:
    # Noisy int16: each 32 KiB window deflates to about 12 KiB, so at the
    # smallest span the checkpoints would hold a seventh of the output; they
    # move apart instead, a chunk spanning 25 bytes per byte its start holds.
    data = _volume((128, 128, 128), "int16", seed=7)
    path = tmp_path / "noisy.nii.gz"
    nib.save(nib.Nifti1Image(data, np.eye(4)), path)
    gz.configure(span=64 << 10)
    info = gz.build_index(path)
    assert info.complete and info.covered == 352 + data.nbytes
    # The last checkpoint starts no chunk: allowed on top of the 4%.
    assert info.memory <= 0.04 * info.covered + (40 << 10), info
    assert info.points > 4, info  # still an index
    np.testing.assert_array_equal(nifti.read(path, np.s_[:, :, 90:97]), data[:, :, 90:97])


def test_sidecar_is_used_and_stale_or_damaged_ones_are_ignored(tmp_path: Path) -> None:
    data = _volume((50, 40, 70), "int16", seed=5)
    path = tmp_path / "s.nii.gz"
    nib.save(nib.Nifti1Image(data, np.eye(4)), path)
    info = gz.build_index(path, save=True)
    sidecar = gz.sidecar_path(path)
    assert info.sidecar == sidecar and sidecar.exists() and info.complete
    nifti.clear_cache()
    region = (slice(3, 30), slice(None), slice(60, 10, -3))
    np.testing.assert_array_equal(nifti.read(path, region), data[region])
    assert gz.cache_stats()["indexes"]["entries"] == 1

    # Damaged sidecar: ignored with a warning, the read is still right.
    good = sidecar.read_bytes()
    damaged = bytearray(good)
    damaged[len(damaged) // 2] ^= 0xFF
    sidecar.write_bytes(bytes(damaged))
    nifti.clear_cache()
    with pytest.warns(UserWarning, match="damaged"):
        np.testing.assert_array_equal(nifti.read(path, region), data[region])

    # Stale sidecar (the image was rewritten): ignored with a warning.
    sidecar.write_bytes(good)
    other = data[::-1].copy()
    nib.save(nib.Nifti1Image(other, np.eye(4)), path)
    nifti.clear_cache()
    with pytest.warns(UserWarning, match="other contents"):
        np.testing.assert_array_equal(nifti.read(path, region), other[region])

    sidecar.write_bytes(b"not an index")
    nifti.clear_cache()
    with pytest.warns(UserWarning, match="not a tioxide seek index"):
        np.testing.assert_array_equal(nifti.read(path), other)


def test_damaged_streams_raise(tmp_path: Path) -> None:
    data = _volume((40, 40, 200), "int16", seed=6)
    path = tmp_path / "d.nii.gz"
    nib.save(nib.Nifti1Image(data, np.eye(4)), path)
    good = path.read_bytes()
    tail = (slice(None), slice(None), slice(190, 200))

    path.write_bytes(good[: len(good) * 2 // 3])
    with pytest.raises(tioxide.TruncatedFileError, match=r"d\.nii\.gz"):
        nifti.read(path, tail)

    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0x55
    path.write_bytes(bytes(flipped))
    with pytest.raises((tioxide.CorruptGzipError, tioxide.TruncatedFileError), match=r"d\.nii\.gz"):
        nifti.read(path, tail)

    # Indexed first, damaged afterwards in place (same size): chunk CRCs catch it.
    path.write_bytes(good)
    gz.build_index(path)
    np.testing.assert_array_equal(nifti.read(path, tail), data[tail])
    path.write_bytes(bytes(flipped))
    with pytest.raises((tioxide.CorruptGzipError, tioxide.TruncatedFileError)):
        nifti.read(path, tail)


def test_bad_crc_in_trailer_is_reported(tmp_path: Path) -> None:
    data = _volume((30, 30, 30), "int16", seed=8)
    raw = _nii_bytes(data, tmp_path)
    body = gzip.compress(raw)
    bad = body[:-8] + (zlib.crc32(raw) ^ 1).to_bytes(4, "little") + body[-4:]
    path = tmp_path / "crc.nii.gz"
    path.write_bytes(bad)
    with pytest.raises(tioxide.CorruptGzipError, match="CRC32|checksum"):
        nifti.read(path, (slice(None), slice(None), slice(29, 30)))


def test_cli_index_writes_sidecars(tmp_path: Path) -> None:
    data = _volume((20, 20, 20), "uint8", seed=9)
    path = tmp_path / "c.nii.gz"
    nib.save(nib.Nifti1Image(data, np.eye(4)), path)
    done = subprocess.run(
        [sys.executable, "-m", "tioxide.cli", "index", str(path), str(tmp_path / "missing.nii.gz")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "checkpoints" in done.stdout and "missing.nii.gz" in done.stderr
    assert gz.sidecar_path(path).exists()


def test_configure_rejects_negative_values() -> None:
    with pytest.raises(ValueError, match="span"):
        gz.configure(span=-1)
    with pytest.raises(ValueError, match="threads"):
        gz.configure(threads=-2)
    with pytest.raises(ValueError, match="map_bytes"):
        gz.configure(map_bytes=-1)
    assert gz.cache_stats()["maps"]["budget"] == 256 << 20  # unchanged


def test_single_thread_reads_equal_parallel_ones(tmp_path: Path) -> None:
    data = _volume((64, 64, 128), "int16", seed=13)
    path = tmp_path / "t.nii.gz"
    nib.save(nib.Nifti1Image(data, np.eye(4)), path)
    gz.build_index(path)
    region = (slice(None), slice(3, 60), slice(2, 120, 3))
    try:
        gz.configure(threads=1)
        assert gz.cache_stats()["threads"]["count"] == 1
        gz.clear_cache()
        gz.build_index(path)
        np.testing.assert_array_equal(nifti.read(path), data)
        np.testing.assert_array_equal(nifti.read(path, region), data[region])
    finally:
        gz.configure(threads=0)
    assert gz.cache_stats()["threads"]["count"] >= 1


class _Patches:
    """A map-style dataset of fixed patches of one file."""

    def __init__(self, path: Path, corners: list[tuple[int, int, int]]) -> None:
        self.path, self.corners = path, corners

    def __len__(self) -> int:
        return len(self.corners)

    def __getitem__(self, i: int) -> Any:
        x, y, z = self.corners[i]
        return nifti.read(self.path, (slice(x, x + 16), slice(y, y + 16), slice(z, z + 16)))


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_dataloader_workers_read_the_same_patches(tmp_path: Path, method: str) -> None:
    import torch.utils.data

    data = _volume((64, 64, 64), "float32", seed=10)
    path = tmp_path / "w.nii.gz"
    nib.save(nib.Nifti1Image(data, np.eye(4)), path)
    rng = np.random.default_rng(11)
    corners = [tuple(int(c) for c in rng.integers(0, 48, size=3)) for _ in range(24)]
    dataset = _Patches(path, corners)  # type: ignore[arg-type]
    # The parent has an index and cached chunks when the workers fork.
    serial = [dataset[i] for i in range(len(dataset))]
    loader = torch.utils.data.DataLoader(
        dataset,  # type: ignore[arg-type]
        batch_size=None,
        num_workers=2,
        multiprocessing_context=multiprocessing.get_context(method),
    )
    for got, want in zip(loader, serial, strict=True):
        np.testing.assert_array_equal(np.asarray(got), want)


def _read_in_child(path: str, queue: Any) -> None:
    full = nifti.read(path)
    patch = nifti.read(path, (slice(None), slice(None), slice(10, 200)))
    queue.put((float(full.sum()), float(patch.sum())))


def test_parallel_reads_work_in_a_forked_child(tmp_path: Path) -> None:
    """Threads the parent used for parallel inflate do not exist in a forked
    child; the child's parallel reads must start their own, not hang."""
    data = _volume((64, 64, 256), "float32", seed=12)
    path = tmp_path / "f.nii.gz"
    nib.save(nib.Nifti1Image(data, np.eye(4)), path)
    gz.build_index(path)
    np.testing.assert_array_equal(nifti.read(path), data)
    gz.clear_cache()
    gz.build_index(path)
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_read_in_child, args=(str(path), queue))
    child.start()
    child.join(timeout=60)
    if child.is_alive():
        child.kill()
        pytest.fail("a parallel read in the forked child hung")
    assert child.exitcode == 0
    full_sum, patch_sum = queue.get(timeout=5)
    assert full_sum == pytest.approx(float(data.sum()))
    assert patch_sum == pytest.approx(float(data[:, :, 10:200].sum()))


@pytest.mark.parametrize("shape", [(48, 48, 40), (176, 160, 160)])
def test_released_prefetched_voxels_are_reused_by_the_next_prefetch(
    tmp_path: Path, shape: tuple[int, int, int]
) -> None:
    """A queue prefetches a subject, cuts its patches, releases it: the
    released voxels' memory (patch-sized or volume-sized) is kept for the
    next prefetch instead of fresh pages, and the next subject reads right."""
    rng = np.random.default_rng(5)
    paths = []
    for n in range(2):
        path = tmp_path / f"s{n}.nii.gz"
        nib.save(nib.Nifti1Image(rng.random(shape, dtype=np.float32), np.eye(4)), path)
        paths.append(path)
    nbytes = int(np.prod(shape)) * 4
    gz.clear_cache()
    nifti.prefetch(paths[0])
    assert gz.cache_stats()["streams"]["entries"] == 1
    held_before = gz.cache_stats()["spare"]["bytes"]
    nifti.release(paths[0])
    assert gz.cache_stats()["streams"]["entries"] == 0
    assert gz.cache_stats()["spare"]["bytes"] >= held_before + nbytes
    nifti.prefetch(paths[1])
    assert gz.cache_stats()["spare"]["bytes"] < held_before + nbytes
    region = (slice(3, 40), slice(None, None, 2), slice(30, 2, -3))
    want = np.asanyarray(nib.load(paths[1]).dataobj)[region]
    assert np.array_equal(nifti.read(paths[1], region), want)
    nifti.release(paths[1])
    gz.clear_cache()
    assert gz.cache_stats()["spare"]["bytes"] == 0


def test_the_memory_of_dropped_chunks_serves_the_next_first_read(tmp_path: Path) -> None:
    """The chunks a first region read keeps are dropped with the caches; their
    memory is kept (as spare buffers) for the chunks of the next first read,
    which then pays no page faults, and reads right."""
    z, y, x = np.meshgrid(*(np.arange(128),) * 3, indexing="ij")
    data = (x * 7 + y * 3 + z) % 1000 + np.random.default_rng(3).normal(0, 5, x.shape)
    path = tmp_path / "v.nii.gz"
    nib.save(nib.Nifti1Image(data.astype(np.float32), np.eye(4)), path)
    region = (slice(0, 32), slice(0, 32), slice(0, 32))  # 2 of the 8 MiB of stream
    want = np.asanyarray(nib.load(path).dataobj)[region]
    gz.clear_cache()
    assert np.array_equal(nifti.read(path, region), want)
    assert gz.cache_stats()["chunks"]["entries"] > 1
    nifti.clear_cache()
    held = gz.cache_stats()["spare"]["bytes"]
    assert held >= 1 << 20
    assert np.array_equal(nifti.read(path, region), want)
    assert gz.cache_stats()["spare"]["bytes"] < held
    nifti.clear_cache()
    gz.clear_cache()
    assert gz.cache_stats()["spare"]["bytes"] == 0
