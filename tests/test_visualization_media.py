"""to_gif and to_video: frames decoded back (Pillow, ffmpeg) and checked against the phantom.

A sweep in direction D shows frames in the order met moving towards D, each
frame the radiological view across D (see tioxide.visualization._geometry.SWEEPS,
which follows TorchIO's "IPL", "SPL", "AIL", "PIL", "RIP", "LIP"). The
phantom's bright block is at the right-anterior-superior corner, so along a
frame, row or column axis whose index grows towards R, A or S it is at the
far end, otherwise at the near end.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch
import torchio
from PIL import Image as PILImage

import tioxide as tio
from tioxide.visualization import ffmpeg_executable, make_gif
from visualization_helpers import (
    ORIENTATIONS,
    bright_box,
    expected_span,
    video_frames,
    write_phantom,
)

# Sweep direction -> index directions of (frames, rows, columns), independent of the code.
SWEEPS = {
    "I": "IPL",
    "S": "SPL",
    "A": "AIL",
    "P": "PIL",
    "R": "RIP",
    "L": "LIP",
}
SIZE = {"R": 20, "L": 20, "A": 16, "P": 16, "S": 24, "I": 24}


@pytest.fixture(scope="module")
def phantoms(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("media")
    return {name: write_phantom(folder, name) for name in ORIENTATIONS}


def gif_frames(path: Path) -> np.ndarray:
    with PILImage.open(path) as gif:
        frames = []
        for n in range(gif.n_frames):
            gif.seek(n)
            frames.append(np.asarray(gif.convert("L")))
    return np.stack(frames)


def check_block(frames: np.ndarray, direction: str) -> None:
    """The bright block is where the sweep's display codes put it, along all three axes."""
    codes = SWEEPS[direction]
    assert frames.shape == (SIZE[codes[0]], SIZE[codes[1]], SIZE[codes[2]])
    bright = frames > 128
    lit = np.nonzero(bright.any(axis=(1, 2)))[0]
    first, last = expected_span(codes[0])
    assert lit.min() / len(frames) == pytest.approx(first, abs=0.05)
    assert (lit.max() + 1) / len(frames) == pytest.approx(last, abs=0.05)
    top, bottom, left, right = bright_box(frames.max(axis=0))
    assert (top, bottom) == pytest.approx(expected_span(codes[1]), abs=0.07)
    assert (left, right) == pytest.approx(expected_span(codes[2]), abs=0.07)


@pytest.mark.parametrize("direction", list(SWEEPS))
@pytest.mark.parametrize("name", list(ORIENTATIONS))
def test_gif_frames_put_the_block_where_the_direction_says(phantoms, tmp_path, name, direction):
    out = tmp_path / "sweep.gif"
    assert tio.ScalarImage(phantoms[name]).to_gif(out, direction=direction, seconds=2.4) is None
    frames = gif_frames(out)
    check_block(frames, direction)
    # Rescaled to the full byte range.
    assert frames.max() == 255 and frames.min() == 0


@pytest.mark.parametrize("direction", ["I", "s", "R", "a"])
def test_gif_frames_equal_across_voxel_orders_and_torchio(phantoms, tmp_path, direction):
    ours = []
    for name in ORIENTATIONS:
        out = tmp_path / f"{name}.gif"
        tio.ScalarImage(phantoms[name]).to_gif(out, direction=direction)
        ours.append(gif_frames(out))
    for other in ours[1:]:
        np.testing.assert_array_equal(other, ours[0])
    theirs = tmp_path / "torchio.gif"
    torchio.ScalarImage(phantoms["LPS"]).to_gif(theirs, direction=direction)
    reference = gif_frames(theirs)
    assert reference.shape == ours[0].shape
    assert np.abs(reference.astype(int) - ours[0]).max() <= 1


def test_gif_options(phantoms, tmp_path):
    image = tio.ScalarImage(phantoms["RAS"])
    forward, backward = tmp_path / "f.gif", tmp_path / "b.gif"
    image.to_gif(forward, seconds=4.8, loop=3)
    image.to_gif(backward, seconds=4.8, reverse=True)
    np.testing.assert_array_equal(gif_frames(backward), gif_frames(forward)[::-1])
    with PILImage.open(forward) as gif:
        assert gif.info["duration"] == 200  # 4.8 s over 24 frames
        assert gif.info["loop"] == 3
    raw = tmp_path / "raw.gif"
    image.to_gif(raw, rescale=False)
    # Without rescaling, values are clipped to bytes: the ramp keeps its values.
    data = image.numpy()[0]
    assert gif_frames(raw).max() == 255 and gif_frames(raw).min() == int(data.min())
    with pytest.warns(RuntimeWarning, match="10 ms"):
        image.to_gif(tmp_path / "short.gif", seconds=0.1)
    with pytest.raises(ValueError, match="direction"):
        image.to_gif(tmp_path / "bad.gif", direction="X")
    with pytest.raises(ValueError, match="output_path is required"):
        image.to_gif()


