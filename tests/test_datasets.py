"""tioxide.datasets against TorchIO 2.0.0a2's, offline: both libraries fetch
the same stand-in files from a local HTTP server laid out as the real hosts
(tioxide through TIOXIDE_DATASETS_MIRROR, TorchIO through a patched
urlretrieve) into their own cache folders, and must build the same subjects."""

from __future__ import annotations

import gzip
import hashlib
import importlib
import io
import tarfile
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk
import torch
import torchio

import tioxide
from http_server import serving
from tioxide import download

RNG = np.random.default_rng(20261127)


def _nifti_bytes(shape: tuple[int, ...] = (5, 6, 4), *, labels: bool = False) -> bytes:
    if labels:
        data = RNG.integers(0, 4, shape).astype(np.float32) + RNG.normal(0, 0.01, shape).astype(
            np.float32
        )
    else:
        data = RNG.normal(100, 20, shape).astype(np.float32)
    affine = np.diag([1.5, 1.0, 2.0, 1.0])
    affine[:3, 3] = RNG.uniform(-20, 20, 3)
    return nib.Nifti1Image(data, affine).to_bytes()


def _sitk_bytes(suffix: str, tmp: Path) -> bytes:
    image = sitk.GetImageFromArray(RNG.normal(0, 1, (4, 5, 6)).astype(np.float32))
    image.SetSpacing((0.9, 1.1, 2.0))
    path = tmp / f"stand-in{suffix}"
    sitk.WriteImage(image, str(path))
    return path.read_bytes()


def _gzipped(name: str, data: bytes) -> bytes:
    return gzip.compress(data) if name.endswith(".nii.gz") else data


def _zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in files.items():
            z.writestr(name, _gzipped(name, data))
    return out.getvalue()


