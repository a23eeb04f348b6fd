"""Is this a Jupyter kernel? (Media with no output path go to a temporary file there.)"""

from __future__ import annotations

import importlib
import os
import tempfile
from pathlib import Path
from typing import Any


def ipython_shell() -> Any:
    """The running IPython shell, or None (IPython missing, or a plain interpreter)."""
    try:
        ipython: Any = importlib.import_module("IPython")
    except ImportError:
        return None
    return ipython.get_ipython()


def in_jupyter() -> bool:
    """Whether the code runs in a Jupyter kernel (where output can show inline)."""
    shell = ipython_shell()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def display(obj: Any) -> None:
    """IPython's ``display``."""
    importlib.import_module("IPython.display").display(obj)


def media_path(output_path: str | os.PathLike[str] | None, suffix: str) -> Path:
    """``output_path``, or a new temporary file in Jupyter.

    Raises:
        ValueError: No path outside Jupyter, where nothing could show the result.
    """
    if output_path is not None:
        return Path(output_path)
    if in_jupyter():
        with tempfile.NamedTemporaryFile(suffix=suffix, delete=False) as handle:
            return Path(handle.name)
    raise ValueError(
        f"output_path is required outside Jupyter notebooks (where a temporary {suffix} "
        "file shows inline)"
    )


def inline_media(path: Path, kind: str) -> Any:
    """An IPython ``Image`` or ``Video`` of a file when in Jupyter, else None."""
    if not in_jupyter():
        return None
    module: Any = importlib.import_module("IPython.display")
    if kind == "image":
        return module.Image(filename=str(path))
    return module.Video(str(path), embed=True, html_attributes="controls autoplay loop muted")
