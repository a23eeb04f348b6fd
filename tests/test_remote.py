"""Images in file objects and over HTTP: a patch of a remote ``.nii.gz``
fetches only the compressed bytes of the chunks that hold it, plus the
header and the saved index (served by a local server that counts bytes)."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest

import tioxide
from tioxide import gz, nifti, remote


class _Counting(BaseHTTPRequestHandler):
    """Serves files of one folder with byte ranges, counting body bytes sent."""

    root: Path
    sent: list[int]

    def log_message(self, *args: Any) -> None:
        pass

    def _file(self) -> Path | None:
        p = self.root / self.path.lstrip("/")
        return p if p.is_file() else None

    def do_HEAD(self) -> None:
        p = self._file()
        if p is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(p.stat().st_size))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", f'"{p.stat().st_mtime_ns}"')
        self.end_headers()

    def do_GET(self) -> None:
        p = self._file()
        if p is None:
            self.send_error(404)
            return
        data = p.read_bytes()
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        if m:
            a = int(m[1])
            b = min(int(m[2]) + 1 if m[2] else len(data), len(data))
            body = data[a:b]
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {a}-{b - 1}/{len(data)}")
        else:
            body = data
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        # Counted before sending: once the client has the bytes it may move on.
        type(self).sent.append(len(body))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, type[_Counting]]]:
    handler = type("Handler", (_Counting,), {"root": tmp_path, "sent": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    httpd.shutdown()


def _volume(shape: tuple[int, ...], seed: int) -> Any:
    rng = np.random.default_rng(seed)
    return (np.cumsum(rng.normal(size=shape), axis=2) * 40).astype(np.float32)


def test_file_objects_read_like_paths(tmp_path: Path) -> None:
    data = _volume((40, 30, 50), seed=1)
    for suffix in (".nii", ".nii.gz"):
        path = tmp_path / f"f{suffix}"
        nib.save(nib.Nifti1Image(data, np.diag([2.0, 1.0, 3.0, 1.0])), path)
        blob = path.read_bytes()
        region = (slice(3, 30, 2), slice(None, None, -1), 17)
        np.testing.assert_array_equal(nifti.read(io.BytesIO(blob), region), data[region])
        np.testing.assert_array_equal(nifti.read(io.BytesIO(blob)), data)
        with open(path, "rb") as f:
            header = nifti.read_header(f)
            np.testing.assert_array_equal(header.affine, nifti.read_header(path).affine)
            assert header.shape == data.shape
        with pytest.raises(tioxide.TruncatedFileError, match="BytesIO"):
            nifti.read(io.BytesIO(blob[: len(blob) // 2]), region)


def test_remote_patch_fetches_only_its_chunks(tmp_path: Path, server: Any) -> None:
    url, handler = server
    shape = (128, 128, 256)
    data = _volume(shape, seed=2)
    path = tmp_path / "big.nii.gz"
    nib.save(nib.Nifti1Image(data, np.eye(4)), path)
    default = gz.cache_stats()["span"]["bytes"]
    gz.configure(span=256 << 10)
    try:
        gz.build_index(path, save=True)
    finally:
        gz.configure(span=default)
    nifti.clear_cache()
    sidecar = gz.sidecar_path(path).stat().st_size
    compressed = path.stat().st_size
    patch = (slice(40, 72), slice(60, 92), slice(150, 182))
    got = remote.read(f"{url}/big.nii.gz", patch)
    np.testing.assert_array_equal(got, data[patch])
    fetched = sum(handler.sent)
    # The patch's z-extent (32 of 256 planes) as a share of the compressed
    # stream; the header costs the first chunk (256 KiB of output).
    z_extent = compressed * 32 / 256
    first_chunk = compressed * (256 << 10) / data.nbytes
    assert fetched <= 2 * z_extent + 2 * first_chunk + sidecar, (fetched, z_extent, compressed)
    assert fetched < compressed / 3

    # Again: the index and chunks are cached under the file's URL and ETag;
    # only the two magic bytes are fetched (for the header and the voxels).
    handler.sent.clear()
    np.testing.assert_array_equal(remote.read(f"{url}/big.nii.gz", patch), data[patch])
    assert sum(handler.sent) <= 4, handler.sent
    assert remote.read_header(f"{url}/big.nii.gz").shape == shape


def test_remote_without_sidecar_and_plain_nii(tmp_path: Path, server: Any) -> None:
    url, handler = server
    data = _volume((30, 20, 40), seed=3)
    nib.save(nib.Nifti1Image(data, np.eye(4)), tmp_path / "s.nii.gz")
    nib.save(nib.Nifti1Image(data, np.eye(4)), tmp_path / "p.nii")
    region = (slice(5, 9), slice(None), slice(0, 10))
    np.testing.assert_array_equal(remote.read(f"{url}/s.nii.gz", region), data[region])
    handler.sent.clear()
    np.testing.assert_array_equal(remote.read(f"{url}/p.nii", region), data[region])
    # A plain file: the header, then one range from the region's first to last byte.
    assert sum(handler.sent) <= 352 * 2 + data[:, :, :10].nbytes
    with pytest.raises(FileNotFoundError):
        remote.read(f"{url}/missing.nii.gz")


def test_remote_header_fetches_only_the_start(tmp_path: Path, server: Any) -> None:
    url, handler = server
    data = _volume((128, 128, 128), seed=4)
    nib.save(nib.Nifti1Image(data, np.eye(4)), tmp_path / "h.nii.gz")
    nifti.clear_cache()
    handler.sent.clear()
    assert remote.read_header(f"{url}/h.nii.gz").shape == data.shape
    # Two magic bytes and one small read that inflates to past the header
    # (not the index's first chunk, a MiB of output).
    assert sum(handler.sent) <= 2 + (32 << 10), handler.sent
    handler.sent.clear()
    assert remote.read_header(f"{url}/h.nii.gz").shape == data.shape
    assert sum(handler.sent) <= 4, handler.sent
