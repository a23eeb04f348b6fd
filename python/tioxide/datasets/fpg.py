"""A 3 T brain MRI with its parcellation (from TorchIO's data repository)."""

from __future__ import annotations

import urllib.parse
from typing import Any

from ..data.image import LabelMap, ScalarImage
from ..data.subject import Subject
from ..download import download_url, get_torchio_cache_dir
from ..io import read_matrix

DATA_REPO = "https://github.com/TorchIO-project/torchio-data/raw/main/data/"


class FPG(Subject):
    """A T1-weighted brain MRI (``t1``) and its GIF parcellation (``seg``).

    Both carry, as metadata, the rigid (``rigid_matrix``) and affine
    (``affine_matrix``) transforms from the T1 to MNI space. TorchIO also
    colours the parcellation with GIF's palette when plotting; tioxide uses
    its default label palette (pass ``cmap_dict`` to :meth:`plot` for others).

    Args:
        load_all: Also load a T2-weighted image (``t2``), a functional MRI
            (``fmri``) and a diffusion MRI (``dmri``).
    """

    def __init__(self, load_all: bool = False) -> None:
        files = {
            "t1": "t1.nii.gz",
            "seg": "t1_seg_gif.nii.gz",
            "rigid": "t1_to_mni.tfm",
            "affine": "t1_to_mni_affine.h5",
        }
        if load_all:
            files |= {"t2": "t2.nii.gz", "fmri": "fmri.nrrd", "dmri": "dmri.nrrd"}
        root = get_torchio_cache_dir() / "fpg"
        folder = urllib.parse.urljoin(DATA_REPO, "fernando/")
        paths = {
            key: download_url(urllib.parse.urljoin(folder, name), root, filename=name)
            for key, name in files.items()
        }
        transforms: dict[str, Any] = {
            "rigid_matrix": read_matrix(paths["rigid"]),
            "affine_matrix": read_matrix(paths["affine"]),
        }
        images: dict[str, Any] = {
            "t1": ScalarImage(paths["t1"], **transforms),
            "seg": LabelMap(paths["seg"], **transforms),
        }
        if load_all:
            for key in ("t2", "fmri", "dmri"):
                images[key] = ScalarImage(paths[key])
        super().__init__(**images)
