"""Batches are stacked into reused (numpy-made) or, in DataLoader workers,
shared memory: the result must be exactly ``torch.stack``'s."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from tioxide import _core
from tioxide.data._stacking import stack


@pytest.mark.parametrize(
    "dtype",
    [
        torch.float32,
        torch.float64,
        torch.float16,
        torch.int8,
        torch.uint8,
        torch.int16,
        torch.int32,
        torch.int64,
        torch.bool,
        torch.complex64,
        torch.bfloat16,
    ],
)
def test_equals_torch_stack(dtype: torch.dtype) -> None:
    g = torch.Generator().manual_seed(0)
    tensors = [(torch.rand(1, 5, 4, 3, generator=g) * 100).to(dtype) for _ in range(4)]
    got = stack(tensors)
    want = torch.stack(tensors)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert torch.equal(got, want)
    assert got.is_contiguous()
    # Its own memory: changing it leaves the inputs alone.
    got.zero_()
    assert torch.equal(torch.stack(tensors), want)


def test_non_contiguous_and_mixed_inputs() -> None:
    a = torch.arange(60, dtype=torch.float32).reshape(3, 4, 5)
    views = [a.permute(2, 0, 1), a.flip(0).permute(2, 0, 1)]
    assert torch.equal(stack(views), torch.stack(views))
    mixed = [torch.ones(2, dtype=torch.int16), torch.ones(2, dtype=torch.float32)]
    got = stack(mixed)
    assert got.dtype == torch.stack(mixed).dtype and torch.equal(got, torch.stack(mixed))


def test_autograd_still_flows() -> None:
    x = torch.ones(2, 3, requires_grad=True)
    out = stack([x, x * 2])
    out.sum().backward()
    assert x.grad is not None and torch.equal(x.grad, torch.full((2, 3), 3.0))


def test_shape_mismatch_raises_as_torch_does() -> None:
    with pytest.raises(RuntimeError, match="equal size"):
        stack([torch.zeros(2), torch.zeros(3)])


class _Pieces(Dataset[torch.Tensor]):
    def __len__(self) -> int:
        return 8

    def __getitem__(self, i: int) -> torch.Tensor:
        return torch.full((1, 4, 4, 4), float(i))


def _collate(batch: list[torch.Tensor]) -> tuple[torch.Tensor, bool]:
    out = stack(batch)
    return out, out.is_shared()


def test_in_a_worker_the_batch_is_in_shared_memory() -> None:
    loader = DataLoader(_Pieces(), batch_size=4, num_workers=1, collate_fn=_collate)
    batches = list(loader)
    assert [shared for _, shared in batches] == [True, True]
    data = torch.cat([b for b, _ in batches])
    assert torch.equal(data, torch.stack([_Pieces()[i] for i in range(8)]))


@pytest.mark.parametrize("shape", [(1, 40, 33, 37), (2, 5, 6, 20), (3, 17), (1, 4, 4, 0)])
def test_fortran_strided_images_stack_exactly(shape: tuple[int, ...]) -> None:
    """Images read from NIfTI are Fortran-strided: their tiled copy in the
    core must give torch.stack's batch, whatever the sizes of the axes."""
    rng = np.random.default_rng(1)
    arrays = [np.asfortranarray(rng.random(shape, dtype=np.float32)) for _ in range(3)]
    tensors = [torch.from_numpy(a) for a in arrays]
    assert len(shape) < 2 or shape[-1] == 0 or not tensors[0].is_contiguous()
    got = stack(tensors)
    assert got.is_contiguous() and torch.equal(got, torch.stack(tensors))


@pytest.mark.parametrize(
    "dtype",
    [
        torch.float32,
        torch.float64,
        torch.uint8,
        torch.int16,
        torch.int64,
        torch.bool,
        torch.complex64,
    ],
)
def test_fortran_strided_channels_of_every_dtype(dtype: torch.dtype) -> None:
    """Two channels, odd sizes: copied as bits whatever the dtype (complex
    ones, 16 bytes, by torch)."""
    g = torch.Generator().manual_seed(2)
    plain = [(torch.rand(2, 11, 9, 13, generator=g) * 100).to(dtype) for _ in range(3)]
    fortran = [t.permute(0, 3, 2, 1).contiguous().permute(0, 3, 2, 1) for t in plain]
    assert not fortran[0].is_contiguous()
    got = stack(fortran)
    assert got.is_contiguous() and torch.equal(got, torch.stack(plain))


def test_core_copy_refuses_what_it_cannot_copy() -> None:
    src = np.asfortranarray(np.arange(24, dtype=np.uint32).reshape(2, 3, 4))
    out = np.empty((2, 3, 4), np.uint32)
    _core.copy_c_order(src, out)
    assert (out == src).all()
    with pytest.raises(ValueError, match="shapes differ"):
        _core.copy_c_order(src, np.empty((2, 4, 3), np.uint32))
    with pytest.raises(ValueError, match="C-contiguous"):
        _core.copy_c_order(src, np.empty((2, 3, 4), np.uint32, order="F"))
    with pytest.raises(ValueError, match="negative strides"):
        _core.copy_c_order(src[::-1], out)
    with pytest.raises(TypeError, match="same unsigned integer dtype"):
        _core.copy_c_order(src, np.empty((2, 3, 4), np.uint16))
    with pytest.raises(TypeError, match="same unsigned integer dtype"):
        _core.copy_c_order(src.astype(np.float32), out.astype(np.float32))
    readonly = np.empty((2, 3, 4), np.uint32)
    readonly.flags.writeable = False
    with pytest.raises(TypeError):
        _core.copy_c_order(src, readonly)


def test_conjugate_views_fall_back_to_torch() -> None:
    base = torch.complex(torch.rand(1, 4, 5, 6), torch.rand(1, 4, 5, 6))
    fortran = base.permute(0, 3, 2, 1).contiguous().permute(0, 3, 2, 1).conj()
    assert fortran.is_conj() and not fortran.is_contiguous()
    got = stack([fortran, fortran])
    assert torch.equal(got, torch.stack([fortran.resolve_conj()] * 2))
