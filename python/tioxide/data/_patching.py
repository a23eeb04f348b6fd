"""Helpers shared by the samplers and the queue: cutting patches and keeping reads small.

A patch of an image that is not loaded is read from its file by region (see
:meth:`Image.__getitem__`), so sampling from an unloaded subject reads only
the patches. Two things would defeat that, and are handled here:

- a lazy view whose remaining steps need the whole region (padding by
  ``reflect`` or ``mean``, say) re-reads that region for every patch, so such
  images are loaded once instead (:func:`load_unsliceable`);
- loading an image of a dataset's subject keeps its voxels alive as long as the
  dataset, so the queue samples from a fresh subject (:func:`detached`).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from torch import Tensor

from .. import nifti
from .image import Image
from .patch import PatchLocation
from .subject import Subject


def cut_patch(subject: Subject, location: PatchLocation) -> Subject:
    """A new subject of the images' region at ``location`` and the subject's metadata.

    The location is stored as the metadata ``patch_location``. Points, boxes
    and the transform history are not carried over (as in TorchIO).
    """
    si, sj, sk = location.to_slices()
    entries: dict[str, Any] = {}
    for name, image in subject.images.items():
        patch = image[:, si, sj, sk]
        entries[name] = _owning(patch)
    entries.update(subject.metadata)
    entries["patch_location"] = location
    return Subject(**entries)


def _owning(patch: Image) -> Image:
    """``patch``, with its tensor copied if it is a view of a larger (loaded) volume.

    A view would keep the whole volume in memory for as long as the patch
    lives, e.g. in a queue's buffer; the copy costs only the patch's bytes.
    """
    data: Tensor = patch.data
    if data.untyped_storage().nbytes() > data.numel() * data.element_size():
        patch.set_data(data.clone())
    return patch


def shallow_copy(subject: Subject) -> Subject:
    """A subject holding the same image objects, so replacing images leaves ``subject`` alone."""
    new = copy.copy(subject)
    new._images = dict(subject._images)
    new._metadata = dict(subject._metadata)
    new.applied_transforms = list(subject.applied_transforms)
    return new


def detached(subject: Subject) -> Subject:
    """A shallow copy whose unloaded images are new objects of the same sources.

    Loading them (a weight map, or a transform that needs the voxels) then
    leaves the original subject unloaded, so memory does not grow with the
    number of subjects seen. Loaded images are shared: they cost nothing more.
    """
    new = shallow_copy(subject)
    for name, image in subject._images.items():
        if not image.is_loaded:
            new._images[name] = copy.deepcopy(image)
    return new


#: Names of files whose voxels :func:`tioxide.nifti.prefetch` inflates and keeps.
_COMPRESSED_NIFTI = (".nii.gz", ".img.gz", ".hdr.gz")


def prefetch_compressed(subject: Subject) -> None:
    """Inflate the unloaded ``.nii.gz`` images of ``subject`` now, in this thread.

    Their voxels are kept in the core's stream cache, so the patches cut from
    them later (in the thread iterating the queue) are copies: a queue's
    worker threads then inflate the next subjects while patches of the
    current one are cut.
    """
    for path in _compressed_paths(subject):
        nifti.prefetch(path)


def release_compressed(subject: Subject) -> None:
    """Drop what :func:`prefetch_compressed` kept, once the patches are cut.

    The voxels of subjects prefetched ahead then fit in the stream cache,
    and are not evicted before their turn.
    """
    for path in _compressed_paths(subject):
        nifti.release(path)


def _compressed_paths(subject: Subject) -> list[Path]:
    return [
        image.path
        for image in subject._images.values()
        if not image.is_loaded
        and image.path is not None
        and image.path.name.lower().endswith(_COMPRESSED_NIFTI)
    ]


def load_unsliceable(subject: Subject) -> None:
    """Load the images whose lazy view cannot read a patch without reading its whole region."""
    for image in subject._images.values():
        if not image.is_loaded and _view_needs_whole_region(image):
            image.load()


def _view_needs_whole_region(image: Image) -> bool:
    # Local import: the transforms package imports this data package.
    from ..transforms.spatial._view import RegionView

    backend = image._backend
    # A view's pending steps (non-foldable padding and what follows it) run on
    # the whole region it reads, whatever part of it is asked for.
    return isinstance(backend, RegionView) and bool(backend._later)
