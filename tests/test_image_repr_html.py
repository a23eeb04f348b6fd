"""_repr_html_ of images and subjects, equal to torchio 2.0.0a2's tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
import torch
import torchio

import tioxide
from tioxide.data.repr_html import THUMBNAIL_OPEN

OBLIQUE = np.array(
    [
        [0.9, -0.3, 0.1, -90.25],
        [0.35, 1.8, -0.2, 12.5],
        [-0.05, 0.25, 2.9, -40.125],
        [0.0, 0.0, 0.0, 1.0],
    ]
)


def tables(html: str) -> str:
    """The HTML up to any plot TorchIO appends when matplotlib is installed."""
    return html.split("\n<img ", maxsplit=1)[0]


def without_thumbnail(html: str) -> str:
    """tioxide's HTML with the thumbnail and the box that holds it beside the table removed."""
    if THUMBNAIL_OPEN not in html:
        return html
    html = html.replace(THUMBNAIL_OPEN + "\n", "", 1)
    assert html.endswith("\n</div>")
    return html.split('\n<img class="tio-thumbnail"', maxsplit=1)[0]


def build(tio: Any, path: Path) -> Any:
    points = tio.Points(torch.zeros(2, 3), axes="RAS")
    boxes = tio.BoundingBoxes(torch.zeros(1, 6), format=tio.BoundingBoxFormat("LPS", "center_size"))
    return tio.Subject(
        t1=tio.ScalarImage(path, points={"a<b": points}),
        seg=tio.LabelMap(
            torch.ones(3, 4, 5, 6, dtype=torch.uint8),
            affine=OBLIQUE,
            bounding_boxes={"one": tio.BoundingBoxes(torch.ones(1, 6), format=boxes.format)},
        ),
        landmarks=points,
        single=tio.Points(torch.zeros(1, 3)),
        tumours=boxes,
        age=45,
        note="<b>&</b>",
    )


@pytest.fixture
def nii(tmp_path: Path) -> Path:
    path = tmp_path / "t1.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((4, 5, 6), np.float32), OBLIQUE), path)
    return path


def test_image_html_equals_torchio(nii: Path) -> None:
    ours, theirs = build(tioxide, nii), build(torchio, nii)
    for name in ("t1", "seg"):
        html = ours[name]._repr_html_()
        assert without_thumbnail(html) == tables(theirs[name]._repr_html_())
        assert 'src="data:image/png;base64,' in html
        assert "<table" in html
    assert "a&lt;b" in ours.t1._repr_html_()
    assert not ours.t1.is_loaded, "the table needs the header only"


def test_subject_html_equals_torchio(nii: Path) -> None:
    ours, theirs = build(tioxide, nii), build(torchio, nii)
    html = ours._repr_html_()
    assert html == tables(theirs._repr_html_())
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in html and "2 points" in html and "1 point<" in html
    only_metadata = tioxide.Subject(age=1)
    assert only_metadata._repr_html_() == tables(torchio.Subject(age=1)._repr_html_())


def test_unreadable_images_show_their_path(tmp_path: Path) -> None:
    missing = tmp_path / "missing.nii.gz"
    html = tioxide.ScalarImage(missing)._repr_html_()
    assert "<img" not in html, "no thumbnail for voxels that cannot be read"
    assert html == tables(torchio.ScalarImage(missing)._repr_html_())
    assert f"<tr><th>Path</th><td>{missing}</td></tr>" in html
    subject = tioxide.Subject(t1=tioxide.ScalarImage(missing))
    assert subject._repr_html_() == tables(
        torchio.Subject(t1=torchio.ScalarImage(missing))._repr_html_()
    )
