"""Benchmark tioxide against its peers in one run and write ``benches/RESULTS.md``.

Peers: TorchIO 2.0.0a2, nibabel (with and without indexed_gzip), SimpleITK and
medrs, plus floors: a memcpy of the same voxel bytes and the fastest raw
inflate of the same gzip stream (libdeflate, ISA-L, zlib).

Usage::

    python benches/compare.py            # full run (~10-15 min on 2 cores)
    python benches/compare.py --quick    # smoke run: fewer repeats, no 512^3 files
    python benches/compare.py --only 't1_int16.*(full|header)'
    python benches/compare.py --out /tmp/RESULTS.md

All timings are warm page cache, median of adaptive repeats. Inputs are
deterministic phantoms written with nibabel into ``benches/data/`` (reused
when present and valid). The script refuses to run on a debug build of the
extension (``tioxide._core.__build_profile__`` must be ``"release"``; the
environment variable ``TIOXIDE_BENCH_ALLOW_ANY_BUILD=1`` overrides it with a
loud warning).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import faulthandler
import gc
import importlib
import importlib.metadata
import json
import math
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import nibabel as nib
import nibabel._compression as nib_compression
import nibabel.openers as nib_openers
import numpy as np
import numpy.typing as npt
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import crop_or_pad  # noqa: E402  (benches/ is not a package)
import image_api  # noqa: E402
import patches  # noqa: E402
import save_plot  # noqa: E402
import seek_index  # noqa: E402
import threads  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DATA = HERE / "data"
GEN_VERSION = 1  # bump when the phantoms change, to regenerate benches/data
ALLOW_ENV = "TIOXIDE_BENCH_ALLOW_ANY_BUILD"
MiB = 1024 * 1024
PATCH = 32
ROUND_ORDER_SEED = 20261128  # the order of contenders within each timing round

Region = tuple[Any, ...]
Array = npt.NDArray[Any]


# --------------------------------------------------------------------------- build check


def check_build() -> str:
    """Return the build profile of ``tioxide._core``; exit unless it is a release build."""
    import tioxide._core as core

    profile = getattr(core, "__build_profile__", None)
    if profile == "release":
        return "release"
    if os.environ.get(ALLOW_ENV) == "1":
        banner = "!" * 78
        lines = [
            f"WARNING: tioxide._core.__build_profile__ is {profile!r}, not 'release'.",
            f"{ALLOW_ENV}=1 is set, so the benchmark runs anyway; its numbers are",
            "meaningless if the extension is a debug build.",
        ]
        print("\n".join([banner, *("!! " + line for line in lines), banner]), file=sys.stderr)
        return f"UNVERIFIED ({ALLOW_ENV}=1; __build_profile__={profile!r})"
    sys.exit(
        f"refusing to benchmark: tioxide._core.__build_profile__ is {profile!r}, "
        "expected 'release'. Rebuild with `maturin develop --release` "
        f"(or set {ALLOW_ENV}=1 to override)."
    )


def extension_identity() -> tuple[str, int, int, int]:
    """(path, inode, size, mtime) of the loaded extension, to notice it being replaced."""
    import tioxide._core as core

    st = os.stat(core.__file__)
    return core.__file__, st.st_ino, st.st_size, st.st_mtime_ns


def extension_digest() -> str:
    import hashlib

    import tioxide._core as core

    return hashlib.sha256(Path(core.__file__).read_bytes()).hexdigest()[:12]


def check_extension_unchanged(identity: tuple[str, int, int, int]) -> None:
    """Exit if the extension file changed since start (a rebuild mid-run mixes two builds
    and, when the file is overwritten in place, crashes the interpreter)."""
    try:
        now = extension_identity()
    except OSError:
        now = (identity[0], -1, -1, -1)
    if now != identity:
        sys.exit(
            f"{identity[0]} was replaced during the run (rebuilt?); results would mix "
            "two builds. Run again when nobody is rebuilding the extension."
        )


# --------------------------------------------------------------------------- volumes


@dataclass(frozen=True)
class Volume:
    """One benchmark input file."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    gz: bool
    big: bool = False

    @property
    def path(self) -> Path:
        return DATA / ("gz" if self.gz else "plain") / f"{self.name}.nii{'.gz' if self.gz else ''}"

    @property
    def label(self) -> str:
        return f"{'gz' if self.gz else 'plain'}/{self.path.name}"

    @property
    def voxel_bytes(self) -> int:
        return math.prod(self.shape) * np.dtype(self.dtype).itemsize

    @property
    def is_labels(self) -> bool:
        return self.name.startswith("labels")


T1 = (256, 256, 176)
BIG = (512, 512, 512)
FMRI = (128, 128, 64, 30)
VOLUMES = (
    Volume("t1_int16", T1, "int16", gz=False),
    Volume("t1_float32", T1, "float32", gz=False),
    Volume("big_float32", BIG, "float32", gz=False, big=True),
    Volume("t1_int16", T1, "int16", gz=True),
    Volume("t1_float32", T1, "float32", gz=True),
    Volume("big_float32", BIG, "float32", gz=True, big=True),
    Volume("fmri_int16", FMRI, "int16", gz=True),
    Volume("labels_uint8", T1, "uint8", gz=True),
)


# --------------------------------------------------------------------------- phantoms


def _axes(shape: Sequence[int]) -> list[Array]:
    """Coordinates in [-1, 1] along each of three axes, shaped for broadcasting."""
    out = []
    for axis, n in enumerate(shape):
        view = [1, 1, 1]
        view[axis] = n
        out.append(np.linspace(-1.0, 1.0, n, dtype=np.float32).reshape(view))
    return out


def _ellipsoid(shape: Sequence[int], centre: Sequence[float], radii: Sequence[float]) -> Array:
    """Normalised ellipsoidal radius (1 on the surface) on the grid."""
    x, y, z = _axes(shape)
    r = ((x - centre[0]) / radii[0]) ** 2 + ((y - centre[1]) / radii[1]) ** 2
    r = r + ((z - centre[2]) / radii[2]) ** 2
    np.sqrt(r, out=r)
    return r


