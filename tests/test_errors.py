"""Bad files and bad arguments through the Python API.

Each case must raise its specific exception class (the tioxide.NiftiError
subclasses are ValueErrors; OS problems are the built-in OSError subclasses)
with the file name in the message, and must never crash the interpreter. The
cases that could make a broken reader allocate absurd amounts of memory run in
a subprocess.
"""

from __future__ import annotations

import gzip
import os
import struct
import subprocess
import sys
import textwrap
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest

import tioxide
from tioxide import nifti

DATA = np.arange(6 * 5 * 4, dtype=np.int16).reshape(6, 5, 4) * 7 - 300
BIG = (np.arange(64 * 64 * 32, dtype=np.int64).reshape(64, 64, 32) * 2654435761 % 65521).astype(
    np.int32
)

# byte offsets in a NIfTI-1 header
SIZEOF_HDR, DIM, DATATYPE, BITPIX, VOX_OFFSET, MAGIC = 0, 40, 70, 72, 108, 344
# and in a NIfTI-2 header
N2_DATATYPE, N2_DIM, N2_VOX_OFFSET = 12, 16, 168


def nifti1_bytes(data: Any = DATA, *, ext: bytes | None = None) -> bytes:
    """A valid little-endian single-file NIfTI-1 image, as bytes."""
    img = nib.Nifti1Image(data, np.eye(4))
    img.set_data_dtype(data.dtype)
    if ext is not None:
        img.header.extensions.append(nib.nifti1.Nifti1Extension("comment", ext))
    return img.to_bytes()


def nifti2_bytes(data: Any = DATA) -> bytes:
    img = nib.Nifti2Image(data, np.eye(4))
    img.set_data_dtype(data.dtype)
    return img.to_bytes()


def patched(raw: bytes, offset: int, fmt: str, *values: Any) -> bytes:
    out = bytearray(raw)
    struct.pack_into(fmt, out, offset, *values)
    return bytes(out)


def gz(raw: bytes) -> bytes:
    return gzip.compress(raw, compresslevel=6, mtime=0)


def write(path: Path, raw: bytes) -> Path:
    path.write_bytes(raw)
    return path


def raises(exc: type[BaseException], fn: Callable[[], Any], path: Path | str) -> BaseException:
    """``fn()`` raises exactly ``exc`` (or a subclass) and the message names ``path``."""
    with pytest.raises(exc) as info:
        fn()
    assert str(path) in str(info.value), f"message does not name the file: {info.value}"
    return info.value


def header_error(exc: type[BaseException], path: Path) -> None:
    """A bad header: read_header, read and a region read all raise ``exc``."""
    raises(exc, lambda: nifti.read_header(path), path)
    raises(exc, lambda: nifti.read(path), path)
    raises(exc, lambda: nifti.read(path, (0, slice(None))), path)


def data_error(exc: type[BaseException], path: Path) -> None:
    """A good header with bad voxel data: the header reads, the data raises ``exc``."""
    nifti.read_header(path)
    raises(exc, lambda: nifti.read(path), path)


def test_exception_hierarchy() -> None:
    assert issubclass(tioxide.NiftiError, ValueError)
    for cls in (
        tioxide.TruncatedFileError,
        tioxide.CorruptGzipError,
        tioxide.UnsupportedDatatypeError,
        tioxide.InvalidHeaderError,
    ):
        assert issubclass(cls, tioxide.NiftiError)
    assert tioxide.exceptions.NiftiError is tioxide.NiftiError


# --------------------------------------------------------------------------- OS errors


@pytest.mark.parametrize("name", ["missing.nii", "missing.nii.gz", "missing.hdr", "missing.img"])
def test_missing_file(name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    for fn in (nifti.read_header, nifti.read):
        e = raises(FileNotFoundError, lambda fn=fn: fn(path), path)
        assert isinstance(e, OSError)
        assert os.fspath(e.filename) == os.fspath(path)  # type: ignore[attr-defined]


@pytest.mark.parametrize("open_by", ["hdr", "img"])
@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
def test_pair_with_missing_image_file(compressed: bool, open_by: str, tmp_path: Path) -> None:
    """The header of a pair without its .img reads; the data names the missing file."""
    gz_ext = ".gz" if compressed else ""
    nib.Nifti1Pair(DATA, np.eye(4)).to_filename(tmp_path / f"x.img{gz_ext}")
    img_file = tmp_path / f"x.img{gz_ext}"
    img_file.unlink()
    path = tmp_path / f"x.{open_by}{gz_ext}"
    assert nifti.read_header(tmp_path / f"x.hdr{gz_ext}").shape == DATA.shape
    e = raises(FileNotFoundError, lambda: nifti.read(path), img_file)
    assert os.fspath(e.filename) == os.fspath(img_file)  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["dir.nii", "dir.nii.gz", "dir.hdr"])
