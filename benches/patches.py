"""Patch-pipeline benchmark (issue 9): patches per second into a training
loop and peak RSS, tioxide against TorchIO 2.0.0a2 with the same code.

A dataset of 20 generated 256 x 256 x 176 subjects (float32 image + uint8
label map, ``.nii.gz`` written by nibabel, as public datasets ship them) goes
through ``Queue`` with ``UniformSampler`` or ``LabelSampler``, 16 patches
per volume, a light augmentation (a random flip) and ``SubjectsLoader``. Each
configuration runs in a fresh interpreter; peak RSS is measured above the
baseline after the imports. Two epochs run: TorchIO 2.0.0a2's queue leaves
the subjects loaded after the first, so its second runs from memory; every
later epoch costs what the second does.

Also: grid inference over a 1024^3 float32 ``.nii`` (4 GiB) with the output
aggregated on disk, peak RSS against the volume's size.

Run by ``benches/compare.py`` (or directly: ``python benches/patches.py``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

import peak_rss

DATA = Path(__file__).parent / "data" / "patches"
SHAPE = (256, 256, 176)
SUBJECTS = 20
PER_VOLUME = 16
BATCH = 16
QUEUE_LENGTH = 64
GRID_SIZE = 1024


def _subject_files(n: int) -> list[tuple[Path, Path]]:
    return [(DATA / f"sub{i:02d}_t1.nii.gz", DATA / f"sub{i:02d}_seg.nii.gz") for i in range(n)]


def make_dataset() -> list[tuple[Path, Path]]:
    """Generate the subjects once: a smooth head-like intensity field with
    noise (stored as float32, integer-valued as scanners' data are) and a
    label map of a few blobs."""
    import nibabel as nib

    files = _subject_files(SUBJECTS)
    if all(a.exists() and b.exists() for a, b in files):
        return files
    DATA.mkdir(parents=True, exist_ok=True)
    grid = np.stack(
        np.meshgrid(*(np.linspace(-1, 1, n, dtype=np.float32) for n in SHAPE), indexing="ij")
    )
    radius = np.sqrt((grid**2).sum(axis=0))
    affine = np.diag([1.0, 1.0, 1.2, 1.0])
    for i, (t1, seg) in enumerate(files):
        rng = np.random.default_rng(i)
        head = np.clip(1.0 - radius, 0, None) * 800
        noise = rng.normal(0, 20, SHAPE).astype(np.float32)
        image = np.round(head + noise * (radius < 1)).astype(np.float32)
        labels = np.zeros(SHAPE, np.uint8)
        for label in (1, 2, 3):
            centre = rng.uniform(-0.5, 0.5, 3).astype(np.float32)
            distance = np.sqrt(((grid - centre[:, None, None, None]) ** 2).sum(axis=0))
            labels[distance < rng.uniform(0.08, 0.2)] = label
        nib.save(nib.Nifti1Image(image, affine), t1)
        nib.save(nib.Nifti1Image(labels, affine), seg)
    return files


def _child(config: dict[str, Any]) -> None:
    """One configuration in this fresh interpreter; prints a JSON result."""
    import torch

    tio: Any = __import__(config["lib"])
    files = _subject_files(SUBJECTS)
    subjects = [tio.Subject(t1=tio.ScalarImage(a), seg=tio.LabelMap(b)) for a, b in files]
    patch = config["patch"]
    if config["sampler"] == "uniform":
        sampler = tio.UniformSampler(subjects[0], patch_size=patch)
    else:
        sampler = tio.LabelSampler(subjects[0], patch_size=patch, label_name="seg")
    flip = tio.Flip(axes=(0, 1, 2), flip_probability=0.5)
    torch.manual_seed(0)
    queue = tio.Queue(
        subjects,
        patch_sampler=sampler,
        max_length=QUEUE_LENGTH,
        patches_per_volume=PER_VOLUME,
        num_workers=2,
        transform=flip,
    )
    loader = tio.SubjectsLoader(queue, batch_size=BATCH)
    base = peak_rss.reset()
    rates = []
    checksum = 0.0
    for _ in range(config["epochs"]):
        t0 = time.perf_counter()
        count = 0
        for batch in loader:
            data = batch.t1.data
            checksum += float(data[:, :, 0, 0, 0].sum())
            count += data.shape[0]
        rates.append(count / (time.perf_counter() - t0))
    print(json.dumps({"rates": rates, "rss": peak_rss.above(base), "count": count}))


def _ceiling_child() -> None:
    """Seconds of one core to inflate every subject's two files once (the
    least an epoch that reads each subject costs), best of three."""
    import os

    from tioxide import nifti

    files = [path for pair in _subject_files(SUBJECTS) for path in pair]
    best = float("inf")
    for _ in range(3):
        nifti.clear_cache()
        t0 = time.perf_counter()
        for path in files:
            nifti.read(path)
        best = min(best, time.perf_counter() - t0)
    print(json.dumps({"seconds": best, "cores": len(os.sched_getaffinity(0))}))


def inflate_ceiling() -> tuple[float, int]:
    """(seconds of one core per epoch of inflating, usable cores)."""
    out = subprocess.run(
        [sys.executable, __file__, "--ceiling-child"], capture_output=True, text=True, check=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return float(result["seconds"]), int(result["cores"])


def _run_child(config: dict[str, Any]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(config)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def queue_section(patch_sizes: tuple[int, ...] = (32, 64, 128)) -> list[str]:
    make_dataset()
    rows = []
    # LabelSampler at the 64^3 only: TorchIO's rate there (one
    # torch.multinomial over every voxel per patch) barely depends on the size.
    runs = [("uniform", p) for p in patch_sizes] + [("label", 64)]
    torchio_64 = float("nan")
    for sampler, patch in runs:
        config = {"sampler": sampler, "patch": patch, "epochs": 2}
        theirs = _run_child({**config, "lib": "torchio"})
        ours = _run_child({**config, "lib": "tioxide"})
        if sampler == "uniform" and patch == 64:
            torchio_64 = theirs["rates"][0]
        rows.append(
            f"| {sampler} | {patch}^3 | "
            f"{theirs['rates'][0]:.0f} / {theirs['rates'][1]:.0f} | "
            f"{ours['rates'][0]:.0f} / {ours['rates'][1]:.0f} | "
            f"{ours['rates'][0] / theirs['rates'][0]:.1f}x / "
            f"{ours['rates'][1] / theirs['rates'][1]:.1f}x | "
            f"{theirs['rss'] / 2**20:.0f} MiB | {ours['rss'] / 2**20:.0f} MiB | "
            f"{theirs['rss'] / max(ours['rss'], 1):.1f}x |"
        )
        print(rows[-1], file=sys.stderr, flush=True)
    return [
        "## Patch pipeline: Queue + sampler into the training loop",
        "",
        f"{SUBJECTS} subjects of {SHAPE[0]}x{SHAPE[1]}x{SHAPE[2]} (float32 image + uint8 label "
        f"map, `.nii.gz` by nibabel), {PER_VOLUME} patches per volume, `Queue(max_length="
        f"{QUEUE_LENGTH}, num_workers=2, transform=Flip(axes=(0, 1, 2), flip_probability=0.5))`, "
        f"`SubjectsLoader(batch_size={BATCH})`; the same script for both libraries, a fresh "
        "interpreter per row; patches/s for epoch 1 / epoch 2 (TorchIO 2.0.0a2's queue leaves "
        "the dataset's subjects loaded after epoch 1, so its epoch 2 runs from memory holding "
        "every volume; tioxide's stays bounded and inflates each subject again); peak RSS "
        "above the post-import baseline over both epochs.",
        "",
        "| sampler | patch | TorchIO 2.0.0a2 patches/s | tioxide patches/s | speed-up | "
        "TorchIO peak RSS | tioxide peak RSS | RSS ratio |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        *_ceiling_note(torchio_64),
    ]


def _ceiling_note(torchio_rate: float) -> list[str]:
    """What inflating alone allows: an epoch that reads every subject cannot
    deliver patches faster than its cores inflate the files."""
    seconds, cores = inflate_ceiling()
    patches = SUBJECTS * PER_VOLUME
    ceiling = patches * cores / seconds
    return [
        f"Inflate ceiling: reading the {SUBJECTS} subjects' `.nii.gz` files once takes "
        f"{seconds:.2f} s of one core (tioxide, libdeflate), so on {cores} cores with nothing "
        f"else running an epoch that reads every subject delivers at most {ceiling:.0f} "
        f"patches/s; 10x TorchIO's uniform 64^3 epoch-1 rate would be {10 * torchio_rate:.0f}.",
        "",
    ]


def _grid_child(config: dict[str, Any]) -> None:
    import torch

    import tioxide as tio

    path = Path(config["path"])
    out = Path(config["out"])
    subject = tio.Subject(t1=tio.ScalarImage(path))
    sampler = tio.GridSampler(subject, patch_size=config["patch"], patch_overlap=config["overlap"])
    aggregator = tio.PatchAggregator(
        subject.spatial_shape,
        overlap_mode="average",
        patch_overlap=config["overlap"],
        output_path=out,
        affine=subject.t1.affine,
    )
    base = peak_rss.reset()
    t0 = time.perf_counter()
    loader = tio.SubjectsLoader(sampler, batch_size=2)
    for batch in loader:
        with torch.no_grad():
            aggregator.add_batch(batch.t1.data * 2, batch.patch_location)
    aggregator.save_output()
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "rss": peak_rss.above(base)}))


def grid_section(size: int = GRID_SIZE) -> list[str]:
    from tioxide import nifti

    path = DATA / f"grid_{size}.nii"
    out = DATA / f"grid_{size}_out.nii"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        volume = np.zeros((size, size, size), np.float32)
        for k in range(size):
            volume[:, :, k] = k
        nifti.write(path, volume, np.eye(4))
        del volume
    config = {"path": str(path), "out": str(out), "patch": 128, "overlap": 16}
    run = subprocess.run(
        [sys.executable, __file__, "--grid-child", json.dumps(config)],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(run.stdout.strip().splitlines()[-1])
    # The output is checked where it is cheap: a few planes must be 2 k.
    for k in (0, size // 3, size - 1):
        plane = nifti.read(out, (slice(None), slice(None), slice(k, k + 1)))
        assert np.all(plane == 2 * k), f"plane {k} of the aggregated output is wrong"
    out.unlink()
    gib = size**3 * 4 / 2**30
    return [
        "## Grid inference larger than memory",
        "",
        f"`GridSampler(patch_size=128, patch_overlap=16)` over an unloaded {size}^3 float32 "
        f"`.nii` ({gib:.0f} GiB), model `x * 2`, `PatchAggregator(overlap_mode='average', "
        "output_path=...)` accumulating on disk; output checked plane by plane:",
        "",
        "| volume | time | peak RSS above baseline |",
        "|---|---:|---:|",
        f"| {size}^3 float32 ({gib:.0f} GiB) | {result['seconds']:.0f} s | "
        f"{result['rss'] / 2**20:.0f} MiB |",
        "",
    ]


def run() -> list[str]:
    return queue_section() + grid_section()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child")
    parser.add_argument("--grid-child")
    parser.add_argument("--ceiling-child", action="store_true")
    parser.add_argument("--only", choices=("queue", "grid"))
    args = parser.parse_args()
    if args.child:
        _child(json.loads(args.child))
    elif args.grid_child:
        _grid_child(json.loads(args.grid_child))
    elif args.ceiling_child:
        _ceiling_child()
    elif args.only == "queue":
        print("\n".join(queue_section()))
    elif args.only == "grid":
        print("\n".join(grid_section()))
    else:
        print("\n".join(run()))
