"""Shared helpers of the transform tests: random subjects built in both libraries, comparisons."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torchio

import tioxide


def random_affine(rng: np.random.Generator) -> np.ndarray:
    """A random affine: a rotation (with axis permutations and flips), spacing and origin."""
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    permutation = np.eye(3)[rng.permutation(3)] * rng.choice([-1, 1], size=3)
    affine = np.eye(4)
    small = rng.uniform(0, 0.3)
    rotation = permutation @ (np.eye(3) * (1 - small) + q * small)
    affine[:3, :3] = rotation * rng.uniform(0.5, 3, size=3)
    affine[:3, 3] = rng.uniform(-100, 100, size=3)
    return affine


def random_volume(rng: np.random.Generator, shape: tuple[int, ...], kind: str) -> torch.Tensor:
    if kind == "label":
        return torch.from_numpy(rng.integers(0, 5, size=shape).astype(np.int64))
    if kind == "int16":
        return torch.from_numpy(rng.integers(-500, 1500, size=shape).astype(np.int16))
    return torch.from_numpy(rng.normal(100, 30, size=shape).astype(np.float32))


def subject_pair(seed: int, *, channels: int = 1, kinds: tuple[str, ...] = ("float", "label")):
    """The same random subject in tioxide and in TorchIO (images ``t1``, ``seg`` ...)."""
    rng = np.random.default_rng(seed)
    shape = (channels, *rng.integers(3, 12, size=3).tolist())
    affine = random_affine(rng)
    ours: dict[str, Any] = {}
    theirs: dict[str, Any] = {}
    names = ["t1", "seg", "t2", "mask"]
    for name, kind in zip(names, kinds, strict=False):
        data = random_volume(rng, shape if kind != "label" else (1, *shape[1:]), kind)
        ours_cls = tioxide.LabelMap if kind == "label" else tioxide.ScalarImage
        theirs_cls = torchio.LabelMap if kind == "label" else torchio.ScalarImage
        ours[name] = ours_cls(data.clone(), affine=affine)
        theirs[name] = theirs_cls(data.clone(), affine=affine)
    return tioxide.Subject(**ours), torchio.Subject(**theirs)


def plain(value: Any) -> Any:
    """Params with tuples as lists and tensors as lists, for comparing records."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if isinstance(value, torch.Tensor | np.ndarray):
        return value.tolist()
    return value


def history(obj: Any) -> list[tuple[str, Any, Any, Any]]:
    return [(r.name, plain(r.params), r.include, r.exclude) for r in obj.applied_transforms]


def assert_images_equal(ours: Any, theirs: Any, *, exact: bool = True) -> None:
    assert type(ours).__name__ == type(theirs).__name__
    assert ours.data.shape == theirs.data.shape
    assert ours.data.dtype == theirs.data.dtype, (ours.data.dtype, theirs.data.dtype)
    if exact:
        assert torch.equal(ours.data, theirs.data)
    else:
        torch.testing.assert_close(ours.data, theirs.data, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(ours.affine.numpy(), theirs.affine.numpy(), rtol=0, atol=1e-9)


def assert_subjects_equal(ours: Any, theirs: Any, *, exact: bool = True) -> None:
    assert list(ours.images) == list(theirs.images)
    for name in ours.images:
        assert_images_equal(ours[name], theirs[name], exact=exact)


def run_both(
    name: str, kwargs: dict[str, Any], seed: int, ours_input: Any, theirs_input: Any
) -> tuple[Any, Any]:
    """Apply transform ``name`` with ``kwargs`` in both libraries after the same seed."""
    torch.manual_seed(seed)
    ours = getattr(tioxide, name)(**kwargs)(ours_input)
    torch.manual_seed(seed)
    theirs = getattr(torchio, name)(**kwargs)(theirs_input)
    return ours, theirs


class Shift(tioxide.SpatialTransform):
    """Adds ``amount`` to every image; undone by subtracting it."""

    def __init__(self, amount: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.amount = amount

    def make_params(self, batch: tioxide.SubjectsBatch) -> dict[str, Any]:
        return {"amount": self.amount}

    def apply_transform(
        self, batch: tioxide.SubjectsBatch, params: dict[str, Any]
    ) -> tioxide.SubjectsBatch:
        for images in self._get_images(batch).values():
            images.data = images.data + params["amount"]
        return batch

    @property
    def invertible(self) -> bool:
        return True

    def inverse(self, params: dict[str, Any]) -> Shift:
        return Shift(-params["amount"], copy=False)
