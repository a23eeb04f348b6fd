"""Shared fixtures and the differential corpus.

The corpus is a set of NIfTI-1, NIfTI-2 and ANALYZE files written by nibabel
(plus a few crafted with nibabel's header classes to exercise nibabel's
load-time header fixes) and every NIfTI/ANALYZE file in nibabel's own test
data. It is described at import time by :data:`CASES` (so tests can be
parametrized with readable ids) and written once per session into a temporary
directory by the ``corpus`` fixture.

Helpers shared by the test modules (reference loading, array comparison)
also live here.
"""

from __future__ import annotations

import functools
import glob
import gzip
import io
import os
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
from nibabel.openers import ImageOpener

RGB24 = np.dtype([("R", "u1"), ("G", "u1"), ("B", "u1")])
RGBA32 = np.dtype([("R", "u1"), ("G", "u1"), ("B", "u1"), ("A", "u1")])

DTYPES: dict[str, np.dtype[Any]] = {
    "uint8": np.dtype(np.uint8),
    "int8": np.dtype(np.int8),
    "int16": np.dtype(np.int16),
    "uint16": np.dtype(np.uint16),
    "int32": np.dtype(np.int32),
    "uint32": np.dtype(np.uint32),
    "int64": np.dtype(np.int64),
    "uint64": np.dtype(np.uint64),
    "float32": np.dtype(np.float32),
    "float64": np.dtype(np.float64),
    "complex64": np.dtype(np.complex64),
    "complex128": np.dtype(np.complex128),
    "rgb24": RGB24,
    "rgba32": RGBA32,
}
ANALYZE_DTYPES = ("uint8", "int16", "int32", "float32", "float64", "complex64", "rgb24")
SHAPES: dict[str, tuple[int, ...]] = {"3d": (7, 6, 5), "4d": (5, 4, 3, 3), "5d": (4, 3, 3, 2, 2)}
BYTE_ORDERS = {"le": "<", "be": ">"}
AFFINE_KINDS = ("both", "qform", "sform", "neither")

NIBABEL_DATA = Path(os.path.dirname(nib.__file__)) / "tests" / "data"


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    """One corpus file.

    Attributes:
        id: the pytest id.
        name: file to open, relative to the corpus directory (absolute for
            nibabel's own data).
        build: writes the file(s) into the corpus directory; None for external files.
        has_data: False for a header whose data file does not exist.
        missing: the data file that does not exist (when ``has_data`` is False).
    """

    id: str
    name: str
    build: Callable[[Path], None] | None = field(default=None, compare=False, repr=False)
    has_data: bool = True
    missing: str = ""


CASES: list[Case] = []


def _seed(text: str) -> int:
    return zlib.crc32(text.encode())


def _add(case_id: str, name: str, build: Callable[[Path], None]) -> None:
    CASES.append(Case(case_id, name, build))


# --------------------------------------------------------------------------- data


def make_data(dtype: np.dtype[Any], shape: tuple[int, ...], rng: np.random.Generator) -> Any:
    """Random native-order data of ``dtype`` covering the type's extremes and specials."""
    dtype = np.dtype(dtype)
    n = int(np.prod(shape))
    if dtype.fields is not None:
        raw = rng.integers(0, 256, size=(n, dtype.itemsize), dtype=np.uint8)
        flat = np.ascontiguousarray(raw).view(dtype).reshape(-1)
    elif dtype.kind in "iu":
        info = np.iinfo(dtype)
        flat = rng.integers(info.min, info.max, size=n, dtype=dtype, endpoint=True)
        flat[: min(n, 2)] = [info.min, info.max][: min(n, 2)]
        rng.shuffle(flat)
    elif dtype.kind == "f":
        flat = _floats(dtype, n, rng)
    elif dtype.kind == "c":
        part = np.dtype(f"f{dtype.itemsize // 2}")
        flat = np.empty(n, dtype)
        flat.real = _floats(part, n, rng)
        flat.imag = _floats(part, n, rng)
        specials = [
            complex(np.nan, 1.0),
            complex(1.0, np.nan),
            complex(np.inf, -np.inf),
            complex(-0.0, 0.0),
        ]
        flat[: min(n, 4)] = specials[: min(n, 4)]
        rng.shuffle(flat)
    else:  # pragma: no cover - corpus bug
        raise AssertionError(dtype)
    return flat.reshape(shape, order="F")


def _floats(dtype: np.dtype[Any], n: int, rng: np.random.Generator) -> Any:
    info = np.finfo(dtype)
    flat = (rng.standard_normal(n) * 1000).astype(dtype)
    specials = [
        np.nan,
        np.inf,
        -np.inf,
        -0.0,
        0.0,
        info.max,
        info.min,
        info.smallest_subnormal,
        info.tiny,
    ]
    k = min(n, len(specials))
    flat[:k] = np.array(specials[:k], dtype=dtype)
    rng.shuffle(flat)
    return flat