def _tar(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, plain in files.items():
            data = _gzipped(name, plain)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _matrix_file(suffix: str, tmp: Path) -> bytes:
    path = tmp / f"m{suffix}"
    matrix = np.eye(4)
    matrix[:3, :3] += RNG.normal(0, 0.05, (3, 3))
    matrix[:3, 3] = RNG.uniform(-5, 5, 3)
    torchio.write_matrix(torch.from_numpy(matrix), path)
    return path.read_bytes()


class Mirror:
    """The stand-in files, served under ``<host>/<path>`` as the mirror rule asks."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, url: str, data: bytes) -> str:
        if url.endswith(".nii.gz"):
            data = gzip.compress(data)
        parts = urllib.parse.urlsplit(url)
        path = self.root / parts.netloc / parts.path.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return hashlib.md5(data).hexdigest()


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Mirror, str]]:
    root = tmp_path_factory.mktemp("mirror")
    scratch = tmp_path_factory.mktemp("scratch")
    m = Mirror(root)
    mni = "http://packages.bic.mni.mcgill.ca/mni-models/"
    m.put(
        mni + "colin27/mni_colin27_1998_nifti.zip",
        _zip(
            {
                f"colin27_t1_tal_lin{k}.nii": _nifti_bytes(labels=bool(k))
                for k in ("", "_headmask", "_mask")
            }
        ),
    )
    m.put(
        mni + "colin27/mni_colin27_2008_nifti.zip",
        _zip(
            {
                f"colin27_{k}_tal_hires.nii": _nifti_bytes(labels=k == "cls")
                for k in ("t1", "t2", "pd", "cls")
            }
        ),
    )
    m.put(
        mni + "sheep/NIFTI_ovine_05mm.zip",
        _zip(
            {
                "ovine_model_05.nii": _nifti_bytes(),
                "masks/brain.nii": _nifti_bytes(labels=True),
                "readme.txt": b"x",
            }
        ),
    )
    m.put(
        "http://www.bic.mni.mcgill.ca/~vfonov/nihpd/obj1/nihpd_asym_04.5-08.5_nifti.zip",
        _zip(
            {
                f"nihpd_asym_04.5-08.5_{k}.nii": _nifti_bytes(labels=k == "mask")
                for k in ("t1w", "t2w", "pdw", "mask")
            }
        ),
    )
    icbm = {
        f"mni_icbm152_nlin_sym_09c/mni_icbm152_{k}_tal_nlin_sym_09c.nii": _nifti_bytes()
        for k in ("t1", "t2", "gm", "wm", "csf")
    } | {
        f"mni_icbm152_nlin_sym_09c/mni_icbm152_t1_tal_nlin_sym_09c_{k}.nii": _nifti_bytes(
            labels=True
        )
        for k in ("eye_mask", "face_mask", "mask")
    }
    m.put(
        "http://www.bic.mni.mcgill.ca/~vfonov/icbm/2009/mni_icbm152_nlin_sym_09c_nifti.zip",
        _zip(icbm),
    )
    nitrc = "https://www.nitrc.org/frs/download.php/"
    m.put(
        nitrc + "6161/braintumor.zip",
        _zip(
            {
                f"braintumor/BRATS_HG0015_{k}.mha": _sitk_bytes(".mha", scratch)
                for k in ("T1", "T1C", "T2", "FLAIR", "truth")
            }
        ),
    )
    m.put(
        nitrc + "10983/ashs_test.zip",
        _zip({f"ashs_test/{k}.nii": _nifti_bytes() for k in ("mprage_3T_bet_dr", "tse_3t_dr")}),
    )
    m.put(
        nitrc + "11021/bav_example.zip",
        _zip(
            {
                f"bav_example/bav_frame_{k}.nii.gz": _nifti_bytes()
                for k in ("14", "14_manseg", "25", "25_manseg")
            }
        ),
    )
    slicer = "https://github.com/Slicer/SlicerTestingData/releases/download/"
    for name in ("MRHead", "CTChest"):
        m.put(slicer + tioxide.datasets.slicer.URLS_DICT[name][1][0], _sitk_bytes(".nrrd", scratch))
    repo = "https://github.com/TorchIO-project/torchio-data/raw/main/data/fernando/"
    for name in ("t1.nii.gz", "t2.nii.gz"):
        m.put(repo + name, _nifti_bytes())
    m.put(repo + "t1_seg_gif.nii.gz", _nifti_bytes(labels=True))
    m.put(repo + "t1_to_mni.tfm", _matrix_file(".tfm", scratch))
    m.put(repo + "t1_to_mni_affine.h5", _matrix_file(".h5", scratch))
    for name in ("fmri.nrrd", "dmri.nrrd"):
        m.put(repo + name, _sitk_bytes(".nrrd", scratch))
    with serving(root) as url:
        yield m, url


@pytest.fixture
def both(
    mirror: tuple[Mirror, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., tuple[Any, Any]]:
    """Build a dataset with each library, each into a cache folder of its own."""
    _, base = mirror
    monkeypatch.setenv(download.MIRROR_VARIABLE, base)
    real = urllib.request.urlretrieve

    def via_mirror(url: str, *args: Any, **kwargs: Any) -> Any:
        return real(download.mirrored(url), *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlretrieve", via_mirror)

    def build(ours: Callable[[], Any], theirs: Callable[[], Any]) -> tuple[Any, Any]:
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "tioxide-cache"))
        a = ours()
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "torchio-cache"))
        b = theirs()
        return a, b

    return build


def assert_same_subjects(ours: Any, theirs: Any) -> None:
    assert type(ours).__name__ == type(theirs).__name__
    assert sorted(ours.images) == sorted(theirs.images)
    for name, image in ours.images.items():
        other = theirs.images[name]
        assert type(image).__name__ == type(other).__name__, name
        assert image.data.dtype == other.data.dtype, name
        np.testing.assert_array_equal(image.data.numpy(), other.data.numpy(), err_msg=name)
        np.testing.assert_allclose(
            image.affine.numpy(), other.affine.numpy(), atol=1e-9, err_msg=name
        )
    for key, value in ours.metadata.items():
        other = theirs.metadata[key]
        if isinstance(value, torch.Tensor):
            assert torch.equal(value, other), key
        else:
            assert value == other, key


CASES: dict[str, Callable[[Any], Any]] = {
    "Colin27 1998": lambda lib: lib.datasets.Colin27(),
    "Colin27 2008": lambda lib: lib.datasets.Colin27(version=2008),
    "Sheep": lambda lib: lib.datasets.Sheep(),
    "Pediatric": lambda lib: lib.datasets.Pediatric((4.5, 8.5)),
    "ICBM": lambda lib: lib.datasets.ICBM2009CNonlinearSymmetric(),
    "ICBM 4D tissues": lambda lib: lib.datasets.ICBM2009CNonlinearSymmetric(load_4d_tissues=True),
    "BrainTumor": lambda lib: lib.datasets.BrainTumor(),
    "T1T2": lambda lib: lib.datasets.T1T2(),
    "AorticValve": lambda lib: lib.datasets.AorticValve(),
    "Slicer MRHead": lambda lib: lib.datasets.Slicer(),
    "Slicer CTChest": lambda lib: lib.datasets.Slicer("CTChest"),
    "FPG": lambda lib: lib.datasets.FPG(),
    "FPG all": lambda lib: lib.datasets.FPG(load_all=True),
}


@pytest.mark.parametrize("case", list(CASES))
def test_dataset_matches_torchio(
    case: str, both: Callable[..., tuple[Any, Any]], tmp_path: Path
) -> None:
    make = CASES[case]
    ours, theirs = both(lambda: make(tioxide), lambda: make(torchio))
    assert isinstance(ours, tioxide.Subject)
    assert_same_subjects(ours, theirs)
    # The same files are kept in each cache folder.
    kept = [
        sorted(str(p.relative_to(tmp_path / d)) for p in (tmp_path / d).rglob("*") if p.is_file())
        for d in ("tioxide-cache", "torchio-cache")
    ]
    assert kept[0] == kept[1]


def test_a_second_build_reads_the_cache(
    both: Callable[..., tuple[Any, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _ = both(lambda: tioxide.datasets.Colin27(), lambda: torchio.datasets.Colin27())
    monkeypatch.setenv("XDG_CACHE_HOME", str(Path(first.t1.path).parents[2]))
    monkeypatch.setenv(download.MIRROR_VARIABLE, "http://127.0.0.1:9/nothing-here")
    again = tioxide.datasets.Colin27()
    assert_same_subjects(again, first)


def test_ixi_and_ixi_tiny(
    mirror: tuple[Mirror, str],
    both: Callable[..., tuple[Any, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    m, _ = mirror
    # The modules, which their functions of the same name hide in the packages.
    ours_ixi = importlib.import_module("tioxide.datasets.ixi")
    theirs_ixi = importlib.import_module("torchio.datasets.ixi")
    ids = ["IXI002-Guys-0828", "IXI012-HH-1211", "IXI013-HH-1212"]
    md5s = {}
    for modality in ("T1", "T2"):
        members = {
            f"{sid}-{modality}.nii.gz": _nifti_bytes()
            for sid in ids
            if (sid, modality) != (ids[1], "T2")
        }
        md5s[modality] = m.put(ours_ixi.IXI_URL.format(modality=modality), _tar(members))
    tiny = {f"ixi_tiny/image/{sid}-image.nii.gz": _nifti_bytes() for sid in ids}
    tiny |= {f"ixi_tiny/label/{sid}-label.nii.gz": _nifti_bytes(labels=True) for sid in ids}
    tiny_md5 = m.put(ours_ixi.IXI_TINY_URL, _zip(tiny))
    monkeypatch.setattr(ours_ixi, "IXI_MD5", {**ours_ixi.IXI_MD5, **md5s})
    monkeypatch.setattr(theirs_ixi, "_IXI_MD5", {**theirs_ixi._IXI_MD5, **md5s})
    monkeypatch.setattr(ours_ixi, "IXI_TINY_MD5", tiny_md5)
    monkeypatch.setattr(theirs_ixi, "_IXI_TINY_MD5", tiny_md5)

    ours, theirs = both(
        lambda: tioxide.datasets.ixi(tmp_path / "ours", download=True),
        lambda: torchio.datasets.ixi(tmp_path / "theirs", download=True),
    )
    assert [s.subject_id for s in ours] == [ids[0], ids[2]]  # the one without T2 is left out
    for a, b in zip(ours, theirs, strict=True):
        assert_same_subjects(a, b)
    ours, theirs = both(
        lambda: tioxide.datasets.ixi_tiny(tmp_path / "tiny-ours", download=True),
        lambda: torchio.datasets.ixi_tiny(tmp_path / "tiny-theirs", download=True),
    )
    assert len(ours) == 3
    for a, b in zip(ours, theirs, strict=True):
        assert_same_subjects(a, b)
    assert sorted(p.name for p in (tmp_path / "tiny-ours").iterdir()) == ["image", "label"]

    with pytest.raises(ValueError, match='Modality "CT"'):
        tioxide.datasets.ixi(tmp_path / "x", modalities=("CT",))
    with pytest.raises(RuntimeError, match="download=True"):
        tioxide.datasets.ixi(tmp_path / "absent")
    with pytest.raises(RuntimeError, match="download=True"):
        tioxide.datasets.ixi_tiny(tmp_path / "absent")


def test_medmnist(
    mirror: tuple[Mirror, str], both: Callable[..., tuple[Any, Any]], tmp_path: Path
) -> None:
    """TorchIO 2.0.0a2's loaders call a method its ScalarImage lacks; tioxide's
    are checked against the archive's arrays."""
    m, _ = mirror
    arrays = {}
    for split, n in (("train", 3), ("val", 2), ("test", 1)):
        arrays[f"{split}_images"] = RNG.integers(0, 255, (n, 28, 28, 28), dtype=np.uint8)
        arrays[f"{split}_labels"] = RNG.integers(0, 5, (n, 1))
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    m.put(
        importlib.import_module("tioxide.datasets.medmnist").MEDMNIST_URL.format(
            filename="organmnist3d.npz"
        ),
        buffer.getvalue(),
    )
    subjects, _ = both(lambda: tioxide.datasets.organ_mnist_3d("validation"), lambda: None)
    assert len(subjects) == 2
    for subject, image, label in zip(
        subjects, arrays["val_images"], arrays["val_labels"], strict=True
    ):
        assert subject.image.data.dtype == torch.float32
        np.testing.assert_array_equal(subject.image.data.numpy()[0], image)
        assert torch.equal(subject.labels, torch.from_numpy(label))
    with pytest.raises(ValueError, match="Split must be one of"):
        tioxide.datasets.organ_mnist_3d("holdout")


def test_bad_arguments_and_zone_plate() -> None:
    with pytest.raises(ValueError, match="1998 or 2008"):
        tioxide.datasets.Colin27(version=2000)
    with pytest.raises(ValueError, match="Years must be a tuple"):
        tioxide.datasets.Pediatric((5, 9))
    with pytest.raises(ValueError, match='Invalid name "Nope"'):
        tioxide.datasets.Slicer("Nope")
    with pytest.raises(ValueError, match="at least 3"):
        tioxide.datasets.ZonePlate(size=2)
    for size in (3, 8, 11):
        assert_same_subjects(tioxide.datasets.ZonePlate(size), torchio.datasets.ZonePlate(size))


def test_downloads_are_checked_and_atomic(
    mirror: tuple[Mirror, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    m, base = mirror
    monkeypatch.setenv(download.MIRROR_VARIABLE, base)
    url = "https://example.org/data/file.bin"
    digest = m.put(url, b"payload")
    path = download.download_url(url, tmp_path, md5=digest)
    assert path.read_bytes() == b"payload"
    with pytest.raises(RuntimeError, match="wrong MD5"):
        download.download_url(url, tmp_path / "other", md5="0" * 32)
    assert list((tmp_path / "other").iterdir()) == []  # nothing half-written is left
    with pytest.raises(OSError):
        download.download_url("https://example.org/missing.bin", tmp_path / "missing")
    assert list((tmp_path / "missing").iterdir()) == []
    evil = tmp_path / "evil.tar"
    evil.write_bytes(_tar({"../escaped.txt": b"x"}))
    with pytest.raises(ValueError, match="outside"):
        download.extract_archive(evil, tmp_path / "out")
    assert not (tmp_path / "escaped.txt").exists()
    with pytest.raises(ValueError, match="not a zip, tar or gzip"):
        download.extract_archive(tmp_path / "x.rar")
    # A local folder works as a mirror too.
    monkeypatch.setenv(download.MIRROR_VARIABLE, str(m.root))
    assert download.download_url(url, tmp_path / "local").read_bytes() == b"payload"
