"""``Image.to_gif`` (Pillow) and ``Image.to_video`` (ffmpeg): sweeps through the slices.

Frames are the slices met when moving through the body in an anatomical
direction, each shown as the matching radiological view (see
:data:`._geometry.SWEEPS`), whatever the voxel order of the file.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..data.extras import require
from ._geometry import arrange, orientation_of, sweep_codes

if TYPE_CHECKING:
    from ..data.image import Image

#: ``progress(done, total)``, called after each frame is encoded.
Progress = Callable[[int, int], None]

# GIF delays are stored in hundredths of a second, and browsers play delays
# under 20 ms at about 100 ms, so shorter frames would play slower, not faster.
_GIF_MIN_FRAME_MS = 20


def sweep_volume(image: Image, direction: str) -> npt.NDArray[Any]:
    """All voxels as ``(C, frames, rows, cols)`` in the order a sweep shows them."""
    codes = sweep_codes(direction)
    orientation = orientation_of(image)
    return np.ascontiguousarray(arrange(image.numpy(), orientation, codes))


def _min_max_bytes(volume: npt.NDArray[Any]) -> npt.NDArray[np.uint8]:
    """Intensities stretched linearly to 0-255 (min to 0, max to 255), truncated as TorchIO."""
    values = volume.astype(np.float32)
    low, high = float(values.min()), float(values.max())
    if high > low:
        values = (values - low) / (high - low) * 255.0
    else:
        values = values - low
    return np.clip(values, 0, 255).astype(np.uint8)


def _plain_bytes(volume: npt.NDArray[Any]) -> npt.NDArray[np.uint8]:
    """Values cast to bytes (what ``tensor.byte()`` gives for values in 0-255)."""
    clipped: npt.NDArray[Any] = np.clip(volume, 0, 255)
    return clipped.astype(np.uint8)


def _is_scalar(image: Image) -> bool:
    from ..data.image import LabelMap

    return not isinstance(image, LabelMap)


def _frame_ms(seconds: float, frames: int) -> int:
    if seconds <= 0:
        raise ValueError(f"seconds must be positive, got {seconds}")
    duration = max(round(seconds / frames * 100) * 10, _GIF_MIN_FRAME_MS)
    actual = duration * frames / 1000
    if abs(actual - seconds) > 0.5 * seconds / frames:
        warnings.warn(
            f"GIF frame delays are multiples of 10 ms (at least {_GIF_MIN_FRAME_MS} ms), so "
            f"{frames} frames last {actual:.2f} s instead of {seconds:.2f} s",
            RuntimeWarning,
            stacklevel=3,
        )
    return duration


def make_gif(
    image: Image,
    output_path: str | os.PathLike[str],
    *,
    seconds: float = 5.0,
    direction: str = "I",
    loop: int = 0,
    optimize: bool = True,
    rescale: bool = True,
    reverse: bool = False,
    progress: Progress | None = None,
) -> None:
    """Write an animated GIF of the slices met sweeping in ``direction``.

    Args:
        image: A 1-channel image (grey frames) or a 3-channel one (RGB frames).
        output_path: The ``.gif`` file.
        seconds: Length of the whole animation.
        direction: Where the sweep goes: ``"I"`` (head to feet, axial
            frames), ``"S"``, ``"A"``, ``"P"`` (coronal), ``"R"``, ``"L"`` (sagittal).
        loop: Times to play (0: forever).
        optimize: Let Pillow shrink the palette.
        rescale: Stretch a scalar image's intensities to 0-255 (label maps
            are written as they are).
        reverse: Play the frames backwards.
        progress: Called as ``progress(done, total)`` while frames are made.

    Raises:
        ImportError: Pillow is missing (``pip install tioxide[video]``).
        ValueError: A bad direction, or a channel count other than 1 or 3.
    """
    pil = require("PIL.Image", "video", package="Pillow", purpose="Writing GIFs")
    volume = sweep_volume(image, direction)
    channels = volume.shape[0]
    if channels not in (1, 3):
        raise ValueError(f"GIF frames need 1 or 3 channels, the image has {channels}")
    pixels = _min_max_bytes(volume) if rescale and _is_scalar(image) else _plain_bytes(volume)
    total = pixels.shape[1]
    frames = []
    for n in range(total):
        if channels == 1:
            frame = pil.fromarray(pixels[0, n]).convert("P")
        else:
            frame = pil.fromarray(np.ascontiguousarray(np.moveaxis(pixels[:, n], 0, -1)), "RGB")
        frames.append(frame)
        if progress is not None:
            progress(n + 1, total)
    if reverse:
        frames.reverse()
    frames[0].save(
        Path(output_path),
        format="GIF",
        save_all=True,
        append_images=frames[1:],
        optimize=optimize,
        duration=_frame_ms(seconds, total),
        loop=loop,
    )


def ffmpeg_executable() -> str:
    """The ``ffmpeg`` on PATH, else the one in the ``imageio-ffmpeg`` wheel.

    Raises:
        ImportError: Neither is there (``pip install tioxide[video]``).
    """
    found = shutil.which("ffmpeg")
    if found is not None:
        return found
    try:
        bundled = importlib.import_module("imageio_ffmpeg")
        return str(bundled.get_ffmpeg_exe())
    except (ImportError, RuntimeError):  # RuntimeError: a wheel without a binary
        raise ImportError(
            "Writing videos needs an ffmpeg executable: none is on PATH and the "
            "`imageio-ffmpeg` package is missing; install it with `pip install tioxide[video]`"
        ) from None


def make_video(
    image: Image,
    output_path: str | os.PathLike[str],
    *,
    seconds: float = 5.0,
    direction: str = "I",
    verbosity: str = "error",
    progress: Progress | None = None,
) -> None:
    """Write an H.264 MP4 of the slices met sweeping in ``direction``.

    Values outside 0-255 are stretched to that range (with a warning, as in
    TorchIO); odd frame sizes lose their last row or column, as H.264 with
    4:2:0 chroma needs even ones.

    Args:
        image: A single-channel image.
        output_path: The ``.mp4`` file.
        seconds: Length of the video.
        direction: Sweep direction, as for :func:`make_gif`.
        verbosity: ffmpeg's ``-loglevel``.
        progress: Called as ``progress(done, total)`` while frames are encoded.

    Raises:
        ImportError: ffmpeg-python or an ffmpeg executable is missing
            (``pip install tioxide[video]``).
        ValueError: Several channels, or a bad direction or duration.
        NotImplementedError: An output suffix other than ``.mp4``.
        RuntimeError: ffmpeg failed (its messages are included).
    """
    ffmpeg = require("ffmpeg", "video", package="ffmpeg-python", purpose="Writing videos")
    out = Path(output_path)
    if out.suffix.lower() != ".mp4":
        raise NotImplementedError(f"{out}: only .mp4 videos are written")
    if image.num_channels != 1:
        raise ValueError(
            f"Videos are made of single-channel images; this one has {image.num_channels}"
        )
    if seconds <= 0:
        raise ValueError(f"seconds must be positive, got {seconds}")
    executable = ffmpeg_executable()
    volume = sweep_volume(image, direction)[0]
    if volume.min() < 0 or volume.max() > 255:
        warnings.warn(
            "Intensities outside [0, 255] are rescaled to [0, 255] for the video",
            RuntimeWarning,
            stacklevel=2,
        )
        pixels = _min_max_bytes(volume)
    else:
        pixels = _plain_bytes(volume)
    total, height, width = pixels.shape
    pixels = np.ascontiguousarray(pixels[:, : height - height % 2, : width - width % 2])
    total, height, width = pixels.shape
    if height == 0 or width == 0:
        raise ValueError(f"Frames of {height} x {width} pixels are too small for a video")
    command = (
        ffmpeg.input(
            "pipe:",
            format="rawvideo",
            pix_fmt="gray",
            s=f"{width}x{height}",
            framerate=total / seconds,
        )
        .output(
            str(out),
            vcodec="libx264",
            pix_fmt="yuv420p",
            movflags="+faststart",
            # The baseline profile plays in every browser and in Jupyter.
            profile="baseline",
            level="3.0",
            loglevel=verbosity,
        )
        .overwrite_output()
        .compile(cmd=executable)
    )
    # ffmpeg's messages go to a file, not a pipe: a full pipe nobody reads
    # while frames are written would block ffmpeg and then us.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=log)
        assert process.stdin is not None
        try:
            for n in range(total):
                process.stdin.write(pixels[n].tobytes())
                if progress is not None:
                    progress(n + 1, total)
            process.stdin.close()
        except BrokenPipeError:
            pass
        status = process.wait()
        if status != 0:
            log.seek(0)
            message = log.read().decode(errors="replace").strip()
            raise RuntimeError(f"{out}: ffmpeg failed (exit status {status}): {message}")
