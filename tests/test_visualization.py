"""Image.plot, the HTML thumbnail and plot_interactive: pictures read back and checked.

The phantom (see visualization_helpers) has a bright block in the patient's
right-anterior-superior corner. In the radiological views tioxide draws, that
corner is at the top left of all three views: anterior on the left and
superior at the top of the sagittal view, right on the left of the coronal
(superior at the top) and axial (anterior at the top) views, whatever order
the file stores the voxels in.
"""

from __future__ import annotations

import base64
import io
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import nibabel as nib
import numpy as np
import pytest
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image as PILImage

import tioxide as tio
from read_spy import ReadSpy
from tioxide.visualization import plot_image, plot_subject
from tioxide.visualization.plot import label_colormap
from visualization_helpers import (
    BLOCK,
    ORIENTATIONS,
    WORLD_SHAPE,
    WORLD_SPACING,
    bright_box,
    inside_coordinates,
    voxel_order,
    write_phantom,
)

# Physical size of the world box (mm) along x (LR), y (AP), z (SI).
EXTENT = {
    pair: n * s for pair, n, s in zip(("LR", "AP", "SI"), WORLD_SHAPE, WORLD_SPACING, strict=True)
}
# (columns pair, rows pair) of each view, left to right in the figure.
VIEW_PAIRS = {"Sagittal": ("AP", "SI"), "Coronal": ("LR", "SI"), "Axial": ("LR", "AP")}


