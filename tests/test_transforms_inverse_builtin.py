"""Inverting histories of the built-in transforms: exact round trips, scopes, TorchIO's inverses."""

from __future__ import annotations

import copy
import pickle
import random
import warnings

import numpy as np
import pytest
import torch
import torchio

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


def test_sequential_labels_inverse() -> None:
    subject, _ = subject_pair(4, kinds=("label",))
    sparse = tio.RemapLabels({1: 10, 2: 20, 3: 35})(subject)
    sequential = tio.SequentialLabels()(sparse)
    assert sorted(sequential.t1.data.unique().tolist()) == list(range(5))
    restored = tio.apply_inverse_transform(sequential)
    assert torch.equal(restored.t1.data, subject.t1.data)


def test_bias_field_inverse() -> None:
    subject, _ = subject_pair(12)
    biased = tio.BiasField(std=0.4)(subject)
    assert not torch.allclose(biased.t1.data, subject.t1.data)
    restored = biased.apply_inverse_transform()
    torch.testing.assert_close(restored.t1.data, subject.t1.data, rtol=1e-5, atol=1e-3)


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


@pytest.mark.parametrize("seed", range(6))
def test_resampling_inverses_like_torchio(seed: int) -> None:
    import torchio

    def chain(lib):  # noqa: ANN001, ANN202
        return lib.Compose(
            [
                lib.Affine(scales=(0.9, 1.1), degrees=(-10, 10), translation=(-2, 2)),
                lib.Resample((1.0, 2.5), antialias=True),
                lib.ElasticDeformation(max_displacement=(0.5, 1.5), num_control_points=5),
                lib.Spatial(target=1.2, degrees=5, max_displacement=1.0, affine_first=False),
                lib.Resize((7, 8, 9)),
            ]
        )

    ours_in, theirs_in = subject_pair(seed, kinds=("float", "label"))
    torch.manual_seed(seed)
    ours = chain(tio)(ours_in)
    torch.manual_seed(seed)
    theirs = chain(torchio)(theirs_in)
    with pytest.warns(UserWarning, match="Resize is not invertible"):
        ours_back = ours.apply_inverse_transform()
    with pytest.warns(UserWarning, match="Resize is not invertible"):
        theirs_back = theirs.apply_inverse_transform()
    for name in ours_back.images:
        assert_images_equal(ours_back[name], theirs_back[name])


def _blob(shape: tuple[int, int, int]) -> torch.Tensor:
    grid = torch.stack(
        torch.meshgrid(*[torch.linspace(-1, 1, n) for n in shape], indexing="ij"), dim=0
    )
    return torch.exp(-3 * (grid**2).sum(0, keepdim=True))


def test_affine_round_trip_within_interpolation_error() -> None:
    image = tio.ScalarImage(_blob((24, 26, 22)), affine=np.diag([1.0, 1.2, 0.9, 1.0]))
    moved = tio.Affine(degrees=(5, -8, 12), scales=1.1, translation=(1, -1, 0.5))(image)
    assert not torch.allclose(moved.data, image.data, atol=0.05)
    restored = moved.apply_inverse_transform()
    assert restored.affine == image.affine
    interior = (slice(None), slice(6, -6), slice(6, -6), slice(6, -6))
    # Two trilinear interpolations of a blob about 8 voxels wide.
    torch.testing.assert_close(restored.data[interior], image.data[interior], atol=0.04, rtol=0)


def test_resample_round_trip_within_interpolation_error() -> None:
    image = tio.ScalarImage(_blob((20, 21, 19)), affine=np.diag([2.0, 2.0, 2.0, 1.0]))
    finer = tio.Resample(1.0)(image)
    assert finer.spatial_shape == (40, 42, 38) and finer.spacing == (1.0, 1.0, 1.0)
    restored = finer.apply_inverse_transform()
    assert restored.spatial_shape == image.spatial_shape
    assert restored.affine == image.affine
    interior = (slice(None), slice(2, -2), slice(2, -2), slice(2, -2))
    # The fine grid keeps the centre: old voxels fall between new ones (two interpolations).
    torch.testing.assert_close(restored.data[interior], image.data[interior], atol=0.04, rtol=0)


def test_images_on_different_grids_resample_to_one_grid() -> None:
    fine = tio.ScalarImage(_blob((20, 20, 20)), affine=np.diag([1.0, 1.0, 1.0, 1.0]))
    coarse = tio.LabelMap((_blob((10, 10, 10)) > 0.5).long(), affine=np.diag([2.0, 2.0, 2.0, 1.0]))
    coarse_affine = coarse.affine.data.clone()
    coarse_affine[:3, 3] = 0.5  # centre of the first coarse voxel is that of fine voxels 0-1
    subject = tio.Subject(t1=fine, seg=tio.LabelMap(coarse.data, affine=coarse_affine))
    resampled = tio.Resample("t1")(subject)
    assert resampled.seg.spatial_shape == (20, 20, 20)
    # Each coarse voxel covers 2x2x2 fine voxels: nearest neighbour repeats it.
    expected = coarse.data.repeat_interleave(2, 1).repeat_interleave(2, 2).repeat_interleave(2, 3)
    assert torch.equal(resampled.seg.data[:, 1:-1, 1:-1, 1:-1], expected[:, 1:-1, 1:-1, 1:-1])