def test_directory(name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.mkdir()
    for fn in (nifti.read_header, nifti.read):
        e = raises(IsADirectoryError, lambda fn=fn: fn(path), path)
        assert os.fspath(e.filename) == os.fspath(path)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- short files


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("empty.nii", lambda: b""),
        ("empty.nii.gz", lambda: gz(b"")),
        ("three-bytes.nii", lambda: b"\x5c\x01\x00"),
        ("100-bytes.nii", lambda: nifti1_bytes()[:100]),
        ("347-bytes.nii", lambda: nifti1_bytes()[:347]),
        ("347-bytes.nii.gz", lambda: gz(nifti1_bytes()[:347])),
        ("nifti2-400-bytes.nii", lambda: nifti2_bytes()[:400]),
        ("nifti2-539-bytes.nii.gz", lambda: gz(nifti2_bytes()[:539])),
        ("empty.hdr", lambda: b""),
    ],
)
def test_shorter_than_header(name: str, make: Callable[[], bytes], tmp_path: Path) -> None:
    header_error(tioxide.TruncatedFileError, write(tmp_path / name, make()))


# --------------------------------------------------------------------------- bad headers


@pytest.mark.parametrize("value", [0, 123, 349, 540 + 1, -348, 0x5C010000 + 1])
@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
def test_bad_sizeof_hdr(value: int, suffix: str, tmp_path: Path) -> None:
    """sizeof_hdr wrong in both byte orders: refused (nibabel guesses; documented)."""
    raw = patched(nifti1_bytes(), SIZEOF_HDR, "<i", value)
    path = write(tmp_path / f"x{suffix}", gz(raw) if suffix.endswith(".gz") else raw)
    header_error(tioxide.InvalidHeaderError, path)


@pytest.mark.parametrize(
    "magic", [b"xyz\0", b"\0\0\0\0", b"n+2\0", b"n+1x", b"N+1\0"], ids=lambda m: repr(m)[2:-1]
)
def test_bad_magic_in_nii(magic: bytes, tmp_path: Path) -> None:
    path = write(tmp_path / "x.nii", patched(nifti1_bytes(), MAGIC, "4s", magic))
    header_error(tioxide.InvalidHeaderError, path)


@pytest.mark.parametrize("code", [1536, 2048, 999, 0, 1, 255, -4])
@pytest.mark.parametrize("version", ["nifti1", "nifti2"])
def test_unsupported_datatype(code: int, version: str, tmp_path: Path) -> None:
    if version == "nifti1":
        raw = patched(nifti1_bytes(), DATATYPE, "<h", code)
    else:
        raw = patched(nifti2_bytes(), N2_DATATYPE, "<h", code)
    header_error(tioxide.UnsupportedDatatypeError, write(tmp_path / "x.nii", raw))


@pytest.mark.parametrize(
    ("label", "dim"),
    [
        ("dim0-is-0", [0, 6, 5, 4, 1, 1, 1, 1]),
        ("dim0-is-8", [8, 6, 5, 4, 1, 1, 1, 1]),
        ("dim0-is-negative", [-1, 6, 5, 4, 1, 1, 1, 1]),
        ("negative-dim1", [3, -6, 5, 4, 1, 1, 1, 1]),
        ("negative-dim3", [3, 6, 5, -4, 1, 1, 1, 1]),
        # nibabel reads a zero-length axis as an empty array; tioxide refuses it
        # (README, "Differences"): an image with no voxels is a broken header.
        ("zero-dim2", [3, 6, 0, 4, 1, 1, 1, 1]),
        ("overflow", [7, 32767, 32767, 32767, 32767, 32767, 32767, 32767]),
    ],
)
def test_bad_dim(label: str, dim: list[int], tmp_path: Path) -> None:
    path = write(tmp_path / "x.nii", patched(nifti1_bytes(), DIM, "<8h", *dim))
    header_error(tioxide.InvalidHeaderError, path)


