"""Templates and atlases of the Montreal Neurological Institute (MNI).

Each is downloaded once into TorchIO's cache folder (see
:mod:`tioxide.download`) and kept there as ``.nii.gz`` files.
"""

from __future__ import annotations

import shutil
import urllib.parse
from pathlib import Path
from typing import Any, ClassVar

import torch

from ..data.image import LabelMap, ScalarImage
from ..data.subject import Subject
from ..download import compress, download_and_extract_archive, get_torchio_cache_dir

MNI_MODELS_URL = "http://packages.bic.mni.mcgill.ca/mni-models/"
ICBM_URL = "http://www.bic.mni.mcgill.ca/~vfonov/icbm/2009/"
PEDIATRIC_URL = "http://www.bic.mni.mcgill.ca/~vfonov/nihpd/obj1/"


class SubjectMNI(Subject):
    """An MNI template (https://nist.mni.mcgill.ca/?page_id=714)."""

    url_base = MNI_MODELS_URL
    name: str

    @property
    def download_root(self) -> Path:
        """Where this template's files are kept."""
        return get_torchio_cache_dir() / self.name

    def _fetch_zip(self, url: str) -> None:
        """Download and unpack ``url`` into :attr:`download_root`, removing
        the archive."""
        filename = url.rsplit("/", 1)[-1]
        download_and_extract_archive(
            url, self.download_root, filename=filename, remove_finished=True
        )


def _gzip_all(folder: Path) -> None:
    for path in folder.glob("*.nii"):
        compress(path)
        path.unlink()


TISSUES_2008 = {
    1: "Cerebro-spinal fluid",
    2: "Gray Matter",
    3: "White Matter",
    4: "Fat",
    5: "Muscles",
    6: "Skin and Muscles",
    7: "Skull",
    9: "Fat 2",
    10: "Dura",
    11: "Marrow",
    12: "Vessels",
}


class Colin27(SubjectMNI):
    """The Colin27 average brain.

    Version 1998 (https://nist.mni.mcgill.ca/colin-27-average-brain/) has a
    T1 image and head and brain masks; version 2008 has T1, T2 and PD images
    and a tissue label map (see :data:`TISSUES_2008`), each 362 x 434 x 362
    voxels, so transforms of it take a while.

    Args:
        version: 1998 or 2008.

    Raises:
        ValueError: Another version.
    """

    NAME_TO_LABEL: ClassVar[dict[str, int]] = {name: label for label, name in TISSUES_2008.items()}

    def __init__(self, version: int = 1998) -> None:
        if version not in (1998, 2008):
            raise ValueError(f'Version must be 1998 or 2008, not "{version}"')
        self.version = version
        self.name = f"mni_colin27_{version}_nifti"
        self.url_dir = urllib.parse.urljoin(self.url_base, "colin27/")
        self.filename = f"{self.name}.zip"
        self.url = urllib.parse.urljoin(self.url_dir, self.filename)
        root = self.download_root
        if not root.is_dir():
            self._fetch_zip(self.url)
            if version == 2008:
                # The label map is stored as floats near the labels: rounded to
                # uint8 once, as TorchIO does.
                path = root / "colin27_cls_tal_hires.nii"
                labels = LabelMap(path)
                labels.set_data(labels.data.round().to(torch.uint8))
                labels.save(path)
            _gzip_all(root)
        if version == 1998:
            t1, head, brain = (
                root / f"colin27_t1_tal_lin{kind}.nii.gz" for kind in ("", "_headmask", "_mask")
            )
            images: dict[str, Any] = {
                "t1": ScalarImage(t1),
                "head": LabelMap(head),
                "brain": LabelMap(brain),
            }
        else:
            t1, t2, pd, cls = (
                root / f"colin27_{kind}_tal_hires.nii.gz" for kind in ("t1", "t2", "pd", "cls")
            )
            images = {
                "t1": ScalarImage(t1),
                "t2": ScalarImage(t2),
                "pd": ScalarImage(pd),
                "cls": LabelMap(cls),
            }
        super().__init__(**images)


class Sheep(SubjectMNI):
    """The ovine brain template at 0.5 mm (its T1 image only)."""

    def __init__(self) -> None:
        self.name = "NIFTI_ovine_05mm"
        self.url_dir = urllib.parse.urljoin(self.url_base, "sheep/")
        self.filename = f"{self.name}.zip"
        self.url = urllib.parse.urljoin(self.url_dir, self.filename)
        root = self.download_root
        t1 = root / "ovine_model_05.nii.gz"
        if not root.is_dir():
            self._fetch_zip(self.url)
            shutil.rmtree(root / "masks", ignore_errors=True)
            compress(root / "ovine_model_05.nii", t1)
            for path in root.iterdir():
                if path != t1:
                    path.unlink()
        super().__init__(t1=ScalarImage(t1))


