"""docs/bad-inputs.md and the reader agree: one test per row of its table.

Each row names a malformed input (built here by the function registered
under the row's id) and what ``read_header``, a full ``read`` and a region
``read`` (the last slab of the last axis: it needs the end of the data) give:
``ok`` or the exception class. Every exception must name the file. Rows whose
input could hang or kill a reader (a FIFO, a file shrinking under a memory
map, a header asking for more memory than a stream can fill) run in a
subprocess with a time limit; a dead or hung subprocess fails the row.

The byte-level helpers come from test_errors.py, which keeps the detailed
cases (many values per field); the catalogue is the one-row-per-kind map.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest

import tioxide
from test_errors import DATA, gz, nifti1_bytes, nifti2_bytes, patched
from tioxide import nifti

CATALOGUE = Path(__file__).resolve().parent.parent / "docs" / "bad-inputs.md"
OPS = ("read_header", "read", "region")
EXCEPTIONS: dict[str, type[BaseException]] = {
    "TruncatedFileError": tioxide.TruncatedFileError,
    "CorruptGzipError": tioxide.CorruptGzipError,
    "UnsupportedDatatypeError": tioxide.UnsupportedDatatypeError,
    "InvalidHeaderError": tioxide.InvalidHeaderError,
    "NiftiError": tioxide.NiftiError,
    "FileNotFoundError": FileNotFoundError,
    "IsADirectoryError": IsADirectoryError,
    "PermissionError": PermissionError,
    "OSError": OSError,
    "MemoryError": MemoryError,
}

# NIfTI-1 field offsets (the start of every field, and the end of the header)
N1_FIELDS = [0, 4, 14, 32, 36, 38, 39, 40, 56, 60, 64, 68, 70, 72, 74, 76, 108, 112, 116, 120]
N1_FIELDS += [122, 123, 124, 128, 132, 136, 140, 144, 148, 228, 252, 254, 256, 260, 264, 268]
N1_FIELDS += [272, 276, 280, 296, 312, 328, 344]
# NIfTI-2 field offsets
N2_FIELDS = [0, 4, 12, 14, 16, 80, 88, 96, 104, 168, 176, 184, 192, 200, 208, 216, 224, 232]
N2_FIELDS += [240, 320, 344, 348, 352, 360, 368, 376, 384, 392, 400, 432, 464, 496, 500, 504]
N2_FIELDS += [508, 524, 525]
# field offsets used below (NIfTI-1)
DIM, DATATYPE, BITPIX, PIXDIM, VOX_OFFSET, SCL_SLOPE = 40, 70, 72, 76, 108, 112
QFORM_CODE, SFORM_CODE, QUATERN_B, SROW_X, MAGIC = 252, 254, 256, 280, 344
N2_DIM, N2_VOX_OFFSET = 16, 168
HEADER_ONLY = ("header-only",)


# --------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Row:
    id: str
    description: str
    outcomes: dict[str, str]


def parse_catalogue(text: str) -> list[Row]:
    """The rows of the catalogue's table (the one whose header starts with ``id``)."""
    rows: list[Row] = []
    columns: list[str] | None = None
    for line in text.splitlines():
        if not line.startswith("|"):
            columns = None if rows or columns else columns
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if columns is None:
            if cells[0] == "id":
                columns = cells
            continue
        if set("".join(cells)) <= set("-: "):
            continue
        record = dict(zip(columns, cells, strict=True))
        outcomes = {op: record[op].strip("`") for op in OPS}
        rows.append(Row(record["id"].strip("`"), record["malformed input"], outcomes))
    return rows


def parse_known_bugs(text: str) -> dict[str, str]:
    """Row ids listed under "## Known bugs" (bullets "- `id`: why")."""
    section = text.partition("\n## Known bugs")[2]
    return {m[1]: m[2] for m in re.finditer(r"^- `([^`]+)`: (.*)$", section, re.MULTILINE)}


TEXT = CATALOGUE.read_text()
ROWS = parse_catalogue(TEXT)
KNOWN_BUGS = parse_known_bugs(TEXT)


