"""HTML tables that show images and subjects in Jupyter, laid out as TorchIO lays them out.

An image's table has a thumbnail of its middle axial slice beside it when
Pillow is installed (TorchIO draws its full three-view plot below the table,
reading every voxel; the thumbnail reads one slice). Without Pillow, or when
the voxels cannot be read, the table stands alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import TYPE_CHECKING

from .formatting import binary_size

if TYPE_CHECKING:
    from .image import Image
    from .subject import Subject

_STYLE = """<style scoped>
.tio-table {
  border-collapse: collapse;
  font-family: monospace;
  font-size: 11px;
  margin: 4px 0;
}
.tio-table th, .tio-table td {
  text-align: left;
  padding: 3px 10px;
  border: 1px solid #ccc;
}
.tio-table th {
  font-weight: bold;
}
.tio-header {
  font-family: sans-serif;
  font-size: 14px;
  font-weight: bold;
  margin-bottom: 4px;
}
.tio-section {
  font-family: sans-serif;
  font-size: 13px;
  font-weight: bold;
  margin-top: 8px;
  margin-bottom: 2px;
}
</style>"""


def _count(noun: str, n: int) -> str:
    if n == 1:
        return f"1 {noun}"
    return f"{n} {noun}es" if noun.endswith("x") else f"{n} {noun}s"


def _numbers(values: Iterable[float], form: str) -> str:
    return "(" + ", ".join(format(v, form) for v in values) + ")"


def _key_value(key: str, value: str) -> str:
    return f"<tr><th>{escape(key)}</th><td>{escape(value)}</td></tr>"


def _cells(*values: str) -> str:
    return "<tr>" + "".join(f"<td>{value}</td>" for value in values) + "</tr>"


def _table(rows: list[str]) -> str:
    return '<table class="tio-table">\n' + "\n".join(rows) + "\n</table>"


def _section(title: str, header: tuple[str, ...], rows: list[str]) -> str:
    head = "<tr>" + "".join(f"<th>{name}</th>" for name in header) + "</tr>"
    return f'<div class="tio-section">{title}</div>\n' + _table([head, *rows])


def image_to_html(image: Image) -> str:
    """A table of an image's type, shape, geometry, dtype, memory and annotations.

    Properties that cannot be read (a missing file ...) are left out; the path
    is shown instead.
    """
    rows = [_key_value("Type", type(image).__name__)]
    try:
        details = [
            ("Channels", str(image.num_channels)),
            ("Spatial shape", str(image.spatial_shape)),
            ("Spacing", _numbers(image.spacing, ".2f") + " mm"),
            ("Origin", _numbers(image.origin, ".2f") + " mm"),
            ("Orientation", "".join(image.orientation) + "+"),
            ("Euler angles", "(" + ", ".join(f"{a:.1f}°" for a in image.affine.euler_angles) + ")"),
            ("dtype", str(image.dtype).replace("torch.", "")),
            ("Memory", binary_size(image.memory)),
        ]
        rows += [_key_value(key, value) for key, value in details]
    except Exception:
        if image.path is not None:
            rows.append(_key_value("Path", str(image.path)))
    for name, points in image.points.items():
        rows.append(_key_value(f"Points '{name}'", _count("point", points.num_points)))
    for name, boxes in image.bounding_boxes.items():
        rows.append(_key_value(f"BBoxes '{name}'", _count("box", boxes.num_boxes)))
    table = _table(rows)
    thumbnail = _thumbnail(image)
    if thumbnail is None:
        return f"{_STYLE}\n{table}"
    return f"{_STYLE}\n{THUMBNAIL_OPEN}\n{table}\n{thumbnail}\n</div>"


#: The box that puts an image's table and thumbnail side by side.
THUMBNAIL_OPEN = '<div class="tio-image" style="display: flex; gap: 12px; align-items: flex-start">'


def _thumbnail(image: Image) -> str | None:
    """The thumbnail ``<img>`` tag, or None (no Pillow, unreadable voxels ...)."""
    try:
        from ..visualization.thumbnail import thumbnail_html
    except ImportError:
        return None
    return thumbnail_html(image)


def subject_to_html(subject: Subject) -> str:
    """Tables of a subject's images, points, bounding boxes and metadata (those it has)."""
    parts = [_STYLE]
    if subject.images:
        rows = []
        for name, image in subject.images.items():
            try:
                shape = str(image.shape)
                spacing = _numbers(image.spacing, ".2f")
                orientation = "".join(image.orientation) + "+"
            except Exception:
                shape = spacing = orientation = "?"
            values = (name, type(image).__name__, shape, spacing, orientation)
            rows.append(_cells(*(escape(v) for v in values)))
        header = ("Name", "Type", "Shape", "Spacing", "Orientation")
        parts.append(_section("Images", header, rows))
    if subject.points:
        rows = [
            _cells(escape(name), _count("point", p.num_points), escape(p.axes))
            for name, p in subject.points.items()
        ]
        parts.append(_section("Points", ("Name", "Count", "Axes"), rows))
    if subject.bounding_boxes:
        rows = []
        for name, boxes in subject.bounding_boxes.items():
            fmt = f"{boxes.format.axes} ({boxes.format.representation.value})"
            rows.append(_cells(escape(name), _count("box", boxes.num_boxes), escape(fmt)))
        parts.append(_section("Bounding Boxes", ("Name", "Count", "Format"), rows))
    if subject.metadata:
        rows = [_key_value(key, str(value)) for key, value in subject.metadata.items()]
        parts.append(_section("Metadata", ("Key", "Value"), rows))
    return "\n".join(parts)
