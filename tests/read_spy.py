"""A spy on :func:`tioxide.nifti.read`, for tests that prove what is not read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tioxide import nifti


class ReadSpy:
    """Records every ``nifti.read``: the file and region asked for, and the voxels returned."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[Path, Any]] = []
        self.reads: list[tuple[str, int]] = []
        original = nifti.read

        def spy(path: Any, region: Any = None, *args: Any, **kwargs: Any) -> Any:
            self.calls.append((Path(path), region))
            if region is None:
                result = original(path, *args, **kwargs)
            else:
                result = original(path, region, *args, **kwargs)
            self.reads.append((Path(path).name, int(np.asarray(result).size)))
            return result

        monkeypatch.setattr(nifti, "read", spy)

    def voxels(self, shape: tuple[int, ...], name: str | None = None) -> list[int]:
        """Voxels each read asked for (of the file called ``name``, or any)."""
        sizes = []
        for path, region in self.calls:
            if name is not None and path.name != name:
                continue
            if region is None:
                sizes.append(int(np.prod(shape)))
            else:
                counts = [len(range(*s.indices(n))) for s, n in zip(region, shape, strict=False)]
                sizes.append(int(np.prod(counts)))
        return sizes

    def whole_reads(self, shape: tuple[int, ...]) -> list[str]:
        """Names of the files read whole (as many voxels as ``shape`` holds)."""
        whole = int(np.prod(shape))
        return [name for name, size in self.reads if size >= whole]