# --------------------------------------------------------------------------- inputs

BUILDERS: dict[str, Callable[[Path], list[Path]]] = {}
IN_SUBPROCESS: set[str] = set()


def case(name: str, *, subprocess: bool = False) -> Callable[[Any], Any]:
    def register(fn: Callable[[Path], list[Path] | Path]) -> Callable[[Path], list[Path]]:
        def build(tmp: Path) -> list[Path]:
            out = fn(tmp)
            return out if isinstance(out, list) else [out]

        BUILDERS[name] = build
        if subprocess:
            IN_SUBPROCESS.add(name)
        return build

    return register


def put(tmp: Path, name: str, raw: bytes) -> Path:
    path = tmp / name
    path.write_bytes(raw)
    return path


def good_n1() -> bytes:
    return nifti1_bytes()


def many(tmp: Path, stem: str, suffix: str, blobs: list[bytes]) -> list[Path]:
    return [put(tmp, f"{stem}-{i}{suffix}", b) for i, b in enumerate(blobs)]


def n1_with(offset: int, fmt: str, *values: Any) -> bytes:
    return patched(good_n1(), offset, fmt, *values)


# truncation at every structure boundary -------------------------------------


@case("empty")
def _(tmp: Path) -> Any:
    return [put(tmp, "empty.nii", b""), put(tmp, "empty.nii.gz", gz(b""))]


@case("n1-cut-in-header")
def _(tmp: Path) -> Any:
    raw = good_n1()
    return many(tmp, "n1cut", ".nii", [raw[:n] for n in N1_FIELDS + [347]])


@case("n1-gz-cut-in-header")
def _(tmp: Path) -> Any:
    raw = good_n1()
    return many(tmp, "n1gzcut", ".nii.gz", [gz(raw[:n]) for n in N1_FIELDS[1:] + [347]])


@case("n2-cut-in-header")
def _(tmp: Path) -> Any:
    raw = nifti2_bytes()
    blobs = [raw[:n] for n in N2_FIELDS[1:] + [539]] + [gz(raw[:n]) for n in (12, 300, 539)]
    return many(tmp, "n2cut", ".nii", blobs[:-3]) + many(tmp, "n2gzcut", ".nii.gz", blobs[-3:])


@case("cut-after-header")
def _(tmp: Path) -> Any:
    """348 bytes: the header and nothing else (no extension flag, no voxels)."""
    raw = good_n1()[:348]
    return [put(tmp, "hdr-only.nii", raw), put(tmp, "hdr-only.nii.gz", gz(raw))]


def with_extension() -> bytes:
    return nifti1_bytes(ext=b"an extension of some length" * 3)


@case("cut-in-extension-fields")
def _(tmp: Path) -> Any:
    """Cut inside the extension flag, esize or ecode."""
    raw = with_extension()
    return many(tmp, "extcut", ".nii", [raw[:n] for n in (350, 356, 360)])


@case("cut-in-extension-content")
def _(tmp: Path) -> Any:
    raw = with_extension()
    return many(tmp, "extbody", ".nii", [raw[:n] for n in (380, 440)])


@case("cut-at-vox-offset")
def _(tmp: Path) -> Any:
    raw = good_n1()[:352]
    return [put(tmp, "novox.nii", raw), put(tmp, "novox.nii.gz", gz(raw))]


@case("cut-in-voxels")
def _(tmp: Path) -> Any:
    raw = good_n1()
    blobs = [raw[: 352 + 100], raw[:-1]]
    return many(tmp, "voxcut", ".nii", blobs) + many(tmp, "voxcut", ".nii.gz", map_gz(blobs))


def map_gz(blobs: list[bytes]) -> list[bytes]:
    return [gz(b) for b in blobs]


@case("pair-hdr-cut")
def _(tmp: Path) -> Any:
    nib.Nifti1Pair(DATA, np.eye(4)).to_filename(tmp / "p.img")
    (tmp / "p.hdr").write_bytes((tmp / "p.hdr").read_bytes()[:200])
    return [tmp / "p.hdr", tmp / "p.img"]


