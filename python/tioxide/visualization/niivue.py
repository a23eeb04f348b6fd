"""``Image.plot_interactive``: a NiiVue viewer widget for notebooks (the ``niivue`` extra)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..data.extras import require

if TYPE_CHECKING:
    from ..data.image import Image


def niivue_widget(image: Image, *, height: int = 300) -> Any:
    """An ``ipyniivue.NiiVue`` widget showing the image (radiological convention).

    The image is written as NIfTI bytes and handed to the widget, so no
    temporary file outlives the call. A single-channel image is written 3D.

    Raises:
        ImportError: ipyniivue is missing (``pip install tioxide[niivue]``).
    """
    nv = require("ipyniivue", "niivue", purpose="Interactive plotting")
    name = "image.nii.gz"
    with tempfile.TemporaryDirectory(prefix="tioxide-niivue-") as folder:
        path = Path(folder) / name
        image.save(path)
        data = path.read_bytes()
    widget = nv.NiiVue(height=height)
    widget.opts.is_radiological_convention = True
    widget.add_volume(nv.Volume(data=data, name=name))
    return widget
