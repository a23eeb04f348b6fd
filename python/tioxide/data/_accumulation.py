"""Where a :class:`PatchAggregator` puts the patches: the accumulation buffers.

The aggregator decides what to write (a cropped patch, or a weighted patch and
its weights); an accumulation stores it and gives the volume back at the end.
:class:`InMemoryAccumulation` keeps tensors the size of the output; another
storage (a file written as it goes, for volumes larger than memory) only needs
the same three methods.
"""

from __future__ import annotations

from typing import Protocol

import torch
from torch import Tensor

Box = tuple[slice, slice, slice]


class Accumulation(Protocol):
    """The storage of one aggregated output."""

    def place(self, box: Box, values: Tensor) -> None:
        """Overwrite the voxels of ``box`` with ``values`` (``(C, …)``)."""

    def accumulate(self, box: Box, values: Tensor, weights: Tensor | float) -> None:
        """Add ``values`` to the sum and ``weights`` to the total weight in ``box``."""

    def result(self) -> Tensor:
        """The output: the values placed, or the sum divided by the total weight."""


class InMemoryAccumulation:
    """Output tensors in memory: the values and, when weighting, the total weights.

    Args:
        num_channels: ``C`` of the output.
        spatial_shape: ``(I, J, K)`` of the output.
        dtype: The patches' dtype, used for the values and the weights.
        weighted: Whether patches are accumulated (and the result divided by
            the weights) rather than placed.
    """

    def __init__(
        self,
        num_channels: int,
        spatial_shape: tuple[int, int, int],
        dtype: torch.dtype,
        *,
        weighted: bool,
    ) -> None:
        self.values = torch.zeros(num_channels, *spatial_shape, dtype=dtype)
        self.weights = torch.zeros(num_channels, *spatial_shape, dtype=dtype) if weighted else None

    def place(self, box: Box, values: Tensor) -> None:
        """Overwrite the voxels of ``box`` with ``values``."""
        self.values[(slice(None), *box)] = values

    def accumulate(self, box: Box, values: Tensor, weights: Tensor | float) -> None:
        """Add ``values`` and ``weights`` into ``box``."""
        if self.weights is None:
            raise RuntimeError("This accumulation places values; it has no weights")
        index = (slice(None), *box)
        self.values[index] += values
        self.weights[index] += weights

    def result(self) -> Tensor:
        """The placed values (this buffer itself), or the weighted mean as a new tensor.

        Voxels of total weight below 1 (none, or only the tails of Hann
        windows) are divided by 1, as TorchIO does.
        """
        if self.weights is None:
            return self.values
        return self.values / self.weights.clamp(min=1)