@case("pair-img-cut")
def _(tmp: Path) -> Any:
    nib.Nifti1Pair(DATA, np.eye(4)).to_filename(tmp / "q.img")
    os.truncate(tmp / "q.img", DATA.nbytes - 2)
    return [tmp / "q.hdr", tmp / "q.img"]


# header fields out of range ---------------------------------------------------


@case("bad-sizeof-hdr")
def _(tmp: Path) -> Any:
    blobs = [n1_with(0, "<i", v) for v in (0, 347, 349, 541, -348)]
    return many(tmp, "sizeof", ".nii", blobs) + [put(tmp, "sizeof.nii.gz", gz(blobs[0]))]


@case("bad-magic")
def _(tmp: Path) -> Any:
    return many(tmp, "magic", ".nii", [n1_with(MAGIC, "4s", m) for m in (b"xyz\0", b"n+2\0")])


@case("pair-magic-in-single-file")
def _(tmp: Path) -> Any:
    return put(tmp, "ni1.nii", n1_with(MAGIC, "4s", b"ni1\0"))


@case("unsupported-datatype")
def _(tmp: Path) -> Any:
    blobs = [n1_with(DATATYPE, "<h", c) for c in (0, 1, 999, 1536, 2048, -4)]
    return many(tmp, "dtype", ".nii", blobs)


@case("bitpix-disagrees")
def _(tmp: Path) -> Any:
    return many(tmp, "bitpix", ".nii", [n1_with(BITPIX, "<h", b) for b in (0, 8, 64, -16)])


@case("dim0-out-of-range")
def _(tmp: Path) -> Any:
    blobs = [n1_with(DIM, "<h", v) for v in (0, 8, -1, 32767)]
    return many(tmp, "dim0", ".nii", blobs)


@case("dim-zero-or-negative")
def _(tmp: Path) -> Any:
    blobs = [n1_with(DIM, "<4h", 3, 6, 0, 4), n1_with(DIM, "<4h", 3, -6, 5, 4)]
    return many(tmp, "dimneg", ".nii", blobs)


@case("dims-2-60-voxels", subprocess=True)
def _(tmp: Path) -> Any:
    """NIfTI-2 dims whose product is 2^60 voxels (2^61 bytes), in a 1 KB file."""
    n2 = patched(nifti2_bytes(), N2_DIM, "<4q", 3, 2**20, 2**20, 2**20)
    return [put(tmp, "huge2.nii", n2), put(tmp, "huge2.nii.gz", gz(n2))]


@case("dims-overflow")
def _(tmp: Path) -> Any:
    n1 = n1_with(DIM, "<8h", 7, *([32767] * 7))
    n2 = patched(nifti2_bytes(), N2_DIM, "<4q", 3, 2**62, 2**62, 2)
    return [put(tmp, "ovf1.nii", n1), put(tmp, "ovf2.nii", n2)]


@case("dims-70tb-in-small-file", subprocess=True)
def _(tmp: Path) -> Any:
    raw = n1_with(DIM, "<8h", 3, 32767, 32767, 32767, 1, 1, 1, 1)
    return [put(tmp, "big.nii", raw), put(tmp, "big.nii.gz", gz(raw))]


@case("file-object-dims-70tb", subprocess=True)
def _(tmp: Path) -> Any:
    """As above, in a binary file object."""
    return put(tmp, "bigstream.nii", n1_with(DIM, "<8h", 3, 32767, 32767, 32767, 1, 1, 1, 1))


@case("file-object-gz-dims-70tb", subprocess=True)
def _(tmp: Path) -> Any:
    raw = n1_with(DIM, "<8h", 3, 32767, 32767, 32767, 1, 1, 1, 1)
    return put(tmp, "bigstream.nii.gz", gz(raw))


