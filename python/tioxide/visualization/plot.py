"""``Image.plot``: three orthogonal views with matplotlib (the ``plot`` extra)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from itertools import cycle
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

from ..data.extras import require
from ._geometry import (
    NAME,
    OPPOSITE,
    PAIR,
    VIEWS,
    View,
    axis_coordinates,
    axis_of,
    check_channel,
    orientation_of,
    resolve_indices,
    view_plane,
)
from ._notebook import display, ipython_shell
from ._window import percentile_window

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap, Normalize
    from matplotlib.figure import Figure

    from ..data.image import Image
    from ..data.subject import Subject

ColorDict = dict[int, tuple[int, int, int]]

# Colours of the lines that mark where the other two views cut each view (the
# 3D Slicer colours TorchIO uses too).
_LINE_COLOURS = {"Sagittal": "#42A5F5", "Coronal": "#8FE561", "Axial": "#FF8372"}


def matplotlib_modules() -> tuple[Any, Any]:
    """``matplotlib`` and ``matplotlib.pyplot``, or an ImportError naming the ``plot`` extra."""
    mpl = require("matplotlib", "plot", purpose="Plotting images")
    import matplotlib.pyplot as plt

    return mpl, plt


def label_colormap(low: int, high: int, *, background: bool = True) -> tuple[Colormap, Normalize]:
    """A discrete colormap with one colour per integer label in ``[low, high]``.

    Label 0 is black (or transparent, for overlays); the others cycle through
    matplotlib's ``tab10`` so that neighbouring labels always differ.
    """
    mpl, _ = matplotlib_modules()
    palette = cycle(mpl.colormaps["tab10"].colors)
    colours: list[tuple[float, ...]] = []
    for label in range(low, high + 1):
        if label == 0:
            colours.append((0.0, 0.0, 0.0, 1.0 if background else 0.0))
        else:
            colours.append((*next(palette), 1.0))
    colormap = mpl.colors.ListedColormap(colours)
    boundaries = np.arange(low - 0.5, high + 1.5)
    return colormap, mpl.colors.BoundaryNorm(boundaries, ncolors=colormap.N)


def _label_range(planes: Sequence[npt.NDArray[Any]]) -> tuple[int, int]:
    low = min(int(np.floor(p.min())) for p in planes if p.size)
    high = max(int(np.ceil(p.max())) for p in planes if p.size)
    return min(low, 0), max(high, 1)


def _colorize(plane: npt.NDArray[Any], colours: ColorDict) -> npt.NDArray[np.uint8]:
    rgb = np.zeros((*plane.shape, 3), dtype=np.uint8)
    for label, colour in colours.items():
        rgb[plane == label] = colour
    return rgb


def _is_label(image: Image) -> bool:
    from ..data.image import LabelMap

    return isinstance(image, LabelMap)


def _style(
    image: Image,
    planes: list[npt.NDArray[Any]],
    cmap: Any,
    percentiles: tuple[float, float],
    imshow_kwargs: dict[str, Any],
) -> tuple[list[npt.NDArray[Any]], dict[str, Any]]:
    """The arrays to draw and the ``imshow`` arguments: colours, window, interpolation."""
    kwargs = dict(imshow_kwargs)
    colours = cmap if isinstance(cmap, dict) else None
    if cmap is None and isinstance(image.metadata.get("color_map"), dict):
        colours = image.metadata["color_map"]
    if colours is not None:
        kwargs.setdefault("interpolation", "none")
        return [_colorize(p, colours) for p in planes], kwargs
    if _is_label(image):
        if cmap is None:
            colormap, norm = label_colormap(*_label_range(planes))
            kwargs.setdefault("norm", norm)
            cmap = colormap
        kwargs.setdefault("interpolation", "none")
    else:
        cmap = "gray" if cmap is None else cmap
        kwargs.setdefault("interpolation", "bilinear")
        if "norm" not in kwargs:
            # One window for the three views, from the voxels shown.
            window = percentile_window(planes, percentiles)
            if window is not None:
                kwargs.setdefault("vmin", window[0])
                kwargs.setdefault("vmax", window[1])
    kwargs.setdefault("cmap", cmap)
    return planes, kwargs


def _extent(
    image: Image,
    view: View,
    orientation: tuple[str, str, str],
    plane: npt.NDArray[Any],
    voxels: bool,
) -> tuple[tuple[float, float, float, float], float, float]:
    """imshow ``extent`` of a view, and the coordinate steps of its columns and rows."""
    col_axis = axis_of(orientation, PAIR[view.col_code])
    row_axis = axis_of(orientation, PAIR[view.row_code])
    x0, dx = axis_coordinates(image, orientation, col_axis, view.col_code, voxels=voxels)
    y0, dy = axis_coordinates(image, orientation, row_axis, view.row_code, voxels=voxels)
    rows, cols = plane.shape[:2]
    # Pixel centres sit on the coordinates, so edges are half a step outside.
    left, right = x0 - dx / 2, x0 + (cols - 0.5) * dx
    top, bottom = y0 - dy / 2, y0 + (rows - 0.5) * dy
    return (left, right, bottom, top), dx, dy


def _axis_label(code: str, axis: int, voxels: bool) -> str:
    """``"R ⟷ L (mm, i)"``: the ends of a display axis, first end first."""
    first, last = OPPOSITE[code], code
    unit = f"voxel {'ijk'[axis]}" if voxels else f"mm, {'ijk'[axis]}"
    return f"{NAME[first]} \u2194 {NAME[last]} ({unit})"


def _draw_views(
    image: Image,
    plot_axes: Sequence[Axes],
    *,
    channel: int,
    indices: tuple[int, int, int],
    cmap: Any,
    percentiles: tuple[float, float],
    voxels: bool,
    intersections: bool,
    titles: bool,
    overlay: Image | None,
    overlay_alpha: float,
    imshow_kwargs: dict[str, Any],
) -> None:
    orientation = orientation_of(image)
    channel = check_channel(image, channel)
    planes = [view_plane(image, view, channel, indices, orientation) for view in VIEWS]
    drawn, kwargs = _style(image, planes, cmap, percentiles, imshow_kwargs)
    overlays = None
    if overlay is not None:
        _check_overlay(image, overlay)
        overlays = [view_plane(overlay, view, 0, indices, orientation) for view in VIEWS]
    positions: dict[str, float] = {}
    for view in VIEWS:
        axis = axis_of(orientation, view.slice_pair)
        code = {"LR": "L", "AP": "P", "SI": "I"}[view.slice_pair]
        start, step = axis_coordinates(image, orientation, axis, code, voxels=voxels)
        flipped = orientation[axis] != code
        shown = image.spatial_shape[axis] - 1 - indices[axis] if flipped else indices[axis]
        positions[view.slice_pair] = start + shown * step
    for n, view in enumerate(VIEWS):
        ax = plot_axes[n]
        extent, _, _ = _extent(image, view, orientation, drawn[n], voxels)
        col_axis = axis_of(orientation, PAIR[view.col_code])
        row_axis = axis_of(orientation, PAIR[view.row_code])
        # World extents make equal data units equal millimetres; voxel extents
        # need the spacing ratio for the same physical proportions.
        aspect: Any = image.spacing[row_axis] / image.spacing[col_axis] if voxels else "equal"
        ax.imshow(drawn[n], extent=extent, aspect=aspect, origin="upper", **kwargs)
        if overlays is not None:
            labels = overlays[n]
            colormap, norm = label_colormap(*_label_range(overlays), background=False)
            masked = np.ma.masked_equal(labels, 0)
            ax.imshow(
                masked,
                extent=extent,
                aspect=aspect,
                origin="upper",
                cmap=colormap,
                norm=norm,
                alpha=overlay_alpha,
                interpolation="none",
            )
        ax.set_xlabel(_axis_label(view.col_code, col_axis, voxels))
        ax.set_ylabel(_axis_label(view.row_code, row_axis, voxels))
        if titles:
            slice_axis = axis_of(orientation, view.slice_pair)
            ax.set_title(f"{view.name} [{'ijk'[slice_axis]}={indices[slice_axis]}]")
        if intersections:
            for other in VIEWS:
                if other is view:
                    continue
                colour = _LINE_COLOURS[other.name]
                where = positions[other.slice_pair]
                if PAIR[view.col_code] == other.slice_pair:
                    ax.axvline(where, color=colour, linewidth=0.8, alpha=0.8)
                else:
                    ax.axhline(where, color=colour, linewidth=0.8, alpha=0.8)


def _check_overlay(image: Image, overlay: Image) -> None:
    same_grid = overlay.spatial_shape == image.spatial_shape and np.allclose(
        overlay.affine.numpy(), image.affine.numpy(), atol=1e-3
    )
    if not same_grid:
        raise ValueError(
            "The overlay must be on the image's voxel grid (same spatial shape and affine); "
            f"got {overlay.spatial_shape} vs {image.spatial_shape}. Resample it first, e.g. "
            "with tioxide.Resample(target=image)"
        )


# Room for tick labels, axis labels and titles, in inches. Fixed margins
# instead of tight_layout, which draws every text to measure it: that took
# two thirds of a plot of three slices. Room is what the default font needs.
_SIDE_IN = (0.75, 0.15)  # left (y tick and axis labels), right
_BOTTOM_IN = 0.6  # x tick and axis labels
_TOP_IN = 0.35  # the view's title
_SUPTITLE_IN = 0.4
_ROW_NAME_IN = 0.25  # a subject's image name above the first y label
_GAP_IN = (0.8, 1.0)  # between columns, between rows


def _margins(
    figsize: tuple[float, float], rows: int, titled: bool, row_names: bool
) -> dict[str, float]:
    """GridSpec margins and gaps (figure fractions) from the room in inches."""
    width, height = figsize
    top_in = _TOP_IN + (_SUPTITLE_IN if titled else 0.0)
    left_in = _SIDE_IN[0] + (_ROW_NAME_IN if row_names else 0.0)
    cell_w = max(width - left_in - _SIDE_IN[1] - 2 * _GAP_IN[0], 0.3 * width) / 3
    cell_h = max(height - _BOTTOM_IN - top_in - (rows - 1) * _GAP_IN[1], 0.3 * height) / rows
    return {
        "left": min(left_in / width, 0.3),
        "right": max(1 - _SIDE_IN[1] / width, 0.7),
        "bottom": min(_BOTTOM_IN / height, 0.3),
        "top": max(1 - top_in / height, 0.7),
        "wspace": _GAP_IN[0] / cell_w,
        "hspace": _GAP_IN[1] / cell_h,
    }


def _new_figure(
    image: Image,
    rows: int,
    figsize: tuple[float, float] | None,
    multiplier: float,
    *,
    keep: bool,
    titled: bool,
    row_names: bool = False,
) -> tuple[Figure, list[list[Axes]]]:
    mpl, plt = matplotlib_modules()
    orientation = orientation_of(image)
    extents = {}
    for pair in ("LR", "AP"):
        axis = axis_of(orientation, pair)
        extents[pair] = image.spatial_shape[axis] * image.spacing[axis]
    if figsize is None:
        width, height = plt.rcParams["figure.figsize"]
        figsize = (width * multiplier, height * multiplier * max(1.0, rows / 2))
    grid = mpl.gridspec.GridSpec(
        rows,
        3,
        width_ratios=[extents["AP"], extents["LR"], extents["LR"]],
        **_margins(figsize, rows, titled, row_names),
    )
    fig = plt.figure(figsize=figsize)
    if not keep:
        # pyplot keeps its figures alive until closed; a returned figure
        # belongs to the caller and must not leak into pyplot's list.
        plt.close(fig)
    axes = [[fig.add_subplot(grid[r, c]) for c in range(3)] for r in range(rows)]
    return cast("Figure", fig), axes


def _finish(
    fig: Figure,
    title: str | None,
    output_path: str | os.PathLike[str] | None,
    show: bool,
    savefig_kwargs: dict[str, Any] | None,
    *,
    laid_out: bool,
) -> Figure | None:
    if title is not None:
        fig.suptitle(title)
    if not laid_out:
        # The caller's own axes: make room for the labels drawn on them.
        fig.tight_layout()
    if output_path is not None:
        fig.savefig(os.fspath(output_path), **(savefig_kwargs or {}))
    if show:
        _display(fig)
        return None
    return fig


def _display(fig: Figure) -> None:
    """Show a figure inline in IPython, else in a pyplot window; then release it."""
    _, plt = matplotlib_modules()
    if ipython_shell() is not None:
        display(fig)
    else:
        plt.show()
    plt.close(fig)


def plot_image(
    image: Image,
    *,
    channel: int = 0,
    indices: tuple[int | None, int | None, int | None] | None = None,
    coordinates: tuple[float | None, float | None, float | None] | None = None,
    axes: Sequence[Axes] | None = None,
    cmap: Any = None,
    percentiles: tuple[float, float] = (0.5, 99.5),
    figsize: tuple[float, float] | None = None,
    title: str | None = None,
    output_path: str | os.PathLike[str] | None = None,
    show: bool = True,
    savefig_kwargs: dict[str, Any] | None = None,
    voxels: bool = False,
    figsize_multiplier: float = 2.0,
    intersections: bool = True,
    overlay: Image | None = None,
    overlay_alpha: float = 0.5,
    **imshow_kwargs: Any,
) -> Figure | None:
    """Plot sagittal, coronal and axial slices of an image in physical orientation.

    Views follow the radiological convention whatever the voxel order of the
    file: the patient's right on the left of coronal and axial views,
    anterior on the left of the sagittal one, superior at the top. Axes are in
    world millimetres (RAS+), so pixels have the physical proportions of the
    voxels. An image not yet loaded reads only the three slices shown.

    Args:
        image: The image.
        channel: The channel to show (of a 4D, multi-channel image).
        indices: Slice index along each voxel axis ``(i, j, k)``; ``None``
            entries (or ``None``) take the middle slice.
        coordinates: World coordinates in mm ``(x, y, z)`` of the slices
            instead of ``indices``.
        axes: Three matplotlib axes to draw on; a new figure if omitted.
        cmap: A colormap (``"gray"`` for intensities, a discrete one with a
            colour per label for a :class:`~tioxide.LabelMap`), or a dict
            ``{label: (r, g, b)}`` (0-255) for label maps. A ``color_map``
            metadata dict is used when ``cmap`` is omitted.
        percentiles: Intensity window of scalar images, as percentiles of
            the shown voxels.
        figsize: Figure size in inches; the default size times
            ``figsize_multiplier`` if omitted.
        title: Title above the views.
        output_path: Save the figure there (any format matplotlib writes).
        show: Display the figure (inline in notebooks) and return ``None``;
            ``False`` returns the figure instead.
        savefig_kwargs: Keyword arguments of ``Figure.savefig``.
        voxels: Label axes with voxel indices instead of millimetres.
        figsize_multiplier: Scale of the default figure size.
        intersections: Draw lines where the other two views cut each view.
        overlay: A label map on the same voxel grid, drawn over the image
            with a discrete colormap (label 0 transparent). A tioxide addition.
        overlay_alpha: Opacity of the overlay.
        **imshow_kwargs: Passed to ``Axes.imshow``.

    Returns:
        The figure, or ``None`` when ``show`` is true.

    Raises:
        ImportError: matplotlib is missing (``pip install tioxide[plot]``).
        ValueError: Both ``indices`` and ``coordinates``, fewer than three
            axes, or an overlay on another grid.
        IndexError: A slice index or channel out of range.
    """
    matplotlib_modules()
    resolved = resolve_indices(image, indices, coordinates)
    if axes is None:
        fig, grid = _new_figure(
            image, 1, figsize, figsize_multiplier, keep=show, titled=title is not None
        )
        plot_axes: Sequence[Axes] = grid[0]
    else:
        if len(axes) < 3:
            raise ValueError(f"Expected 3 axes, got {len(axes)}")
        plot_axes = axes
        fig = cast("Figure", plot_axes[0].get_figure())
    _draw_views(
        image,
        plot_axes,
        channel=channel,
        indices=resolved,
        cmap=cmap,
        percentiles=percentiles,
        voxels=voxels,
        intersections=intersections,
        titles=True,
        overlay=overlay,
        overlay_alpha=overlay_alpha,
        imshow_kwargs=imshow_kwargs,
    )
    return _finish(fig, title, output_path, show, savefig_kwargs, laid_out=axes is None)


def plot_subject(
    subject: Subject,
    *,
    channel: int = 0,
    indices: tuple[int | None, int | None, int | None] | None = None,
    coordinates: tuple[float | None, float | None, float | None] | None = None,
    cmap_dict: dict[str, Any] | None = None,
    percentiles: tuple[float, float] = (0.5, 99.5),
    figsize: tuple[float, float] | None = None,
    title: str | None = None,
    output_path: str | os.PathLike[str] | None = None,
    show: bool = True,
    savefig_kwargs: dict[str, Any] | None = None,
    voxels: bool = False,
    figsize_multiplier: float = 2.0,
    intersections: bool = True,
    **imshow_kwargs: Any,
) -> Figure | None:
    """Plot every image of a subject, one row of three views per image.

    Arguments are those of :func:`plot_image`; ``cmap_dict`` maps image
    names to colormaps.

    Raises:
        ValueError: The subject has no images.
    """
    images = subject.images
    if not images:
        raise ValueError("Subject has no images to plot")
    first = next(iter(images.values()))
    fig, grid = _new_figure(
        first,
        len(images),
        figsize,
        figsize_multiplier,
        keep=show,
        titled=title is not None,
        row_names=True,
    )
    for row, (name, image) in enumerate(images.items()):
        _draw_views(
            image,
            grid[row],
            channel=channel,
            indices=resolve_indices(image, indices, coordinates),
            cmap=(cmap_dict or {}).get(name),
            percentiles=percentiles,
            voxels=voxels,
            intersections=intersections,
            titles=row == 0,
            overlay=None,
            overlay_alpha=0.0,
            imshow_kwargs=imshow_kwargs,
        )
        grid[row][0].set_ylabel(f"{name}\n{grid[row][0].get_ylabel()}")
    return _finish(fig, title, output_path, show, savefig_kwargs, laid_out=True)
