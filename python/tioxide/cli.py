"""The ``tioxide`` command.

``tioxide info [FILE ...]`` prints what a header says (shape, dtype, spacing,
orientation, affine, datatype code, byte order, size on disk); with no FILE
it describes the bundled sample image.

``tioxide index FILE ...`` builds the seek index of gzip files and saves it
next to each (``FILE.tioxidx``), so that every later process reads their
regions without inflating from the start.

``tioxide plot FILE -o out.png`` draws the three orthogonal views (reading
only the three slices shown); ``tioxide animate FILE -o out.gif|out.mp4``
sweeps through the slices in an anatomical direction; ``tioxide convert IN
OUT`` rewrites an image in the format OUT's suffix names; ``tioxide
transform IN OUT NAME key=value ...`` applies a transform and saves the
result; ``tioxide cache dir|clean`` shows or clears the datasets' folder.

Every command exits with 0 on success and 1 when a file could not be handled,
after one line on stderr naming the file. Long work shows a progress bar on
stderr when it is a terminal (and ``rich`` is installed).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from . import __version__, cli_pipeline, gz, nifti
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


def _one_line(error: BaseException, path: str) -> str:
    """An exception as one line that names ``path``.

    SimpleITK's messages start with the C++ source location and put the
    reason on a later line; only the reason is kept.
    """
    text = str(error) or type(error).__name__
    if "sitk::ERROR:" in text:
        text = text.split("sitk::ERROR:", 1)[1]
    text = re.sub(r"\s+", " ", text).strip()
    if path not in text:
        text = f"{path}: {text}"
    return text


def _fail(error: BaseException, path: str) -> int:
    print(f"tioxide: error: {_one_line(error, path)}", file=sys.stderr)
    return 1


@contextlib.contextmanager
def _progress(description: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress callback ``update(done, total)`` drawing a bar on stderr, if a terminal.

    Yields None when stderr is redirected (logs and pipes get no control
    characters) or when ``rich`` is not installed.
    """
    if not sys.stderr.isatty():
        yield None
        return
    try:
        from rich.console import Console
        from rich.progress import Progress
    except ImportError:
        yield None
        return
    with Progress(console=Console(file=sys.stderr), transient=True) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _open_image(path: str, *, label: bool = False) -> Any:
    """The image at ``path`` with its header read (so a bad file fails here)."""
    from .data.image import LabelMap, ScalarImage

    kind = LabelMap if label else ScalarImage
    image = kind(path)
    image.spatial_shape  # noqa: B018 - reads and checks the header now
    return image


def _plot(args: argparse.Namespace) -> int:
    try:
        image = _open_image(args.file, label=args.label)
    except Exception as e:
        return _fail(e, args.file)
    overlay = None
    if args.overlay is not None:
        try:
            overlay = _open_image(args.overlay, label=True)
        except Exception as e:
            return _fail(e, args.overlay)
    try:
        from .data.extras import require
        from .visualization import plot_image

        # A file is wanted, not a window: no GUI backend, even with a display.
        require("matplotlib", "plot", purpose="tioxide plot").use("Agg")
        from matplotlib.backends.backend_agg import FigureCanvasAgg
    except ImportError as e:
        return _fail(e, args.output)
    suffix = os.path.splitext(args.output)[1].lower().lstrip(".")
    formats = FigureCanvasAgg.get_supported_filetypes()
    if suffix not in formats:
        message = (
            f"unsupported picture format {suffix or '(none)'!r}; use one of {', '.join(formats)}"
        )
        return _fail(ValueError(message), args.output)
    try:
        plot_image(
            image,
            channel=args.channel,
            indices=None if args.indices is None else tuple(args.indices),
            output_path=args.output,
            show=False,
            voxels=args.voxels,
            overlay=overlay,
            title=args.title,
            savefig_kwargs={"dpi": args.dpi},
        )
    except Exception as e:
        return _fail(e, args.output if isinstance(e, OSError) else args.file)
    print(f"{args.output}: saved")
    return 0


def _animate(args: argparse.Namespace) -> int:
    suffix = os.path.splitext(args.output)[1].lower()
    if suffix not in (".gif", ".mp4"):
        message = f"unsupported animation format {suffix or '(none)'!r}; use .gif or .mp4"
        return _fail(ValueError(message), args.output)
    try:
        image = _open_image(args.file, label=args.label)
    except Exception as e:
        return _fail(e, args.file)
    from .visualization import make_gif, make_video

    try:
        with _progress(f"animating {os.path.basename(args.file)}") as progress:
            if suffix == ".gif":
                make_gif(
                    image,
                    args.output,
                    seconds=args.seconds,
                    direction=args.direction,
                    loop=args.loop,
                    rescale=not args.no_rescale,
                    reverse=args.reverse,
                    progress=progress,
                )
            else:
                make_video(
                    image,
                    args.output,
                    seconds=args.seconds,
                    direction=args.direction,
                    progress=progress,
                )
    except Exception as e:
        return _fail(e, args.output if isinstance(e, OSError) else args.file)
    print(f"{args.output}: saved")
    return 0