@case("vox-offset-inside-header")
def _(tmp: Path) -> Any:
    blobs = [n1_with(VOX_OFFSET, "<f", v) for v in (1.0, 100.0, 344.0, 347.0)]
    return many(tmp, "voxin", ".nii", blobs) + [put(tmp, "voxin.nii.gz", gz(blobs[1]))]


@case("vox-offset-not-a-number")
def _(tmp: Path) -> Any:
    values = (-16.0, float("nan"), float("inf"), 1e30)
    return many(tmp, "voxnan", ".nii", [n1_with(VOX_OFFSET, "<f", v) for v in values])


@case("vox-offset-past-end")
def _(tmp: Path) -> Any:
    blobs = [n1_with(VOX_OFFSET, "<f", v) for v in (1024.0, 2.0**40)]
    return many(tmp, "voxpast", ".nii", blobs) + many(tmp, "voxpast", ".nii.gz", map_gz(blobs))


@case("vox-offset-nifti2-huge")
def _(tmp: Path) -> Any:
    return put(tmp, "vox2.nii", patched(nifti2_bytes(), N2_VOX_OFFSET, "<q", 2**63 - 1))


@case("extension-size-bad")
def _(tmp: Path) -> Any:
    raw = nifti1_bytes(ext=b"hello")
    return many(tmp, "esize", ".nii", [patched(raw, 352, "<i", v) for v in (0, -16, 17, 2**30)])


@case("pixdim-not-finite")
def _(tmp: Path) -> Any:
    blobs = [n1_with(PIXDIM + 4, "<3f", v, v, v) for v in (float("nan"), float("inf"), -2.0)]
    blobs = [patched(b, QFORM_CODE, "<2h", 1, 0) for b in blobs]  # affine from the qform
    return many(tmp, "pixdim", ".nii", blobs)


@case("quaternion-too-long")
def _(tmp: Path) -> Any:
    return put(
        tmp, "quat.nii", patched(n1_with(QUATERN_B, "<3f", 0.9, 0.9, 0.9), QFORM_CODE, "<2h", 1, 0)
    )


@case("quaternion-not-finite")
def _(tmp: Path) -> Any:
    nan = patched(n1_with(QUATERN_B, "<3f", *[float("nan")] * 3), QFORM_CODE, "<2h", 1, 0)
    return put(tmp, "quatnan.nii", nan)


@case("xform-codes-out-of-range")
def _(tmp: Path) -> Any:
    return many(tmp, "xcode", ".nii", [n1_with(QFORM_CODE, "<2h", c, c) for c in (99, -3)])


@case("srow-not-finite")
def _(tmp: Path) -> Any:
    raw = patched(n1_with(SROW_X, "<4f", *[float("nan")] * 4), QFORM_CODE, "<2h", 0, 1)
    return put(tmp, "srow.nii", raw)


@case("scl-slope-special")
def _(tmp: Path) -> Any:
    blobs = [n1_with(SCL_SLOPE, "<2f", s, 0.0) for s in (float("nan"), 0.0, float("inf"))]
    return many(tmp, "slope", ".nii", blobs)


# gzip ---------------------------------------------------------------------------------

BIG = (np.arange(32 * 32 * 16, dtype=np.int64).reshape(32, 32, 16) * 2654435761 % 65521).astype(
    np.int32
)


def big_gz() -> bytes:
    return gz(nifti1_bytes(BIG))


def flip(raw: bytes, at: int, mask: int = 1) -> bytes:
    out = bytearray(raw)
    out[at] ^= mask
    return bytes(out)


@case("gz-bad-crc")
def _(tmp: Path) -> Any:
    return put(tmp, "crc.nii.gz", flip(big_gz(), -8))


@case("gz-bad-isize")
def _(tmp: Path) -> Any:
    return put(tmp, "isize.nii.gz", flip(big_gz(), -2))


@case("gz-cut-in-member-header")
def _(tmp: Path) -> Any:
    raw = big_gz()
    return many(tmp, "gzhead", ".nii.gz", [raw[:n] for n in (1, 2, 3, 9, 10)])


