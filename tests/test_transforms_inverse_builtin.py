"""Inverting histories of the built-in transforms: exact round trips, scopes, TorchIO's inverses."""

from __future__ import annotations

import copy
import pickle
import random
import warnings

import numpy as np
import pytest
import torch

import tioxide as tio
from transforms_helpers import assert_images_equal, history, subject_pair


def _random_invertible_chain(rng: random.Random) -> list[tio.Transform]:
    """Exactly invertible spatial transforms with random arguments."""
    steps: list[tio.Transform] = []
    for _ in range(rng.randint(1, 6)):
        kind = rng.choice(["flip", "pad", "crop", "transpose", "reorient", "remap"])
        if kind == "flip":
            steps.append(tio.Flip(axes=tuple(rng.sample([0, 1, 2], rng.randint(1, 3)))))
        elif kind == "pad":
            mode = rng.choice(["constant", "replicate", "mean"])
            steps.append(
                tio.Pad(padding=tuple(rng.randint(0, 2) for _ in range(6)), padding_mode=mode)
            )
        elif kind == "crop":
            steps.append(tio.Crop(cropping=tuple(rng.randint(0, 1) for _ in range(6))))
        elif kind == "transpose":
            steps.append(tio.Transpose())
        elif kind == "reorient":
            steps.append(
                tio.Reorient("".join(rng.choice(p) for p in rng.sample(["RL", "AP", "SI"], 3)))
            )
        else:
            steps.append(tio.RemapLabels({1: 2, 2: 1}))
    return steps


@pytest.mark.parametrize("seed", range(40))
def test_random_chains_round_trip(seed: int) -> None:
    rng = random.Random(seed)
    subject, _ = subject_pair(seed, kinds=("float", "label"))
    # Crops remove voxels: pad first so that what is cropped is padding.
    chain = [tio.Pad(padding=3), *_random_invertible_chain(rng)]
    transformed = subject
    for step in chain:  # one call at a time: the history must accumulate
        transformed = step(transformed)
    assert [r.name for r in transformed.applied_transforms] == [type(t).__name__ for t in chain]
    snapshot = copy.deepcopy(transformed)
    restored = transformed.apply_inverse_transform()
    for name in subject.images:
        assert_images_equal(restored[name], subject[name])
    assert restored.applied_transforms == []
    # Inverting never changes the transformed object.
    assert history(transformed) == history(snapshot)
    for name in subject.images:
        assert_images_equal(transformed[name], snapshot[name])


@pytest.mark.parametrize("seed", range(10))
def test_composed_chain_round_trip_on_images(seed: int) -> None:
    rng = random.Random(seed)
    subject, _ = subject_pair(seed)
    image = subject.t1
    transformed = tio.Compose([tio.Pad(padding=2), *_random_invertible_chain(rng)])(image)
    restored = tio.apply_inverse_transform(transformed)
    assert isinstance(restored, tio.ScalarImage)
    assert_images_equal(restored, image)
    assert restored.applied_transforms == []
    assert len(transformed.applied_transforms) > 1


def test_intensity_inverses() -> None:
    subject, _ = subject_pair(3)
    transform = tio.Compose(
        [
            tio.RescaleIntensity(out_min=0.0, out_max=1.0),
            tio.Gamma(log_gamma=0.4),
            tio.ZNormalization(),
        ]
    )
    transformed = transform(subject)
    restored = transformed.apply_inverse_transform()
    torch.testing.assert_close(restored.t1.data, subject.t1.data, rtol=1e-4, atol=1e-3)


def test_one_hot_inverse() -> None:
    subject, _ = subject_pair(4, kinds=("label",))
    restored = tio.OneHot()(subject).apply_inverse_transform()
    assert torch.equal(restored.t1.data, subject.t1.data.float())