def random_affine(rng: np.random.Generator, *, shear: bool = False, reflect: bool = False) -> Any:
    """A random rotation (optionally with a reflection) times zooms, plus a translation."""
    q, r = np.linalg.qr(rng.standard_normal((3, 3)))
    q = q @ np.diag(np.sign(np.diag(r)))
    if (np.linalg.det(q) < 0) != reflect:
        q[:, 0] = -q[:, 0]
    m = q @ np.diag(rng.uniform(0.3, 4.0, 3))
    if shear:
        m = m + rng.normal(scale=0.2, size=(3, 3))
    aff = np.eye(4)
    aff[:3, :3] = m
    aff[:3, 3] = rng.uniform(-200, 200, 3)
    return aff


# --------------------------------------------------------------------------- writing helpers


def _header_file(path: Path) -> Path:
    """The header file of an image (``x.img`` -> ``x.hdr``, ``x.img.gz`` -> ``x.hdr.gz``)."""
    s = str(path)
    for img, hdr in ((".img.gz", ".hdr.gz"), (".img", ".hdr")):
        if s.endswith(img):
            return Path(s[: -len(img)] + hdr)
    return path


def _read_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    return gzip.decompress(raw) if path.suffix == ".gz" else raw


def _write_bytes(path: Path, data: bytes) -> None:
    path.write_bytes(gzip.compress(data, mtime=0) if path.suffix == ".gz" else data)


def patch_header(path: Path, klass: type, fn: Callable[[Any], None]) -> None:
    """Load the raw (unchecked) header of ``path`` with ``klass.header_class``, apply
    ``fn`` to it and write its fixed-size part back in place (extensions and data
    are kept)."""
    hpath = _header_file(path)
    raw = _read_bytes(hpath)
    hdr = klass.header_class.from_fileobj(io.BytesIO(raw), check=False)
    fn(hdr)
    block = hdr.binaryblock
    _write_bytes(hpath, block + raw[len(block) :])


def set_fields(hdr: Any, **fields: Any) -> None:
    """Set raw header fields, bypassing nibabel's setters and checks."""
    for name, value in fields.items():
        hdr._structarr[name] = value


def fill_descriptive(hdr: Any, rng: np.random.Generator) -> None:
    """Give the descriptive header fields non-default values (those the format has)."""
    values: dict[str, Any] = {
        "descrip": b"tioxide corpus %d" % rng.integers(1 << 30),
        "aux_file": b"aux-%d" % rng.integers(1000),
        "db_name": b"db",
        "intent_name": b"tstat",
        "intent_code": 3,
        "intent_p1": float(rng.uniform(1, 30)),
        "intent_p2": float(rng.uniform(-1, 1)),
        "intent_p3": float(rng.uniform(-1, 1)),
        "cal_min": float(rng.uniform(-10, 0)),
        "cal_max": float(rng.uniform(1, 10)),
        "slice_duration": float(rng.uniform(0, 0.1)),
        "toffset": float(rng.uniform(-5, 5)),
        "slice_start": 1,
        "slice_end": 3,
        "slice_code": 2,
        "xyzt_units": 10,
        "dim_info": 57,
        "glmax": int(rng.integers(100, 1000)),
        "glmin": int(rng.integers(-100, 0)),
    }
    names = set(hdr.keys())
    if "magic" not in names:
        # ANALYZE: nib.load reads these as SPM2, which derives a scaling from gl*/cal*.
        names -= {"glmax", "glmin", "cal_max", "cal_min"}
    set_fields(hdr, **{k: v for k, v in values.items() if k in names})


def apply_affine_kind(hdr: Any, kind: str, rng: np.random.Generator) -> None:
    """Give a NIfTI header a random qform and sform, then disable per ``kind``.

    The disabled transform keeps non-trivial values so a reader that ignores the
    codes is caught.
    """
    hdr.set_qform(random_affine(rng, reflect=bool(rng.integers(2))), code=int(rng.integers(1, 5)))
    hdr.set_sform(random_affine(rng, shear=True), code=int(rng.integers(1, 5)))
    pixdim = hdr["pixdim"].copy()
    pixdim[4:] = rng.uniform(0.5, 3.0, 4).astype(np.float32)
    set_fields(hdr, pixdim=pixdim)
    if kind in ("sform", "neither"):
        set_fields(hdr, qform_code=0)
    if kind in ("qform", "neither"):
        set_fields(hdr, sform_code=0)


def _check_roundtrip(path: Path, data: Any, byteorder: str) -> None:
    """Sanity check of the corpus itself: nibabel reads back what was written."""
    img = nib.load(path)
    assert img.header.endianness == byteorder, path
    back = np.asanyarray(img.dataobj)
    assert back.shape == data.shape, path
    assert back.tobytes(order="F") == data.astype(back.dtype).tobytes(order="F"), path


