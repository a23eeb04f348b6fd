"""Fetching the files of :mod:`tioxide.datasets` (TorchIO 2's ``torchio.download``).

Files go to TorchIO's cache folder, so data one library downloaded serves the
other. A download is written to a temporary name and renamed into place once
complete and checked, so an interrupted one never leaves a file that looks
finished. Archives are extracted without letting a member escape the target
folder.

Setting ``TIOXIDE_DATASETS_MIRROR`` to a base URL (or a folder) fetches
``https://host/path`` from ``<mirror>/host/path`` instead: a site without
internet access, or one that keeps its own copies, points it at them.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

from .logging import logger
from .types import TypePath

MIRROR_VARIABLE = "TIOXIDE_DATASETS_MIRROR"
_CHUNK = 1 << 20


def get_torchio_cache_dir() -> Path:
    """The folder datasets are kept in: TorchIO's user cache folder."""
    try:
        from platformdirs import user_cache_dir
    except ImportError:
        if sys.platform == "darwin":
            return Path.home() / "Library" / "Caches" / "torchio"
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return Path(base) / "torchio"
    return Path(user_cache_dir("torchio"))


def calculate_md5(fpath: TypePath, chunk_size: int = _CHUNK) -> str:
    """The MD5 digest of a file, as hexadecimal."""
    md5 = hashlib.md5(usedforsecurity=False)
    with open(fpath, "rb") as f:
        while chunk := f.read(chunk_size):
            md5.update(chunk)
    return md5.hexdigest()


def check_integrity(fpath: TypePath, md5: str | None = None) -> bool:
    """Whether ``fpath`` is a file (whose MD5 digest is ``md5``, if given)."""
    if not os.path.isfile(fpath):
        return False
    return md5 is None or calculate_md5(fpath) == md5


def mirrored(url: str) -> str:
    """``url`` as fetched: through the mirror ``TIOXIDE_DATASETS_MIRROR`` names, if any."""
    mirror = os.environ.get(MIRROR_VARIABLE)
    if not mirror:
        return url
    parts = urllib.parse.urlsplit(url)
    if "://" not in mirror:
        mirror = Path(mirror).resolve().as_uri()
    return f"{mirror.rstrip('/')}/{parts.netloc}{parts.path}"


def download_url(
    url: str, root: TypePath, *, filename: str | None = None, md5: str | None = None
) -> Path:
    """``url`` saved in the folder ``root`` (as ``filename``, else the URL's
    last part), unless a file there already has the ``md5`` digest given.

    Raises:
        RuntimeError: The download does not have the expected digest (the
            file is not kept).
        urllib.error.URLError: The URL cannot be fetched.
    """
    folder = Path(os.path.expanduser(os.fspath(root)))
    name = filename or os.path.basename(urllib.parse.urlsplit(url).path)
    target = folder / name
    if check_integrity(target, md5):
        return target
    folder.mkdir(parents=True, exist_ok=True)
    source = mirrored(url)
    try:
        _fetch(source, target, md5)
    except (urllib.error.URLError, OSError):
        # As TorchIO does: some servers' TLS set-ups fail where plain HTTP works.
        if not source.startswith("https:"):
            raise
        plain = "http:" + source[len("https:") :]
        logger.warning("Download of %s failed; retrying with %s", source, plain)
        _fetch(plain, target, md5)
    return target


def _fetch(url: str, target: Path, md5: str | None) -> None:
    """Write what ``url`` serves to ``target``, all or nothing: it gets the
    name only once complete and, with ``md5``, checked.

    Raises:
        RuntimeError: The digest differs (nothing is kept).
    """
    logger.info("Downloading %s to %s", url, target)
    fd, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url) as response:  # noqa: S310
            shutil.copyfileobj(response, out, _CHUNK)
        if not check_integrity(partial, md5):
            raise RuntimeError(f"{url} downloaded to {target} with the wrong MD5 digest")
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def extract_archive(
    from_path: TypePath, to_path: TypePath | None = None, *, remove_finished: bool = False
) -> None:
    """Extract a ``.zip``, ``.tar``, ``.tar.gz``/``.tgz``, ``.tar.xz`` or
    ``.gz`` file into ``to_path`` (default: the archive's folder).

    Raises:
        ValueError: Another kind of file, or a member that would land
            outside ``to_path``.
    """
    archive = Path(os.fspath(from_path))
    target = archive.parent if to_path is None else Path(os.fspath(to_path))
    name = archive.name.lower()
    if name.endswith(".zip"):
        with zipfile.ZipFile(archive) as z:
            for member in z.namelist():
                _check_inside(target, member, archive)
            z.extractall(target)
    elif name.endswith((".tar", ".tar.gz", ".tgz", ".tar.xz")):
        with tarfile.open(archive) as tar:
            for entry in tar.getmembers():
                _check_inside(target, entry.name, archive)
                if entry.issym() or entry.islnk():
                    link = os.path.join(os.path.dirname(entry.name), entry.linkname)
                    _check_inside(target, link, archive)
            tar.extractall(target)  # noqa: S202 - every member checked above
    elif name.endswith(".gz"):
        target.mkdir(parents=True, exist_ok=True)
        with gzip.open(archive) as f_in, open(target / archive.name[:-3], "wb") as f_out:
            shutil.copyfileobj(f_in, f_out, _CHUNK)
    else:
        raise ValueError(f"cannot extract {archive}: not a zip, tar or gzip file")
    if remove_finished:
        archive.unlink()


def _check_inside(target: Path, member: str, archive: Path) -> None:
    root = os.path.realpath(target)
    where = os.path.realpath(os.path.join(root, member))
    if os.path.commonpath([root, where]) != root:
        raise ValueError(f"{archive}: member {member!r} would be extracted outside {target}")


def download_and_extract_archive(
    url: str,
    download_root: TypePath,
    *,
    extract_root: TypePath | None = None,
    filename: str | None = None,
    md5: str | None = None,
    remove_finished: bool = False,
) -> None:
    """Download an archive (see :func:`download_url`) and extract it into
    ``extract_root`` (default: ``download_root``)."""
    archive = download_url(url, download_root, filename=filename, md5=md5)
    target = download_root if extract_root is None else extract_root
    extract_archive(archive, target, remove_finished=remove_finished)


def compress(input_path: TypePath, output_path: TypePath | None = None) -> Path:
    """Gzip a file (``x.nii`` to ``x.nii.gz`` by default); the path written."""
    source = Path(os.fspath(input_path))
    target = source.with_suffix(".nii.gz") if output_path is None else Path(output_path)
    with open(source, "rb") as f_in, gzip.open(target, "wb", compresslevel=6) as f_out:
        shutil.copyfileobj(f_in, f_out, _CHUNK)
    return target