@pytest.mark.parametrize(
    ("label", "dim"),
    [
        ("negative", [3, -5, 5, 4]),
        ("overflow", [3, 2**62, 2**62, 2]),
        ("overflow-bytes", [3, 2**31, 2**31, 2**2]),
    ],
)
def test_bad_dim_nifti2(label: str, dim: list[int], tmp_path: Path) -> None:
    path = write(tmp_path / "x.nii", patched(nifti2_bytes(), N2_DIM, "<4q", *dim))
    header_error(tioxide.InvalidHeaderError, path)


@pytest.mark.parametrize("value", [-16.0, -1.0, float("nan"), float("inf"), -float("inf"), 1e30])
def test_bad_vox_offset_value(value: float, tmp_path: Path) -> None:
    """Negative, non-finite, or beyond any 64-bit file offset."""
    path = write(tmp_path / "x.nii", patched(nifti1_bytes(), VOX_OFFSET, "<f", value))
    header_error(tioxide.InvalidHeaderError, path)


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
@pytest.mark.parametrize("offset", [1024.0, 1e6, 2.0**40])
def test_vox_offset_past_end(offset: float, suffix: str, tmp_path: Path) -> None:
    raw = patched(nifti1_bytes(), VOX_OFFSET, "<f", offset)
    path = write(tmp_path / f"x{suffix}", gz(raw) if suffix.endswith(".gz") else raw)
    data_error(tioxide.TruncatedFileError, path)
    raises(tioxide.TruncatedFileError, lambda: nifti.read(path, (0, 0, slice(0, 1))), path)


def test_vox_offset_huge_nifti2(tmp_path: Path) -> None:
    path = write(tmp_path / "x.nii", patched(nifti2_bytes(), N2_VOX_OFFSET, "<q", 2**63 - 1))
    with pytest.raises(tioxide.NiftiError) as info:
        nifti.read(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("label", "esize"),
    [
        ("zero", 0),
        ("negative", -16),
        ("overruns-data", 32),
        ("odd-overrun", 17),
        ("huge", 2**30),
        ("int-max", 2**31 - 1),
    ],
)
def test_bad_extension_size(label: str, esize: int, tmp_path: Path) -> None:
    raw = patched(nifti1_bytes(ext=b"hello"), 352, "<i", esize)
    header_error(tioxide.InvalidHeaderError, write(tmp_path / "x.nii", raw))


@pytest.mark.parametrize("esize", [8, 12])
def test_extension_size_nibabel_accepts(esize: int, tmp_path: Path) -> None:
    """An esize that is not a multiple of 16 but fits: nibabel reads it (with a warning);
    tioxide must report the same extensions and read the data."""
    path = write(tmp_path / "x.nii", patched(nifti1_bytes(ext=b"hello"), 352, "<i", esize))
    expected = [(e.get_code(), e.content) for e in nib.load(path).header.extensions]
    assert nifti.read_header(path).extensions == expected
    np.testing.assert_array_equal(nifti.read(path), DATA)


# --------------------------------------------------------------------------- bad voxel data


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
@pytest.mark.parametrize("missing", [1, 2, 100, 240])
def test_truncated_voxel_data(missing: int, suffix: str, tmp_path: Path) -> None:
    raw = nifti1_bytes()[:-missing]
    path = write(tmp_path / f"x{suffix}", gz(raw) if suffix.endswith(".gz") else raw)
    data_error(tioxide.TruncatedFileError, path)
    last = (slice(-1, None),) * 3  # the region that needs the last voxel
    raises(tioxide.TruncatedFileError, lambda: nifti.read(path, last), path)


@pytest.mark.parametrize("suffix", [".img", ".img.gz"])
def test_truncated_pair_image(suffix: str, tmp_path: Path) -> None:
    nib.Nifti1Pair(DATA, np.eye(4)).to_filename(tmp_path / f"x{suffix}")
    img_file = tmp_path / f"x{suffix}"
    raw = img_file.read_bytes()
    raw = gz(gzip.decompress(raw)[:-3]) if suffix.endswith(".gz") else raw[:-3]
    img_file.write_bytes(raw)
    nifti.read_header(img_file)
    raises(tioxide.TruncatedFileError, lambda: nifti.read(img_file), img_file)


