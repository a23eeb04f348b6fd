"""A small PNG of one slice, for the HTML shown by Jupyter (needs Pillow only)."""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ._geometry import VIEWS, axis_of, orientation_of, view_plane
from ._window import percentile_window

if TYPE_CHECKING:
    from ..data.image import Image

_AXIAL = VIEWS[2]


def _grey(plane: npt.NDArray[Any], label: bool) -> npt.NDArray[np.uint8]:
    values = plane.astype(np.float64)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.zeros(plane.shape, np.uint8)
    if label:
        low, high = 0.0, max(float(finite.max()), 1.0)
    else:
        low, high = percentile_window([finite], (0.5, 99.5)) or (0.0, 0.0)
    if high <= low:
        return np.zeros(plane.shape, np.uint8)
    scaled = (np.nan_to_num(values, nan=low) - low) / (high - low) * 255.0
    return np.clip(scaled, 0, 255).astype(np.uint8)


def thumbnail_png(image: Image, size: int = 128) -> bytes:
    """PNG bytes of the middle axial slice of the first channel, ``size`` pixels at most.

    Only that slice is read from an image not yet loaded. Pixels keep the
    voxels' physical proportions.

    Raises:
        ImportError: Pillow is missing.
    """
    from PIL import Image as PILImage

    from ..data.image import LabelMap

    orientation = orientation_of(image)
    indices = tuple(n // 2 for n in image.spatial_shape)
    plane = view_plane(image, _AXIAL, 0, (indices[0], indices[1], indices[2]), orientation)
    picture = PILImage.fromarray(_grey(plane, isinstance(image, LabelMap)))
    row_spacing = image.spacing[axis_of(orientation, "AP")]
    col_spacing = image.spacing[axis_of(orientation, "LR")]
    height_mm, width_mm = plane.shape[0] * row_spacing, plane.shape[1] * col_spacing
    scale = size / max(height_mm, width_mm)
    shape = (max(1, round(width_mm * scale)), max(1, round(height_mm * scale)))
    resample = PILImage.Resampling.NEAREST if isinstance(image, LabelMap) else None
    picture = picture.resize(shape, resample=resample or PILImage.Resampling.BILINEAR)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def thumbnail_html(image: Image) -> str | None:
    """An ``<img>`` tag with the thumbnail inline, or None when it cannot be made.

    Never raises: the HTML of an image must show even when Pillow is missing
    or the voxels cannot be read.
    """
    try:
        png = thumbnail_png(image)
    except Exception:
        return None
    encoded = base64.b64encode(png).decode("ascii")
    return f'<img class="tio-thumbnail" alt="axial slice" src="data:image/png;base64,{encoded}" />'
