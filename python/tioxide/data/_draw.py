"""Weighted draws equal to ``torch.multinomial(p, 1)``, sooner on sparse maps.

PyTorch draws one index as ``argmax(p / q)`` with one Exp(1) variate ``q`` per
element of ``p``: about 250 ms for a 256 x 256 x 176 map, once per patch. The
core (``tioxide.draw``) advances the same Mersenne Twister over every element
but takes logarithms only where ``p`` is not zero, and leaves the generator
where PyTorch would: the same patches for the same seed, an order of magnitude
sooner. That mirrors PyTorch's algorithm, which PyTorch does not promise to
keep, so the first use compares both on a private generator and falls back to
``torch.multinomial`` for good if they ever differ.
"""

from __future__ import annotations

import functools
import threading

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor

from .. import _core


class WeightedDraws:
    """Repeated draws from one probability map, each equal to
    ``torch.multinomial(probabilities.flatten(), 1)``.

    Args:
        probabilities: Non-negative weights, of any shape and strides.
        generator: The generator to draw from (torch's default one if ``None``).
    """

    def __init__(self, probabilities: Tensor, generator: torch.Generator | None = None) -> None:
        self._probabilities = probabilities
        self._generator = generator
        self._flat: Tensor | None = None
        self._sparse: tuple[npt.NDArray[np.uint64], npt.NDArray[np.float32]] | None = None
        if _fast_path_applies(probabilities, generator):
            self._sparse = _nonzero_in_c_order(probabilities.detach().numpy())

    def draw(self) -> int:
        """One index into the flattened map, drawn as torch would draw it."""
        # The core reads the generator's state and writes it back; torch's own
        # draws run without the GIL, so a draw by another thread between the
        # two would be overwritten (its numbers used twice). With other
        # Python threads alive, torch draws, under the generator's lock.
        if self._sparse is not None and threading.active_count() == 1:
            index = _draw(self._probabilities.numel(), *self._sparse, self._generator)
            if index is not None:
                return index
        # Also the path that raises torch's own errors for bad maps.
        if self._flat is None:
            self._flat = self._probabilities.flatten()
        return int(torch.multinomial(self._flat, 1, generator=self._generator).item())


def _fast_path_applies(probabilities: Tensor, generator: torch.Generator | None) -> bool:
    on_cpu = generator is None or generator.device.type == "cpu"
    return (
        probabilities.dtype == torch.float32
        and probabilities.device.type == "cpu"
        and probabilities.dim() > 0
        and on_cpu
        and _torch_agrees()
    )


def _nonzero_in_c_order(
    weights: npt.NDArray[np.float32],
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.float32]] | None:
    """The C-order flat indices of the non-zero weights, increasing, and the
    weights there; ``None`` if torch must see the map (bad values, all zero).

    A map read from NIfTI is in Fortran order: rather than transposing all of
    it (what ``flatten`` does, 80 ms for 256 x 256 x 176 float32), the few
    non-zero voxels are found in memory order and their indices sorted.
    """
    in_memory_order = np.argsort([-abs(s) for s in weights.strides], kind="stable")
    view = weights.transpose(in_memory_order)
    if not view.flags.c_contiguous:
        view = np.ascontiguousarray(weights)
        in_memory_order = np.arange(weights.ndim)
    values = view.reshape(-1)
    found = np.flatnonzero(values)
    if found.size == 0 or not (values.min() >= 0 and values.max() < np.inf):  # NaN fails too
        return None
    if (in_memory_order == np.arange(weights.ndim)).all():
        return found.astype(np.uint64), values[found]
    if found.size > values.size // 8:
        # Dense: one transposing copy beats sorting most of the voxels.
        dense = np.ascontiguousarray(weights).reshape(-1)
        found = np.flatnonzero(dense)
        return found.astype(np.uint64), dense[found]
    coords = np.unravel_index(found, view.shape)
    axes = np.argsort(in_memory_order)
    indices = np.ravel_multi_index(tuple(coords[a] for a in axes), weights.shape)
    order = np.argsort(indices)
    return indices[order].astype(np.uint64), values[found[order]]


def _draw(
    length: int,
    indices: npt.NDArray[np.uint64],
    weights: npt.NDArray[np.float32],
    generator: torch.Generator | None,
) -> int | None:
    gen = torch.default_generator if generator is None else generator
    return _core.multinomial_one_draw(gen, length, indices, weights)


@functools.cache
def _torch_agrees() -> bool:
    """Whether the core's draws equal this torch's, index and state, on test maps."""
    try:
        return _agrees_on_test_maps()
    except Exception:  # an extension or a torch this module does not know
        return False


def _agrees_on_test_maps() -> bool:
    generator = torch.Generator()
    rng = np.random.default_rng(0)
    for seed, length, density in ((0, 1, 1.0), (1, 700, 0.05), (2, 5000, 0.3), (3, 20_000, 0.01)):
        weights = rng.random(length).astype(np.float32)
        weights[rng.random(length) > density] = 0
        weights[length // 2] = 0.5
        flat = torch.from_numpy(weights)
        generator.manual_seed(seed)
        torch.rand(seed * 101, generator=generator)
        before = generator.get_state()
        expected = int(torch.multinomial(flat, 1, generator=generator).item())
        after = generator.get_state()
        generator.set_state(before)
        indices = np.flatnonzero(weights)
        got = _draw(length, indices.astype(np.uint64), weights[indices], generator)
        if got != expected or not torch.equal(generator.get_state(), after):
            return False
    return True
