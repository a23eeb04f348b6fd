"""Padding modes and padding of image tensors (TorchIO 2's modes, including statistics)."""

from __future__ import annotations

import warnings
from typing import Literal, get_args

import torch
from torch import Tensor

from .._statistics import compute_quantile

PaddingMode = Literal["constant", "reflect", "replicate", "circular", "mean", "median", "minimum"]

PADDING_MODES: tuple[str, ...] = get_args(PaddingMode)
_STATISTICS = ("mean", "median", "minimum")


def parse_padding_mode(padding_mode: str) -> PaddingMode:
    """Check a padding mode.

    Raises:
        ValueError: An unknown mode.
    """
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"padding_mode must be one of {PADDING_MODES}, got {padding_mode!r}")
    return padding_mode  # type: ignore[return-value]


def six_ints(value: object, what: str) -> tuple[int, int, int, int, int, int]:
    """A padding or cropping as ``(i_ini, i_fin, j_ini, j_fin, k_ini, k_fin)``.

    Args:
        value: One int (every side), three (per axis, both sides) or six.
        what: The argument's name, for errors.

    Raises:
        ValueError: Another number of values, or a negative value.
        TypeError: Values that are not integers.
    """
    if isinstance(value, int):
        values = [value] * 6
    else:
        try:
            values = list(value)  # type: ignore[call-overload]
        except TypeError:
            raise TypeError(f"{what} must be an int or a sequence of ints, got {value!r}") from None
        if len(values) == 3:
            values = [v for v in values for _ in range(2)]
        elif len(values) != 6:
            raise ValueError(f"{what.capitalize()} must have 1, 3, or 6 values, got {len(values)}")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int):
            raise TypeError(f"{what} values must be integers, got {value!r}")
        if v < 0:
            raise ValueError(f"{what} values must be non-negative, got {value!r}")
    return (values[0], values[1], values[2], values[3], values[4], values[5])


def _statistic(data: Tensor, mode: str) -> Tensor:
    """The one fill value of ``mode``, over all voxels and channels."""
    flat = data.reshape(-1)
    if mode == "minimum":
        return flat.min()
    if not torch.is_floating_point(data):
        warnings.warn(
            f'The constant value computed for padding mode "{mode}" might be truncated in'
            " the output, as the data type of the input image is not float. Consider"
            " converting the image to a floating point type before applying this transform.",
            RuntimeWarning,
            stacklevel=5,
        )
    values = flat if data.dtype in (torch.float32, torch.float64) else flat.float()
    value = values.mean() if mode == "mean" else compute_quantile(values, 0.5)
    return value.to(data.dtype)


def pad_tensor(
    data: Tensor, padding: tuple[int, int, int, int, int, int], mode: str, fill: float
) -> Tensor:
    """Pad the spatial axes of a ``(C, I, J, K)`` tensor.

    Args:
        data: The tensor.
        padding: ``(i_ini, i_fin, j_ini, j_fin, k_ini, k_fin)``.
        mode: A :data:`PaddingMode`.
        fill: The value for ``"constant"``.
    """
    i0, i1, j0, j1, k0, k1 = padding
    torch_padding = [k0, k1, j0, j1, i0, i1]
    batch = data.unsqueeze(0)  # torch pads (N, C, D, H, W) in every mode
    if mode == "constant":
        return torch.nn.functional.pad(batch, torch_padding, value=fill)[0]
    if mode not in _STATISTICS:
        # fill only concerns constant padding (torch refuses a value with other modes).
        return torch.nn.functional.pad(batch, torch_padding, mode=mode)[0]
    value = _statistic(data, mode)
    padded = torch.nn.functional.pad(batch, torch_padding)[0]
    inside = torch.nn.functional.pad(
        torch.ones((1, 1, *data.shape[1:]), dtype=torch.bool, device=data.device), torch_padding
    )[0]
    return torch.where(inside, padded, value)