@dataclass
class Anatomy:
    """Noise-free geometry of a head phantom: nested shells, folded cortex, ventricles."""

    shape: tuple[int, int, int]
    head: Array  # radius of the head ellipsoid
    folded: Array  # radius with a cortical folding pattern added
    ventricles: Array  # radius of the (union of) ventricles
    width: float  # partial-volume edge width in radius units

    @classmethod
    def make(cls, shape: tuple[int, int, int]) -> Anatomy:
        head = _ellipsoid(shape, (0.0, 0.02, 0.0), (0.78, 0.9, 0.85))
        x, y, z = _axes(shape)
        fold = (np.sin(37.0 * x) * np.sin(31.0 * y + 0.5)) * np.sin(29.0 * z + 1.0)
        fold *= np.float32(0.035)
        folded = head - fold
        del fold
        left = _ellipsoid(shape, (-0.09, 0.05, 0.05), (0.07, 0.28, 0.13))
        right = _ellipsoid(shape, (0.09, 0.05, 0.05), (0.07, 0.28, 0.13))
        ventricles = np.minimum(left, right)
        return cls(shape, head, folded, ventricles, 3.0 / min(shape))

    def _soft(self, radius: Array, edge: float, buf: Array) -> Array:
        """1 inside ``edge``, 0 outside, linear over ``width`` (partial volume)."""
        np.subtract(np.float32(edge), radius, out=buf)
        buf /= np.float32(self.width)
        buf += np.float32(0.5)
        np.clip(buf, 0.0, 1.0, out=buf)
        return buf

    def intensity(self, levels: dict[str, float]) -> Array:
        """Noise-free image with the given tissue levels and a smooth bias field."""
        img = np.zeros(self.shape, dtype=np.float32)
        buf = np.empty(self.shape, dtype=np.float32)
        layers = [
            (self.head, 1.0, "scalp"),
            (self.head, 0.93, "skull"),
            (self.head, 0.87, "csf"),
            (self.folded, 0.84, "gm"),
            (self.folded, 0.68, "wm"),
            (self.ventricles, 1.0, "csf"),
        ]
        previous = 0.0
        for radius, edge, tissue in layers:
            step = self._soft(radius, edge, buf)
            step *= np.float32(levels[tissue] - previous)
            img += step
            previous = levels[tissue]
        x, y, _ = _axes(self.shape)
        img *= 1.0 + 0.08 * x + 0.05 * y
        return img

    def labels(self) -> Array:
        """Tissue classes, with grey matter split into 8 parcels by octant."""
        lab = np.zeros(self.shape, dtype=np.uint8)
        lab[self.head < 1.0] = 1
        lab[self.head < 0.93] = 2
        lab[self.head < 0.87] = 3
        gm = self.folded < 0.84
        x, y, z = _axes(self.shape)
        octant = (4 * (x > 0) + 2 * (y > 0) + (z > 0)).astype(np.uint8)
        lab[gm] = (10 + np.broadcast_to(octant, self.shape))[gm]
        lab[self.folded < 0.68] = 4
        lab[self.ventricles < 1.0] = 5
        return lab


T1_LEVELS = {"scalp": 620.0, "skull": 90.0, "csf": 160.0, "gm": 520.0, "wm": 780.0}
EPI_LEVELS = {"scalp": 280.0, "skull": 40.0, "csf": 900.0, "gm": 640.0, "wm": 520.0}


def _noise(rng: np.random.Generator, shape: Sequence[int], sigma: float) -> Array:
    noise = rng.standard_normal(tuple(shape), dtype=np.float32)
    noise *= np.float32(sigma)
    return noise


def t1_int16(anatomy: Anatomy, rng: np.random.Generator) -> Array:
    """Raw-scanner-like T1: noisy background (magnitude of Gaussian noise), int16."""
    img = anatomy.intensity(T1_LEVELS)
    img += _noise(rng, anatomy.shape, 14.0)
    np.abs(img, out=img)
    return np.rint(img).astype(np.int16)


def t1_float32(anatomy: Anatomy, rng: np.random.Generator) -> Array:
    """Processed-like float T1: intensities / 1000 with noise, exact zeros outside the head."""
    img = anatomy.intensity(T1_LEVELS)
    img += _noise(rng, anatomy.shape, 14.0)
    img *= np.float32(1e-3)
    img[anatomy.head > 1.0 + anatomy.width] = 0.0
    return img


