"""Sample data from ITK-SNAP's download page
(http://www.itksnap.org/pmwiki/pmwiki.php?n=Downloads.Data)."""

from __future__ import annotations

import urllib.parse
from typing import Any

from ..data.image import LabelMap, ScalarImage
from ..data.subject import Subject
from ..download import download_and_extract_archive, get_torchio_cache_dir

ITK_SNAP_URL = "https://www.nitrc.org/frs/download.php/"


class SubjectITKSNAP(Subject):
    """A sample subject of ITK-SNAP, downloaded once into TorchIO's cache folder.

    Args:
        name: The archive's name (without ``.zip``).
        code: Its number on NITRC's download server.
    """

    url_base = ITK_SNAP_URL

    def __init__(self, name: str, code: str) -> None:
        self.name = name
        self.url_dir = urllib.parse.urljoin(self.url_base, f"{code}/")
        self.filename = f"{name}.zip"
        self.url = urllib.parse.urljoin(self.url_dir, self.filename)
        self.download_root = get_torchio_cache_dir() / name
        if not self.download_root.is_dir():
            download_and_extract_archive(self.url, self.download_root, filename=self.filename)
        super().__init__(**self._get_kwargs())

    def _get_kwargs(self) -> dict[str, Any]:
        raise NotImplementedError

    def _files(self, pattern: str, *parts: str) -> list[Any]:
        return [self.download_root / self.name / pattern.format(part) for part in parts]


class BrainTumor(SubjectITKSNAP):
    """A BRATS glioma case: T1, contrast T1, T2 and FLAIR images and a segmentation."""

    def __init__(self) -> None:
        super().__init__("braintumor", "6161")

    def _get_kwargs(self) -> dict[str, Any]:
        t1, t1c, t2, flair, seg = self._files(
            "BRATS_HG0015_{}.mha", "T1", "T1C", "T2", "FLAIR", "truth"
        )
        return {
            "t1": ScalarImage(t1),
            "t1c": ScalarImage(t1c),
            "t2": ScalarImage(t2),
            "flair": ScalarImage(flair),
            "seg": LabelMap(seg),
        }


class T1T2(SubjectITKSNAP):
    """A T1 (MPRAGE) and a T2 (TSE) brain image of one subject."""

    def __init__(self) -> None:
        super().__init__("ashs_test", "10983")

    def _get_kwargs(self) -> dict[str, Any]:
        mprage, tse = self._files("{}.nii", "mprage_3T_bet_dr", "tse_3t_dr")
        return {"mprage": ScalarImage(mprage), "tse": ScalarImage(tse)}


class AorticValve(SubjectITKSNAP):
    """Two cardiac CT frames of an aortic valve, each with its segmentation."""

    def __init__(self) -> None:
        super().__init__("bav_example", "11021")

    def _get_kwargs(self) -> dict[str, Any]:
        b14, b14_seg, b25, b25_seg = self._files(
            "bav_frame_{}.nii.gz", "14", "14_manseg", "25", "25_manseg"
        )
        return {
            "b14": ScalarImage(b14),
            "b14_seg": LabelMap(b14_seg),
            "b25": ScalarImage(b25),
            "b25_seg": LabelMap(b25_seg),
        }