def save_with_nibabel(
    path: Path,
    klass: type,
    dtype: np.dtype[Any],
    shape: tuple[int, ...],
    byteorder: str,
    seed: int,
    *,
    affine_kind: str | None = None,
    affine: Any = None,
    extensions: tuple[tuple[str | int, bytes], ...] = (),
    patch: Callable[[Any], None] | None = None,
) -> None:
    """Write random data with nibabel's own ``klass(...).to_filename``, then optionally
    patch the header (affine kind, custom fields)."""
    rng = np.random.default_rng(seed)
    data = make_data(dtype, shape, rng)
    hdr = klass.header_class(endianness=byteorder)
    hdr.set_data_dtype(dtype)
    aff = np.diag([2.0, 3.0, 1.5, 1.0]) if affine is None else affine
    if affine is None:
        aff[:3, 3] = [-10.0, 20.0, 5.0]
    img = klass(data, aff, hdr)
    for code, content in extensions:
        img.header.extensions.append(nib.nifti1.Nifti1Extension(code, content))
    fill_descriptive(img.header, rng)
    img.to_filename(path)
    _check_roundtrip(path, data, byteorder)
    if affine_kind is not None or patch is not None:

        def fix(h: Any) -> None:
            if affine_kind is not None:
                apply_affine_kind(h, affine_kind, rng)
            if patch is not None:
                patch(h)

        patch_header(path, klass, fix)


def write_crafted(
    path: Path,
    klass: type,
    data: Any,
    byteorder: str,
    fields: dict[str, Any] | None = None,
    *,
    rng: np.random.Generator | None = None,
    extensions: tuple[tuple[int, bytes], ...] = (),
    vox_offset: int | None = None,
    tail: bytes = b"",
) -> None:
    """Write an image byte by byte from a nibabel header object, so that fields
    nibabel's writer would normalise (or refuse) can be stored as given."""
    hdr = klass.header_class(endianness=byteorder)
    hdr.set_data_dtype(data.dtype)
    hdr.set_data_shape(data.shape)
    for code, content in extensions:
        hdr.extensions.append(nib.nifti1.Nifti1Extension(code, content))
    single = str(path).endswith((".nii", ".nii.gz"))
    if "vox_offset" in hdr.keys():
        if single:
            minimum = hdr.single_vox_offset + hdr.extensions.get_sizeondisk()
            set_fields(hdr, vox_offset=minimum if vox_offset is None else vox_offset)
        else:
            set_fields(hdr, vox_offset=0 if vox_offset is None else vox_offset)
    if rng is not None:
        fill_descriptive(hdr, rng)
    if fields:
        set_fields(hdr, **fields)
    out = io.BytesIO()
    if hasattr(hdr, "extensions"):
        hdr.write_to(out)
    else:
        out.write(hdr.binaryblock)
    payload = data.astype(hdr.get_data_dtype()).tobytes(order="F") + tail
    offset = int(hdr["vox_offset"])
    if single:
        blob = out.getvalue()
        assert len(blob) <= offset, (len(blob), offset)
        _write_bytes(path, blob + b"\0" * (offset - len(blob)) + payload)
    else:
        _write_bytes(_header_file(path), out.getvalue())
        img_path = Path(str(_header_file(path)).replace(".hdr", ".img"))
        _write_bytes(img_path, b"\0" * offset + payload)


# --------------------------------------------------------------------------- corpus


