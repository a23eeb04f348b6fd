"""``PatchLocation``: where a patch sits in the volume it was cut from."""

from __future__ import annotations

from dataclasses import dataclass

ThreeInts = tuple[int, int, int]


@dataclass(frozen=True)
class PatchLocation:
    """The box of voxels a patch covers.

    Attributes:
        index: ``(i, j, k)`` of the patch's first voxel (its corner nearest
            the origin of the voxel grid).
        size: ``(si, sj, sk)``, the patch's spatial shape.
        subject_index: Which subject the patch belongs to, when a batch mixes
            subjects (``None`` when unknown).

    Examples:
        >>> location = PatchLocation(index=(2, 0, 4), size=(8, 8, 8))
        >>> location.index_fin
        (10, 8, 12)
        >>> location.to_slices()[0]
        slice(2, 10, None)
    """

    index: ThreeInts
    size: ThreeInts
    subject_index: int | None = None

    @property
    def index_ini(self) -> ThreeInts:
        """The first voxel's ``(i, j, k)`` (the same as :attr:`index`)."""
        return self.index

    @property
    def index_fin(self) -> ThreeInts:
        """``(i, j, k)`` one past the last voxel on each axis."""
        i, j, k = (start + length for start, length in zip(self.index, self.size, strict=True))
        return (i, j, k)

    def to_slices(self) -> tuple[slice, slice, slice]:
        """One slice per spatial axis, to index a ``(…, I, J, K)`` tensor or an image."""
        si, sj, sk = (
            slice(start, stop) for start, stop in zip(self.index_ini, self.index_fin, strict=True)
        )
        return (si, sj, sk)

    def scaled(self, factor: tuple[float, float, float]) -> PatchLocation:
        """The location on a grid ``factor`` times as fine (corner and size rounded)."""
        i, j, k = (round(v * f) for v, f in zip(self.index, factor, strict=True))
        si, sj, sk = (round(v * f) for v, f in zip(self.size, factor, strict=True))
        return PatchLocation(index=(i, j, k), size=(si, sj, sk), subject_index=self.subject_index)