def _big_gz(tmp_path: Path, name: str = "big.nii.gz") -> tuple[Path, bytes]:
    raw = gz(nifti1_bytes(BIG))
    return tmp_path / name, raw


def test_corrupt_deflate_block_type(tmp_path: Path) -> None:
    """The first deflate block claims the reserved block type 3."""
    path, raw = _big_gz(tmp_path)
    out = bytearray(raw)
    out[10] = 0b111  # BFINAL=1, BTYPE=11 (reserved)
    write(path, bytes(out))
    header_error(tioxide.CorruptGzipError, path)


@pytest.mark.parametrize("where", [0.25, 0.5, 0.9])
def test_corrupt_deflate_stream(where: float, tmp_path: Path) -> None:
    """Bytes flipped inside the deflate stream: the full read must fail (a decode error
    or the CRC), never return wrong data."""
    path, raw = _big_gz(tmp_path)
    out = bytearray(raw)
    at = int(len(out) * where)
    for i in range(at, at + 4):
        out[i] ^= 0x5A
    write(path, bytes(out))
    raises(tioxide.CorruptGzipError, lambda: nifti.read(path), path)


@pytest.mark.parametrize("byte", [-8, -7, -5])
def test_crc_mismatch(byte: int, tmp_path: Path) -> None:
    path, raw = _big_gz(tmp_path)
    out = bytearray(raw)
    out[byte] ^= 0x01
    write(path, bytes(out))
    nifti.read_header(path)
    raises(tioxide.CorruptGzipError, lambda: nifti.read(path), path)


def test_isize_mismatch(tmp_path: Path) -> None:
    path, raw = _big_gz(tmp_path)
    out = bytearray(raw)
    out[-2] ^= 0x01
    write(path, bytes(out))
    raises(tioxide.CorruptGzipError, lambda: nifti.read(path), path)


@pytest.mark.parametrize("cut", [1, 4, 8, 9, 100, 5000])
def test_truncated_gzip_member(cut: int, tmp_path: Path) -> None:
    """The gzip member ends early (inside the trailer, or inside the deflate stream)."""
    path, raw = _big_gz(tmp_path)
    write(path, raw[:-cut])
    data_error(tioxide.TruncatedFileError, path)


def test_truncated_gzip_inside_header(tmp_path: Path) -> None:
    path, raw = _big_gz(tmp_path)
    write(path, raw[:60])
    header_error(tioxide.TruncatedFileError, path)


@pytest.mark.parametrize(
    "trailer",
    [b"garbage after the stream", b"\0" * 100, b"\x00\x1f\x8b"],
    ids=["text", "zeros", "zero-then-magic"],
)
def test_trailing_garbage_is_ignored(trailer: bytes, tmp_path: Path) -> None:
    """As gzip(1) ("decompression OK, trailing garbage ignored"): the data is returned."""
    path, raw = _big_gz(tmp_path)
    write(path, raw + trailer)
    np.testing.assert_array_equal(nifti.read(path), BIG)
    np.testing.assert_array_equal(nifti.read(path, (slice(-3, None), 5)), BIG[-3:, 5])


@pytest.mark.parametrize(
    "trailer",
    [b"\x1f", b"\x1f\x8b", b"\x1f\x8b\x08\x00garbage"],
    ids=["half-magic", "magic", "member-header-then-garbage"],
)
def test_truncated_second_member(trailer: bytes, tmp_path: Path) -> None:
    """What starts like another gzip member and ends early is, as for gzip(1)
    ("unexpected end of file"), a truncated file."""
    path, raw = _big_gz(tmp_path)
    write(path, raw + trailer)
    data_error(tioxide.TruncatedFileError, path)


