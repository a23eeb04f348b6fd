"""The ``tioxide`` command.

``tioxide info [FILE ...]`` prints what a header says (shape, dtype, spacing,
orientation, affine, datatype code, byte order, size on disk); with no FILE
it describes the bundled sample image.

``tioxide index FILE ...`` builds the seek index of gzip files and saves it
next to each (``FILE.tioxidx``), so that every later process reads their
regions without inflating from the start.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import numpy as np

from . import __version__, gz, nifti
from .samples import phantom_path

_FORMATS = {"nifti1": "NIfTI-1", "nifti2": "NIfTI-2", "analyze": "ANALYZE 7.5"}


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{n} B"
        value /= 1024
    return f"{n} B"


def describe(path: str) -> str:
    """A human-readable summary of the image at ``path``."""
    h = nifti.read_header(path)
    files = {h.header_path, h.data_path}
    on_disk = sum(os.path.getsize(f) for f in files if os.path.exists(f))
    data_bytes = int(np.prod(h.shape)) * h.dtype.itemsize
    layout = "single file" if h.single_file else "header/image pair"
    if h.data_path.lower().endswith(".gz"):
        layout += ", gzip"
    order = {"<": "little-endian", ">": "big-endian"}[h.byte_order]
    scaling = "none" if h.scaling is None else f"slope {h.scaling[0]:g}, intercept {h.scaling[1]:g}"
    affine = np.array2string(h.affine, precision=4, suppress_small=True, prefix="               ")
    lines = [
        f"{path}",
        f"  format:      {_FORMATS[h.format]} ({layout})",
        f"  shape:       {h.shape}",
        f"  dtype:       {h.dtype.newbyteorder('=')} (datatype code {h.datatype})",
        f"  byte order:  {order}",
        f"  spacing:     ({', '.join(f'{s:.4g}' for s in h.spacing)})",
        f"  orientation: {h.orientation}",
        f"  scaling:     {scaling}",
        f"  affine:      {affine}",
        f"  size:        {_size(on_disk)} on disk, {_size(data_bytes)} of voxels",
    ]
    return "\n".join(lines)


def _info(files: Sequence[str]) -> int:
    status = 0
    targets = list(files) or [str(phantom_path())]
    for i, path in enumerate(targets):
        try:
            text = describe(path)
        except (OSError, ValueError) as e:
            print(f"tioxide: error: {e}", file=sys.stderr)
            status = 1
            continue
        print(("\n" if i else "") + text)
    return status


def _index(files: Sequence[str]) -> int:
    status = 0
    for path in files:
        try:
            info = gz.build_index(path, save=True)
        except (OSError, ValueError) as e:
            print(f"tioxide: error: {e}", file=sys.stderr)
            status = 1
            continue
        print(
            f"{path}: {info.points} checkpoints, {_size(info.covered)} decompressed, "
            f"index {_size(info.memory)} -> {info.sidecar}"
        )
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tioxide`` command; returns the exit status."""
    parser = argparse.ArgumentParser(prog="tioxide", description="Fast NIfTI tools.")
    parser.add_argument("--version", action="version", version=f"tioxide {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    info = sub.add_parser("info", help="describe images (default: the bundled sample)")
    info.add_argument("files", nargs="*", metavar="FILE")
    index = sub.add_parser("index", help="index gzip files for random access (writes FILE.tioxidx)")
    index.add_argument("files", nargs="+", metavar="FILE")
    args = parser.parse_args(argv)
    try:
        if args.command == "info":
            return _info(args.files)
        if args.command == "index":
            return _index(args.files)
    except BrokenPipeError:
        # `tioxide info ... | head`: the reader left; exit quietly, as Unix tools do.
        sys.stderr.close()
        return 0
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