def test_non_invertible_steps_are_skipped_with_a_warning() -> None:
    subject, _ = subject_pair(5)
    transformed = tio.Compose([tio.Flip(axes=(0,)), tio.Noise(std=0.1), tio.Clamp(out_max=100.0)])(
        subject
    )
    with pytest.warns(UserWarning, match="Noise is not invertible, skipping"):
        inverse = transformed.get_inverse_transform()
    assert [type(t).__name__ for t in inverse.transforms] == ["Flip"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quiet = transformed.get_inverse_transform(warn=False)
    assert len(quiet.transforms) == 1
    transformed.applied_transforms.append(tio.AppliedTransform(name="NoSuchTransform"))
    with pytest.warns(UserWarning, match="Unknown transform 'NoSuchTransform'"):
        transformed.get_inverse_transform()


def test_crop_or_pad_inverts_through_its_steps() -> None:
    subject, _ = subject_pair(6)
    transformed = tio.CropOrPad((5, 14, 3))(subject)
    assert [r.name for r in transformed.applied_transforms][-1] == "CropOrPad"
    with pytest.warns(UserWarning, match="CropOrPad is not invertible"):
        restored = transformed.apply_inverse_transform()
    assert restored.t1.affine == subject.t1.affine
    cropped = tio.Crop(cropping=0)  # what survived the crop is back in place
    assert cropped(restored).spatial_shape == subject.spatial_shape


def test_ignore_intensity() -> None:
    subject, _ = subject_pair(7)
    transformed = tio.Compose(
        [tio.Flip(axes=(1,)), tio.RescaleIntensity(out_min=0.0, out_max=1.0)]
    )(subject)
    inverse = transformed.get_inverse_transform(ignore_intensity=True)
    assert [type(t).__name__ for t in inverse.transforms] == ["Flip"]
    restored = transformed.apply_inverse_transform(ignore_intensity=True)
    expected = tio.RescaleIntensity(out_min=0.0, out_max=1.0)(subject)
    assert torch.equal(restored.t1.data, expected.t1.data)


def test_inverse_keeps_scope() -> None:
    subject, _ = subject_pair(8)
    transformed = tio.Pad(padding=1, include=["t1"])(tio.Flip(axes=(0,), exclude=["seg"])(subject))
    inverse = transformed.get_inverse_transform()
    assert inverse.transforms[0].include == ["t1"]
    assert inverse.transforms[1].exclude == ["seg"]
    restored = transformed.apply_inverse_transform()
    assert_images_equal(restored.t1, subject.t1)
    assert_images_equal(restored.seg, subject.seg)


def test_history_survives_copies_and_pickling() -> None:
    subject, _ = subject_pair(9)
    transformed = tio.Compose([tio.Flip(axes=(0,)), tio.Pad(padding=1)])(subject)
    image = tio.Pad(padding=1)(tio.Flip(axes=(0,))(subject.t1))
    for obj in (transformed, image):
        for clone in (copy.copy(obj), copy.deepcopy(obj), pickle.loads(pickle.dumps(obj))):
            assert history(clone) == history(obj)
        assert copy.deepcopy(obj).applied_transforms is not obj.applied_transforms
    restored = pickle.loads(pickle.dumps(image)).apply_inverse_transform()
    assert_images_equal(restored, subject.t1)


def test_clear_history() -> None:
    subject, _ = subject_pair(10)
    transformed = tio.Flip(axes=(0,))(subject)
    transformed.clear_history()
    assert transformed.applied_transforms == []
    assert len(transformed.get_inverse_transform().transforms) == 0
    image = tio.Flip(axes=(0,))(subject.t1)
    image.clear_history()
    assert image.apply_inverse_transform().applied_transforms == []


def test_apply_inverse_transform_of_objects_without_history() -> None:
    tensor = torch.zeros(1, 2, 2, 2)
    assert tio.apply_inverse_transform(tensor) is tensor


def test_inverse_like_torchio() -> None:
    import torchio

    ours_in, theirs_in = subject_pair(11)

    def chain(lib):  # noqa: ANN001, ANN202
        return lib.Compose([lib.Flip(axes=(0, 2)), lib.Pad(padding=(1, 2, 3)), lib.Transpose()])

    ours, theirs = chain(tio)(ours_in), chain(torchio)(theirs_in)
    assert repr(ours.get_inverse_transform()) == repr(theirs.get_inverse_transform())
    ours_back = ours.apply_inverse_transform()
    theirs_back = theirs.apply_inverse_transform()
    for name in ours_back.images:
        np.testing.assert_array_equal(ours_back[name].data, theirs_back[name].data)