def test_multi_member_gzip(tmp_path: Path) -> None:
    """Concatenated gzip members are one stream (gzip(1), nibabel)."""
    raw = nifti1_bytes(BIG)
    cuts = [0, 200, 352, 5000, 100000, len(raw)]
    path = write(
        tmp_path / "x.nii.gz", b"".join(gz(raw[a:b]) for a, b in zip(cuts, cuts[1:], strict=False))
    )
    np.testing.assert_array_equal(np.asanyarray(nib.load(path).dataobj), BIG)
    np.testing.assert_array_equal(nifti.read(path), BIG)
    np.testing.assert_array_equal(
        nifti.read(path, (slice(None, None, -5), 7, -1)), BIG[::-5, 7, -1]
    )


# --------------------------------------------------------------------------- bad regions


@pytest.fixture
def good_file(tmp_path: Path) -> Path:
    return write(tmp_path / "good.nii", nifti1_bytes())


@pytest.mark.parametrize(
    "region",
    [(6,), (-7,), (0, 5), (0, 0, 4), (0, 0, -5), (Ellipsis, 4), (None, 6)],
    ids=repr,
)
def test_region_index_out_of_range(region: Any, good_file: Path) -> None:
    with pytest.raises(IndexError):
        DATA[region]
    raises(IndexError, lambda: nifti.read(good_file, region), good_file)


@pytest.mark.parametrize(
    "region",
    [(0, 0, 0, 0), (slice(None),) * 4, (Ellipsis, 0, 0, 0, 0), (Ellipsis, Ellipsis)],
    ids=repr,
)
def test_region_too_many_indices(region: Any, good_file: Path) -> None:
    with pytest.raises(IndexError):
        DATA[region]
    raises(IndexError, lambda: nifti.read(good_file, region), good_file)


@pytest.mark.parametrize(
    "region",
    [(1.0,), (0, 2.5), (slice(0.5, 2),), (slice(0, 2, 1.0),), ("a",), (np.float64(1),)],
    ids=repr,
)
def test_region_float_index(region: Any, good_file: Path) -> None:
    raises(TypeError, lambda: nifti.read(good_file, region), good_file)


def test_region_zero_step(good_file: Path) -> None:
    with pytest.raises(ValueError):
        DATA[::0]
    raises(ValueError, lambda: nifti.read(good_file, (slice(None, None, 0),)), good_file)


def test_region_errors_leave_reader_usable(good_file: Path) -> None:
    for region in [(99,), (1.5,), (0, 0, 0, 0)]:
        with pytest.raises((IndexError, TypeError)):
            nifti.read(good_file, region)
    np.testing.assert_array_equal(nifti.read(good_file, (1, slice(None, None, -1))), DATA[1, ::-1])


# --------------------------------------------------------------------------- files that change


def test_file_rewritten_between_reads(tmp_path: Path) -> None:
    """Cached headers and maps must not serve stale data after the file changes."""
    path = tmp_path / "x.nii"
    nib.Nifti1Image(DATA, np.eye(4)).to_filename(path)
    np.testing.assert_array_equal(nifti.read(path), DATA)
    nib.Nifti1Image((DATA * 3).astype(np.int32), np.eye(4)).to_filename(path)
    assert nifti.read_header(path).dtype == np.int32
    np.testing.assert_array_equal(nifti.read(path), DATA * 3)


def test_file_truncated_between_reads(tmp_path: Path) -> None:
    path = tmp_path / "x.nii"
    nib.Nifti1Image(DATA, np.eye(4)).to_filename(path)
    kept = nifti.read(path)
    os.truncate(path, 400)
    raises(tioxide.TruncatedFileError, lambda: nifti.read(path), path)
    np.testing.assert_array_equal(kept, DATA)  # an array already returned is unaffected


# --------------------------------------------------------------------------- in a subprocess

SUBPROCESS = textwrap.dedent(
    """
    import sys
    from tioxide import nifti
    path, region = sys.argv[1], eval(sys.argv[2])
    try:
        nifti.read_header(path)
        nifti.read(path, region)
    except BaseException as e:
        print(type(e).__name__, "|", e)
    else:
        print("no error")
    """
)


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
@pytest.mark.parametrize("region", ["None", "(0, 0, slice(0, 2))", "(-1, -1, -1)"])
def test_huge_dims_small_file_in_subprocess(suffix: str, region: str, tmp_path: Path) -> None:
    """Dims claiming 70 TB of voxels in a tiny file: TruncatedFileError, no allocation,
    no crash."""
    raw = patched(nifti1_bytes(), DIM, "<8h", 3, 32767, 32767, 32767, 1, 1, 1, 1)
    path = write(tmp_path / f"huge{suffix}", gz(raw) if suffix.endswith(".gz") else raw)
    run = subprocess.run(
        [sys.executable, "-c", SUBPROCESS, os.fspath(path), region], capture_output=True, text=True
    )
    assert run.returncode == 0, f"interpreter died: {run.returncode} {run.stderr[-2000:]}"
    name, _, message = run.stdout.partition(" | ")
    assert name == "TruncatedFileError", run.stdout
    assert str(path) in message


