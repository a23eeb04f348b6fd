"""Write the seed corpora of the fuzz targets into corpus/<target>/.

Small valid images (NIfTI-1 and -2, both byte orders, several datatypes,
scaling, an extension, 1 to 7 dimensions) plain and gzipped (levels 0, 1, 6,
9, several members, trailing bytes), each prefixed with the control bytes a
target expects. The corpora themselves are not committed (only inputs that
found a bug are, under tests/fuzz_regressions/).

Run: python make_seeds.py [OUTDIR]  (default: corpus/ here; needs numpy and nibabel)
"""

from __future__ import annotations

import gzip
import hashlib
import sys
import zlib
from pathlib import Path

import nibabel as nib
import numpy as np

HERE = Path(__file__).parent
OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "corpus"


def images() -> list[bytes]:
    rng = np.random.default_rng(0)
    out = []
    for shape, dtype in [
        ((6, 5, 4), np.int16),
        ((16, 16, 16), np.uint8),
        ((3, 4, 5, 2), np.float32),
        ((7,), np.float64),
        ((2, 2, 2, 2, 2, 2, 2), np.int32),
        ((9, 8), np.complex64),
        ((20, 20, 10), np.int16),
    ]:
        data = (np.arange(np.prod(shape)).reshape(shape) % 251).astype(dtype)
        if shape == (20, 20, 10):
            data = rng.integers(0, 40, size=shape).astype(dtype)
        for klass in (nib.Nifti1Image, nib.Nifti2Image):
            img = klass(data, np.diag([2.0, 3.0, 4.0, 1.0]))
            img.set_data_dtype(dtype)
            out.append(img.to_bytes())
        img = nib.Nifti1Image(data.astype(data.dtype.newbyteorder(">")), np.eye(4))
        out.append(img.to_bytes())
    img = nib.Nifti1Image(np.arange(60, dtype=np.int16).reshape(3, 4, 5), np.eye(4))
    img.header.set_slope_inter(0.5, -3.0)
    img.header.extensions.append(nib.nifti1.Nifti1Extension("comment", b"fuzz seed"))
    out.append(img.to_bytes())
    return out


def gzips(raw: bytes) -> list[bytes]:
    half = len(raw) // 2
    return [
        gzip.compress(raw, compresslevel=6, mtime=0),
        gzip.compress(raw, compresslevel=0, mtime=0),
        gzip.compress(raw, compresslevel=1, mtime=0),
        gzip.compress(raw, compresslevel=9, mtime=0)[:-3],  # truncated
        gzip.compress(raw[:half], mtime=0) + gzip.compress(raw[half:], mtime=0),
        gzip.compress(raw, mtime=0) + b"\0\0\0\0garbage",
        gzip.compress(raw, mtime=0) + gzip.compress(b"", mtime=0),
    ]


def zlib_raw_gzip(raw: bytes, strategy: int) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, 31, 8, strategy)
    return c.compress(raw) + c.flush()


def save(target: str, blobs: list[bytes]) -> None:
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    for b in blobs:
        (d / hashlib.sha1(b).hexdigest()).write_bytes(b)
    print(f"{target}: {len(blobs)} seeds, largest {max(map(len, blobs))} bytes")


def main() -> None:
    raws = images()
    gz = [g for r in raws for g in gzips(r)]
    gz += [zlib_raw_gzip(r, s) for r in raws[:6] for s in (zlib.Z_FIXED, zlib.Z_HUFFMAN_ONLY)]
    save("header", [r[:600] for r in raws])
    save("gz_decode", gz)
    ctl8 = [bytes([0, 10, 60, 90, 200, 120, 250, 7]), bytes([3, 0, 255, 128, 128, 1, 2, 200])]
    save("gz_index", [c + g for g in gz for c in ctl8])
    ctl21 = bytes(range(0, 63, 3))
    save("region", [ctl21 + b for b in raws + gz])
    save("file", [ctl21 + b for b in raws + gz])


if __name__ == "__main__":
    main()
