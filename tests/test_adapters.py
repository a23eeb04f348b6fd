"""MonaiAdapter and CornucopiaAdapter against TorchIO 2.0.0a2's: same tensors,
affines and histories for the same MONAI / Cornucopia-style transforms."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
import torchio

import tioxide
from transforms_helpers import assert_subjects_equal, history, subject_pair

monai_transforms = pytest.importorskip("monai.transforms")

SEEDS = range(4)


def _monai_cases() -> list[tuple[str, Any]]:
    mt = monai_transforms
    return [
        ("array NormalizeIntensity", lambda: mt.NormalizeIntensity()),
        ("array ScaleIntensity", lambda: mt.ScaleIntensity(minv=-1.0, maxv=1.0)),
        ("array Flip (affine changes)", lambda: mt.Flip(spatial_axis=0)),
        ("array Rotate90 (affine changes)", lambda: mt.Rotate90(k=1, spatial_axes=(0, 1))),
        ("array plain callable", lambda: lambda t: t * 2),
        ("dict NormalizeIntensityd", lambda: mt.NormalizeIntensityd(keys=["t1"])),
        ("dict Flipd both images", lambda: mt.Flipd(keys=["t1", "seg"], spatial_axis=1)),
        ("dict RandFlipd", lambda: mt.RandFlipd(keys=["t1", "seg"], prob=1.0, spatial_axis=2)),
    ]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("case", "make"), _monai_cases(), ids=[c for c, _ in _monai_cases()])
def test_monai_adapter_matches_torchio(case: str, make: Any, seed: int) -> None:
    ours_in, theirs_in = subject_pair(seed)
    torch.manual_seed(seed)
    ours = tioxide.MonaiAdapter(make())(ours_in)
    torch.manual_seed(seed)
    theirs = torchio.MonaiAdapter(make())(theirs_in)
    assert_subjects_equal(ours, theirs)
    assert history(ours) == history(theirs) == []
    assert_subjects_equal(ours_in, theirs_in)  # copy=True left the inputs alone


def test_monai_adapter_changes_only_selected_scalar_images() -> None:
    ours_in, _ = subject_pair(7, kinds=("float", "label", "float"))
    out = tioxide.MonaiAdapter(lambda t: t + 100, include=["t2", "seg"])(ours_in)
    assert torch.equal(out.t2.data, ours_in.t2.data + 100)
    assert torch.equal(out.t1.data, ours_in.t1.data)
    assert torch.equal(out.seg.data, ours_in.seg.data)  # a label map: never an array input


def test_monai_adapter_keeps_earlier_history_and_p() -> None:
    ours_in, theirs_in = subject_pair(3)
    for p in (0.0, 0.5, 1.0):
        for seed in range(6):
            torch.manual_seed(seed)
            pipe = tioxide.Compose(
                [tioxide.Flip(axes=(0,)), tioxide.MonaiAdapter(lambda t: -t, p=p)]
            )
            ours = pipe(ours_in)
            torch.manual_seed(seed)
            theirs = torchio.Compose(
                [torchio.Flip(axes=(0,)), torchio.MonaiAdapter(lambda t: -t, p=p)]
            )(theirs_in)
            assert_subjects_equal(ours, theirs)
            assert history(ours) == history(theirs)
            assert [t.name for t in ours.applied_transforms] == ["Flip"]


def test_monai_adapter_on_a_batch() -> None:
    pairs = [subject_pair(seed) for seed in (11, 11)]
    ours = tioxide.SubjectsBatch.from_subjects([p[0] for p in pairs])
    theirs = torchio.SubjectsBatch.from_subjects([p[1] for p in pairs])
    mt = monai_transforms
    out = tioxide.MonaiAdapter(mt.NormalizeIntensityd(keys=["t1"]))(ours)
    ref = torchio.MonaiAdapter(mt.NormalizeIntensityd(keys=["t1"]))(theirs)
    assert isinstance(out, tioxide.SubjectsBatch)
    torch.testing.assert_close(out.t1.data, ref.t1.data, rtol=0, atol=0)
    assert torch.equal(out.seg.data, ours.seg.data)


def test_monai_adapter_bad_inputs() -> None:
    with pytest.raises(TypeError, match="callable"):
        tioxide.MonaiAdapter(42)  # type: ignore[arg-type]
    subject, _ = subject_pair(1)
    with pytest.raises(TypeError, match="expected a tensor"):
        tioxide.MonaiAdapter(lambda t: t.numpy())(subject)

    class Broken(monai_transforms.MapTransform):
        def __call__(self, data: Any) -> Any:
            return [1, 2]

    with pytest.raises(TypeError, match="expected a mapping"):
        tioxide.MonaiAdapter(Broken(keys=["t1"]))(subject)


def test_monai_adapter_warns_for_random_array_transforms_on_several_images() -> None:
    subject, _ = subject_pair(2, kinds=("float", "float"))
    with pytest.warns(UserWarning, match="RandFlipd"):
        tioxide.MonaiAdapter(monai_transforms.RandFlip(prob=1.0, spatial_axis=0))(subject)


def _shared_shift(*tensors: torch.Tensor) -> Any:
    """A Cornucopia-style transform: one random draw for all its tensors."""
    shift = int(torch.randint(1, 3, (1,)))
    out = tuple(torch.roll(t, shift, dims=1) for t in tensors)
    return out[0] if len(out) == 1 else out


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    "kwargs", [{}, {"include": ["seg"]}, {"exclude": ["seg"]}, {"p": 0.5}], ids=str
)
def test_cornucopia_adapter_matches_torchio(seed: int, kwargs: dict[str, Any]) -> None:
    ours_in, theirs_in = subject_pair(seed, kinds=("label", "float"))
    torch.manual_seed(seed)
    ours = tioxide.CornucopiaAdapter(_shared_shift, **kwargs)(ours_in)
    torch.manual_seed(seed)
    theirs = torchio.CornucopiaAdapter(_shared_shift, **kwargs)(theirs_in)
    assert_subjects_equal(ours, theirs)
    assert history(ours) == history(theirs) == []


def test_cornucopia_adapter_passes_scalar_images_first() -> None:
    subject, _ = subject_pair(5, kinds=("label", "float"))
    seen: list[str] = []

    def spy(*tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
        seen.extend("label" if t.dtype != torch.float32 else "scalar" for t in tensors)
        return tensors

    tioxide.CornucopiaAdapter(spy)(subject)
    assert seen[0] == "scalar"
    assert len(seen) == 2


def test_cornucopia_adapter_bad_inputs() -> None:
    with pytest.raises(TypeError, match="callable"):
        tioxide.CornucopiaAdapter("nope")  # type: ignore[arg-type]
    subject, _ = subject_pair(4)
    with pytest.raises(ValueError, match="returned 1 tensors for 2 images"):
        tioxide.CornucopiaAdapter(lambda *t: (t[0],))(subject)


def test_adapters_are_not_invertible() -> None:
    subject, _ = subject_pair(6)
    out = tioxide.CornucopiaAdapter(lambda *t: tuple(x + 1 for x in t))(subject)
    assert not tioxide.CornucopiaAdapter(_shared_shift).invertible
    inverted = out.apply_inverse_transform(warn=False)
    assert np.array_equal(inverted.t1.data.numpy(), out.t1.data.numpy())
