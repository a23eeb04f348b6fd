"""The 3-D datasets of MedMNIST v2 (https://medmnist.com/; Yang et al.,
https://arxiv.org/abs/2110.14795): small 28^3 volumes with class labels.
Check the website for each dataset's licence."""

from __future__ import annotations

import numpy as np
import torch

from ..data.image import ScalarImage
from ..data.subject import Subject
from ..download import download_url, get_torchio_cache_dir

MEDMNIST_URL = "https://zenodo.org/record/5208230/files/{filename}?download=1"
_SPLITS = {
    "train": "train",
    "training": "train",
    "val": "val",
    "validation": "val",
    "test": "test",
    "testing": "test",
}


def _load(name: str, split: str) -> list[Subject]:
    """The subjects of one split: ``image`` (float32, 1 x 28 x 28 x 28) and
    ``labels`` (a tensor) each.

    Raises:
        ValueError: An unknown split.
    """
    if split not in _SPLITS:
        raise ValueError(f"Split must be one of {tuple(_SPLITS)}, got {split!r}")
    split = _SPLITS[split]
    filename = f"{name}.npz"
    path = download_url(
        MEDMNIST_URL.format(filename=filename),
        get_torchio_cache_dir() / "MedMNIST",
        filename=filename,
    )
    with np.load(path) as npz:
        images, labels = npz[f"{split}_images"], npz[f"{split}_labels"]
    return [
        Subject(
            image=ScalarImage(torch.from_numpy(image[np.newaxis].astype(np.float32))),
            labels=torch.from_numpy(label.copy()),
        )
        for image, label in zip(images, labels, strict=True)
    ]


def organ_mnist_3d(split: str = "train") -> list[Subject]:
    """OrganMNIST3D: abdominal organs (``"train"``, ``"val"`` or ``"test"``)."""
    return _load("organmnist3d", split)


def nodule_mnist_3d(split: str = "train") -> list[Subject]:
    """NoduleMNIST3D: lung nodules (``"train"``, ``"val"`` or ``"test"``)."""
    return _load("nodulemnist3d", split)


def adrenal_mnist_3d(split: str = "train") -> list[Subject]:
    """AdrenalMNIST3D: adrenal glands (``"train"``, ``"val"`` or ``"test"``)."""
    return _load("adrenalmnist3d", split)


def fracture_mnist_3d(split: str = "train") -> list[Subject]:
    """FractureMNIST3D: rib fractures (``"train"``, ``"val"`` or ``"test"``)."""
    return _load("fracturemnist3d", split)


def vessel_mnist_3d(split: str = "train") -> list[Subject]:
    """VesselMNIST3D: brain vessels (``"train"``, ``"val"`` or ``"test"``)."""
    return _load("vesselmnist3d", split)


def synapse_mnist_3d(split: str = "train") -> list[Subject]:
    """SynapseMNIST3D: synapses (``"train"``, ``"val"`` or ``"test"``)."""
    return _load("synapsemnist3d", split)
