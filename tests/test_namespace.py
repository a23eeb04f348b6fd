"""``import tioxide as tio`` offers every public name TorchIO 2.0.0a2's
namespace has, and its logging switch works."""

from __future__ import annotations

import logging
import subprocess
import sys
import typing

import pytest
import torch
import torchio

import tioxide

# Names TorchIO offers that tioxide does not, with the reason.
NOT_OFFERED: dict[str, str] = {}


def _torchio_names() -> list[str]:
    """TorchIO's namespace right after ``import torchio`` (in this process,
    submodules other tests imported appear in it too)."""
    code = "import torchio; print(' '.join(dir(torchio)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return out.stdout.split()


def test_every_public_torchio_name_is_here() -> None:
    missing = []
    for name in _torchio_names():
        if name.startswith("_") or name in NOT_OFFERED:
            continue
        try:
            getattr(tioxide, name)
        except AttributeError:
            missing.append(name)
    assert missing == []
    assert set(torchio.__all__) - set(tioxide.__all__) <= set(NOT_OFFERED)


def test_type_aliases_annotate_like_torchio() -> None:
    for name in (
        "TypePath",
        "TypeSpacing",
        "TypeSpatialShape",
        "TypeTensorShape",
        "TypeOrigin",
        "TypeOrientationCodes",
    ):
        assert getattr(tioxide, name) == getattr(torchio, name), name

    def takes(path: tioxide.TypePath, spacing: tioxide.TypeSpacing) -> None: ...

    hints = typing.get_type_hints(takes)
    assert hints["spacing"] == tuple[float, float, float]
    # The tensor aliases carry shapes through jaxtyping, as TorchIO's do.
    assert "4 4" in str(tioxide.TypeAffineMatrix)


def test_submodules_are_attributes_and_import_stays_light() -> None:
    code = (
        "import sys, tioxide\n"
        "assert 'torch' not in sys.modules\n"
        "assert tioxide.logging.enable_logging is tioxide.enable_logging\n"
        "assert 'torch' not in sys.modules\n"
        "import types\n"
        "for n in ('io', 'types', 'loader', 'external', 'data', 'transforms'):\n"
        "    assert isinstance(getattr(tioxide, n), types.ModuleType), n\n"
        "assert tioxide.version('tioxide') == tioxide.__version__\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_logging_is_silent_until_enabled(capsys: pytest.CaptureFixture[str]) -> None:
    subject = tioxide.Subject(t1=tioxide.ScalarImage(torch.rand(1, 6, 6, 6)))
    crop = tioxide.CropOrPad((4, 4, 4), units="mm")
    crop(subject)
    assert capsys.readouterr().err == ""
    try:
        tioxide.enable_logging("DEBUG", rich=False)
        crop(subject)
        err = capsys.readouterr().err
        assert "CropOrPad target" in err and "-> (4, 4, 4) voxels" in err
        tioxide.enable_logging("WARNING", rich=False)  # replaces the handler
        crop(subject)
        assert capsys.readouterr().err == ""
        with pytest.raises(ValueError, match="unknown log level 'LOUD'"):
            tioxide.enable_logging("LOUD")
    finally:
        logger = logging.getLogger("tioxide")
        for handler in list(logger.handlers):
            if not isinstance(handler, logging.NullHandler):
                logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
