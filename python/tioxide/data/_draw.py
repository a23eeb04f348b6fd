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

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor

from .. import _core

# torch's CPU generator state: seed (u64), left (i32), seeded (i32), next (u64),
# then the 624 state words as u64 and the normal-sampling caches.
_STATE_BYTES = 5056
_WORDS = 624
_LEFT = slice(8, 12)
_SEEDED = slice(12, 16)
_NEXT = slice(16, 24)
_STATE = slice(24, 24 + 8 * _WORDS)


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
        self._sparse: tuple[npt.NDArray[np.uint64], npt.NDArray[np.float32]] | None = None
        if _fast_path_applies(probabilities, generator):
            self._sparse = _nonzero_in_c_order(probabilities.detach().numpy())

    def draw(self) -> int:
        """One index into the flattened map, drawn as torch would draw it."""
        if self._sparse is None:
            # Also the path that raises torch's own errors for bad maps.
            flat = self._probabilities.flatten()
            return int(torch.multinomial(flat, 1, generator=self._generator).item())
        return _draw(self._probabilities.numel(), *self._sparse, self._generator)


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
) -> int:
    gen = torch.default_generator if generator is None else generator
    state = gen.get_state()
    raw = state.numpy()
    left = int(raw[_LEFT].view(np.int32)[0])
    words = raw[_STATE].view(np.uint64).astype(np.uint32)
    # A generator that just seeded (left == 1) twists before its next word.
    used = _WORDS if left == 1 else int(raw[_NEXT].view(np.uint64)[0])
    index, used = _core.multinomial_one_draw(words, used, length, indices, weights)
    raw[_STATE].view(np.uint64)[:] = words
    raw[_NEXT].view(np.uint64)[0] = used
    raw[_LEFT].view(np.int32)[0] = _WORDS + 1 - used
    gen.set_state(state)
    return int(index)


@functools.cache
def _torch_agrees() -> bool:
    """Whether the core's draws equal this torch's, index and state, on test maps."""
    generator = torch.Generator()
    if generator.get_state().numel() != _STATE_BYTES:
        return False
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
        if int(before.numpy()[_SEEDED].view(np.int32)[0]) != 1:
            return False  # not the layout this module reads
        indices = np.flatnonzero(weights)
        got = _draw(length, indices.astype(np.uint64), weights[indices], generator)
        if got != expected or not torch.equal(generator.get_state(), after):
            return False
    return True