SUPPORTED_YEARS = ((4.5, 18.5), (4.5, 8.5), (7, 11), (7.5, 13.5), (10, 14), (13, 18.5))


def _age(years: float) -> str:
    """An age as the file names write it: ``04.5``, ``18.5``, ``07.0``."""
    tenths = round(years * 10)
    return f"{tenths // 10:02d}.{tenths % 10}"


class Pediatric(SubjectMNI):
    """An MNI paediatric template (https://nist.mni.mcgill.ca/pediatric-atlases-4-5-18-5y/):
    T1, T2 and PD images and a brain mask.

    Args:
        years: The age range, one of :data:`SUPPORTED_YEARS`.
        symmetric: The left-right symmetric template; else the natural one.

    Raises:
        ValueError: An age range that has no template.
    """

    def __init__(self, years: tuple[float, float], symmetric: bool = False) -> None:
        if not isinstance(years, tuple) or years not in SUPPORTED_YEARS:
            raise ValueError(f"Years must be a tuple in {SUPPORTED_YEARS}, got {years!r}")
        self.url_dir = PEDIATRIC_URL
        first, last = years
        self.file_id = f"{'sym' if symmetric else 'asym'}_{_age(first)}-{_age(last)}"
        self.name = f"nihpd_{self.file_id}_nifti"
        self.filename = f"{self.name}.zip"
        self.url = urllib.parse.urljoin(self.url_dir, self.filename)
        root = self.download_root
        if not root.is_dir():
            self._fetch_zip(self.url)
            _gzip_all(root)
        stem = root / f"nihpd_{self.file_id}"
        super().__init__(
            t1=ScalarImage(f"{stem}_t1w.nii.gz"),
            t2=ScalarImage(f"{stem}_t2w.nii.gz"),
            pd=ScalarImage(f"{stem}_pdw.nii.gz"),
            mask=LabelMap(f"{stem}_mask.nii.gz"),
        )


class ICBM2009CNonlinearSymmetric(SubjectMNI):
    """The ICBM 2009c nonlinear symmetric template
    (http://www.bic.mni.mcgill.ca/ServicesAtlases/ICBM152NLin2009): T1 and
    T2 images, eye, face and brain masks, and grey matter, white matter and
    CSF probability maps. (Its ``pd`` image is the CSF map, as in TorchIO.)

    Args:
        load_4d_tissues: The three tissue maps as one 3-channel image
            ``tissues``; else as ``gm``, ``wm`` and ``csf``.
    """

    def __init__(self, load_4d_tissues: bool = False) -> None:
        self.name = "mni_icbm152_nlin_sym_09c_nifti"
        self.url_base = ICBM_URL
        self.filename = f"{self.name}.zip"
        self.url = urllib.parse.urljoin(self.url_base, self.filename)
        root = self.download_root
        if not root.is_dir():
            self._fetch_zip(self.url)
        folder = root / "mni_icbm152_nlin_sym_09c"
        stem, tag = str(folder / "mni_icbm152"), "tal_nlin_sym_09c"
        tissues = Path(f"{stem}_tissues_{tag}.nii.gz")
        if not tissues.is_file():
            maps = [LabelMap(f"{stem}_{kind}_{tag}.nii") for kind in ("gm", "wm", "csf")]
            stacked = maps[0]
            stacked.set_data(torch.cat([m.data for m in maps]))
            stacked.save(tissues)
        _gzip_all(folder)

        def path(kind: str) -> str:
            return f"{stem}_{kind}_{tag}.nii.gz"

        images: dict[str, Any] = {
            "t1": ScalarImage(path("t1")),
            "eyes": LabelMap(f"{stem}_t1_{tag}_eye_mask.nii.gz"),
            "face": LabelMap(f"{stem}_t1_{tag}_face_mask.nii.gz"),
            "brain": LabelMap(f"{stem}_t1_{tag}_mask.nii.gz"),
            "t2": ScalarImage(path("t2")),
            "pd": ScalarImage(path("csf")),
        }
        if load_4d_tissues:
            images["tissues"] = LabelMap(tissues, channels_last=True)
        else:
            for kind in ("gm", "wm", "csf"):
                images[kind] = LabelMap(path(kind))
        super().__init__(**images)