@pytest.fixture(scope="module")
def phantoms(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("phantoms")
    return {name: write_phantom(folder, name) for name in ORIENTATIONS}


def rendered_views(fig: Any, png: Path) -> dict[str, np.ndarray]:
    """The grey pixels of each view's image area in the saved PNG."""
    picture = np.asarray(PILImage.open(png).convert("RGB")).astype(float)
    height = picture.shape[0]
    views = {}
    for ax in fig.axes[:3]:
        box = ax.get_window_extent()
        # Display coordinates start at the bottom left; one pixel in from the
        # box leaves out the axes frame.
        top, bottom = round(height - box.y1) + 1, round(height - box.y0) - 1
        left, right = round(box.x0) + 1, round(box.x1) - 1
        name = ax.get_title().split(" ")[0]
        views[name] = picture[top:bottom, left:right].mean(axis=2)
    return views


def draw(image: tio.Image, png: Path, **kwargs: Any) -> Any:
    fig = image.plot(show=False, intersections=False, **kwargs)
    fig.savefig(png, dpi=fig.dpi)
    return fig


@pytest.mark.parametrize("name", list(ORIENTATIONS))
def test_block_lands_top_left_of_each_view_with_physical_proportions(phantoms, tmp_path, name):
    image = tio.ScalarImage(phantoms[name])
    png = tmp_path / "views.png"
    fig = draw(image, png, coordinates=inside_coordinates())
    views = rendered_views(fig, png)
    assert set(views) == {"Sagittal", "Coronal", "Axial"}
    for view, (col_pair, row_pair) in VIEW_PAIRS.items():
        pixels = views[view]
        top, bottom, left, right = bright_box(pixels)
        assert top == pytest.approx(0, abs=0.03), view
        assert left == pytest.approx(0, abs=0.03), view
        assert bottom == pytest.approx(BLOCK[row_pair], abs=0.05), view
        assert right == pytest.approx(BLOCK[col_pair], abs=0.05), view
        height, width = pixels.shape
        assert width / height == pytest.approx(EXTENT[col_pair] / EXTENT[row_pair], rel=0.04), view
        # The rest of the view is the dim ramp: the window keeps it dark.
        assert np.mean(pixels > 128) == pytest.approx(BLOCK[row_pair] * BLOCK[col_pair], abs=0.05)


def test_the_three_orientations_give_the_same_views(phantoms, tmp_path):
    pictures = []
    for name in ORIENTATIONS:
        png = tmp_path / f"{name}.png"
        fig = draw(tio.ScalarImage(phantoms[name]), png, coordinates=inside_coordinates())
        pictures.append(rendered_views(fig, png))
    for view in VIEW_PAIRS:
        first = pictures[0][view] > 128
        for other in pictures[1:]:
            shape = tuple(min(a, b) for a, b in zip(first.shape, other[view].shape, strict=True))
            crop_a = first[: shape[0], : shape[1]]
            crop_b = other[view][: shape[0], : shape[1]] > 128
            assert np.mean(crop_a != crop_b) < 0.01, view


def test_mid_slices_miss_the_block_and_indices_pick_slices(phantoms, tmp_path):
    image = tio.ScalarImage(phantoms["RAS"])
    fig = draw(image, tmp_path / "mid.png")
    views = rendered_views(fig, tmp_path / "mid.png")
    # Mid-slices: x = 10 is left of the block, so the sagittal view has none of it.
    assert not (views["Sagittal"] > 128).any()
    assert [ax.get_title() for ax in fig.axes] == [
        "Sagittal [i=10]",
        "Coronal [j=8]",
        "Axial [k=12]",
    ]
    fig = draw(image, tmp_path / "inside.png", indices=(17, 12, 21))
    assert (rendered_views(fig, tmp_path / "inside.png")["Sagittal"] > 128).any()
    with pytest.raises(ValueError, match="mutually exclusive"):
        image.plot(show=False, indices=(1, 2, 3), coordinates=(1.0, 2.0, 3.0))
    with pytest.raises(IndexError, match="out of range"):
        image.plot(show=False, indices=(0, 0, 99))


def test_axes_are_in_world_millimetres_or_voxels(phantoms):
    image = tio.ScalarImage(phantoms["LPS"])
    fig = image.plot(show=False)
    sagittal, coronal, axial = fig.axes
    # Coronal: patient's right (x = 19 mm) on the left, superior at the top.
    left, right = coronal.get_xlim()
    bottom, top = coronal.get_ylim()
    assert left == pytest.approx(19.5) and right == pytest.approx(-0.5)
    assert bottom == pytest.approx(-0.75) and top == pytest.approx(23 * 1.5 + 0.75)
    assert "Right" in coronal.get_xlabel() and "Superior" in coronal.get_ylabel()
    # Sagittal: anterior (y = 30 mm) on the left.
    assert sagittal.get_xlim() == pytest.approx((31.0, -1.0))
    fig = image.plot(show=False, voxels=True)
    # LPS file: voxel i grows towards the left, so i = 0 is on the left.
    assert fig.axes[1].get_xlim() == pytest.approx((-0.5, 19.5))
    assert fig.axes[2].get_ylim() == pytest.approx((15.5, -0.5))


def test_intersection_lines_mark_the_other_slices(phantoms):
    image = tio.ScalarImage(phantoms["RAS"])
    fig = image.plot(show=False, indices=(3, 5, 7))
    sagittal, coronal, axial = fig.axes
    xs = [line.get_xdata()[0] for line in axial.lines if line.get_xdata()[0] == line.get_xdata()[1]]
    ys = [line.get_ydata()[0] for line in axial.lines if line.get_ydata()[0] == line.get_ydata()[1]]
    assert xs == [pytest.approx(3.0)]  # sagittal slice i=3 at x = 3 mm
    assert ys == [pytest.approx(10.0)]  # coronal slice j=5 at y = 10 mm
    assert not image.plot(show=False, intersections=False).axes[0].lines


def test_plot_of_an_unloaded_image_reads_only_three_slices(phantoms, monkeypatch):
    spy = ReadSpy(monkeypatch)
    for name in ORIENTATIONS:
        spy.calls.clear()
        image = tio.ScalarImage(phantoms[name])
        image.plot(show=False)
        assert not image.is_loaded
        calls = [region for _, region in spy.calls]
        assert len(calls) == 3 and all(region is not None for region in calls)
        shape = image.spatial_shape
        voxels = []
        for region in calls:
            counts = [len(range(*s.indices(n))) for s, n in zip(region[:3], shape, strict=False)]
            assert sorted(counts)[0] == 1, "a whole slab instead of a slice"
            voxels.append(int(np.prod(counts)))
        total = shape[0] * shape[1] + shape[0] * shape[2] + shape[1] * shape[2]
        assert sum(voxels) == total, "exactly the three planes, nothing else"


def test_window_is_from_percentiles_of_the_shown_voxels(phantoms):
    image = tio.ScalarImage(phantoms["RAS"])
    fig = image.plot(show=False, percentiles=(0, 100), coordinates=inside_coordinates())
    low, high = fig.axes[0].images[0].get_clim()
    assert high == pytest.approx(1000.0)
    planes = [image.numpy()[0, 17], image.numpy()[0, :, 12], image.numpy()[0, :, :, 21]]
    assert low == pytest.approx(min(float(p.min()) for p in planes))
    fig = image.plot(show=False, percentiles=(0, 50), coordinates=inside_coordinates())
    values = np.concatenate([p.ravel() for p in planes])
    assert fig.axes[0].images[0].get_clim()[1] == pytest.approx(np.percentile(values, 50))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16, np.uint8, np.int64])