def test_gif_of_three_channels_is_rgb(tmp_path):
    data = torch.zeros(3, 4, 6, 8)
    data[0, :2] = 1.0  # red in the left half of x (voxel i = 0, 1: the patient's left side)
    data[2, 2:] = 1.0  # blue on the right side
    out = tmp_path / "rgb.gif"
    tio.ScalarImage(data).to_gif(out)
    with PILImage.open(out) as gif:
        frame = np.asarray(gif.convert("RGB"))
    # Axial frames: the patient's right (i = 3) on the left of the picture.
    assert tuple(frame[0, 0]) == (0, 0, 255)
    assert tuple(frame[0, -1]) == (255, 0, 0)
    with pytest.raises(ValueError, match="1 or 3 channels"):
        tio.ScalarImage(torch.zeros(2, 4, 4, 4)).to_gif(tmp_path / "two.gif")


@pytest.mark.parametrize("direction", list(SWEEPS))
@pytest.mark.parametrize("name", ["RAS", "LPS", "SLA"])
def test_video_frames_put_the_block_where_the_direction_says(phantoms, tmp_path, name, direction):
    out = tmp_path / "sweep.mp4"
    with pytest.warns(RuntimeWarning, match="rescaled"):
        assert tio.ScalarImage(phantoms[name]).to_video(out, direction=direction) is None
    codes = SWEEPS[direction]
    frames = video_frames(out).reshape(-1, SIZE[codes[1]], SIZE[codes[2]])
    check_block(frames, direction)


def test_video_crops_odd_frames_and_keeps_bytes(tmp_path):
    data = np.zeros((7, 10, 5), np.uint8)  # R-L 7, A-P 10, S-I 5: axial frames 10 x 7
    data[:3, 5:] = 200  # RAS file: i < 3 is the patient's left, j >= 5 anterior
    path = tmp_path / "odd.nii"
    nib.save(nib.Nifti1Image(data, np.eye(4)), path)
    out = tmp_path / "odd.mp4"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # values within 0-255: no rescaling warning
        tio.ScalarImage(path).to_video(out, seconds=1)
    frames = video_frames(out).reshape(5, 10, 6)
    # Rows: anterior (j = 9) first; columns: right (i = 6) first, so i = 2, 1 are
    # columns 4, 5 and i = 0 (column 6) is cropped. Values are kept, not stretched.
    assert abs(frames[:, :5, 4:].mean() - 200) < 5
    assert frames[:, 5:].max() < 20 and frames[:, :, :4].max() < 20


def test_video_refusals(phantoms, tmp_path, monkeypatch):
    image = tio.ScalarImage(phantoms["RAS"])
    with pytest.raises(NotImplementedError, match=".mp4"):
        image.to_video(tmp_path / "out.avi")
    with pytest.raises(ValueError, match="single-channel"):
        tio.ScalarImage(torch.zeros(2, 4, 4, 4)).to_video(tmp_path / "two.mp4")
    with pytest.raises(ValueError, match="output_path is required"):
        image.to_video()
    monkeypatch.setitem(sys.modules, "ffmpeg", None)
    with pytest.raises(ImportError, match=r"pip install tioxide\[video\]"):
        image.to_video(tmp_path / "out.mp4")


def test_ffmpeg_comes_from_path_or_the_imageio_wheel(monkeypatch):
    import shutil

    import imageio_ffmpeg

    monkeypatch.setattr(
        shutil, "which", lambda name: "/usr/bin/ffmpeg" if name == "ffmpeg" else None
    )
    assert ffmpeg_executable() == "/usr/bin/ffmpeg"
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert ffmpeg_executable() == imageio_ffmpeg.get_ffmpeg_exe()
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)
    with pytest.raises(ImportError, match=r"pip install tioxide\[video\]"):
        ffmpeg_executable()


def test_missing_pillow_names_the_extra(phantoms, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r"pip install tioxide\[video\]"):
        tio.ScalarImage(phantoms["RAS"]).to_gif(tmp_path / "x.gif")


def test_progress_is_reported_per_frame(phantoms, tmp_path):
    seen: list[tuple[int, int]] = []
    make_gif(
        tio.ScalarImage(phantoms["RAS"]),
        tmp_path / "p.gif",
        progress=lambda d, t: seen.append((d, t)),
    )
    assert seen == [(n, 24) for n in range(1, 25)]


def test_in_jupyter_media_go_to_temporary_files_and_show_inline(phantoms, monkeypatch):
    from IPython.display import Image as IPyImage
    from IPython.display import Video

    from tioxide.visualization import _notebook

    monkeypatch.setattr(_notebook, "in_jupyter", lambda: True)
    image = tio.ScalarImage(phantoms["RAS"])
    shown = image.to_gif()
    assert isinstance(shown, IPyImage) and shown.data[:6] == b"GIF89a"
    with pytest.warns(RuntimeWarning):
        video = image.to_video()
    assert isinstance(video, Video) and "<video" in video._repr_html_()
