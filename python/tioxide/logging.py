"""tioxide's log messages, silent until :func:`enable_logging` (as TorchIO 2's).

They go through the standard library's ``logging``, under the logger named
``"tioxide"``: an application that configures ``logging`` itself can route
them like any other library's.
"""

from __future__ import annotations

import logging
import sys

logger = logging.getLogger("tioxide")
# A library logs nothing unless asked: no handler of its own, and nothing
# passed on to the root logger's until enable_logging.
logger.addHandler(logging.NullHandler())
logger.propagate = False

#: The handler enable_logging installed last (replaced by the next call).
_installed: list[logging.Handler] = []


def enable_logging(level: str = "INFO", *, rich: bool = True) -> None:
    """Print tioxide's log messages from ``level`` up.

    Args:
        level: ``"DEBUG"``, ``"INFO"``, ``"WARNING"`` or ``"ERROR"``.
        rich: Format them with ``rich`` (when it is installed); ``False``
            prints plain lines to standard error.

    Raises:
        ValueError: ``level`` is not a level name.
    """
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}; use DEBUG, INFO, WARNING or ERROR")
    handler = _rich_handler() if rich else None
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    for old in _installed:
        logger.removeHandler(old)
    _installed[:] = [handler]
    logger.addHandler(handler)
    logger.setLevel(numeric)


def _rich_handler() -> logging.Handler | None:
    try:
        from rich.logging import RichHandler
    except ImportError:
        return None
    handler: logging.Handler = RichHandler(markup=False, rich_tracebacks=True)
    return handler