@case("gz-cut-in-deflate-data")
def _(tmp: Path) -> Any:
    raw = big_gz()
    return many(tmp, "gzdefl", ".nii.gz", [raw[: len(raw) // 2], raw[:-9]])


@case("gz-cut-in-trailer")
def _(tmp: Path) -> Any:
    raw = big_gz()
    return many(tmp, "gztrail", ".nii.gz", [raw[:-n] for n in (1, 4, 5, 8)])


@case("gz-garbage-after-stream")
def _(tmp: Path) -> Any:
    raw = big_gz()
    return many(tmp, "gzjunk", ".nii.gz", [raw + b"garbage", raw + bytes(100)])


@case("gz-cut-second-member")
def _(tmp: Path) -> Any:
    raw = big_gz()
    return many(tmp, "gz2nd", ".nii.gz", [raw + b"\x1f", raw + b"\x1f\x8b\x08\x00junk"])


@case("gz-bad-deflate-data")
def _(tmp: Path) -> Any:
    raw = bytearray(big_gz())
    raw[10] = 0b111  # first block: BFINAL, reserved block type 3
    return put(tmp, "btype.nii.gz", bytes(raw))


@case("gz-damaged-voxel-deflate-data")
def _(tmp: Path) -> Any:
    raw = bytearray(big_gz())
    for i in range(len(raw) // 2, len(raw) // 2 + 4):
        raw[i] ^= 0x5A
    return put(tmp, "flip.nii.gz", bytes(raw))


@case("gz-bad-method-or-flags")
def _(tmp: Path) -> Any:
    raw = big_gz()
    method = flip(raw, 2, 0x08)  # CM 0 instead of 8 (deflate)
    reserved = flip(raw, 3, 0x20)  # a reserved FLG bit
    return many(tmp, "gzflag", ".nii.gz", [method, reserved])


@case("gz-header-field-past-end")
def _(tmp: Path) -> Any:
    """FEXTRA set: the bytes after the header are read as an extra field's
    length, which runs past the end of the file."""
    extra = bytearray(big_gz())
    extra[3] |= 0x04
    name = bytearray(gz(good_n1())[:10]) + b"name without its terminating zero"
    name[3] |= 0x08
    return many(tmp, "gzextra", ".nii.gz", [bytes(extra), bytes(name)])


# files and the file system ------------------------------------------------------------


@case("missing-file")
def _(tmp: Path) -> Any:
    return [tmp / "nope.nii", tmp / "nope.nii.gz"]


@case("hdr-without-img")
def _(tmp: Path) -> Any:
    nib.Nifti1Pair(DATA, np.eye(4)).to_filename(tmp / "lone.img")
    (tmp / "lone.img").unlink()
    return tmp / "lone.hdr"


@case("img-without-hdr")
def _(tmp: Path) -> Any:
    nib.Nifti1Pair(DATA, np.eye(4)).to_filename(tmp / "orphan.img")
    (tmp / "orphan.hdr").unlink()
    return tmp / "orphan.img"


@case("directory")
def _(tmp: Path) -> Any:
    for name in ("d.nii", "d.nii.gz"):
        (tmp / name).mkdir()
    return [tmp / "d.nii", tmp / "d.nii.gz"]


@case("fifo", subprocess=True)
def _(tmp: Path) -> Any:
    os.mkfifo(tmp / "pipe.nii")
    return tmp / "pipe.nii"


@case("permission-denied", subprocess=True)
def _(tmp: Path) -> Any:
    paths = [put(tmp, "secret.nii", good_n1()), put(tmp, "secret.nii.gz", gz(good_n1()))]
    for p in paths:
        p.chmod(0)
    return paths


@case("shrinks-after-header")
def _(tmp: Path) -> Any:
    """The header is read (and cached), then the file is cut to 400 bytes."""
    paths = [put(tmp, "shrink.nii", nifti1_bytes(BIG)), put(tmp, "shrink.nii.gz", big_gz())]
    for p in paths:
        nifti.read_header(p)
        os.truncate(p, 400)
    return paths


@case("shrinks-during-reads", subprocess=True)
def _(tmp: Path) -> Any:
    """Another process cuts the file while it is being read (the memory map's
    pages vanish): each read raises or returns correct data, never SIGBUS."""
    big = (np.arange(128 * 128 * 64) % 32749).astype(np.int16).reshape(128, 128, 64)
    return [put(tmp, "race.nii", nifti1_bytes(big)), put(tmp, "race.nii.gz", gz(nifti1_bytes(big)))]


# --------------------------------------------------------------------------- running rows


def region_of(path: Path) -> Any:
    return (Ellipsis, slice(-1, None))


def outcome(fn: Callable[[], Any], path: Path) -> str:
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - every exception is an outcome to compare
        name = type(e).__name__
        if isinstance(e, tioxide.NiftiError | OSError):
            assert os.fspath(path) in str(e) or os.fspath(path.with_suffix("")) in str(e), (
                f"{name} does not name the file: {e}"
            )
        return name
    return "ok"


def run_in_process(path: Path) -> dict[str, str]:
    return {
        "read_header": outcome(lambda: nifti.read_header(path), path),
        "read": outcome(lambda: nifti.read(path), path),
        "region": outcome(lambda: nifti.read(path, region_of(path)), path),
    }


# Run as another user (root ignores file permissions), with limited address
# space for over-allocation rows, and a time limit (a hang fails the row).
CHILD = textwrap.dedent(
    """
    import json, os, resource, sys, threading, time
    from tioxide import nifti
    path, mode = sys.argv[1], sys.argv[2]

    def outcome(fn):
        try:
            fn()
        except Exception as e:
            return type(e).__name__
        return "ok"

    if mode == "race":
        # Cut and restore the file (same size, same mtime) while reading it.
        data = open(path, "rb").read()
        st = os.stat(path)
        stop = False

        def cutter():
            while not stop:
                with open(path, "r+b") as f:
                    f.truncate(500)
                    time.sleep(0.0005)
                    f.seek(0)
                    f.write(data)
                os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
                time.sleep(0.0005)

        t = threading.Thread(target=cutter)
        t.start()
        seen = {}
        end = time.monotonic() + 8
        while time.monotonic() < end:
            for op, fn in (("read", lambda: nifti.read(path)),
                           ("region", lambda: nifti.read(path, (slice(0, 64),) * 3)),
                           ("read_header", lambda: nifti.read_header(path))):
                seen.setdefault(op, set()).add(outcome(fn))
        stop = True
        t.join()
        print(json.dumps({op: "|".join(sorted(v)) for op, v in seen.items()}))
        sys.exit(0)
    if mode == "limit":
        with open("/proc/self/status") as f:
            vm = next(int(l.split()[1]) for l in f if l.startswith("VmSize:")) * 1024
        resource.setrlimit(resource.RLIMIT_AS, (vm + (1 << 30), vm + (1 << 30)))
    if mode == "stream":
        print(json.dumps({
            "read_header": outcome(lambda: nifti.read_header(open(path, "rb"))),
            "read": outcome(lambda: nifti.read(open(path, "rb"))),
            "region": outcome(lambda: nifti.read(open(path, "rb"), (Ellipsis, slice(-1, None)))),
        }))
        sys.exit(0)
    print(json.dumps({
        "read_header": outcome(lambda: nifti.read_header(path)),
        "read": outcome(lambda: nifti.read(path)),
        "region": outcome(lambda: nifti.read(path, (Ellipsis, slice(-1, None)))),
    }))
    """
)


def run_in_subprocess(row_id: str, path: Path) -> dict[str, str]:
    import json

    mode = "race" if row_id == "shrinks-during-reads" else "limit"
    mode = "stream" if row_id.startswith("file-object") else mode
    command = [sys.executable, "-c", CHILD, os.fspath(path), mode]
    if row_id == "permission-denied" and os.geteuid() == 0:
        # root reads any file: drop the capabilities that bypass permissions
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *command]
    try:
        run = subprocess.run(
            command, capture_output=True, text=True, timeout=10 if row_id == "fifo" else 120
        )
    except subprocess.TimeoutExpired:
        return dict.fromkeys(OPS, "hang")
    if run.returncode != 0:
        return dict.fromkeys(OPS, f"died({run.returncode}): {run.stderr[-500:]}")
    result: dict[str, str] = json.loads(run.stdout)
    return result


@pytest.fixture
def world_readable_tmp() -> Any:
    """A scratch directory other users can enter (pytest's tmp_path is 0700)."""
    with tempfile.TemporaryDirectory(prefix="tioxide-catalogue-") as d:
        os.chmod(d, 0o755)
        yield Path(d)


def test_catalogue_lists_every_case_once() -> None:
    ids = [r.id for r in ROWS]
    assert len(ids) == len(set(ids)), "duplicate ids in docs/bad-inputs.md"
    assert set(ids) == set(BUILDERS), (
        f"rows without a test: {set(ids) - set(BUILDERS)}; "
        f"tests without a row: {set(BUILDERS) - set(ids)}"
    )
    assert set(KNOWN_BUGS) <= set(ids), f"known bugs without a row: {set(KNOWN_BUGS) - set(ids)}"
    for row in ROWS:
        for op in OPS:
            names = row.outcomes[op].split(" or ")
            assert all(n == "ok" or n in EXCEPTIONS for n in names), (row.id, op, names)


def test_parser_reads_the_table() -> None:
    """The parser sees every row of a table, and only the rows."""
    text = textwrap.dedent(
        """
        intro | not a table
        | id | malformed input | read_header | read | region |
        |---|---|---|---|---|
        | `a` | x | `ok` | `TruncatedFileError` | `ok or TruncatedFileError` |
        | `b` | y | `InvalidHeaderError` | `ok` | `ok` |

        ## Known bugs

        - `b`: why
        """
    )
    rows = parse_catalogue(text)
    assert [r.id for r in rows] == ["a", "b"]
    assert rows[0].outcomes == {
        "read_header": "ok",
        "read": "TruncatedFileError",
        "region": "ok or TruncatedFileError",
    }
    assert parse_known_bugs(text) == {"b": "why"}
    assert len(ROWS) >= 50


def row_params() -> list[Any]:
    return [
        pytest.param(
            r,
            id=r.id,
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[r.id])]
            if r.id in KNOWN_BUGS
            else [],
        )
        for r in ROWS
    ]


@pytest.mark.parametrize("row", row_params())
def test_row(row: Row, world_readable_tmp: Path) -> None:
    nifti.clear_cache()
    for path in BUILDERS[row.id](world_readable_tmp):
        if row.id in IN_SUBPROCESS:
            got = run_in_subprocess(row.id, path)
        else:
            got = run_in_process(path)
        for op in OPS:
            allowed = set(row.outcomes[op].split(" or "))
            # in the race, every read may also succeed (the cut came after it)
            seen = set(got[op].split("|"))
            assert seen <= allowed, (
                f"{path.name}: {op} gave {got[op]}, the catalogue says {row.outcomes[op]}"
            )


def test_huge_dims_message_says_why(tmp_path: Path) -> None:
    path = put(tmp_path, "huge.nii", patched(nifti2_bytes(), N2_DIM, "<4q", 3, 2**20, 2**20, 2**20))
    with pytest.raises(tioxide.InvalidHeaderError, match=r"more than 2\^56 voxels"):
        nifti.read_header(path)


def test_region_reads_of_good_files_still_work(tmp_path: Path) -> None:
    """The catalogue's region (last slab of the last axis) on intact files."""
    plain = put(tmp_path, "good.nii", good_n1())
    packed = put(tmp_path, "good.nii.gz", big_gz())
    np.testing.assert_array_equal(nifti.read(plain, region_of(plain)), DATA[..., -1:])
    np.testing.assert_array_equal(nifti.read(packed, region_of(packed)), BIG[..., -1:])
