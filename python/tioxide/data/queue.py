"""``Queue``: a buffer of patches from many subjects, for patch-based training."""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Iterator, Sequence, Sized
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice

from torch.utils.data import IterableDataset, Sampler

from ._laziness import stays_lazy
from ._patching import detached, load_unsliceable, prefetch_compressed, release_compressed
from .sampler import PatchSampler
from .subject import Subject


class Queue(IterableDataset[Subject]):
    """Patches of many subjects, buffered and shuffled, for stochastic training.

    Subjects are taken in turn (shuffled each epoch if asked), prepared
    (transformed) in ``num_workers`` background threads (at most two per thread
    ahead of the sampling), and cut into up to
    ``patches_per_volume`` patches by ``patch_sampler``. Patches collect in a
    buffer that is shuffled and emptied whenever it holds ``max_length``
    patches, and at the end. Shuffling uses Python's :mod:`random` and the
    samplers torch's generator, as TorchIO 2.0.0a2 does, so the same seeds give
    the same patches in the same order (in the same multiset with threads, as
    there the order depends on timing).

    Unlike TorchIO, a subject is not loaded when nothing needs its voxels: with
    no transform, or one made only of crops, pads, flips, axis permutations and
    affine changes, its images stay unloaded and only the patches are read from
    the files (a weighted sampler reads its map whole). Whatever needs loading is
    loaded into a copy, so the dataset's subjects stay unloaded and memory
    does not grow with their number. The patches are the same either way.

    In a ``DataLoader`` with worker processes every worker runs the whole queue
    (as TorchIO's does), each with its own seed.

    Args:
        subjects: The subjects to cut patches from.
        patch_sampler: Called as ``patch_sampler(subject)``, yields patches.
        max_length: Patches held in the buffer before it is shuffled and emptied.
        patches_per_volume: At most this many patches per subject.
        num_workers: Threads preparing subjects (0: prepare in the iterating thread).
        shuffle_subjects: Shuffle the subjects at the start of each epoch.
        shuffle_patches: Shuffle the buffer before emptying it.
        transform: Applied to each subject before cutting patches.
        subject_sampler: Yields the indices of the subjects to use (e.g. a
            ``DistributedSampler``); then ``shuffle_subjects`` must be ``False``.

    Raises:
        ValueError: ``subject_sampler`` given with ``shuffle_subjects=True``.
    """

    def __init__(
        self,
        subjects: Sequence[Subject],
        patch_sampler: PatchSampler,
        max_length: int = 300,
        patches_per_volume: int = 10,
        num_workers: int = 0,
        shuffle_subjects: bool = True,
        shuffle_patches: bool = True,
        transform: Callable[[Subject], Subject] | None = None,
        subject_sampler: Sampler[int] | None = None,
    ) -> None:
        if subject_sampler is not None and shuffle_subjects:
            raise ValueError(
                "shuffle_subjects must be False when a subject_sampler is given:"
                " the sampler decides the order of the subjects"
            )
        self.subjects = subjects
        self.patch_sampler = patch_sampler
        self.max_length = max_length
        self.patches_per_volume = patches_per_volume
        self.num_workers = num_workers
        self.shuffle_subjects = shuffle_subjects
        self.shuffle_patches = shuffle_patches
        self.transform = transform
        self.subject_sampler = subject_sampler

    # -- iterating ----------------------------------------------------------------------

    def __iter__(self) -> Iterator[Subject]:
        """Yield one epoch of patches."""
        buffer: list[Subject] = []
        subjects = self._make_subject_iter()
        if self.num_workers > 0:
            yield from self._iter_threaded(subjects, buffer)
        else:
            yield from self._iter_sync(subjects, buffer)

    def _iter_sync(self, subjects: Iterator[Subject], buffer: list[Subject]) -> Iterator[Subject]:
        for subject in subjects:
            buffer.extend(self._sample_patches(self._prepare(subject)))
            yield from self._drain_if_full(buffer)
        yield from self._flush(buffer)

    def _iter_threaded(
        self, subjects: Iterator[Subject], buffer: list[Subject]
    ) -> Iterator[Subject]:
        with ThreadPoolExecutor(max_workers=self.num_workers) as pool:
            pending: deque[Future[Subject]] = deque()
            for subject in subjects:
                pending.append(pool.submit(self._prepare, subject))
                # Patches are cut here, in subject order, from the subjects prepared so far.
                # Unlike TorchIO, no more than two subjects per thread are prepared ahead:
                # a prepared subject may hold whole volumes, so memory stays bounded.
                while pending and (pending[0].done() or len(pending) > self._max_ahead):
                    buffer.extend(self._sample_patches(pending.popleft().result()))
                yield from self._drain_if_full(buffer)
            for future in pending:
                buffer.extend(self._sample_patches(future.result()))
        yield from self._flush(buffer)

    @property
    def _max_ahead(self) -> int:
        if stays_lazy(self.transform):
            # Lazy subjects hold their .nii.gz voxels in the core's stream
            # cache (prefetched): one ahead per thread, so that they fit in
            # its budget beside the subject being sampled.
            return self.num_workers
        return 2 * self.num_workers

    def _drain_if_full(self, buffer: list[Subject]) -> Iterator[Subject]:
        if len(buffer) >= self.max_length:
            yield from self._flush(buffer)

    def _flush(self, buffer: list[Subject]) -> Iterator[Subject]:
        if self.shuffle_patches:
            random.shuffle(buffer)
        while buffer:
            yield buffer.pop()

    def _prepare(self, subject: Subject) -> Subject:
        """The subject ready for sampling: a copy, loaded only if the transform needs it."""
        prepared = detached(subject)
        if not stays_lazy(self.transform):
            prepared.load()
        if self.transform is not None:
            prepared = self.transform(prepared)
        load_unsliceable(prepared)
        if self.num_workers > 0:
            prefetch_compressed(prepared)
        return prepared

    def _sample_patches(self, subject: Subject) -> list[Subject]:
        patches = list(islice(iter(self.patch_sampler(subject)), self.patches_per_volume))
        if self.num_workers > 0:
            release_compressed(subject)
        return patches

    def _make_subject_iter(self) -> Iterator[Subject]:
        if self.subject_sampler is not None:
            indices = list(self.subject_sampler)
            return (self.subjects[i] for i in indices)
        subjects = list(self.subjects)
        if self.shuffle_subjects:
            random.shuffle(subjects)
        return iter(subjects)

    # -- sizes ----------------------------------------------------------------------------

    @property
    def num_subjects(self) -> int:
        """Subjects per epoch.

        Raises:
            TypeError: The ``subject_sampler`` has no length.
        """
        if self.subject_sampler is not None:
            if not isinstance(self.subject_sampler, Sized):
                raise TypeError("subject_sampler must have a __len__ method")
            return len(self.subject_sampler)
        return len(self.subjects)

    @property
    def patches_per_epoch(self) -> int:
        """Patches per epoch at most (a sampler may yield fewer per subject)."""
        return self.num_subjects * self.patches_per_volume

    @property
    def max_memory(self) -> int:
        """Bytes the full buffer takes, counting 4 bytes per voxel (from the first subject)."""
        channels = sum(image.num_channels for image in self.subjects[0].images.values())
        si, sj, sk = self.patch_sampler.patch_size
        return 4 * channels * si * sj * sk * self.max_length

    @property
    def max_memory_pretty(self) -> str:
        """:attr:`max_memory` for people, e.g. ``'12.0 MiB'``."""
        return _binary_size(self.max_memory)


def _binary_size(size: float) -> str:
    """``size`` bytes in powers of 1024, with one decimal (``'1 Byte'``, ``'1.5 KiB'``)."""
    if abs(size) == 1:
        return f"{int(size)} Byte"
    if abs(size) < 1024:
        return f"{int(size)} Bytes"
    units = ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB", "RiB", "QiB")
    exponent = 1
    # The unit is the largest that keeps the rounded mantissa below 1024.
    while exponent < len(units) and float(f"{abs(size) / 1024**exponent:.1f}") >= 1024:
        exponent += 1
    return f"{size / 1024**exponent:.1f} {units[exponent - 1]}"
