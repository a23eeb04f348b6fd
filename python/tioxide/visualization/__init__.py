"""Pictures of images: orthogonal views, GIFs, videos, a NiiVue widget, HTML thumbnails.

Each needs an extra: ``plot`` (matplotlib) for :func:`plot_image` and
:func:`plot_subject`, ``video`` (Pillow, ffmpeg-python, imageio-ffmpeg) for
:func:`make_gif` and :func:`make_video`, ``niivue`` (ipyniivue) for
:func:`niivue_widget`. A missing one raises an ImportError naming the
``pip install`` to run.
"""

from __future__ import annotations

from .animation import ffmpeg_executable, make_gif, make_video
from .niivue import niivue_widget
from .plot import plot_image, plot_subject
from .thumbnail import thumbnail_html, thumbnail_png

__all__ = [
    "ffmpeg_executable",
    "make_gif",
    "make_video",
    "niivue_widget",
    "plot_image",
    "plot_subject",
    "thumbnail_html",
    "thumbnail_png",
]