def test_percentile_window_equals_numpy_percentile(dtype):
    """Partition-based windows equal np.percentile of the finite values in
    float64, to the last bit, whatever the sizes, percentiles and NaNs."""
    from tioxide.visualization._window import percentile_window

    rng = np.random.default_rng(7)
    for trial in range(300):
        arrays = [
            (rng.normal(size=int(rng.integers(0, 400))) * 1000).astype(dtype) for _ in range(3)
        ]
        if np.dtype(dtype).kind == "f" and trial % 3 == 0:
            arrays[0][: len(arrays[0]) // 4] = np.nan
            if len(arrays[1]):
                arrays[1][-1] = np.inf
        percentiles = (0.5, 99.5) if trial % 5 == 0 else tuple(sorted(rng.uniform(0, 100, 2)))
        values = np.concatenate(arrays).astype(np.float64)
        values = values[np.isfinite(values)]
        want = tuple(float(v) for v in np.percentile(values, percentiles)) if values.size else None
        assert percentile_window(arrays, percentiles) == want, (trial, percentiles)


def labels_phantom(folder: Path) -> Path:
    data, affine = voxel_order("LPS")
    labels = np.zeros(data.shape, np.uint8)
    labels[data > 500] = 2
    labels[-3:] = 1  # the three left-most sagittal planes (LPS: i grows to the left)
    path = folder / "labels.nii"
    nib.save(nib.Nifti1Image(labels, affine), path)
    return path


def test_label_maps_use_one_colour_per_label(tmp_path):
    image = tio.LabelMap(labels_phantom(tmp_path))
    png = tmp_path / "labels.png"
    fig = draw(image, png, coordinates=inside_coordinates())
    axial = rendered_rgb(fig, png, "Axial")
    colours, _ = label_colormap(0, 2)
    expected = {label: tuple(round(255 * c) for c in colours(label)[:3]) for label in (0, 1, 2)}
    height, width, _ = axial.shape
    # Block (label 2) top left; label 1 on the right edge (patient's left); 0 elsewhere.
    assert tuple(axial[height // 8, width // 10]) == expected[2]
    assert tuple(axial[height // 2, width - 3]) == expected[1]
    assert tuple(axial[3 * height // 4, width // 2]) == expected[0]
    assert expected[0] == (0, 0, 0) and len(set(expected.values())) == 3


def rendered_rgb(fig: Any, png: Path, view: str) -> np.ndarray:
    picture = np.asarray(PILImage.open(png).convert("RGB"))
    height = picture.shape[0]
    ax = next(a for a in fig.axes if a.get_title().startswith(view))
    box = ax.get_window_extent()
    top, bottom = round(height - box.y1) + 1, round(height - box.y0) - 1
    return picture[top:bottom, round(box.x0) + 1 : round(box.x1) - 1]


def test_colour_dicts_colour_labels(tmp_path):
    image = tio.LabelMap(labels_phantom(tmp_path))
    png = tmp_path / "dict.png"
    fig = draw(image, png, cmap={2: (255, 0, 0), 1: (0, 0, 255)}, coordinates=inside_coordinates())
    axial = rendered_rgb(fig, png, "Axial")
    height, width, _ = axial.shape
    assert tuple(axial[height // 8, width // 10]) == (255, 0, 0)
    assert tuple(axial[height // 2, width - 3]) == (0, 0, 255)


def test_overlay_tints_only_labelled_voxels(phantoms, tmp_path):
    image = tio.ScalarImage(phantoms["LPS"])
    labels = tio.LabelMap(labels_phantom(tmp_path))
    png = tmp_path / "overlay.png"
    fig = draw(image, png, overlay=labels, coordinates=inside_coordinates())
    axial = rendered_rgb(fig, png, "Axial").astype(int)
    height, width, _ = axial.shape
    block, plain = axial[height // 8, width // 10], axial[3 * height // 4, width // 2]
    assert np.ptp(block) > 40, "labelled voxels are coloured"
    assert np.ptp(plain) <= 2, "unlabelled voxels stay grey"
    other_grid = tio.LabelMap(torch.zeros(1, 4, 4, 4, dtype=torch.uint8))
    with pytest.raises(ValueError, match="voxel grid"):
        image.plot(show=False, overlay=other_grid)


def test_channels_of_a_4d_image(tmp_path):
    data, affine = voxel_order("RAS")
    both = np.stack([data, data[::-1, ::-1, ::-1]], axis=-1)  # second: block at L-P-I
    path = tmp_path / "two.nii"
    nib.save(nib.Nifti1Image(both, affine), path)
    image = tio.ScalarImage(path)
    assert image.num_channels == 2
    png = tmp_path / "c1.png"
    fig = draw(image, png, channel=1, indices=(2, 3, 2))
    top, bottom, left, right = bright_box(rendered_views(fig, png)["Axial"])
    assert bottom == pytest.approx(1, abs=0.03) and right == pytest.approx(1, abs=0.03)
    with pytest.raises(IndexError, match="channel 2"):
        image.plot(show=False, channel=2)


def test_plot_saves_shows_and_draws_on_given_axes(phantoms, tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    image = tio.ScalarImage(phantoms["RAS"])
    out = tmp_path / "saved.png"
    assert image.plot(show=False, output_path=out, title="phantom") is not None
    assert PILImage.open(out).format == "PNG"
    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append(True))
    assert image.plot() is None and shown == [True]
    fig, axes = plt.subplots(1, 3)
    assert plot_image(image, axes=list(axes), show=False) is fig
    assert axes[2].get_title().startswith("Axial")
    plt.close(fig)
    with pytest.raises(ValueError, match="3 axes"):
        plot_image(image, axes=list(axes[:2]), show=False)


def test_subject_plot_has_a_row_per_image(phantoms, tmp_path):
    subject = tio.Subject(
        t1=tio.ScalarImage(phantoms["RAS"]), seg=tio.LabelMap(labels_phantom(tmp_path))
    )
    fig = plot_subject(subject, show=False)
    assert len(fig.axes) == 6
    assert fig.axes[3].get_ylabel().startswith("seg\n")
    method = subject.plot(show=False)
    assert [a.get_ylabel() for a in method.axes] == [a.get_ylabel() for a in fig.axes]
    assert not subject.t1.is_loaded
    matplotlib.pyplot.close("all")
    with pytest.raises(ValueError, match="no images"):
        plot_subject(tio.Subject(age=3), show=False)


@pytest.mark.parametrize(
    ("figsize", "subject_figsize"),
    [(None, None), ((9.0, 4.0), (9.0, 7.0)), ((16.0, 5.0), (16.0, 9.0))],
)
def test_labels_and_titles_fit_without_overlapping(phantoms, tmp_path, figsize, subject_figsize):
    """The fixed margins leave room for every tick label, axis label and
    title: each view's drawn extent lies inside the figure and clear of the
    other views, for one image with a title and for a subject's rows."""
    subject = tio.Subject(
        t1=tio.ScalarImage(phantoms["LPS"]), seg=tio.LabelMap(labels_phantom(tmp_path))
    )
    figures = [
        plot_image(subject.t1, show=False, figsize=figsize, title="Title"),
        plot_subject(subject, show=False, figsize=subject_figsize, title="Subject"),
    ]
    for fig in figures:
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        renderer = canvas.get_renderer()
        boxes = [ax.get_tightbbox(renderer) for ax in fig.axes]
        whole = fig.bbox
        for box in boxes:
            assert whole.x0 <= box.x0 and box.x1 <= whole.x1, (box, whole)
            assert whole.y0 <= box.y0 and box.y1 <= whole.y1, (box, whole)
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                assert not a.overlaps(b), (a, b)
        suptitle = fig.get_suptitle()
        assert suptitle
        title_box = fig._suptitle.get_window_extent(renderer)
        assert all(not title_box.overlaps(box) for box in boxes)
    matplotlib.pyplot.close("all")


def test_missing_matplotlib_names_the_extra(phantoms, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install tioxide\[plot\]"):
        tio.ScalarImage(phantoms["RAS"]).plot(show=False)


# -- HTML thumbnail -----------------------------------------------------------------


def thumbnail(html: str) -> np.ndarray:
    encoded = html.split('src="data:image/png;base64,', 1)[1].split('"', 1)[0]
    return np.asarray(PILImage.open(io.BytesIO(base64.b64decode(encoded))).convert("L"))


def test_html_thumbnail_is_the_axial_view_of_one_slice(phantoms, monkeypatch):
    spy = ReadSpy(monkeypatch)
    images = {}
    for name in ORIENTATIONS:
        spy.calls.clear()
        image = tio.ScalarImage(phantoms[name])
        html = image._repr_html_()
        assert "<table" in html and not image.is_loaded
        assert len(spy.calls) == 1, "one region: the slice shown"
        images[name] = thumbnail(html)
    first = images["RAS"]
    # Physical proportions: 20 mm wide (x), 32 mm tall (y), 128 px at most.
    assert first.shape == (128, 80)
    for other in images.values():
        np.testing.assert_array_equal(other, first)
    # Mid axial slice z = 12 misses the block; the ramp rises to the right-anterior corner,
    # which is the top left.
    assert first[0, 0] > first[-1, -1]


def test_thumbnail_is_left_out_without_pillow_or_voxels(phantoms, monkeypatch, tmp_path):
    image = tio.ScalarImage(phantoms["RAS"])
    monkeypatch.setitem(sys.modules, "PIL", None)
    html = image._repr_html_()
    assert "<table" in html and "<img" not in html
    monkeypatch.delitem(sys.modules, "PIL")
    assert "<img" in image._repr_html_()
    assert "<img" not in tio.ScalarImage(tmp_path / "missing.nii")._repr_html_()


# -- plot_interactive ---------------------------------------------------------------


def test_plot_interactive_builds_a_niivue_widget(phantoms):
    import gzip

    import ipyniivue

    image = tio.ScalarImage(phantoms["LPS"])
    widget = image.plot_interactive(height=250)
    assert isinstance(widget, ipyniivue.NiiVue)
    assert widget.height == 250
    assert widget.opts.is_radiological_convention
    (volume,) = widget.volumes
    header = nib.Nifti1Image.from_bytes(gzip.decompress(volume.data))
    assert header.shape == image.spatial_shape
    np.testing.assert_allclose(header.affine, image.affine.numpy())


def test_plot_interactive_without_ipyniivue_names_the_extra(phantoms, monkeypatch):
    monkeypatch.setitem(sys.modules, "ipyniivue", None)
    with pytest.raises(ImportError, match=r"pip install tioxide\[niivue\]"):
        tio.ScalarImage(phantoms["RAS"]).plot_interactive()


# -- names and arguments as in TorchIO ----------------------------------------------


def parameters(function: Any) -> dict[str, Any]:
    import inspect

    return {
        name: p.default
        for name, p in inspect.signature(function).parameters.items()
        if p.kind is not inspect.Parameter.VAR_KEYWORD
    }


@pytest.mark.parametrize("name", ["plot_image", "plot_subject", "make_gif", "make_video"])
def test_visualization_functions_take_torchio_arguments(name):
    import torchio.visualization

    import tioxide.visualization

    theirs = parameters(getattr(torchio.visualization, name))
    ours = parameters(getattr(tioxide.visualization, name))
    for argument, default in theirs.items():
        assert argument in ours, argument
        assert ours[argument] == default, argument


@pytest.mark.parametrize("method", ["plot", "plot_interactive", "to_gif", "to_video"])
def test_image_methods_take_torchio_arguments(method):
    import torchio

    theirs = parameters(getattr(torchio.ScalarImage, method))
    ours = parameters(getattr(tio.ScalarImage, method))
    assert ours == theirs