def _build_cases() -> None:
    kinds = iter(range(10**6))

    # A. NIfTI-1 single file: every dtype x byte order x 3D/4D/5D x plain/gzip.
    for dname, dt in DTYPES.items():
        for bname, bo in BYTE_ORDERS.items():
            for sname, shape in SHAPES.items():
                for ext in (".nii", ".nii.gz"):
                    cid = f"n1-{dname}-{bname}-{sname}{ext}"
                    kind = AFFINE_KINDS[next(kinds) % len(AFFINE_KINDS)]
                    _add(
                        cid,
                        cid,
                        functools.partial(
                            _build_saved, cid, nib.Nifti1Image, dt, shape, bo, affine_kind=kind
                        ),
                    )

    # B. NIfTI-2 single file.
    for i, dname in enumerate(
        (
            "uint8",
            "int16",
            "int32",
            "float32",
            "float64",
            "complex64",
            "int64",
            "rgb24",
            "uint16",
            "complex128",
        )
    ):
        for bname, bo in BYTE_ORDERS.items():
            for ext in (".nii", ".nii.gz"):
                cid = f"n2-{dname}-{bname}{ext}"
                shape = list(SHAPES.values())[i % 3]
                kind = AFFINE_KINDS[next(kinds) % len(AFFINE_KINDS)]
                _add(
                    cid,
                    cid,
                    functools.partial(
                        _build_saved,
                        cid,
                        nib.Nifti2Image,
                        DTYPES[dname],
                        shape,
                        bo,
                        affine_kind=kind,
                    ),
                )

    # C. NIfTI-1 and NIfTI-2 pairs (.hdr/.img and gzipped .hdr.gz/.img.gz).
    for klass, tag, dnames in (
        (nib.Nifti1Pair, "n1pair", ("int16", "float32", "uint16", "rgba32", "complex128", "int8")),
        (nib.Nifti2Pair, "n2pair", ("int16", "float64", "uint32")),
    ):
        for i, dname in enumerate(dnames):
            for bname, bo in BYTE_ORDERS.items():
                for stem_ext, open_ext in (("hdr", ".hdr"), ("img", ".img"), ("gz", ".img.gz")):
                    if stem_ext == "img" and i % 2:
                        continue
                    cid = f"{tag}-{dname}-{bname}{open_ext}"
                    shape = list(SHAPES.values())[i % 3]
                    kind = AFFINE_KINDS[next(kinds) % len(AFFINE_KINDS)]
                    _add(
                        cid,
                        cid,
                        functools.partial(
                            _build_saved, cid, klass, DTYPES[dname], shape, bo, affine_kind=kind
                        ),
                    )

    # D. ANALYZE 7.5 pairs. nibabel's AnalyzeImage writes its own; SPM99/SPM2 images
    #    need scipy to save (for the .mat file), so those are written from nibabel's
    #    SPM header classes. nib.load reads all of them as Spm2AnalyzeImage.
    analyze_aff = np.diag([-2.0, 3.0, 1.5, 1.0])
    analyze_aff[:3, 3] = [10.0, -30.0, -9.0]
    for klass, tag in (
        (nib.AnalyzeImage, "analyze"),
        (nib.Spm99AnalyzeImage, "spm99"),
        (nib.Spm2AnalyzeImage, "spm2"),
    ):
        for i, dname in enumerate(ANALYZE_DTYPES):
            for bname, bo in BYTE_ORDERS.items():
                ext = ".img.gz" if (i + len(bname)) % 4 == 0 else (".hdr" if i % 2 else ".img")
                cid = f"{tag}-{dname}-{bname}{ext}"
                shape = (7, 6, 5) if i % 3 else (5, 4, 3, 2)
                if klass is nib.AnalyzeImage:
                    build = functools.partial(
                        _build_saved, cid, klass, DTYPES[dname], shape, bo, affine=analyze_aff
                    )
                else:
                    fields = {
                        "pixdim": [1, 2, 3, 1.5, 2.5, 1, 1, 1],
                        "origin": [4 + i, -2, 0, 0, 0] if i % 2 else [0, 0, 0, 0, 0],
                    }
                    build = functools.partial(_build_crafted, cid, klass, dname, shape, bo, fields)
                _add(cid, cid, build)
    _add(
        "analyze-rotated.hdr",
        "analyze-rotated.hdr",
        functools.partial(
            _build_saved,
            "analyze-rotated.hdr",
            nib.AnalyzeImage,
            DTYPES["int16"],
            (6, 5, 4),
            "<",
            affine=random_affine(np.random.default_rng(7)),
        ),
    )

    # E. Scaling.
    for cid, klass, dname, bo, slope, inter in (
        ("scl-int16-2.5-m3-le.nii", nib.Nifti1Image, "int16", "<", 2.5, -3.0),
        ("scl-int16-2.5-m3-be.nii", nib.Nifti1Image, "int16", ">", 2.5, -3.0),
        ("scl-int16-2.5-m3-le.nii.gz", nib.Nifti1Image, "int16", "<", 2.5, -3.0),
        ("scl-int16-2.5-m3-be.hdr", nib.Nifti1Pair, "int16", ">", 2.5, -3.0),
        ("scl-float32-2-le.nii", nib.Nifti1Image, "float32", "<", 2.0, 0.0),
        ("scl-float32-0.1-0.5-be.nii.gz", nib.Nifti1Image, "float32", ">", 0.1, 0.5),
        ("scl-float64-3-1-le.nii", nib.Nifti1Image, "float64", "<", 3.0, 1.0),
        ("scl-uint8-1-0-le.nii", nib.Nifti1Image, "uint8", "<", 1.0, 0.0),
        ("scl-uint8-1-5-le.nii", nib.Nifti1Image, "uint8", "<", 1.0, 5.0),
        ("scl-int8-m0.5-7-be.nii", nib.Nifti1Image, "int8", ">", -0.5, 7.0),
        ("scl-int32-1e-3-le.nii", nib.Nifti1Image, "int32", "<", 1e-3, 0.0),
        ("scl-uint16-0.25-100-be.nii.gz", nib.Nifti1Image, "uint16", ">", 0.25, 100.0),
        ("scl-uint64-0.25-le.nii", nib.Nifti1Image, "uint64", "<", 0.25, 0.0),
        ("scl-int64-2-le.nii", nib.Nifti1Image, "int64", "<", 2.0, 1.0),
        ("scl-complex64-2-le.nii", nib.Nifti1Image, "complex64", "<", 2.0, 0.0),
        ("scl-int16-slope0-le.nii", nib.Nifti1Image, "int16", "<", 0.0, 5.0),
        ("scl-int16-slopenan-le.nii", nib.Nifti1Image, "int16", "<", np.nan, np.nan),
        ("scl-int16-slopenan-inter5-be.nii", nib.Nifti1Image, "int16", ">", np.nan, 5.0),
        ("scl-int16-slopeinf-le.nii", nib.Nifti1Image, "int16", "<", np.inf, 0.0),
        ("scl-n2-int16-2.5-m3-be.nii.gz", nib.Nifti2Image, "int16", ">", 2.5, -3.0),
    ):
        _add(
            cid,
            cid,
            functools.partial(
                _build_saved,
                cid,
                klass,
                DTYPES[dname],
                (6, 5, 4),
                bo,
                patch=functools.partial(set_fields, scl_slope=slope, scl_inter=inter),
            ),
        )
    for cid, klass, dname, bo, fields in (
        (
            "scl-spm2-int16-2.5-m3-le.hdr",
            nib.Spm2AnalyzeImage,
            "int16",
            "<",
            {"scl_slope": 2.5, "scl_inter": -3.0},
        ),
        (
            "scl-spm2-uint8-0.5-be.img",
            nib.Spm2AnalyzeImage,
            "uint8",
            ">",
            {"scl_slope": 0.5, "scl_inter": np.nan},
        ),
        ("scl-spm99-int16-4-le.hdr", nib.Spm99AnalyzeImage, "int16", "<", {"scl_slope": 4.0}),
        # SPM2: no slope, but glmax/glmin and cal_max/cal_min give one.
        (
            "scl-spm2-glcal-le.hdr",
            nib.Spm2AnalyzeImage,
            "int16",
            "<",
            {"scl_slope": 0.0, "glmax": 1000, "glmin": -1000, "cal_max": 5.0, "cal_min": -3.0},
        ),
        (
            "scl-spm2-glcal-slopenan-be.img.gz",
            nib.Spm2AnalyzeImage,
            "int16",
            ">",
            {"scl_slope": np.nan, "glmax": 30000, "glmin": 10, "cal_max": 1.0, "cal_min": 0.5},
        ),
        (
            "scl-analyze-glcal-le.hdr",
            nib.AnalyzeImage,
            "float32",
            "<",
            {"glmax": 7, "glmin": 1, "cal_max": 100.0, "cal_min": 3.0},
        ),
    ):
        _add(cid, cid, functools.partial(_build_crafted, cid, klass, dname, (6, 5, 4), bo, fields))

    # F. Random affines: each kind x byte order x 3 seeds (with and without reflection).
    for kind in AFFINE_KINDS:
        for bname, bo in BYTE_ORDERS.items():
            for s in range(3):
                cid = f"aff-{kind}-{bname}-{s}.nii"
                _add(
                    cid,
                    cid,
                    functools.partial(
                        _build_saved,
                        cid,
                        nib.Nifti1Image,
                        DTYPES["float32"],
                        (6, 5, 4),
                        bo,
                        affine_kind=kind,
                    ),
                )
        cid = f"aff-n2-{kind}.nii.gz"
        _add(
            cid,
            cid,
            functools.partial(
                _build_saved,
                cid,
                nib.Nifti2Image,
                DTYPES["int16"],
                (6, 5, 4),
                "<",
                affine_kind=kind,
            ),
        )

    # G. Extensions.
    hello = (("comment", b"hello"),)
    two = (
        ("comment", b"first comment, 30 bytes long.."),
        ("afni", b"<?xml version='1.0' ?>\n<x/>"),
    )
    nuls = ((40, b"\x00\x01binary\x00payload\x00\x00"),)
    for cid, klass, bo, exts in (
        ("ext-comment-le.nii", nib.Nifti1Image, "<", hello),
        ("ext-comment-be.nii", nib.Nifti1Image, ">", hello),
        ("ext-two-le.nii.gz", nib.Nifti1Image, "<", two),
        ("ext-two-be.nii.gz", nib.Nifti1Image, ">", two),
        ("ext-binary-le.nii", nib.Nifti1Image, "<", nuls),
        ("ext-n2-comment-le.nii", nib.Nifti2Image, "<", hello),
        ("ext-n2-two-be.nii.gz", nib.Nifti2Image, ">", two),
        ("ext-pair-comment-le.hdr", nib.Nifti1Pair, "<", hello),
        ("ext-pair-two-be.img.gz", nib.Nifti1Pair, ">", two),
    ):
        _add(
            cid,
            cid,
            functools.partial(
                _build_saved, cid, klass, DTYPES["int16"], (6, 5, 4), bo, extensions=exts
            ),
        )
    # Crafted: extension whose content has no padding at all (exactly 16 bytes on disk).
    _add(
        "ext-exact16-le.nii",
        "ext-exact16-le.nii",
        functools.partial(
            _build_crafted,
            "ext-exact16-le.nii",
            nib.Nifti1Image,
            "int16",
            (6, 5, 4),
            "<",
            {},
            extensions=((6, b"exactly8"),),
        ),
    )

    # H. Headers nibabel fixes at load time, unusual shapes and offsets.
    for cid, klass, dname, shape, bo, fields, extra in (
        (
            "fix-pixdim-zero-le.nii",
            nib.Nifti1Image,
            "int16",
            (6, 5, 4),
            "<",
            {"pixdim": [1, 2, 0, 3, 1, 1, 1, 1]},
            {},
        ),
        (
            "fix-pixdim-neg-be.nii",
            nib.Nifti1Image,
            "int16",
            (6, 5, 4),
            ">",
            {"pixdim": [1, -2, 3, -0.5, 1, 1, 1, 1]},
            {},
        ),
        (
            "fix-pixdim-zero-neg-le.nii",
            nib.Nifti1Image,
            "int16",
            (6, 5, 4),
            "<",
            {
                "pixdim": [1, 0, -3, 2, 1, 1, 1, 1],
                "qform_code": 1,
                "quatern_b": 0.3,
                "quatern_c": -0.2,
                "quatern_d": 0.1,
            },
            {},
        ),
        (
            "fix-qfac0-le.nii",
            nib.Nifti1Image,
            "int16",
            (6, 5, 4),
            "<",
            {
                "pixdim": [0, 2, 3, 4, 1, 1, 1, 1],
                "qform_code": 1,
                "quatern_b": 0.5,
                "quatern_c": 0.5,
                "quatern_d": 0.5,
                "qoffset_x": 3.0,
            },
            {},
        ),
        (
            "fix-qfac7-be.nii",
            nib.Nifti1Image,
            "int16",
            (6, 5, 4),
            ">",
            {
                "pixdim": [7, 2, 3, 4, 1, 1, 1, 1],
                "qform_code": 2,
                "quatern_b": -0.1,
                "quatern_c": 0.2,
                "quatern_d": 0.7,
            },
            {},
        ),
        (
            "fix-qfacm1-le.nii",
            nib.Nifti1Image,
            "int16",
            (6, 5, 4),
            "<",
            {
                "pixdim": [-1, 2, 3, 4, 1, 1, 1, 1],
                "qform_code": 1,
                "quatern_b": 0.1,
                "quatern_c": 0.2,
                "quatern_d": 0.3,
            },
            {},
        ),
        (
            "fix-qform-code99-le.nii",
            nib.Nifti1Image,
            "int16",
            (6, 5, 4),
            "<",
            {"qform_code": 99, "quatern_b": 0.5, "pixdim": [1, 2, 2, 2, 1, 1, 1, 1]},
            {},
        ),
        (
            "fix-sform-codem3-be.nii",
            nib.Nifti1Image,
            "int16",
            (6, 5, 4),
            ">",
            {
                "sform_code": -3,
                "srow_x": [1, 2, 3, 4],
                "srow_y": [5, 6, 7, 8],
                "srow_z": [9, 1, 2, 3],
            },
            {},
        ),
        (
            "fix-sform-code5-qform-code1-le.nii",
            nib.Nifti1Image,
            "int16",
            (6, 5, 4),
            "<",
            {
                "sform_code": 5,
                "srow_x": [1, 2, 3, 4],
                "srow_y": [5, 6, 7, 8],
                "srow_z": [9, 1, 2, 3],
                "qform_code": 1,
                "quatern_c": 1.0,
            },
            {},
        ),
        ("fix-bitpix-le.nii", nib.Nifti1Image, "int16", (6, 5, 4), "<", {"bitpix": 8}, {}),
        ("fix-bitpix-be.nii.gz", nib.Nifti1Image, "float64", (6, 5, 4), ">", {"bitpix": 0}, {}),
        (
            "fix-n2-pixdim-neg-le.nii",
            nib.Nifti2Image,
            "float32",
            (6, 5, 4),
            "<",
            {"pixdim": [3, -1, 0, 2, 1, 1, 1, 1], "bitpix": 64},
            {},
        ),
        (
            "fix-analyze-pixdim-zero-le.hdr",
            nib.AnalyzeImage,
            "int16",
            (6, 5, 4),
            "<",
            {"pixdim": [1, 0, -2, 2, 1, 1, 1, 1], "bitpix": 3},
            {},
        ),
        ("shape-1d-le.nii", nib.Nifti1Image, "int16", (9,), "<", {}, {}),
        ("shape-2d-be.nii", nib.Nifti1Image, "float32", (6, 5), ">", {}, {}),
        ("shape-ones-le.nii", nib.Nifti1Image, "int16", (1, 5, 1), "<", {}, {}),
        ("shape-6d-le.nii", nib.Nifti1Image, "uint8", (3, 2, 2, 2, 2, 2), "<", {}, {}),
        ("shape-7d-le.nii.gz", nib.Nifti1Image, "int16", (2, 3, 2, 1, 2, 2, 2), "<", {}, {}),
        (
            "dim-garbage-trailing-le.nii",
            nib.Nifti1Image,
            "int16",
            (6, 5),
            "<",
            {"dim": [2, 6, 5, 9, 7, -1, 0, 3]},
            {},
        ),
        (
            "dim-garbage-trailing-be.nii",
            nib.Nifti1Image,
            "int16",
            (6, 5, 4),
            ">",
            {"dim": [3, 6, 5, 4, 0, 0, 0, 0]},
            {},
        ),
        (
            "voxoffset-1024-le.nii",
            nib.Nifti1Image,
            "int32",
            (6, 5, 4),
            "<",
            {},
            {"vox_offset": 1024},
        ),
        (
            "voxoffset-1000-be.nii.gz",
            nib.Nifti1Image,
            "int32",
            (6, 5, 4),
            ">",
            {},
            {"vox_offset": 1000},
        ),
        (
            "voxoffset-unaligned-le.nii",
            nib.Nifti1Image,
            "float32",
            (6, 5, 4),
            "<",
            {},
            {"vox_offset": 353},
        ),
        (
            "voxoffset-pair-96-le.img",
            nib.Nifti1Pair,
            "int16",
            (6, 5, 4),
            "<",
            {},
            {"vox_offset": 96},
        ),
        (
            "voxoffset-analyze-64-be.hdr",
            nib.AnalyzeImage,
            "float32",
            (6, 5, 4),
            ">",
            {},
            {"vox_offset": 64},
        ),
        (
            "tail-bytes-le.nii",
            nib.Nifti1Image,
            "int16",
            (6, 5, 4),
            "<",
            {},
            {"tail": b"trailing bytes after the voxels"},
        ),
        (
            "tail-bytes-le.nii.gz",
            nib.Nifti1Image,
            "int16",
            (6, 5, 4),
            "<",
            {},
            {"tail": b"trailing bytes after the voxels"},
        ),
        (
            "descrip-full80-le.nii",
            nib.Nifti1Image,
            "uint8",
            (6, 5, 4),
            "<",
            {"descrip": b"x" * 80, "aux_file": b"y" * 24, "intent_name": b"z" * 16},
            {},
        ),
        (
            "descrip-embedded-nul-be.nii",
            nib.Nifti1Image,
            "uint8",
            (6, 5, 4),
            ">",
            {"descrip": b"ab\x00cd", "aux_file": b"\x00tail", "intent_name": b"\xff\xfe"},
            {},
        ),
        # A pair magic in a .nii: nibabel reads it as a single file all the same.
        (
            "magic-ni1-in-nii-le.nii",
            nib.Nifti1Image,
            "int16",
            (6, 5, 4),
            "<",
            {"magic": b"ni1"},
            {},
        ),
        (
            "n2-fields-le.nii",
            nib.Nifti2Image,
            "int16",
            (6, 5, 4),
            "<",
            {
                "intent_name": b"abc",
                "descrip": b"nifti2 descrip",
                "slice_start": 2,
                "slice_end": 5,
                "toffset": -1.25,
                "xyzt_units": 18,
            },
            {},
        ),
    ):
        _add(
            cid,
            cid,
            functools.partial(_build_crafted, cid, klass, dname, shape, bo, fields, **extra),
        )

    # I. nibabel's own test data.
    for path in sorted(glob.glob(str(NIBABEL_DATA / "*"))):
        base = os.path.basename(path)
        if not base.endswith((".nii", ".nii.gz", ".hdr")):
            continue
        img_file = path[: -len(".hdr")] + ".img" if base.endswith(".hdr") else path
        has_data = os.path.exists(img_file)
        CASES.append(
            Case(f"nibabel-data/{base}", path, None, has_data, "" if has_data else img_file)
        )