def test_elastic_round_trip_within_interpolation_error() -> None:
    image = tio.ScalarImage(_blob((24, 24, 24)))
    field = torch.zeros(6, 6, 6, 3)
    field[2:4, 2:4, 2:4] = torch.tensor([0.6, -0.3, 0.3])  # small, smooth, no folding
    deformed = tio.ElasticDeformation(control_points=field)(image)
    assert not torch.allclose(deformed.data, image.data, atol=0.01)
    restored = deformed.apply_inverse_transform()
    interior = (slice(None), slice(4, -4), slice(4, -4), slice(4, -4))
    # Negated displacements undo the deformation up to second-order terms.
    torch.testing.assert_close(restored.data[interior], image.data[interior], atol=0.05, rtol=0)


def test_large_displacements_warn_like_torchio() -> None:
    with pytest.warns(RuntimeWarning, match="folding may occur"):
        tio.ElasticDeformation(max_displacement=20, num_control_points=5)(_blob((10, 10, 10)))


def test_resampling_errors() -> None:
    with pytest.raises(ValueError, match='image_interpolation cannot be "label"'):
        tio.Resample(1, image_interpolation="label")
    with pytest.raises(ValueError, match="order 9 is not supported"):
        tio.Resample(1, label_interpolation=9)
    with pytest.raises(ValueError, match="not supported"):
        tio.Resample(1, image_interpolation="bicubic")
    with pytest.raises(ValueError, match="Target not understood"):
        tio.Resample({"spacing": 1})
    with pytest.raises(ValueError, match="strictly positive"):
        tio.Resample(-1.0)
    with pytest.raises(ValueError, match="default_pad_value"):
        tio.Affine(degrees=5, default_pad_value="median")
    with pytest.raises(TypeError, match="default_pad_label must be numeric"):
        tio.Affine(degrees=5, default_pad_label="zero")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="center"):
        tio.Affine(degrees=5, center="corner")
    with pytest.raises(ValueError, match="strictly positive"):
        tio.Affine(scales=(0.0, 1.0))
    with pytest.raises(ValueError, match="isotropic"):
        tio.Affine(scales=(1, 2, 3), isotropic=True)
    with pytest.raises(ValueError, match="greater than 3"):
        tio.ElasticDeformation(num_control_points=3)
    with pytest.raises(ValueError, match="identity elastic field"):
        tio.ElasticDeformation(num_control_points=(4, 7, 7))
    with pytest.raises(ValueError, match="locked_borders"):
        tio.ElasticDeformation(locked_borders=3)
    with pytest.raises(ValueError, match="non-negative"):
        tio.ElasticDeformation(max_displacement=(-1.0, 1.0))
    with pytest.raises(ValueError, match="shape"):
        tio.ElasticDeformation(control_points=torch.zeros(5, 5, 5))
    subject, _ = subject_pair(0)
    with pytest.raises(ValueError, match='Unknown target "nope"'):
        tio.Resample("nope")(subject)
    mismatched = tio.Subject(
        a=tio.ScalarImage(torch.zeros(1, 3, 3, 3)), b=tio.ScalarImage(torch.zeros(1, 4, 3, 3))
    )
    with pytest.raises(RuntimeError, match='Image "b" has shape'):
        tio.Affine(degrees=10)(mismatched)


def test_label_mode_keeps_only_present_labels() -> None:
    labels = torch.zeros(1, 12, 12, 12, dtype=torch.int16)
    labels[:, 3:9, 3:9, 3:9] = 5
    labels[:, 5:7, 5:7, 5:7] = 2
    image = tio.LabelMap(labels, affine=np.diag([1.0, 1.0, 1.0, 1.0]))
    coarse = tio.Resample(2.0, label_interpolation="label")(image)
    assert coarse.data.dtype == torch.int16
    assert set(coarse.data.unique().tolist()) <= {0, 2, 5}
    moved = tio.Affine(degrees=(0, 0, 30), label_interpolation="label", default_pad_label=9)(image)
    assert set(moved.data.unique().tolist()) <= {0, 2, 5, 9}


def test_bspline_interpolation_needs_torch_interpol(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "interpol" else real(name, *a)
    )
    image = tio.ScalarImage(torch.rand(1, 5, 5, 5))
    with pytest.raises(ImportError, match=r"pip install tioxide\[interpol\]"):
        tio.Resample(2.0, image_interpolation="cubic")(image)


def test_spatial_inverse_needs_the_recorded_space() -> None:
    params = {"affine_matrix": None, "control_points": None, "original": None}
    for module in (tio, torchio):
        with pytest.raises(RuntimeError, match="original output space"):
            module.Spatial().inverse({**params, "affine_first": True})
