"""The ``tioxide transform`` and ``tioxide cache`` commands (TorchIO's CLI has
both): a transform applied to an image file, and the datasets' cache folder."""

from __future__ import annotations

import argparse
import ast
import shutil
from typing import Any


def add_commands(sub: Any) -> None:
    """Add the two commands to the ``tioxide`` parser's subcommands."""
    transform = sub.add_parser(
        "transform",
        help="apply a transform to an image and save the result",
        description="Apply a transform by name to IN and save it as OUT; "
        "ARGS are the transform's arguments as key=value (Python literals), e.g. "
        "`tioxide transform t1.nii.gz noisy.nii.gz Noise std=0.1`.",
    )
    transform.add_argument("input", metavar="IN")
    transform.add_argument("output", metavar="OUT")
    transform.add_argument(
        "name", metavar="NAME", help="transform class (Noise, Flip, CropOrPad ...)"
    )
    transform.add_argument("args", nargs="*", metavar="KEY=VALUE")
    transform.add_argument("--device", default="cpu", help="torch device (default cpu)")
    transform.add_argument("--label", action="store_true", help="IN is a label map")

    cache = sub.add_parser("cache", help="where datasets are kept; clear them")
    what = cache.add_subparsers(dest="cache_command", required=True)
    what.add_parser("dir", help="print the cache folder")
    clean = what.add_parser("clean", help="delete cached datasets")
    clean.add_argument("--dataset", help="only this one (a folder name, e.g. fpg)")


def parse_arguments(pairs: list[str]) -> dict[str, Any]:
    """``key=value`` pairs as keyword arguments (values read as Python
    literals where they are, else kept as strings).

    Raises:
        ValueError: A pair without ``=``.
    """
    kwargs: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.isidentifier():
            raise ValueError(f"invalid argument {pair!r}: expected key=value")
        try:
            kwargs[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            kwargs[key] = text
    return kwargs


def transform_class(name: str) -> type:
    """The transform class called ``name``.

    Raises:
        ValueError: No transform has that name (the message lists them).
    """
    from . import transforms
    from .transforms.history import lookup

    def public(cls: Any) -> bool:
        return isinstance(cls, type) and issubclass(cls, transforms.Transform)

    # The public names first (some are aliases: RescaleIntensity is Normalize),
    # then any other registered subclass (a user's, imported beforehand).
    exported = getattr(transforms, name, None) if name in transforms.__all__ else None
    if isinstance(exported, type) and public(exported):
        return exported
    found = lookup(name)
    if found is None:
        known = sorted(n for n in transforms.__all__ if public(getattr(transforms, n)))
        raise ValueError(f"unknown transform {name!r}; available: {', '.join(known)}")
    return found


def run_transform(args: argparse.Namespace) -> str:
    """Apply the transform; the line to print."""
    from .cli import _open_image

    cls = transform_class(args.name)
    transform = cls(**parse_arguments(args.args))
    image = _open_image(args.input, label=args.label).to(args.device)
    result = transform(image)
    result.save(args.output)
    return f"{args.input} -> {args.output} ({args.name})"


def run_cache(args: argparse.Namespace) -> str:
    """Print or clear the cache folder; the line to print."""
    from .download import get_torchio_cache_dir

    folder = get_torchio_cache_dir()
    if args.cache_command == "dir":
        return str(folder)
    target = folder if args.dataset is None else folder / args.dataset
    if args.dataset is not None and (args.dataset in ("", ".", "..") or target.parent != folder):
        raise ValueError(f"not a dataset name: {args.dataset!r}")
    if not target.exists():
        return f"nothing cached in {target}"
    shutil.rmtree(target)
    return f"cleared {target}"
