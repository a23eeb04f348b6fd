"""Sample data of 3D Slicer (https://www.slicer.org/wiki/SampleData)."""

from __future__ import annotations

import urllib.parse

from ..data.image import ScalarImage
from ..data.subject import Subject
from ..download import download_url, get_torchio_cache_dir

SLICER_URL = "https://github.com/Slicer/SlicerTestingData/releases/download/"

#: Name -> (file names, their paths on Slicer's release server).
URLS_DICT: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "MRHead": (
        ("MRHead.nrrd",),
        ("SHA256/cc211f0dfd9a05ca3841ce1141b292898b2dd2d3f08286affadf823a7e58df93",),
    ),
    "DTIBrain": (
        ("DTI-Brain.nrrd",),
        ("SHA256/5c78d00c86ae8d968caa7a49b870ef8e1c04525b1abc53845751d8bce1f0b91a",),
    ),
    "DTIVolume": (
        ("DTIVolume.raw.gz", "DTIVolume.nhdr"),
        (
            "SHA256/d785837276758ddd9d21d76a3694e7fd866505a05bc305793517774c117cb38d",
            "SHA256/67564aa42c7e2eec5c3fd68afb5a910e9eab837b61da780933716a3b922e50fe",
        ),
    ),
    "CTChest": (
        ("CT-chest.nrrd",),
        ("SHA256/4507b664690840abb6cb9af2d919377ffc4ef75b167cb6fd0f747befdb12e38e",),
    ),
    "CTACardio": (
        ("CTA-cardio.nrrd",),
        ("SHA256/3b0d4eb1a7d8ebb0c5a89cc0504640f76a030b4e869e33ff34c564c3d3b88ad2",),
    ),
}


class Slicer(Subject):
    """One of 3D Slicer's sample images, as a subject with one image named
    after its file (``MRHead`` gives ``MRHead``, ``CTChest`` gives ``CT_chest``).

    Licences and permissions are listed in Slicer's Sample Data module.

    Args:
        name: A key of :data:`URLS_DICT`.

    Raises:
        ValueError: Another name.
    """

    def __init__(self, name: str = "MRHead") -> None:
        if name not in URLS_DICT:
            raise ValueError(f'Invalid name "{name}". Valid names are: {", ".join(URLS_DICT)}')
        filenames, url_files = URLS_DICT[name]
        root = get_torchio_cache_dir() / "slicer"
        saved = []
        for filename, url_file in zip(filenames, url_files, strict=True):
            url = urllib.parse.urljoin(SLICER_URL, url_file)
            saved.append(download_url(url, root, filename=filename.replace("-", "_")))
        # The last file is the image (a header after its raw data, if two).
        image = saved[-1]
        super().__init__(**{image.name.split(".")[0]: ScalarImage(image)})
