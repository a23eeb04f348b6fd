"""Image index expressions: ``image[c, i, j, k]`` as four slices.

Images are indexed in tensor order ``(C, I, J, K)`` and never lose an axis:
an integer ``n`` selects the size-1 range ``n:n + 1`` (``-1`` selects ``-1:``),
one ``...`` stands for as many full slices as needed, and missing trailing
indices are full slices. Integers are not bounds-checked: like slices, an
out-of-range integer selects nothing.
"""

from __future__ import annotations


def _as_slice(item: object) -> slice:
    if isinstance(item, slice):
        return item
    if isinstance(item, int):
        return slice(item, None) if item == -1 else slice(item, item + 1)
    raise TypeError(f"Index type {type(item).__name__} not understood")


def normalize_index(item: object, *, ndim: int = 4) -> tuple[slice, ...]:
    """Turn an index expression into exactly ``ndim`` slices.

    Args:
        item: An int, a slice, ``...``, or a tuple of those.
        ndim: How many axes the indexed object has.

    Returns:
        One slice per axis.

    Raises:
        IndexError: More than one ellipsis, or more than ``ndim`` indices.
        TypeError: An index that is not an int, slice or ellipsis.
    """
    if isinstance(item, tuple):
        items: tuple[object, ...] = item
    elif isinstance(item, int | slice) or item is Ellipsis:
        items = (item,)
    else:
        raise TypeError(f"Index type {type(item).__name__} not understood")
    ellipses = [n for n, it in enumerate(items) if it is Ellipsis]
    if len(ellipses) > 1:
        raise IndexError("Only one ellipsis is allowed in an image index")
    if ellipses:
        at = ellipses[0]
        fill = (slice(None),) * max(ndim - (len(items) - 1), 0)
        items = items[:at] + fill + items[at + 1 :]
    if len(items) > ndim:
        raise IndexError(
            f"Too many indices: expected at most {ndim} (C, I, J, K), got {len(items)}"
        )
    slices = [_as_slice(it) for it in items]
    slices += [slice(None)] * (ndim - len(slices))
    return tuple(slices)
