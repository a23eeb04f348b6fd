"""Three-letter axis conventions for points and boxes: voxel (``IJK``) or anatomical (``RAS``).

A voxel convention is an ordering of the letters ``I``, ``J``, ``K``. An
anatomical one takes one letter from each of the pairs R/L, A/P and S/I, in
any order, and says which way each column increases. ``IJK`` is always the
voxel convention, although ``I`` is also an anatomical letter.
"""

from __future__ import annotations

from enum import Enum

#: Opposite anatomical directions; each anatomical convention uses one letter of each.
ANATOMICAL_PAIRS: tuple[tuple[str, str], ...] = (("R", "L"), ("A", "P"), ("S", "I"))

_PAIR_OF = {letter: pair for pair in ANATOMICAL_PAIRS for letter in pair}


class AxesType(Enum):
    """The family of an axis string."""

    VOXEL = "voxel"
    ANATOMICAL = "anatomical"


def _is_voxel(axes: str) -> bool:
    return len(axes) == 3 and set(axes) == set("IJK")


def _is_anatomical(axes: str) -> bool:
    if len(axes) != 3 or not all(letter in _PAIR_OF for letter in axes):
        return False
    return len({_PAIR_OF[letter] for letter in axes}) == 3


def validate_axes(axes: str) -> str:
    """Return ``axes`` if it is a voxel or anatomical axis string.

    Raises:
        TypeError: ``axes`` is not a string.
        ValueError: It is not three letters, or not a valid convention.
    """
    if not isinstance(axes, str):
        raise TypeError(f"Axis string must be a str, got {type(axes).__name__}")
    if len(axes) != 3:
        raise ValueError(f"Axis string must be 3 characters, got {len(axes)}: {axes!r}")
    if _is_voxel(axes) or _is_anatomical(axes):
        return axes
    raise ValueError(
        f"Invalid axis string {axes!r}. Must be a permutation of 'IJK' (voxel) or one "
        "letter from each anatomical pair {R,L}, {A,P}, {S,I}."
    )


def axes_type(axes: str) -> AxesType:
    """Whether a valid axis string is voxel or anatomical."""
    return AxesType.VOXEL if _is_voxel(axes) else AxesType.ANATOMICAL


def get_axis_mapping(src: str, tgt: str) -> tuple[tuple[int, int, int], tuple[bool, bool, bool]]:
    """How to reorder and negate the columns of ``src`` coordinates to get ``tgt`` ones.

    Returns:
        ``(perm, flips)``: target column ``n`` is source column ``perm[n]``,
        negated if ``flips[n]``. Voxel mappings never flip.

    Raises:
        ValueError: One string is voxel and the other anatomical (converting
            between them needs an affine).
    """
    src_type, tgt_type = axes_type(src), axes_type(tgt)
    if src_type is not tgt_type:
        raise ValueError(
            f"Cannot compute axis mapping between different types: {src!r} "
            f"({src_type.value}) and {tgt!r} ({tgt_type.value}). Use the affine to convert "
            "between voxel and anatomical. Both must be the same type."
        )
    if src_type is AxesType.VOXEL:
        p0, p1, p2 = (src.index(letter) for letter in tgt)
        return (p0, p1, p2), (False, False, False)
    perm: list[int] = []
    flips: list[bool] = []
    for letter in tgt:
        column = next(n for n, s in enumerate(src) if _PAIR_OF[s] == _PAIR_OF[letter])
        perm.append(column)
        flips.append(src[column] != letter)
    return (perm[0], perm[1], perm[2]), (flips[0], flips[1], flips[2])