def _convert(args: argparse.Namespace) -> int:
    try:
        image = _open_image(args.input)
    except Exception as e:
        return _fail(e, args.input)
    with _progress(f"converting {os.path.basename(args.input)}") as progress:
        try:
            if progress is not None:
                progress(0, 2)
            image.load()
        except Exception as e:
            return _fail(e, args.input)
        try:
            if progress is not None:
                progress(1, 2)
            image.save(args.output)
            if progress is not None:
                progress(2, 2)
        except Exception as e:
            return _fail(e, args.output)
    print(f"{args.input} -> {args.output}")
    return 0


def _report(
    command: Callable[[argparse.Namespace], str], args: argparse.Namespace, path: str
) -> int:
    """Run ``command``; print its line, or fail naming ``path`` (or the file
    an OS error names)."""
    try:
        line = command(args)
    except Exception as e:
        return _fail(e, getattr(e, "filename", None) or path)
    print(line)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tioxide", description="Fast NIfTI tools.")
    parser.add_argument("--version", action="version", version=f"tioxide {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    info = sub.add_parser("info", help="describe images (default: the bundled sample)")
    info.add_argument("files", nargs="*", metavar="FILE")
    index = sub.add_parser("index", help="index gzip files for random access (writes FILE.tioxidx)")
    index.add_argument("files", nargs="+", metavar="FILE")

    plot = sub.add_parser("plot", help="draw sagittal, coronal and axial slices to a picture")
    plot.add_argument("file", metavar="FILE")
    plot.add_argument("-o", "--output", required=True, help="picture file (.png, .pdf, .svg ...)")
    plot.add_argument("--channel", type=int, default=0, help="channel to show (default 0)")
    plot.add_argument("--indices", type=int, nargs=3, metavar=("I", "J", "K"), help="slice indices")
    plot.add_argument("--label", action="store_true", help="FILE is a label map")
    plot.add_argument("--overlay", metavar="LABELS", help="label map drawn over FILE")
    plot.add_argument("--voxels", action="store_true", help="voxel indices on the axes, not mm")
    plot.add_argument("--title", help="title above the views")
    plot.add_argument("--dpi", type=float, default=100.0, help="resolution (default 100)")

    animate = sub.add_parser("animate", help="sweep through the slices into a GIF or MP4")
    animate.add_argument("file", metavar="FILE")
    animate.add_argument("-o", "--output", required=True, help="out.gif or out.mp4")
    animate.add_argument(
        "--axis",
        "--direction",
        dest="direction",
        default="I",
        type=str.upper,
        choices=["I", "S", "A", "P", "R", "L"],
        help="anatomical direction of the sweep (default I: head to feet, axial frames)",
    )
    animate.add_argument("--seconds", type=float, default=5.0, help="length (default 5)")
    animate.add_argument("--loop", type=int, default=0, help="GIF plays (default 0: forever)")
    animate.add_argument("--reverse", action="store_true", help="GIF frames backwards")
    animate.add_argument(
        "--no-rescale", action="store_true", help="GIF keeps values instead of stretching to 0-255"
    )
    animate.add_argument("--label", action="store_true", help="FILE is a label map")

    convert = sub.add_parser("convert", help="rewrite an image in another format (by suffix)")
    convert.add_argument("input", metavar="IN")
    convert.add_argument("output", metavar="OUT")
    cli_pipeline.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tioxide`` command; returns the exit status."""
    args = _parser().parse_args(argv)
    commands: dict[str, Callable[[], int]] = {
        "info": lambda: _info(args.files),
        "index": lambda: _index(args.files),
        "plot": lambda: _plot(args),
        "animate": lambda: _animate(args),
        "convert": lambda: _convert(args),
        "transform": lambda: _report(cli_pipeline.run_transform, args, args.input),
        "cache": lambda: _report(cli_pipeline.run_cache, args, "cache"),
    }
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            status = commands[args.command]()
        # Python's warning format spans two lines and shows our source; a
        # command's user wants one line about their file.
        for warning in caught:
            text = re.sub(r"\s+", " ", str(warning.message)).strip()
            print(f"tioxide: warning: {text}", file=sys.stderr)
        return status
    except BrokenPipeError:
        # `tioxide info ... | head`: the reader left; exit quietly, as Unix tools do.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