def fmri_int16(shape: tuple[int, ...], rng: np.random.Generator) -> Array:
    """EPI-like 4-D series: static anatomy, a small block-design signal, fresh noise per frame."""
    anatomy = Anatomy.make((shape[0], shape[1], shape[2]))
    base = anatomy.intensity(EPI_LEVELS)
    active = _ellipsoid(anatomy.shape, (0.3, -0.3, 0.2), (0.15, 0.15, 0.15)) < 1.0
    out = np.empty(shape, dtype=np.int16, order="F")
    for t in range(shape[3]):
        frame = base * np.float32(1.0 + 0.01 * math.sin(t / 3.0))
        frame[active] *= np.float32(1.03 if (t // 5) % 2 else 1.0)
        frame += _noise(rng, anatomy.shape, 12.0)
        np.abs(frame, out=frame)
        out[..., t] = np.rint(frame).astype(np.int16)
    return out


def _affine(zooms: Sequence[float], shape: Sequence[int]) -> Array:
    aff = np.diag([*zooms[:3], 1.0])
    aff[:3, 3] = [-(n - 1) * z / 2.0 for n, z in zip(shape[:3], zooms[:3], strict=True)]
    return aff


def save_nifti(array: Array, zooms: Sequence[float], path: Path) -> None:
    """Write with nibabel, gzip level 6 (gzip's default), atomically."""
    aff = _affine(zooms, array.shape)
    img = nib.Nifti1Image(array, aff)
    hdr = img.header
    hdr.set_data_dtype(array.dtype)
    hdr.set_qform(aff, 1)
    hdr.set_sform(aff, 1)
    hdr.set_xyzt_units("mm", "sec")
    hdr.set_zooms(tuple(zooms))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(".tmp-" + path.name)
    saved = nib_openers.Opener.default_compresslevel
    nib_openers.Opener.default_compresslevel = 6
    try:
        nib.save(img, tmp)
    finally:
        nib_openers.Opener.default_compresslevel = saved
    os.replace(tmp, path)


def _generate(name: str, shape: tuple[int, ...]) -> tuple[Array, tuple[float, ...]]:
    seed = sum(ord(c) for c in name) * 7919 + GEN_VERSION
    rng = np.random.default_rng(seed)
    if name == "fmri_int16":
        return fmri_int16(shape, rng), (2.0, 2.0, 2.5, 2.0)
    space = (shape[0], shape[1], shape[2])
    zooms = (0.5, 0.5, 0.5) if shape == BIG else (1.0, 1.0, 1.0)
    anatomy = Anatomy.make(space)
    if name == "labels_uint8":
        return anatomy.labels(), zooms
    if name.endswith("int16"):
        return t1_int16(anatomy, rng), zooms
    return t1_float32(anatomy, rng), zooms


def _manifest() -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = json.loads((DATA / "manifest.json").read_text())
        return loaded
    except (OSError, ValueError):
        return {}


def _is_valid(vol: Volume, manifest: dict[str, Any]) -> bool:
    entry = manifest.get(vol.label)
    if not entry or entry.get("gen") != GEN_VERSION or not vol.path.exists():
        return False
    st = vol.path.stat()
    return bool(entry["size"] == st.st_size and entry["mtime_ns"] == st.st_mtime_ns)


def ensure_data(volumes: Sequence[Volume]) -> None:
    """Generate the missing or stale inputs (both variants of a name at once)."""
    manifest = _manifest()
    stale = sorted({v.name for v in volumes if not _is_valid(v, manifest)})
    for name in stale:
        variants = [v for v in VOLUMES if v.name == name]
        t0 = time.perf_counter()
        print(f"generating {name} {variants[0].shape} ...", file=sys.stderr, flush=True)
        array, zooms = _generate(name, variants[0].shape)
        for vol in variants:
            save_nifti(array, zooms, vol.path)
            st = vol.path.stat()
            manifest[vol.label] = {
                "gen": GEN_VERSION,
                "size": st.st_size,
                "mtime_ns": st.st_mtime_ns,
            }
        del array
        DATA.mkdir(parents=True, exist_ok=True)
        (DATA / "manifest.json").write_text(json.dumps(manifest, indent=1))
        print(f"  done in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)


def warm_page_cache(path: Path) -> None:
    with open(path, "rb") as f:
        while f.read(8 * MiB):
            pass


# --------------------------------------------------------------------------- operations


@dataclass(frozen=True)
class Op:
    """An operation on a file; ``region`` is a numpy basic index in file axis order."""

    name: str
    kind: str  # "header" | "full" | "region"
    region: Region | None = None


def _patch(shape: Sequence[int], where: str) -> Region:
    starts = {
        "start": lambda n: 0,
        "middle": lambda n: n // 2 - PATCH // 2,
        "end": lambda n: n - PATCH,
    }[where]
    spatial = tuple(slice(starts(n), starts(n) + PATCH) for n in shape[:3])
    return spatial + (slice(None),) * (len(shape) - 3)


def ops_for(shape: Sequence[int]) -> list[Op]:
    rest = (slice(None),) * (len(shape) - 3)
    return [
        Op("header", "header"),
        Op("full", "full"),
        Op("patch start", "region", _patch(shape, "start")),
        Op("patch middle", "region", _patch(shape, "middle")),
        Op("patch end", "region", _patch(shape, "end")),
        Op("axial slice", "region", (slice(None), slice(None), shape[2] // 2) + rest),
        Op("sagittal slice", "region", (shape[0] // 2, slice(None), slice(None)) + rest),
    ]


def _bounds(region: Region, shape: Sequence[int]) -> list[tuple[int, int, bool]]:
    """Per axis ``(start, size, keep_axis)`` of a region of unit-step slices and ints."""
    out = []
    for item, n in zip(region, shape, strict=True):
        if isinstance(item, slice):
            start, stop, step = item.indices(n)
            if step != 1:
                raise ValueError("only unit steps are benchmarked")
            out.append((start, stop - start, True))
        else:
            out.append((int(item), 1, False))
    return out


# --------------------------------------------------------------------------- libraries


class NotSupported(Exception):
    """The library has no way to do this operation (reported as n/a)."""


def _optional(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except Exception:  # noqa: BLE001 - any import failure makes the peer n/a
        return None


def _owned(array: Array) -> Array:
    """Materialise memory-mapped results, so that every library pays for its bytes."""
    return np.array(array) if isinstance(array, np.memmap) else array


class Library:
    """A peer: how it reads a header, a whole image and a region, into torch."""

    key = ""
    title = ""
    module = ""
    baseline = "tioxide"  # the tioxide column this one is compared with
    warm = False  # a repeat of another column with caches kept
    kinds: tuple[str, ...] = ("header", "full", "region")

    def available(self) -> str | None:
        """None if usable, else the reason it is not."""
        return None if _optional(self.module) is not None else f"cannot import {self.module}"

    def applies(self, vol: Volume) -> bool:
        return True

    def does(self, op: Op) -> bool:
        return op.kind in self.kinds

    def reset(self) -> None:
        """Run untimed before every timed call: drop the library's caches (if it has any)."""

    def header(self, path: Path) -> Any:
        raise NotSupported("no header-only read")

    def full(self, path: Path) -> torch.Tensor:
        raise NotImplementedError

    def region(self, path: Path, region: Region, vol: Volume) -> torch.Tensor:
        raise NotSupported("no region read")

    def to_file_order(self, result: torch.Tensor, vol: Volume) -> Array:
        """The result as a numpy array in file axis order (for checking values)."""
        return result.numpy()


def _tioxide_clear() -> Callable[[], None] | None:
    """tioxide.nifti.clear_cache, if this build has per-process caches."""
    nifti = _optional("tioxide.nifti")
    fn: Callable[[], None] | None = getattr(nifti, "clear_cache", None)
    return fn


class Tioxide(Library):
    """tioxide with its per-process caches cleared before every call (a first read)."""

    key, title, module = "tioxide", "tioxide", "tioxide.nifti"
    warm = False

    def reset(self) -> None:
        clear = None if self.warm else _tioxide_clear()
        if clear is not None:
            clear()

    def header(self, path: Path) -> Any:
        from tioxide import nifti

        h = nifti.read_header(path)
        return h.shape, h.affine

    def full(self, path: Path) -> torch.Tensor:
        from tioxide import nifti

        return torch.from_numpy(nifti.read(path))

    def region(self, path: Path, region: Region, vol: Volume) -> torch.Tensor:
        from tioxide import nifti

        return torch.from_numpy(nifti.read(path, region))


class TioxideWarm(Tioxide):
    """tioxide reading the same file again with its caches kept (a training loop)."""

    key, title, baseline = "tioxide-warm", "tioxide, warm cache", "tioxide-warm"
    warm = True
    kinds = ("header", "region")

    def available(self) -> str | None:
        if _tioxide_clear() is None:
            return "this build has no caches (no tioxide.nifti.clear_cache)"
        return super().available()


class TorchIO(Library):
    key, title, module = "torchio", "TorchIO", "torchio"

    def _image(self, path: Path, vol: Volume) -> Any:
        import torchio as tio

        return tio.LabelMap(path) if vol.is_labels else tio.ScalarImage(path)

    def header(self, path: Path) -> Any:
        import torchio as tio

        img = tio.ScalarImage(path)
        return img.shape, img.affine

    def full(self, path: Path) -> torch.Tensor:
        import torchio as tio

        return tio.ScalarImage(path).data

    def region(self, path: Path, region: Region, vol: Volume) -> torch.Tensor:
        # TorchIO indexes (C, I, J, K); a 4-D file is (I, J, K, C) on disk.
        channel = region[3] if len(region) == 4 else slice(None)
        return self._image(path, vol)[(channel, *region[:3])].data

    def to_file_order(self, result: torch.Tensor, vol: Volume) -> Array:
        arr = result.numpy()
        return np.moveaxis(arr, 0, -1) if len(vol.shape) == 4 else arr[0]


class Nibabel(Library):
    key, title, module = "nibabel", "nibabel", "nibabel"
    indexed_gzip = True

    @contextlib.contextmanager
    def _mode(self) -> Iterator[None]:
        saved = nib_compression.HAVE_INDEXED_GZIP
        nib_compression.HAVE_INDEXED_GZIP = saved and self.indexed_gzip
        try:
            yield
        finally:
            nib_compression.HAVE_INDEXED_GZIP = saved

    def header(self, path: Path) -> Any:
        with self._mode():
            img = nib.load(path)
            return img.shape, img.affine

    def full(self, path: Path) -> torch.Tensor:
        with self._mode():
            return torch.from_numpy(_owned(np.asanyarray(nib.load(path, mmap=False).dataobj)))

    def region(self, path: Path, region: Region, vol: Volume) -> torch.Tensor:
        with self._mode():
            return torch.from_numpy(_owned(np.asanyarray(nib.load(path).dataobj[region])))


class NibabelZlib(Nibabel):
    key, title = "nibabel-zlib", "nibabel w/o indexed_gzip"
    indexed_gzip = False

    def applies(self, vol: Volume) -> bool:
        return vol.gz


class SimpleITK(Library):
    key, title, module = "sitk", "SimpleITK", "SimpleITK"

    def header(self, path: Path) -> Any:
        import SimpleITK as sitk

        reader = sitk.ImageFileReader()
        reader.SetFileName(str(path))
        reader.ReadImageInformation()
        return reader.GetSize(), reader.GetOrigin(), reader.GetSpacing(), reader.GetDirection()

    def full(self, path: Path) -> torch.Tensor:
        import SimpleITK as sitk

        return torch.from_numpy(sitk.GetArrayFromImage(sitk.ReadImage(str(path))))

    def region(self, path: Path, region: Region, vol: Volume) -> torch.Tensor:
        import SimpleITK as sitk

        bounds = _bounds(region, vol.shape)
        reader = sitk.ImageFileReader()
        reader.SetFileName(str(path))
        reader.SetExtractIndex([b[0] for b in bounds])
        reader.SetExtractSize([b[1] if b[2] else 0 for b in bounds])
        return torch.from_numpy(sitk.GetArrayFromImage(reader.Execute()))

    def to_file_order(self, result: torch.Tensor, vol: Volume) -> Array:
        return result.numpy().T


class Medrs(Library):
    """medrs with its decompression cache cleared before every call (a first read)."""

    key, title, module = "medrs", "medrs", "medrs"
    warm = False

    def reset(self) -> None:
        import medrs

        if not self.warm:
            medrs.clear_decompression_cache()

    def header(self, path: Path) -> Any:
        import medrs

        return medrs.get_info(str(path))

    def full(self, path: Path) -> torch.Tensor:
        import medrs

        return torch.from_numpy(medrs.load(str(path)).to_numpy_native())

    def region(self, path: Path, region: Region, vol: Volume) -> torch.Tensor:
        import medrs

        if len(vol.shape) != 3:
            raise NotSupported("medrs.load_cropped takes 3-D offsets and shapes only")
        bounds = _bounds(region, vol.shape)
        img = medrs.load_cropped(str(path), [b[0] for b in bounds], [b[1] for b in bounds])
        return torch.from_numpy(img.to_numpy_native())


class MedrsWarm(Medrs):
    """medrs cropping the same file again with its decompression cache kept."""

    key, title, baseline = "medrs-warm", "medrs, warm cache", "tioxide-warm"
    warm = True
    kinds = ("region",)


LIBRARIES: tuple[Library, ...] = (
    Tioxide(),
    TorchIO(),
    Nibabel(),
    NibabelZlib(),
    SimpleITK(),
    Medrs(),
    TioxideWarm(),
    MedrsWarm(),
)
LIB_BY_KEY = {lib.key: lib for lib in LIBRARIES}
FOOTNOTES_FIXED = {
    ("medrs", "header"): "medrs has no header-only read; `medrs.get_info` loads the image "
    "(memory map for .nii, full inflate for .nii.gz).",
}
MEDRS_NOTE = (
    "Caches: medrs keeps whole inflated .nii.gz files in a process-wide cache "
    "between `load_cropped` calls, and tioxide caches parsed headers and memory maps "
    "(validated by `stat`). The 'tioxide' and 'medrs' columns clear those caches "
    "before every call, untimed (`tioxide.nifti.clear_cache()`, "
    "`medrs.clear_decompression_cache()`), so that, like every other library, each "
    "call reads the file afresh; acceptance targets use these columns. The "
    "'warm cache' columns repeat the same read with caches kept (a training loop "
    "taking many patches from one file); their ratios are medrs-warm / tioxide-warm."
)


# --------------------------------------------------------------------------- floors


def _floor_fns(compressed: bytes | None, voxels: Array) -> dict[str, Callable[[], Any]]:
    """memcpy of the voxels; one-shot inflates of the whole file already in memory.

    "memcpy" copies into a destination allocated and touched beforehand: the pure
    copy, stable from run to run. "np.copy" also allocates: its page faults make
    it depend on whether the kernel hands out huge pages at that moment (numpy
    asks for them), so it is shown but not used as a target.
    """
    dst = np.empty_like(voxels, order="K")
    np.copyto(dst, voxels)  # fault the destination in
    fns: dict[str, Callable[[], Any]] = {
        "memcpy": lambda: np.copyto(dst, voxels),
        "np.copy": lambda: np.copy(voxels, order="K"),
    }
    if compressed is None:
        return fns
    size = int.from_bytes(compressed[-4:], "little")  # ISIZE: output size mod 2**32
    deflate = _optional("deflate")
    if deflate is not None:
        fns["libdeflate"] = lambda: deflate.gzip_decompress(compressed)
    isal_zlib = _optional("isal.isal_zlib")
    if isal_zlib is not None:
        fns["ISA-L"] = lambda: isal_zlib.decompress(compressed, wbits=31, bufsize=size)
    fns["zlib"] = lambda: zlib.decompress(compressed, 31, size)
    return fns


FLOOR_TITLES = {
    "memcpy": "memcpy",
    "np.copy": "np.copy",
    "libdeflate": "libdeflate",
    "ISA-L": "ISA-L",
    "zlib": "zlib",
}


# --------------------------------------------------------------------------- timing


@dataclass
class Cell:
    """One measurement: a library (or floor) doing an operation on a file."""

    file: str
    op: str
    lib: str
    seconds: float | None = None  # for peak-RSS cells: bytes
    calls: int = 0
    note: str | None = None  # why n/a, or what is wrong with the result


@dataclass
class Contender:
    """A callable being timed for one (file, operation), with its running state."""

    cell: Cell
    fn: Callable[[], Any]
    check: Callable[[Any], str | None] | None = None
    setup: Callable[[], None] | None = None  # untimed, before every call
    inner: int = 1
    samples: int = 3
    times: list[float] = field(default_factory=list)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, NotSupported):
        return text
    return f"{type(exc).__name__}: {text[:160]}"


def _timed(c: Contender) -> tuple[Any, float]:
    if c.setup is not None:
        c.setup()
    t0 = time.perf_counter()
    result = c.fn()
    return result, time.perf_counter() - t0


def _calibrate(c: Contender, budget: float) -> bool:
    """Warm-up call, result check and repeat plan; False if the call failed."""
    try:
        gc.collect()
        result, est = _timed(c)
        c.cell.note = c.check(result) if c.check else None
        del result
        if est < budget / 3:  # the first call may include one-time set-up
            _, est = _timed(c)
    except Exception as exc:  # noqa: BLE001 - a failing peer is reported, not fatal
        c.cell.note = _reason(exc)
        return False
    if est > 4 * budget:  # seconds per call: one-time costs are noise; keep it as a sample
        c.times.append(est)
    est = max(est, 1e-7)
    c.samples = max(3, min(41, int(budget / est)))
    c.inner = max(1, min(100_000, int(budget / (c.samples * est))))
    return True


def _sample(c: Contender) -> bool:
    """One timed batch; False (and the reason noted) if the call failed."""
    try:
        if c.setup is None:
            t0 = time.perf_counter()
            for _ in range(c.inner):
                c.fn()
            total = time.perf_counter() - t0
        else:  # time each call alone, leaving the set-up out
            total = 0.0
            for _ in range(c.inner):
                total += _timed(c)[1]
        c.times.append(total / c.inner)
    except Exception as exc:  # noqa: BLE001
        c.cell.note = _reason(exc)
        return False
    return True


def measure(contenders: Sequence[Contender], budget: float) -> None:
    """Median seconds per call of each contender, samples interleaved in rounds.

    Each contender gets >= 3 samples and ~``budget`` seconds; calls faster than
    the budget allows are timed in batches. Interleaving spreads any background
    load evenly over the contenders, which keeps their ratios fair. Each round
    runs them in a fresh (seeded) random order: in a fixed order, a contender
    always follows the same neighbour and inherits its after-effects. Measured:
    the first libdeflate call of a batch on the label map took 1.96 ms right
    after `np.copy` (whose just-written, just-freed 11 MiB it got, hot in the
    cache) and 2.25-2.85 ms after any other contender.
    """
    live = [c for c in contenders if _calibrate(c, budget)]
    heavy = any(c.inner == 1 and c.samples < 41 for c in live)
    order = random.Random(ROUND_ORDER_SEED)
    gc.collect()
    gc.disable()
    try:
        for _ in range(max((c.samples for c in live), default=0)):
            due = [c for c in live if len(c.times) < c.samples]
            failed = {id(c) for c in order.sample(due, len(due)) if not _sample(c)}
            live = [c for c in live if id(c) not in failed]
            if heavy:
                gc.collect()
    finally:
        gc.enable()
    for c in live:
        c.cell.seconds = statistics.median(c.times)
        c.cell.calls = c.inner * c.samples


def _check(lib: Library, op: Op, vol: Volume, result: Any, reference: Array) -> str | None:
    """None if ``result`` holds the expected voxels, else what is wrong."""
    if op.kind == "header":
        if isinstance(lib, Tioxide):
            shape, affine = result
            ref = nib.load(vol.path)
            if tuple(shape) != ref.shape or not np.allclose(affine, ref.affine):
                return f"header differs from nibabel: shape {tuple(shape)}, affine {affine}"
        return None
    expected = reference if op.region is None else reference[op.region]
    got = lib.to_file_order(result, vol)
    if np.squeeze(got).shape != np.squeeze(expected).shape:
        return f"shape {got.shape}, expected {expected.shape}"
    if not np.array_equal(np.squeeze(got), np.squeeze(expected)):
        return "values differ from nibabel's"
    if isinstance(lib, Tioxide) and got.dtype != expected.dtype:
        return f"dtype {got.dtype}, expected {expected.dtype}"
    return None


def library_contender(lib: Library, op: Op, vol: Volume, reference: Array) -> Contender:
    path = vol.path
    calls: dict[str, Callable[[], Any]] = {
        "header": lambda: lib.header(path),
        "full": lambda: lib.full(path),
        "region": lambda: lib.region(path, op.region, vol),
    }
    return Contender(
        Cell(vol.label, op.name, lib.key),
        calls[op.kind],
        lambda result: _check(lib, op, vol, result, reference),
        lib.reset,
    )


# --------------------------------------------------------------------------- peak RSS


def _status_kib(field_name: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise KeyError(field_name)


def _reset_peak() -> int:
    """Reset VmHWM to the current RSS; return that RSS in KiB."""
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")
    return _status_kib("VmRSS")


def rss_child(spec: dict[str, Any]) -> None:
    """In a fresh interpreter: peak RSS above baseline of one read (a full load or a patch)."""
    lib = LIB_BY_KEY[spec["lib"]]
    vol = next(v for v in VOLUMES if v.label == spec["file"])
    for name in ("torchio", "SimpleITK", "medrs", "tioxide.nifti", "deflate", "isal.isal_zlib"):
        _optional(name)  # all imports first
    lib.header(vol.path)  # first-call initialisation (IO factories, lazy imports)
    region = _patch(vol.shape, "middle")
    call = (
        (lambda: lib.full(vol.path))
        if spec["what"] == "full"
        else (lambda: lib.region(vol.path, region, vol))
    )
    try:
        lib.reset()
        base = _reset_peak()
        result = call()
        out: int | str = (_status_kib("VmHWM") - base) * 1024
        del result
    except Exception as exc:  # noqa: BLE001
        out = _reason(exc)
    print(json.dumps(out))


def measure_rss(lib: Library, vol: Volume, what: str) -> Cell:
    """Peak RSS of one read ('full' or 'patch') in a fresh subprocess."""
    cell = Cell(vol.label, f"rss {what}", lib.key)
    spec = json.dumps({"lib": lib.key, "file": vol.label, "what": what})
    try:
        proc = subprocess.run(
            [sys.executable, __file__, "--rss-child", spec],
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        if isinstance(out, int):
            cell.seconds = float(out)  # bytes, kept in the same slot
        else:
            cell.note = str(out)
    except subprocess.CalledProcessError as exc:
        tail = (exc.stderr or "").strip().splitlines()[-1:]
        cell.note = f"child failed (exit {exc.returncode}): {' '.join(tail)[:160]}"
    except (subprocess.TimeoutExpired, ValueError, IndexError) as exc:
        cell.note = _reason(exc)
    return cell


# --------------------------------------------------------------------------- run


@dataclass
class Run:
    """Everything measured, keyed by (file label, operation, library key)."""

    quick: bool
    cells: dict[tuple[str, str, str], Cell] = field(default_factory=dict)

    def add(self, cell: Cell) -> None:
        self.cells[(cell.file, cell.op, cell.lib)] = cell


def _selected(pattern: re.Pattern[str] | None, *parts: str) -> bool:
    return pattern is None or bool(pattern.search(" ".join(parts)))


def bench_volume(run: Run, vol: Volume, pattern: re.Pattern[str] | None, budget: float) -> None:
    """Time every selected (operation, library) on one file, plus the floors."""
    libs = [lib for lib in LIBRARIES if lib.applies(vol)]
    plan = [
        (
            op,
            [
                lib
                for lib in libs
                if lib.does(op) and _selected(pattern, vol.label, op.name, lib.key)
            ],
        )
        for op in ops_for(vol.shape)
    ]
    floors = [f for f in FLOOR_TITLES if _selected(pattern, vol.label, "full", f)]
    if not any(chosen for _, chosen in plan) and not floors:
        return
    print(f"== {vol.label}", file=sys.stderr, flush=True)
    warm_page_cache(vol.path)
    reference = np.asanyarray(nib.load(vol.path, mmap=False).dataobj)
    compressed = vol.path.read_bytes() if vol.gz else None
    for op, chosen in plan:
        contenders = []
        for lib in chosen:
            reason = lib.available()
            if reason is not None:
                if not lib.warm:  # a warm column without caches would repeat its cold one
                    run.add(Cell(vol.label, op.name, lib.key, note=reason))
            else:
                contenders.append(library_contender(lib, op, vol, reference))
        if op.kind == "full":
            fns = _floor_fns(compressed, reference) if floors else {}
            contenders += [
                Contender(Cell(vol.label, op.name, f), fns[f]) for f in floors if f in fns
            ]
        measure(contenders, budget)
        for c in contenders:
            run.add(c.cell)
            shown = fmt_time(c.cell.seconds)
            print(
                f"   {op.name:15s} {_title(c.cell.lib):26s} {shown:>10s}  {c.cell.note or ''}",
                file=sys.stderr,
                flush=True,
            )
    del reference, compressed
    gc.collect()


RSS_PATCH_FILES = (
    "plain/t1_int16.nii",
    "gz/t1_int16.nii.gz",
    "plain/big_float32.nii",
    "gz/big_float32.nii.gz",
)


def bench_rss(run: Run, vols: Sequence[Volume], pattern: re.Pattern[str] | None) -> None:
    """Peak RSS of a full load (every file) and of a 32³ patch (a few files)."""
    for vol in vols:
        for lib in LIBRARIES:
            if lib.warm or not lib.applies(vol) or lib.available() is not None:
                continue
            for what in ("full", "patch"):
                if what == "patch" and vol.label not in RSS_PATCH_FILES:
                    continue
                if not _selected(pattern, vol.label, f"rss {what}", lib.key):
                    continue
                cell = measure_rss(lib, vol, what)
                run.add(cell)
                print(
                    f"   rss {what:5s} {vol.label:24s} {lib.title:26s} "
                    f"{fmt_mib(cell.seconds):>10s} {cell.note or ''}",
                    file=sys.stderr,
                    flush=True,
                )


# --------------------------------------------------------------------------- report


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3g} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


def fmt_mib(nbytes: float | None) -> str:
    return "n/a" if nbytes is None else f"{nbytes / MiB:.1f} MiB"


def fmt_ratio(x: float) -> str:
    return f"{x:.2g}x" if x < 10 else f"{x:.0f}x"


def _read_first(path: str, key: str) -> str:
    with contextlib.suppress(OSError):
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip() if ":" in line else line.split("=", 1)[1]
    return "unknown"


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _git() -> str:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=False
        ).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "rust", "python", "Cargo.toml", "Cargo.lock")
    return head + (" + uncommitted changes in rust/ or python/" if dirty else "")


def loadavg() -> str:
    return " ".join(_read_text("/proc/loadavg").split()[:3])


def _read_text(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return "?"


def _thp(name: str) -> str:
    text = _read_text(f"/sys/kernel/mm/transparent_hugepage/{name}")
    found = re.search(r"\[(\w[\w+]*)\]", text)
    return found.group(1) if found else "?"


def describe_tioxide(build: str) -> str:
    """Version, commit, build profile and digest of the extension (taken at start)."""
    return (
        f"{_version('tioxide')} (git {_git()}; build: {build}; _core sha256 {extension_digest()})"
    )


def machine(tioxide_desc: str, load: tuple[str, str]) -> list[str]:
    mem_kib = int(_read_first("/proc/meminfo", "MemTotal").split()[0])
    flags = _read_first("/proc/cpuinfo", "flags").split()
    simd = ", ".join(f for f in ("avx2", "avx512f", "bmi2", "pclmulqdq") if f in flags)
    os_name = _read_first("/etc/os-release", "PRETTY_NAME").strip('"')
    isal = _optional("isal")
    isal_v = getattr(isal, "ISAL_VERSION", "?") if isal else "?"
    libs = [
        ("tioxide", tioxide_desc),
        ("numpy", _version("numpy")),
        ("torch", _version("torch")),
        ("torchio", _version("torchio")),
        ("nibabel", _version("nibabel")),
        ("indexed_gzip", _version("indexed_gzip")),
        ("SimpleITK", _version("SimpleITK")),
        ("medrs", _version("medrs")),
        ("deflate (libdeflate)", _version("deflate")),
        ("isal (python-isal)", f"{_version('isal')} (ISA-L {isal_v})"),
    ]
    return [
        f"- CPU: {_read_first('/proc/cpuinfo', 'model name')}, {os.cpu_count()} logical cores "
        f"({len(os.sched_getaffinity(0))} usable); SIMD: {simd or 'none of avx2/avx512f/bmi2'}",
        f"- RAM: {mem_kib / 1024 / 1024:.1f} GiB; transparent huge pages: enabled "
        f"`{_thp('enabled')}`, defrag `{_thp('defrag')}`",
        f"- OS: {os_name}, Linux {platform.release()}",
        f"- Python: {platform.python_version()} ({platform.python_implementation()})",
        "- Libraries: " + "; ".join(f"{name} {v}" for name, v in libs),
        f"- Load average (1, 5, 15 min) at start: {load[0]}; at end: {load[1]}",
    ]


class Notes:
    """Numbered footnotes, deduplicated."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def ref(self, text: str) -> str:
        if text not in self.texts:
            self.texts.append(text)
        return f"[^{self.texts.index(text) + 1}]"

    def lines(self) -> list[str]:
        return [f"[^{i}]: {t}" for i, t in enumerate(self.texts, 1)]


def _cell_text(run: Run, vol: Volume, op: str, lib: str, notes: Notes) -> str:
    cell = run.cells.get((vol.label, op, lib))
    if cell is None:
        return "–"
    fixed = FOOTNOTES_FIXED.get((lib, op))
    mark = notes.ref(fixed) if fixed else ""
    if cell.seconds is None:
        return "n/a" + notes.ref(cell.note or "unknown failure")
    text = fmt_time(cell.seconds)
    if cell.note:
        mark += " **wrong result**" + notes.ref(f"{lib} on {vol.label}, {op}: {cell.note}")
    base = LIB_BY_KEY[lib].baseline if lib in LIB_BY_KEY else "tioxide"
    tx = run.cells.get((vol.label, op, base))
    if lib != base and tx is not None and tx.seconds:
        text += f" ({fmt_ratio(cell.seconds / tx.seconds)})"
    return text + mark


def _describe(vol: Volume) -> str:
    dims = "×".join(map(str, vol.shape))
    size = vol.path.stat().st_size if vol.path.exists() else 0
    extra = f", {size / MiB:.1f} MiB on disk (ratio {size / vol.voxel_bytes:.2f})" if vol.gz else ""
    return f"{dims} {vol.dtype}, {vol.voxel_bytes / MiB:.1f} MiB of voxels{extra}"


def time_tables(run: Run, vols: Sequence[Volume], notes: Notes) -> list[str]:
    out = [
        "## Timings",
        "",
        "Median time per call; in parentheses `peer / tioxide` (>1: tioxide is faster; "
        "'medrs, warm cache' is compared with 'tioxide, warm cache'). "
        "Floors (full row only): memcpy = `np.copyto` of the voxels into a buffer allocated "
        "and touched beforehand (pure copy: the target's floor); np.copy = allocation + copy "
        "(numpy requests transparent huge pages, so its time swings with their availability; "
        "informative only); libdeflate / ISA-L / zlib = one-shot inflate of the file's bytes "
        "already in memory.",
        "",
    ]
    for vol in vols:
        ops = [op.name for op in ops_for(vol.shape)]
        libs = [
            lib
            for lib in LIBRARIES
            if lib.applies(vol) and any((vol.label, op, lib.key) in run.cells for op in ops)
        ]
        floors = [f for f in FLOOR_TITLES if (vol.label, "full", f) in run.cells]
        if not any((vol.label, op, lib.key) in run.cells for op in ops for lib in libs):
            continue
        out += [f"### {vol.label}", "", _describe(vol), ""]
        head = ["operation", *[lib.title for lib in libs], *[FLOOR_TITLES[f] for f in floors]]
        out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for op in ops:
            row = [op, *[_cell_text(run, vol, op, lib.key, notes) for lib in libs]]
            row += [_cell_text(run, vol, op, f, notes) if op == "full" else "" for f in floors]
            out.append("| " + " | ".join(row) + " |")
        out.append("")
    return out


def _rss_cell(run: Run, vol: Volume, op: str, lib: Library, notes: Notes) -> str:
    cell = run.cells.get((vol.label, op, lib.key))
    if cell is None:
        return "–"
    if cell.seconds is None:
        return "n/a" + notes.ref(cell.note or "unknown failure")
    return f"{fmt_mib(cell.seconds)} ({cell.seconds / vol.voxel_bytes:.2f})"


def rss_tables(run: Run, vols: Sequence[Volume], notes: Notes) -> list[str]:
    if not any(k[1].startswith("rss") for k in run.cells):
        return []
    out = [
        "## Peak RSS",
        "",
        "One fresh interpreter per (library, file, read): all imports and a header read "
        "first, then `5 > /proc/self/clear_refs`, then the read into a torch tensor; value = "
        "VmHWM − VmRSS after the reset. In parentheses: ratio to the voxel bytes of the whole "
        "image (1.0 = one copy of the voxels). Patch = the 32³ middle patch, for a few files.",
        "",
    ]
    libs = [lib for lib in LIBRARIES if not lib.warm]
    for op, title in (("rss full", "Full load"), ("rss patch", "32³ patch (middle)")):
        rows = [v for v in vols if any((v.label, op, lib.key) in run.cells for lib in libs)]
        if not rows:
            continue
        out += [
            f"### {title}",
            "",
            "| file | " + " | ".join(lib.title for lib in libs) + " |",
            "|" + "---|" * (len(libs) + 1),
        ]
        for vol in rows:
            cells = [_rss_cell(run, vol, op, lib, notes) for lib in libs]
            out.append(f"| {vol.label} | " + " | ".join(cells) + " |")
        out.append("")
    return out


# --------------------------------------------------------------------------- acceptance


@dataclass
class Verdict:
    target: str
    file: str
    measured: str
    ok: bool | None  # None: not measured


def _t(run: Run, file: str, op: str, lib: str) -> float | None:
    cell = run.cells.get((file, op, lib))
    if cell is None or cell.seconds is None:
        return None
    if cell.note and lib != "tioxide":
        return None  # a peer returning wrong voxels is not a fair yardstick
    return cell.seconds


def _best(run: Run, file: str, op: str, libs: Sequence[str]) -> tuple[str, float] | None:
    found = [(lib, t) for lib in libs if (t := _t(run, file, op, lib)) is not None]
    return min(found, key=lambda x: x[1]) if found else None


def _title(key: str) -> str:
    return LIB_BY_KEY[key].title if key in LIB_BY_KEY else FLOOR_TITLES.get(key, key)


def _wrong(run: Run, vol: Volume, op: str, me: str, target: str) -> Verdict | None:
    cell = run.cells.get((vol.label, op, me))
    if cell is not None and cell.seconds is not None and cell.note:
        return Verdict(target, vol.label, f"wrong result: {cell.note}", False)
    return None


def _faster(
    run: Run,
    vol: Volume,
    op: str,
    peers: Sequence[str],
    factor: float,
    target: str,
    me: str = "tioxide",
    floors: Sequence[str] = (),
) -> Verdict:
    """tioxide at least ``factor`` times faster than the fastest of ``peers``;
    with ``floors``, a miss also says how far the fastest of them gets."""
    tx, best = _t(run, vol.label, op, me), _best(run, vol.label, op, peers)
    if tx is None or best is None:
        return Verdict(target, vol.label, "not measured", None)
    ratio = best[1] / tx
    measured = (
        f"{fmt_ratio(ratio)} ({_title(me)} {fmt_time(tx)}, {_title(best[0])} {fmt_time(best[1])})"
    )
    ok = ratio >= factor if factor > 1 else ratio > 1
    floor = _best(run, vol.label, op, floors) if floors else None
    if not ok and floor is not None:
        measured += f"; {_title(floor[0])}'s raw inflate alone: {fmt_ratio(best[1] / floor[1])}"
    return _wrong(run, vol, op, me, target) or Verdict(target, vol.label, measured, ok)


def _within(
    run: Run, vol: Volume, op: str, floors: Sequence[str], factor: float, target: str
) -> Verdict:
    """tioxide no more than ``factor`` times slower than the fastest floor."""
    tx, best = _t(run, vol.label, op, "tioxide"), _best(run, vol.label, op, floors)
    if tx is None or best is None:
        return Verdict(target, vol.label, "not measured", None)
    if (wrong := _wrong(run, vol, op, "tioxide", target)) is not None:
        return wrong
    ratio = tx / best[1]
    measured = (
        f"{ratio:.2f}x the floor (tioxide {fmt_time(tx)}, {_title(best[0])} {fmt_time(best[1])})"
    )
    return Verdict(target, vol.label, measured, ratio <= factor)


def verdicts(run: Run, vols: Sequence[Volume]) -> list[Verdict]:
    out: list[Verdict] = []
    gz = [v for v in vols if v.gz]
    plain = [v for v in vols if not v.gz]
    nib_all = ("nibabel", "nibabel-zlib")
    for v in gz:
        out.append(
            _faster(
                run,
                v,
                "header",
                (*nib_all, "sitk", "torchio"),
                5,
                "header of .nii.gz: >= 5x the fastest of nibabel, SimpleITK, TorchIO",
            )
        )
    for v in plain:
        out.append(
            _faster(run, v, "full", ("torchio",), 10, "full .nii load into torch: >= 10x TorchIO")
        )
        out.append(
            _within(
                run, v, "full", ("memcpy",), 2, "full .nii load into torch: within 2x of memcpy"
            )
        )
    for v in gz:
        out.append(
            _faster(
                run,
                v,
                "full",
                (*nib_all, "sitk"),
                2,
                "full .nii.gz load: >= 2x the fastest of nibabel, SimpleITK",
                floors=("libdeflate", "ISA-L"),
            )
        )
        out.append(
            _faster(
                run,
                v,
                "full",
                ("torchio",),
                4,
                "full .nii.gz load: >= 4x TorchIO",
                floors=("libdeflate", "ISA-L"),
            )
        )
        out.append(
            _within(
                run,
                v,
                "full",
                ("libdeflate", "ISA-L"),
                1.25,
                "full .nii.gz load: within 1.25x of the fastest raw inflate",
            )
        )
    big = [v for v in plain if v.big]
    for v in big:
        for where in ("start", "middle", "end"):
            op = f"patch {where}"
            out.append(
                _faster(
                    run,
                    v,
                    op,
                    ("nibabel",),
                    10,
                    f"32³ {op} from 512³ .nii: >= 10x nibabel dataobj[...] (first read)",
                )
            )
            out.append(
                _faster(
                    run,
                    v,
                    op,
                    ("nibabel",),
                    10,
                    f"32³ {op} from 512³ .nii: >= 10x nibabel dataobj[...] "
                    "(tioxide caches warm; nibabel has none)",
                    me="tioxide-warm",
                )
            )
            out.append(
                _faster(
                    run,
                    v,
                    op,
                    ("medrs",),
                    1,
                    f"32³ {op} from 512³ .nii: faster than medrs (first read)",
                )
            )
            out.append(
                _faster(
                    run,
                    v,
                    op,
                    ("medrs-warm",),
                    1,
                    f"32³ {op} from 512³ .nii: faster than medrs (warm caches)",
                    me="tioxide-warm",
                )
            )
    if not big:
        out.append(
            Verdict(
                "32³ patch from 512³ .nii (>= 10x nibabel, faster than medrs)",
                "plain/big_float32.nii",
                "not measured (skipped, e.g. --quick)",
                None,
            )
        )
    for v in vols:
        cell = run.cells.get((v.label, "rss full", "tioxide"))
        if cell is None or cell.seconds is None:
            continue
        ratio = cell.seconds / v.voxel_bytes
        out.append(
            Verdict(
                "peak RSS of a full load <= 1.1x voxel bytes",
                v.label,
                f"{ratio:.2f}x ({fmt_mib(cell.seconds)} for {fmt_mib(v.voxel_bytes)})",
                ratio <= 1.1,
            )
        )
    return out


def summary(run: Run, vols: Sequence[Volume]) -> list[str]:
    vs = verdicts(run, vols)
    passed = sum(v.ok is True for v in vs)
    failed = sum(v.ok is False for v in vs)
    out = [
        "## Acceptance targets (issue 3)",
        "",
        f"**{passed} PASS, {failed} FAIL, {len(vs) - passed - failed} not measured.**",
        "",
        "| target | file | measured | result |",
        "|---|---|---|---|",
    ]
    for v in vs:
        result = {True: "PASS", False: "**FAIL**", None: "–"}[v.ok]
        out.append(f"| {v.target} | {v.file} | {v.measured} | {result} |")
    return [*out, ""]


def report(
    run: Run,
    vols: Sequence[Volume],
    build: str,
    tioxide_desc: str,
    elapsed: float,
    load: tuple[str, str],
) -> str:
    notes = Notes()
    mode = "quick run, `--quick`" if run.quick else "full run"
    lines = [
        "# tioxide vs peers: benchmark results",
        "",
        f"Generated by `benches/compare.py` ({mode}) on "
        f"{dt.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}, "
        f"in {elapsed / 60:.1f} min.",
        "",
    ]
    if build != "release":
        lines += [f"> **WARNING: extension build profile not verified: {build}.**", ""]
    lines += [
        "## Machine",
        "",
        *machine(tioxide_desc, load),
        "",
        "## Method",
        "",
        "- Inputs: deterministic head phantoms (smooth anatomy + noise, so gzip ratios are "
        "realistic) written by nibabel, gzip level 6; `.nii` and `.nii.gz` in separate "
        "folders (SimpleITK given `x.nii.gz` reads `x.nii` if it sits beside it).",
        "- Warm page cache; each cell is the median of adaptive repeats (>= 3 samples, "
        f"~{run_budget(run.quick)} s per cell; sub-millisecond calls timed in batches).",
        "- Every call ends with a torch tensor (`torch.from_numpy` for numpy results; "
        "conversion included). Each call opens the file afresh (no handle reuse).",
        "- Operations: header = shape + affine; full = all voxels; patch = 32³ at the first "
        "corner, the centre and the last corner (all frames of the 4-D file); axial = "
        "`[:, :, nz // 2]`, sagittal = `[nx // 2, :, :]` (each with all frames for 4-D).",
        "- Every first result is checked against "
        "`np.asanyarray(nib.load(p).dataobj)[region]`; a mismatch is flagged "
        "**wrong result** and that peer is not used as a yardstick.",
        "- SimpleITK 2.5 inflates .nii.gz with its bundled zlib-ng, streaming, and reads "
        "a region by skipping through the stream into a small buffer.",
        "- tioxide: `nifti.read_header` / `nifti.read(p, region)`; TorchIO: "
        "`ScalarImage(p).shape/.affine`, `.data`, `ScalarImage(p)[c, i, j, k].data` (lazy); "
        "nibabel: `nib.load(p)`, `nib.load(p, mmap=False).dataobj`, `dataobj[region]` "
        "(default = with indexed_gzip; 'w/o indexed_gzip' sets "
        "`nibabel._compression.HAVE_INDEXED_GZIP = False`); SimpleITK: "
        "`ImageFileReader.ReadImageInformation`, `ReadImage` + `GetArrayFromImage`, "
        "`SetExtractIndex/SetExtractSize`; medrs: `get_info`, `load(p).to_numpy_native()`, "
        "`load_cropped(p, offset, shape).to_numpy_native()`.",
        f"- {MEDRS_NOTE}",
        "- Libraries and floors are interleaved sample by sample, in a fresh random order "
        "(seeded) every round, so that background load hits all of them alike and no one "
        "always runs after the same neighbour (in a fixed order, libdeflate always followed "
        "np.copy and reused its just-freed, cache-hot memory); the machine's load average is "
        "given above.",
        "",
    ]
    lines += summary(run, vols)
    lines += time_tables(run, vols, notes)
    lines += rss_tables(run, vols, notes)
    if notes.texts:
        lines += ["## Notes", "", *notes.lines(), ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def run_budget(quick: bool) -> float:
    return 0.1 if quick else 0.5


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: smaller repeat counts, skip the 512^3 files",
    )
    p.add_argument(
        "--only",
        metavar="PATTERN",
        help="regex; run only cells whose 'file op library' matches, e.g. "
        "'gz/t1_int16.* full' or 'header' or 'rss .*tioxide'",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=HERE / "RESULTS.md",
        help="markdown output (default: benches/RESULTS.md)",
    )
    p.add_argument("--skip-rss", action="store_true", help="do not measure peak RSS")
    p.add_argument(
        "--skip-seek",
        action="store_true",
        help="do not run the seek-index, thread-scaling, Image API, CropOrPad, save/plot and "
        "patch-pipeline sections (benches/seek_index.py, threads.py, image_api.py, "
        "crop_or_pad.py, save_plot.py, patches.py; not run with --quick)",
    )
    p.add_argument("--rss-child", metavar="JSON", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.rss_child:
        rss_child(json.loads(args.rss_child))
        return 0
    build = check_build()
    faulthandler.enable()  # a peer crashing the interpreter at least says where
    started, load_start = time.perf_counter(), loadavg()
    tioxide_desc = describe_tioxide(build)
    if float(load_start.split()[0]) > 0.7:
        print(
            f"warning: load average is {load_start}; other work on this machine will disturb "
            "the timings",
            file=sys.stderr,
        )
    pattern = re.compile(args.only) if args.only else None
    vols = [v for v in VOLUMES if not (args.quick and v.big)]
    ensure_data(vols)
    run = Run(quick=args.quick)
    identity = extension_identity()
    for vol in vols:
        bench_volume(run, vol, pattern, run_budget(args.quick))
        check_extension_unchanged(identity)
    if not args.skip_rss:
        print("== peak RSS", file=sys.stderr, flush=True)
        bench_rss(run, vols, pattern)
        check_extension_unchanged(identity)
    seek: list[str] = []
    if not (args.skip_seek or args.quick):
        print("== seek index", file=sys.stderr, flush=True)
        seek = seek_index.run()
        print("== thread scaling", file=sys.stderr, flush=True)
        seek += threads.run()
        print("== Image API", file=sys.stderr, flush=True)
        seek += image_api.run()
        print("== CropOrPad", file=sys.stderr, flush=True)
        seek += crop_or_pad.run()
        print("== saving and plotting", file=sys.stderr, flush=True)
        seek += save_plot.run()
        print("== patch pipeline and grid inference", file=sys.stderr, flush=True)
        seek += patches.run()
        check_extension_unchanged(identity)
    text = report(
        run, vols, build, tioxide_desc, time.perf_counter() - started, (load_start, loadavg())
    )
    if seek:
        text = text.rstrip("\n") + "\n\n" + "\n".join(seek) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
