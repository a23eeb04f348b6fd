"""The IXI dataset (https://brain-development.org/ixi-dataset/): nearly 600
MR images of healthy subjects, under the CC BY-SA 3.0 licence (acknowledge
the source when you use it)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..data.image import LabelMap, ScalarImage
from ..data.subject import Subject
from ..download import download_and_extract_archive
from ..types import TypePath

IXI_URL = "http://biomedic.doc.ic.ac.uk/brain-development/downloads/IXI/IXI-{modality}.tar"
IXI_MD5 = {
    "T1": "34901a0593b41dd19c1a1f746eac2d58",
    "T2": "e3140d78730ecdd32ba92da48c0a9aaa",
    "PD": "88ecd9d1fa33cb4a2278183b42ffd749",
    "MRA": "29be7d2fee3998f978a55a9bdaf3407e",
    "DTI": "636573825b1c8b9e8c78f1877df3ee66",
}
IXI_TINY_URL = "https://www.dropbox.com/s/ogxjwjxdv5mieah/ixi_tiny.zip?dl=1"
IXI_TINY_MD5 = "bfb60f4074283d78622760230bfa1f98"


def ixi(
    root: TypePath, *, download: bool = False, modalities: Sequence[str] = ("T1", "T2")
) -> list[Subject]:
    """The IXI subjects that have every one of ``modalities``.

    Args:
        root: The dataset's folder (one subfolder per modality).
        download: Download the missing modalities first (several GB).
        modalities: Some of ``"T1"``, ``"T2"``, ``"PD"``, ``"MRA"``, ``"DTI"``;
            each subject has an image of each under its name, and
            ``subject_id``.

    Raises:
        ValueError: An unknown modality.
        RuntimeError: A modality's folder is missing and ``download`` is off.
    """
    root = Path(root)
    for modality in modalities:
        if modality not in IXI_MD5:
            raise ValueError(f'Modality "{modality}" must be one of {tuple(IXI_MD5)}')
    if download:
        for modality in modalities:
            folder = root / modality
            if not folder.is_dir():
                _download_into(IXI_URL.format(modality=modality), folder, IXI_MD5[modality])
    if not all((root / m).is_dir() for m in modalities):
        raise RuntimeError(f"Dataset not found in {root}. Use download=True to download it")
    first, *others = modalities
    subjects = []
    for path in sorted((root / first).glob("*.nii.gz")):
        sid = _subject_id(path)
        images: dict[str, Any] = {"subject_id": sid, first: ScalarImage(path)}
        for modality in others:
            found = sorted((root / modality).glob(f"{sid}-{modality}.nii.gz"))
            if not found:
                break
            images[modality] = ScalarImage(found[0])
        else:
            subjects.append(Subject(**images))
    return subjects


def ixi_tiny(root: TypePath, *, download: bool = False) -> list[Subject]:
    """IXITiny: 566 T1 images of 83 x 44 x 55 voxels with their segmentations
    (``image``, ``label`` and ``subject_id`` in each subject), a small
    dataset for quick experiments.

    Raises:
        RuntimeError: ``root`` is missing and ``download`` is off.
        FileNotFoundError: ``root`` holds no images or labels.
    """
    root = Path(root)
    if download and not root.is_dir():
        root.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".ixi_tiny.", dir=root.parent))
        try:
            _download_into(IXI_TINY_URL, staging, IXI_TINY_MD5)
            unpacked = staging / "ixi_tiny"
            root.mkdir(parents=True)
            for part in ("image", "label"):
                (unpacked / part).rename(root / part)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    if not root.is_dir():
        raise RuntimeError(f"Dataset not found in {root}. Use download=True to download it")
    images = sorted((root / "image").glob("*.nii.gz"))
    labels = sorted((root / "label").glob("*.nii.gz"))
    if not (images and labels):
        raise FileNotFoundError(f"Images not found. Remove {root} and try again")
    return [
        Subject(image=ScalarImage(image), label=LabelMap(label), subject_id=_subject_id(image))
        for image, label in zip(images, labels, strict=True)
    ]


def _download_into(url: str, folder: Path, md5: str) -> None:
    """Download the archive at ``url`` next to ``folder``, extract it into
    ``folder`` and delete it."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent) as scratch:
        download_and_extract_archive(
            url, scratch, extract_root=folder, filename="archive" + _suffix(url), md5=md5
        )


def _suffix(url: str) -> str:
    return ".zip" if ".zip" in url else ".tar"


def _subject_id(path: Path) -> str:
    """``IXI002-Guys-0828`` of ``IXI002-Guys-0828-T1.nii.gz``."""
    return "-".join(path.name.split("-")[:-1])
