"""``HistogramStandardization``: map intensity percentiles to trained landmarks (Nyúl and Udupa)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor

from ...data.image import ScalarImage
from ...data.subject import Subject
from ..transform import IntensityTransform, replace_image

DEFAULT_CUTOFF: tuple[float, float] = (0.01, 0.99)
STANDARD_RANGE: tuple[float, float] = (0.0, 100.0)
_DEFAULT_QUANTILES = (0.01, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 0.99)


def _quantiles(cutoff: tuple[float, float]) -> tuple[float, ...]:
    return tuple(sorted({*_DEFAULT_QUANTILES, cutoff[0], cutoff[1]}))


def compute_histogram_landmarks(
    images: Sequence[ScalarImage | Path | str],
    *,
    quantiles: Sequence[float] | None = None,
    cutoff: tuple[float, float] = DEFAULT_CUTOFF,
    masking_method: Callable[[Tensor], Tensor] | None = None,
) -> Tensor:
    """Landmarks for :class:`HistogramStandardization`, from training images.

    Each image's percentiles are mapped linearly so that its cutoff
    percentiles span ``[0, 100]``; the landmarks are the averages.

    Raises:
        ValueError: Fewer than 2 quantiles, quantiles outside [0, 1], or
            cutoffs that are not among the quantiles.
    """
    chosen = _quantiles(cutoff) if quantiles is None else tuple(sorted(set(quantiles)))
    if len(chosen) < 2:
        raise ValueError(f"Need at least 2 quantiles, got {len(chosen)}")
    if any(q < 0 or q > 1 for q in chosen):
        raise ValueError("All quantiles must be in [0, 1]")
    if cutoff[0] not in chosen or cutoff[1] not in chosen:
        raise ValueError(
            f"Cutoff values {cutoff} must be included in quantiles. Got quantiles: {chosen}"
        )
    percentiles = [100.0 * q for q in chosen]
    rows = []
    for source in images:
        tensor = source.data if isinstance(source, ScalarImage) else ScalarImage(source).data
        mask = (
            torch.ones_like(tensor, dtype=torch.bool)
            if masking_method is None
            else (masking_method(tensor))
        )
        rows.append(np.percentile(tensor[mask].numpy(), percentiles))
    database = np.vstack(rows)
    low, high = STANDARD_RANGE
    slopes = np.nan_to_num((high - low) / (database[:, -1] - database[:, 0]))
    intercept = float(np.mean(low - slopes * database[:, 0]))
    mapping: npt.NDArray[np.float64] = slopes @ database / len(database) + intercept
    return torch.as_tensor(mapping, dtype=torch.float32)


def _load_landmarks(source: Tensor | Path | str) -> Tensor:
    if isinstance(source, Tensor):
        return source.float()
    path = Path(source)
    if path.suffix == ".npy":
        return torch.as_tensor(np.load(path), dtype=torch.float32)
    if path.suffix in (".pt", ".pth"):
        data = torch.load(path, weights_only=True)
        if isinstance(data, Tensor):
            return data.float()
        raise TypeError(f"Expected a Tensor in {path}, got {type(data).__name__}")
    raise ValueError(f"Unsupported landmarks file extension: {path.suffix}")


def standardize_histogram(tensor: Tensor, landmarks: Tensor, cutoff: tuple[float, float]) -> Tensor:
    """Piecewise-linear map of the tensor's percentiles onto ``landmarks`` (float32).

    Raises:
        ValueError: The landmarks do not match the quantiles of ``cutoff``.
    """
    percentiles = [100.0 * q for q in _quantiles(cutoff)]
    if len(landmarks) != len(percentiles):
        raise ValueError(
            f"Number of landmarks ({len(landmarks)}) does not match the number of quantile"
            f" positions ({len(percentiles)}). Ensure the same quantile scheme was used for"
            " training."
        )
    data = tensor.float()
    flat = data.reshape(-1)
    found = torch.as_tensor(
        np.percentile(flat.cpu().numpy(), percentiles), dtype=torch.float32, device=data.device
    )
    targets = landmarks.to(data.device)
    steps = torch.diff(found)
    # Flat stretches of the histogram map to one value (no division by ~0).
    steps = torch.where(steps.abs() < 1e-05, torch.tensor(float("inf"), device=data.device), steps)
    slopes = torch.diff(targets) / steps
    intercepts = targets[:-1] - slopes * found[:-1]
    bins = torch.bucketize(flat, found[1:-1], right=False)
    return (slopes[bins] * flat + intercepts[bins]).reshape(data.shape)


class HistogramStandardization(IntensityTransform):
    """Standardize histograms to landmarks from :func:`compute_histogram_landmarks`.

    The result keeps the image's dtype (as TorchIO writes it into the input's tensor).

    Args:
        landmarks: A tensor, or a ``.npy``/``.pt``/``.pth`` file holding one.
        cutoff: The quantiles the landmarks were computed with.
        **kwargs: See :class:`~tioxide.transforms.Transform`.

    Raises:
        ValueError: A landmarks file of another kind.
        TypeError: A ``.pt`` file that holds no tensor.
    """

    def __init__(
        self,
        landmarks: Tensor | Path | str,
        *,
        cutoff: tuple[float, float] = DEFAULT_CUTOFF,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.landmarks = _load_landmarks(landmarks)
        self.cutoff = cutoff

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        for name, image in self._get_images(subject).items():
            data = image.data
            standardized = standardize_histogram(data, self.landmarks, self.cutoff)
            replace_image(subject, name, image.new_like(data=standardized.to(data.dtype)))
        return subject