def _build_saved(
    cid: str,
    klass: type,
    dtype: np.dtype[Any],
    shape: tuple[int, ...],
    byteorder: str,
    root: Path,
    **kwargs: Any,
) -> None:
    save_with_nibabel(root / cid, klass, dtype, shape, byteorder, _seed(cid), **kwargs)


def _build_crafted(
    cid: str,
    klass: type,
    dname: str,
    shape: tuple[int, ...],
    byteorder: str,
    fields: dict[str, Any],
    root: Path,
    **kwargs: Any,
) -> None:
    rng = np.random.default_rng(_seed(cid))
    data = make_data(DTYPES[dname], shape, rng)
    write_crafted(root / cid, klass, data, byteorder, fields, rng=rng, **kwargs)


_build_cases()
CASES_BY_ID = {c.id: c for c in CASES}
assert len(CASES_BY_ID) == len(CASES), "duplicate corpus ids"
DATA_CASES = [c for c in CASES if c.has_data]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Write every corpus file; map case id -> the path to open."""
    root = tmp_path_factory.mktemp("corpus")
    paths: dict[str, Path] = {}
    for case in CASES:
        if case.build is not None:
            case.build(root)
            paths[case.id] = root / case.name
        else:
            paths[case.id] = Path(case.name)
    return paths


@dataclass
class Reference:
    """What nibabel says about one file."""

    img: Any
    header: Any  # the on-disk header, parsed and fixed by nibabel's header class
    _data: Any = None

    @property
    def data(self) -> Any:
        if self._data is None:
            self._data = np.asanyarray(self.img.dataobj)
        return self._data


def load_reference(path: Path) -> Reference:
    """nibabel's view of ``path``: the image, and its header as parsed from disk.

    ``img.header`` is not the on-disk header: nibabel resets ``vox_offset``,
    ``scl_slope`` and ``scl_inter`` on the in-memory image once it has moved them
    into ``img.dataobj``. The header class's ``from_fileobj`` applies the same
    load-time fixes as ``nib.load`` and keeps those fields.
    """
    img = nib.load(path)
    klass = type(img)
    if isinstance(img, nib.Cifti2Image):
        klass = nib.Nifti2Image
        img = nib.Nifti2Image.from_filename(path)
    with ImageOpener(_header_file(path)) as fobj:
        header = klass.header_class.from_fileobj(fobj)
    return Reference(img, header)


@pytest.fixture(scope="session")
def references(corpus: dict[str, Path]) -> Iterator[dict[str, Reference]]:
    """Lazily loaded nibabel references, by case id."""

    class Cache(dict[str, Reference]):
        def __missing__(self, key: str) -> Reference:
            ref = load_reference(corpus[key])
            self[key] = ref
            return ref

    yield Cache()


# --------------------------------------------------------------------------- comparisons


def native(dtype: np.dtype[Any]) -> np.dtype[Any]:
    return dtype.newbyteorder("=")


def assert_same_array(got: Any, expected: Any, what: str = "") -> None:
    """``got`` (tioxide) equals ``expected`` (nibabel): type, shape, dtype up to byte
    order (tioxide's must be native), values (NaN equal to NaN) and bit patterns."""
    expected = np.asarray(expected)
    assert isinstance(got, np.ndarray), f"{what}: expected ndarray, got {type(got).__name__}"
    assert got.shape == expected.shape, f"{what}: shape {got.shape} != {expected.shape}"
    assert got.dtype == native(expected.dtype), (
        f"{what}: dtype {got.dtype} != {expected.dtype} (native {native(expected.dtype)})"
    )
    assert got.dtype.isnative or got.dtype.fields is not None, f"{what}: non-native {got.dtype}"
    if expected.dtype.fields is None:
        np.testing.assert_array_equal(got, expected, err_msg=what, strict=False)
    want = np.ascontiguousarray(expected.astype(native(expected.dtype)))
    assert np.ascontiguousarray(got).tobytes() == want.tobytes(), f"{what}: bit patterns differ"


def field_mismatch(name: str, expected: Any, got: Any) -> str | None:
    """None if tioxide's field value ``got`` equals nibabel's ``expected``, else why not."""
    expected = np.asarray(expected)
    if name == "eol_check":
        want = bytes(expected.astype(np.uint8))
        return None if got == want else f"{got!r} != {want!r}"
    if expected.dtype.kind == "S":
        want = expected.item()
        if not isinstance(got, bytes):
            return f"expected bytes {want!r}, got {type(got).__name__} {got!r}"
        return None if got == want else f"{got!r} != {want!r}"
    if expected.shape:
        if not isinstance(got, np.ndarray):
            return f"expected an ndarray, got {type(got).__name__} {got!r}"
    elif not isinstance(got, int | float | np.integer | np.floating):
        return f"expected a scalar, got {type(got).__name__} {got!r}"
    arr = np.asarray(got)
    if arr.shape != expected.shape:
        return f"shape {arr.shape} != {expected.shape} ({got!r} vs {expected!r})"
    if arr.dtype.kind not in "iuf" or (expected.dtype.kind in "iu" and arr.dtype.kind == "f"):
        return f"dtype {arr.dtype} cannot hold {expected.dtype} values exactly ({got!r})"
    if expected.dtype.kind == "f":
        same = np.array_equal(arr.astype(np.float64), expected.astype(np.float64), equal_nan=True)
    else:
        same = np.array_equal(arr, expected)
    return None if same else f"{got!r} != {expected.tolist()!r}"