@pytest.mark.parametrize("seed", range(8))
def test_random_corruption_never_crashes(seed: int, tmp_path: Path) -> None:
    """Random byte flips in headers and gzip streams: an exception or data, never a crash."""
    rng = np.random.default_rng(seed)
    paths = []
    for i, raw in enumerate(
        [nifti1_bytes(ext=b"x" * 20), gz(nifti1_bytes(BIG[:8])), nifti2_bytes(), gz(nifti2_bytes())]
    ):
        for j in range(10):
            out = bytearray(raw)
            span = 600 if i in (0, 2) else len(out)
            for at in rng.integers(0, min(span, len(out)), size=int(rng.integers(1, 6))):
                out[at] = int(rng.integers(0, 256))
            suffix = ".nii.gz" if i % 2 else ".nii"
            paths.append(write(tmp_path / f"c{i}-{j}{suffix}", bytes(out)))
    script = textwrap.dedent(
        """
        import sys
        import tioxide
        from tioxide import nifti
        for path in sys.argv[1:]:
            try:
                nifti.read_header(path)
                nifti.read(path)
                nifti.read(path, (slice(None, None, -2), 0))
            except (tioxide.NiftiError, OSError) as e:
                assert path in str(e), (path, e)
            except IndexError:  # e.g. dim[0] flipped to 1: too many indices
                pass
        print("done")
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script, *map(os.fspath, paths)], capture_output=True, text=True
    )
    assert run.returncode == 0, f"interpreter died or raised: {run.returncode} {run.stderr[-3000:]}"
    assert run.stdout.strip() == "done"


def test_gzip_crc_of_good_file_is_checked_by_zlib(tmp_path: Path) -> None:
    """Sanity check of the corruption helpers: the intact stream is valid."""
    path, raw = _big_gz(tmp_path)
    write(path, raw)
    assert zlib.crc32(gzip.decompress(raw)) == struct.unpack("<I", raw[-8:-4])[0]
    np.testing.assert_array_equal(nifti.read(path), BIG)


@pytest.mark.parametrize("suffix", [".hdr", ".hdr.gz", ".nii.gz"])
def test_header_with_extensions_reads_little_memory(suffix: str, tmp_path: Path) -> None:
    """Reading a small header with an extension must not allocate hundreds of MiB
    (peak RSS of a fresh interpreter, measured in a subprocess)."""
    klass = nib.Nifti1Image if suffix == ".nii.gz" else nib.Nifti1Pair
    img = klass(DATA, np.eye(4))
    img.header.extensions.append(nib.nifti1.Nifti1Extension("comment", b"hello"))
    path = tmp_path / f"x{suffix}"
    img.to_filename(path)
    script = textwrap.dedent(
        """
        import resource, sys
        from tioxide import nifti

        def peak_kib():
            # VmHWM is this process's own peak; ru_maxrss can carry the parent's peak
            # across fork/exec, hiding the growth when pytest itself is large.
            try:
                with open("/proc/self/status") as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            return int(line.split()[1])
            except OSError:
                pass
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

        nifti.read(sys.argv[1], (0, 0, 0))  # warm up: import, thread pools, caches
        before = peak_kib()
        hdr = nifti.read_header(sys.argv[2])
        after = peak_kib()
        print((after - before) // 1024, hdr.extensions[0][0])
        """
    )
    warm = write(tmp_path / "warm.nii", nifti1_bytes())
    run = subprocess.run(
        [sys.executable, "-c", script, os.fspath(warm), os.fspath(path)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    grown_mib, code = map(int, run.stdout.split())
    assert code == 6
    assert grown_mib < 32, f"reading the header of {path.name} grew peak RSS by {grown_mib} MiB"
