"""`tioxide plot`, `tioxide animate` and `tioxide convert`: outputs checked, errors one line."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk
from PIL import Image as PILImage

from tioxide import cli
from visualization_helpers import bright_box, video_frames, write_phantom


@pytest.fixture(scope="module")
def phantom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_phantom(tmp_path_factory.mktemp("cli"), "LPS")


def one_line_error(capsys: pytest.CaptureFixture[str], *names: str) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("tioxide: error: "), err
    for name in names:
        assert name in err
    return err


def test_plot_writes_the_three_views(phantom, tmp_path, capsys):
    out = tmp_path / "views.png"
    assert cli.main(["plot", str(phantom), "-o", str(out), "--indices", "2", "3", "20"]) == 0
    assert str(out) in capsys.readouterr().out
    picture = np.asarray(PILImage.open(out).convert("L"))
    assert picture.shape == (960, 1280)  # the default size, doubled, at 100 dpi
    # LPS file, indices (2, 3, 20) = world (17, 24, 30) mm, inside the block.
    assert (picture > 200).mean() > 0.02


def test_plot_options(phantom, tmp_path, capsys):
    labels = tmp_path / "labels.nii"
    data, affine = nib.load(phantom).get_fdata(), nib.load(phantom).affine
    nib.save(nib.Nifti1Image((data > 500).astype(np.uint8), affine), labels)
    out = tmp_path / "overlay.png"
    args = ["plot", str(phantom), "-o", str(out), "--overlay", str(labels), "--dpi", "50"]
    assert cli.main([*args, "--voxels", "--title", "T"]) == 0
    picture = np.asarray(PILImage.open(out).convert("RGB")).astype(int)
    assert picture.shape[:2] == (480, 640)
    assert (np.ptp(picture, axis=2) > 40).any(), "the overlay colours some pixels"
    out_labels = tmp_path / "labels.png"
    assert cli.main(["plot", str(labels), "--label", "-o", str(out_labels)]) == 0


@pytest.mark.parametrize("axis", ["I", "r", "A"])
def test_animate_gif_along_an_axis(phantom, tmp_path, capsys, axis):
    out = tmp_path / "sweep.gif"
    assert (
        cli.main(["animate", str(phantom), "-o", str(out), "--axis", axis, "--seconds", "2.4"]) == 0
    )
    assert capsys.readouterr().err == "", "2.4 s divides into whole 10 ms frame delays"
    with PILImage.open(out) as gif:
        frames = gif.n_frames
        gif.seek(frames - 1 if axis.upper() in "RAS" else 0)
        last = np.asarray(gif.convert("L"))
    assert frames == {"I": 24, "R": 20, "A": 16}[axis.upper()]
    # The block is in the frames at the R, A or S end of the sweep, at the top left.
    top, _, left, _ = bright_box(last)
    assert top == 0 and left == 0


def test_animate_mp4_and_direction_alias(phantom, tmp_path, capsys):
    out = tmp_path / "sweep.mp4"
    assert cli.main(["animate", str(phantom), "-o", str(out), "--direction", "S"]) == 0
    # The phantom's values exceed a byte: the rescaling warning is one plain line.
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("tioxide: warning: Intensities outside")
    assert len(video_frames(out)) == 24 * 16 * 20


def test_convert_between_formats(phantom, tmp_path, capsys):
    nrrd, back = tmp_path / "image.nrrd", tmp_path / "back.nii.gz"
    assert cli.main(["convert", str(phantom), str(nrrd)]) == 0
    assert cli.main(["convert", str(nrrd), str(back)]) == 0
    assert f"{phantom} -> {nrrd}" in capsys.readouterr().out
    original, roundtrip = nib.load(phantom), nib.load(back)
    np.testing.assert_array_equal(roundtrip.get_fdata(), original.get_fdata())
    np.testing.assert_allclose(roundtrip.affine, original.affine, atol=1e-6)
    assert sitk.ReadImage(str(nrrd)).GetSize() == original.shape


@pytest.mark.parametrize(
    "command",
    [
        ["plot", "{missing}", "-o", "{out}.png"],
        ["animate", "{missing}", "-o", "{out}.gif"],
        ["convert", "{missing}", "{out}.nii"],
    ],
)
def test_missing_files_fail_with_one_line(tmp_path, capsys, command):
    missing = tmp_path / "missing.nii"
    args = [a.format(missing=missing, out=tmp_path / "out") for a in command]
    assert cli.main(args) == 1
    one_line_error(capsys, "missing.nii")
    assert not list(tmp_path.glob("out*"))


@pytest.mark.parametrize("command", ["plot", "animate", "convert"])
def test_corrupt_files_and_unknown_formats_fail_with_one_line(tmp_path, capsys, command):
    corrupt = tmp_path / "corrupt.nii"
    corrupt.write_bytes(b"\x00not an image" * 40)
    unknown = tmp_path / "image.xyz"
    unknown.write_bytes(b"something")
    for source in (corrupt, unknown):
        out = tmp_path / "out.gif"
        args = (
            [command, str(source), str(out)]
            if command == "convert"
            else [command, str(source), "-o", str(out)]
        )
        if command == "plot":
            args[-1] = str(tmp_path / "out.png")
        assert cli.main(args) == 1
        one_line_error(capsys, source.name)


def test_unknown_output_formats_fail_with_one_line(phantom, tmp_path, capsys):
    for args, name in [
        (["plot", str(phantom), "-o", str(tmp_path / "x.abc")], "x.abc"),
        (["animate", str(phantom), "-o", str(tmp_path / "x.avi")], "x.avi"),
        (["convert", str(phantom), str(tmp_path / "x.abc")], "x.abc"),
    ]:
        assert cli.main(args) == 1
        one_line_error(capsys, name)
    assert not list(tmp_path.iterdir())


def test_bad_indices_fail_with_one_line(phantom, tmp_path, capsys):
    assert (
        cli.main(["plot", str(phantom), "-o", str(tmp_path / "x.png"), "--indices", "0", "0", "99"])
        == 1
    )
    one_line_error(capsys, phantom.name, "out of range")


def test_bad_axis_is_a_usage_error(phantom, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["animate", str(phantom), "-o", str(tmp_path / "x.gif"), "--axis", "Q"])
    assert exit_info.value.code == 2


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal(phantom, tmp_path, capsys, monkeypatch):
    assert cli.main(["animate", str(phantom), "-o", str(tmp_path / "a.gif")]) == 0
    assert capsys.readouterr().err == "", "no bar when stderr is not a terminal"
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert cli.main(["animate", str(phantom), "-o", str(tmp_path / "b.gif")]) == 0
    assert "animating" in terminal.getvalue()
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert cli.main(["convert", str(phantom), str(tmp_path / "c.nii.gz")]) == 0
    assert "converting" in terminal.getvalue()


def test_commands_run_as_a_program(phantom, tmp_path):
    missing = tmp_path / "nope.nii"
    result = subprocess.run(
        [sys.executable, "-m", "tioxide.cli", "plot", str(missing), "-o", str(tmp_path / "x.png")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "nope.nii" in result.stderr
    out = tmp_path / "ok.png"
    result = subprocess.run(
        [sys.executable, "-m", "tioxide.cli", "plot", str(phantom), "-o", str(out)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and out.exists()
