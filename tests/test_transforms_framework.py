"""The transform framework: inputs and outputs, copies, probability, scope, compositions,
parameter ranges, records, errors, and the names exported as in TorchIO."""

from __future__ import annotations

import copy
import subprocess
import sys
import warnings
from typing import Any

import numpy as np
import pytest
import torch
import torchio

import tioxide as tio
from tioxide.transforms.parameter_range import _ParameterRange, to_nonneg_range
from transforms_helpers import Shift, history, subject_pair


class AddOne(tio.IntensityTransform):
    """A transform defined the way users define theirs for TorchIO 2 (on batches)."""

    def apply_transform(
        self, batch: tio.SubjectsBatch, params: dict[str, Any]
    ) -> tio.SubjectsBatch:
        for images in self._get_images(batch).values():
            images.data = images.data + 1
        return batch


def make_subject() -> tio.Subject:
    return tio.Subject(
        t1=tio.ScalarImage(torch.arange(24, dtype=torch.float32).reshape(1, 2, 3, 4)),
        seg=tio.LabelMap(torch.ones(1, 2, 3, 4, dtype=torch.int64)),
        age=40,
    )


def test_names_exported_like_torchio() -> None:
    names = [
        "Transform", "SpatialTransform", "IntensityTransform", "AppliedTransform", "Compose",
        "OneOf", "SomeOf", "Lambda", "Choice", "To", "apply_inverse_transform", "Flip", "Pad",
        "Crop", "CropOrPad", "EnsureShapeMultiple", "Transpose", "Reorient", "CopyAffine",
        "Resample", "Resize", "Affine", "Spatial", "ElasticDeformation", "Clamp",
        "RescaleIntensity", "Normalize", "Standardize", "ZNormalization", "Noise", "Gamma",
        "Blur", "RemapLabels", "RemoveLabels", "OneHot", "Mask", "SequentialLabels", "Contour",
        "KeepLargestComponent", "ToReferenceSpace", "BiasField", "Anisotropy",
        "Swap", "Spike", "Ghosting", "LabelsToImage", "PCA",
        "HistogramStandardization", "Motion",
    ]  # fmt: skip
    for name in names:
        ours = getattr(tio, name)
        assert ours.__name__ == getattr(torchio, name).__name__
        assert name in tio.__all__
    assert tio.transforms.Compose is tio.Compose


def test_import_tioxide_does_not_import_torch() -> None:
    code = "import sys, tioxide; tioxide.__all__; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_intensity_transforms_change_scalar_images_only() -> None:
    subject = make_subject()
    result = AddOne()(subject)
    assert torch.equal(result.t1.data, subject.t1.data + 1)
    assert torch.equal(result.seg.data, subject.seg.data)
    assert result.age == 40


def test_spatial_transforms_change_all_images_within_scope() -> None:
    subject = make_subject()
    assert torch.equal(Shift()(subject).seg.data, subject.seg.data + 1)
    only_seg = Shift(include=["seg"])(subject)
    assert torch.equal(only_seg.t1.data, subject.t1.data)
    assert torch.equal(only_seg.seg.data, subject.seg.data + 1)
    not_seg = Shift(exclude="seg")(subject)  # a lone name, not a sequence of letters
    assert torch.equal(not_seg.seg.data, subject.seg.data)
    assert torch.equal(not_seg.t1.data, subject.t1.data + 1)
    assert not_seg.applied_transforms[0].exclude == ["seg"]


def test_input_is_copied_unless_asked() -> None:
    subject = make_subject()
    before = subject.t1.data.clone()
    result = Shift()(subject)
    assert result is not subject and subject.applied_transforms == []
    assert torch.equal(subject.t1.data, before)
    in_place = Shift(copy=False)(subject)
    assert in_place is subject
    assert torch.equal(subject.t1.data, before + 1)
    assert len(subject.applied_transforms) == 1


def test_output_type_matches_input() -> None:
    data = torch.rand(1, 3, 4, 5)
    assert isinstance(Shift()(data), torch.Tensor)
    assert isinstance(Shift()(data.numpy()), np.ndarray)
    assert Shift()(data.numpy()[0]).shape == (1, 3, 4, 5)  # 3D arrays get a channel, as in TorchIO
    image = tio.ScalarImage(data)
    out = Shift()(image)
    assert isinstance(out, tio.ScalarImage) and out is not image
    assert [r.name for r in out.applied_transforms] == ["Shift"]
    label = Shift()(tio.LabelMap(data))
    assert isinstance(label, tio.LabelMap)
    result = Shift()({"a": data, "b": "text"})
    assert isinstance(result, dict) and torch.equal(result["a"], data + 1) and result["b"] == "text"
    with pytest.raises(TypeError, match="Expected Subject, Image, Tensor"):
        Shift()("not an image")


def test_simpleitk_round_trip_keeps_geometry() -> None:
    sitk = pytest.importorskip("SimpleITK")
    array = np.random.default_rng(0).normal(size=(4, 5, 6)).astype(np.float32)
    image = sitk.GetImageFromArray(array)
    image.SetOrigin((1.0, -2.0, 3.0))
    image.SetSpacing((1.0, 2.0, 3.0))
    image.SetDirection((0.0, 1.0, 0.0, -1.0, 0.0, 0.0, 0.0, 0.0, 1.0))
    out = tio.Lambda(lambda x: x)(image)
    assert isinstance(out, sitk.Image)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(out), array)
    np.testing.assert_allclose(out.GetOrigin(), image.GetOrigin(), atol=1e-12)
    np.testing.assert_allclose(out.GetSpacing(), image.GetSpacing())
    np.testing.assert_allclose(out.GetDirection(), image.GetDirection(), atol=1e-12)
    flipped = tio.Flip(axes=(0,))(image)  # axis 0 of the image is SimpleITK's x
    np.testing.assert_array_equal(sitk.GetArrayFromImage(flipped), array[:, :, ::-1])


def test_probability() -> None:
    subject = make_subject()
    assert Shift(p=0)(subject).applied_transforms == []
    torch.manual_seed(0)
    applied = sum(len(Shift(p=0.3)(subject).applied_transforms) for _ in range(2000))
    assert 500 < applied < 700
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match=r"Probability must be in \[0, 1\]"):
            Shift(p=p)


def test_same_seed_same_result() -> None:
    subject = make_subject()
    transform = tio.Compose(
        [tio.Noise(std=(0.1, 1.0)), tio.Flip(axes=(0, 1, 2), flip_probability=0.5)]
    )
    torch.manual_seed(42)
    first = transform(subject)
    torch.manual_seed(42)
    second = transform(subject)
    assert torch.equal(first.t1.data, second.t1.data)
    assert history(first) == history(second)


def test_records() -> None:
    subject = make_subject()
    result = Shift(2.5, include=["t1"])(subject)
    (record,) = result.applied_transforms
    assert record == tio.AppliedTransform(name="Shift", params={"amount": 2.5}, include=["t1"])
    assert record.exclude is None
    # The record's scope is a copy: changing the transform later does not change history.
    transform = Shift(include=["t1"])
    out = transform(subject)
    transform.include.append("seg")
    assert out.applied_transforms[0].include == ["t1"]


def test_history_accumulates_across_calls() -> None:
    # TorchIO 2.0.0a2 keeps only the last record when transforms are called one by one.
    subject = make_subject()
    result = AddOne()(Shift()(subject))
    assert [r.name for r in result.applied_transforms] == ["Shift", "AddOne"]
    image = AddOne()(Shift()(subject.t1))
    assert [r.name for r in image.applied_transforms] == ["Shift", "AddOne"]


def test_compose() -> None:
    subject = make_subject()
    composed = tio.Compose([Shift(), AddOne()])
    result = composed(subject)
    assert torch.equal(result.t1.data, subject.t1.data + 2)
    assert [r.name for r in result.applied_transforms] == ["Shift", "AddOne"]
    assert subject.applied_transforms == []
    named = tio.Compose({"shift": Shift(), "add": AddOne()})
    assert len(named) == 2 and isinstance(named[0], Shift)
    assert (Shift() + AddOne()).transforms[1].__class__ is AddOne
    assert len((composed + composed).transforms) == 4
    assert len((Shift() | AddOne() | Shift()).transforms) == 3
    with pytest.raises(TypeError, match="Compose expects Transform instances"):
        tio.Compose([lambda x: x])
    children_copy = [t.copy for t in composed.transforms]
    composed(subject)
    assert [t.copy for t in composed.transforms] == children_copy


def test_one_of_weights() -> None:
    subject = make_subject()
    choice = tio.OneOf({Shift(1.0): 0.8, Shift(100.0): 0.2})
    torch.manual_seed(0)
    amounts = [choice(subject).applied_transforms[0].params["amount"] for _ in range(1000)]
    assert 150 < amounts.count(100.0) < 250
    with pytest.raises(ValueError, match="at least one transform"):
        tio.OneOf([])
    with pytest.raises(ValueError, match="non-negative"):
        tio.OneOf({Shift(): -1.0})


def test_some_of_counts() -> None:
    subject = make_subject()
    some = tio.SomeOf([Shift(1.0), Shift(2.0), Shift(3.0)], num_transforms=(1, 2))
    torch.manual_seed(0)
    counts = {len(some(subject).applied_transforms) for _ in range(100)}
    assert counts == {1, 2}
    fixed = tio.SomeOf([Shift(1.0), Shift(2.0)], num_transforms=5)
    names = [r.params["amount"] for r in fixed(subject).applied_transforms]
    assert sorted(names) == [1.0, 2.0]  # without replacement: each at most once
    with pytest.raises(ValueError, match="num_transforms"):
        tio.SomeOf([Shift()], num_transforms=(3, 1))


def test_lambda() -> None:
    subject = make_subject()
    doubled = tio.Lambda(lambda x: x * 2)(subject)
    assert torch.equal(doubled.seg.data, subject.seg.data * 2)
    assert doubled.seg.data.dtype == torch.int64
    labels_only = tio.Lambda(lambda x: x * 0, types_to_apply="label")(subject)
    assert torch.equal(labels_only.t1.data, subject.t1.data)
    assert labels_only.seg.data.sum() == 0
    with pytest.raises(TypeError, match="function must be callable"):
        tio.Lambda(3)  # type: ignore[arg-type]
    # An unknown type applies to every image, as in TorchIO, with a warning.
    for module in (tio, torchio):
        own = module.Subject(
            t1=module.ScalarImage(subject.t1.data.clone()),
            seg=module.LabelMap(subject.seg.data.clone()),
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            zeroed = module.Lambda(lambda x: x * 0, types_to_apply="intensity")(own)
        assert zeroed.t1.data.sum() == 0 and zeroed.seg.data.sum() == 0
        if module is tio:
            assert any("types_to_apply" in str(w.message) for w in caught)


def test_user_transform_overriding_forward_runs_in_compose() -> None:
    class Marker(tio.Transform):
        def forward(self, data: Any) -> Any:
            data = copy.deepcopy(data) if self.copy else data
            data.metadata["marked"] = True
            return data

    result = tio.Compose([Shift(), Marker()])(make_subject())
    assert result.marked is True


def test_repr_and_hydra_like_torchio() -> None:
    pairs = [
        lambda lib: lib.Flip(axes=(0,)),
        lambda lib: lib.Pad(padding=2),
        lambda lib: lib.Noise(std=(0, 0.1)),
        lambda lib: lib.RescaleIntensity(out_min=0, out_max=(1.0, 2.0)),
        lambda lib: lib.Compose([lib.Flip(), lib.CropOrPad(10, p=0.5)]),
        lambda lib: lib.OneOf([lib.Transpose(), lib.Clamp(out_min=0)]),
    ]
    for build in pairs:
        assert repr(build(tio)) == repr(build(torchio))
        ours, theirs = build(tio).to_hydra(), build(torchio).to_hydra()
        assert ours.pop("_target_").replace("tioxide.", "torchio.") == theirs.pop("_target_")
        assert len(ours.pop("transforms", [])) == len(theirs.pop("transforms", []))
        assert ours == theirs


@pytest.mark.parametrize(
    "value",
    [0.5, 3, (1.0, 2.0), (1.0, 2.0, 3.0), (0, 1, 2, 3, 4, 5), (0, (1.0, 2.0), 3), (7.0,), (2, 2)],
)
def test_parameter_ranges_draw_like_torchio(value: Any) -> None:
    from torchio.transforms.parameter_range import _ParameterRange as Theirs

    for n in (None, 5):
        torch.manual_seed(3)
        ours = _ParameterRange(value).sample(n)
        ours_1d = _ParameterRange(value).sample_1d(n)
        torch.manual_seed(3)
        theirs = Theirs(value).sample(n)
        theirs_1d = Theirs(value).sample_1d(n)
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
        np.testing.assert_array_equal(np.asarray(ours_1d), np.asarray(theirs_1d))
    assert _ParameterRange(value).is_deterministic == Theirs(value).is_deterministic
    assert repr(_ParameterRange(value)) == repr(Theirs(value))


def test_choice_like_torchio() -> None:
    ours = tio.Choice([-10, 0, 10], probabilities=[0.2, 0.3, 0.5])
    theirs = torchio.Choice([-10, 0, 10], probabilities=[0.2, 0.3, 0.5])
    assert repr(ours) == repr(theirs)
    assert repr(tio.Choice([1, 2.5])) == repr(torchio.Choice([1, 2.5]))
    torch.manual_seed(0)
    a = [ours.sample() for _ in range(50)] + ours.sample_batched(20).tolist()
    mixed = _ParameterRange((0, ours, (1.0, 2.0))).sample()
    torch.manual_seed(0)
    b = [theirs.sample() for _ in range(50)] + theirs.sample_batched(20).tolist()
    from torchio.transforms.parameter_range import _ParameterRange as Theirs

    assert mixed == Theirs((0, theirs, (1.0, 2.0))).sample()
    assert a == b
    with pytest.raises(ValueError, match="at least one value"):
        tio.Choice([])
    with pytest.raises(ValueError, match="Expected 2 probabilities"):
        tio.Choice([1, 2], probabilities=[1.0])


def test_distribution_ranges() -> None:
    normal = torch.distributions.Normal(0.0, 1.0)
    torch.manual_seed(1)
    values = _ParameterRange(normal).sample(1000)
    assert values.shape == (1000, 3)
    assert abs(float(values.mean())) < 0.1


def test_parameter_range_errors() -> None:
    with pytest.raises(TypeError, match="Expected float, tuple, Distribution, or Choice"):
        _ParameterRange([1, 2])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="1, 2, 3, or 6 elements"):
        _ParameterRange((1, 2, 3, 4))
    with pytest.raises(ValueError, match="exactly 3 elements"):
        _ParameterRange(((1, 2), 3))
    with pytest.raises(TypeError, match="Per-axis spec"):
        _ParameterRange((1, "a", 2))
    with pytest.raises(ValueError, match="non-negative"):
        to_nonneg_range((-1.0, 1.0))


def test_gamma_default_warns_like_torchio() -> None:
    with pytest.warns(UserWarning, match="Gamma is a no-op"):
        tio.Gamma()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tio.Gamma(log_gamma=(-0.3, 0.3))


def test_to() -> None:
    subject, _ = subject_pair(0)
    result = tio.To(torch.float64)(subject)
    assert all(image.data.dtype == torch.float64 for image in result.images.values())
    assert result.applied_transforms[0].params == {"to_args": (torch.float64,), "to_kwargs": {}}


def test_transforms_pickle() -> None:
    import pickle

    transform = tio.Compose(
        [tio.OneOf([tio.Flip(axes=(0,)), tio.Pad(padding=1)]), tio.Noise(std=(0, 1)), Shift(2.0)]
    )
    clone = pickle.loads(pickle.dumps(transform))
    assert repr(clone) == repr(transform)
    subject = make_subject()
    torch.manual_seed(0)
    first = transform(subject)
    torch.manual_seed(0)
    second = clone(subject)
    assert torch.equal(first.t1.data, second.t1.data)


def test_subjects_without_images() -> None:
    points = tio.Subject(p=tio.Points(torch.zeros(2, 3)), note="no image")
    assert tio.Flip(axes=(0,))(points).note == "no image"
    assert tio.Resample(2)(points).applied_transforms[0].params == {"selected_images": []}
    for transform in (tio.CropOrPad(4), tio.Reorient("LPS"), tio.EnsureShapeMultiple(4)):
        with pytest.raises(RuntimeError, match="needs an image in the subject|has no images"):
            transform(points)


def _storages(obj: Any) -> set[int]:
    images = obj.images.values() if isinstance(obj, tio.Subject) else [obj]
    return {image.data.untyped_storage().data_ptr() for image in images}


@pytest.mark.parametrize(
    "transform",
    [
        tio.Crop(cropping=1),
        tio.Flip(axes=(0,), p=0),
        tio.CopyAffine("seg"),
        tio.Pad(padding=1, include=["t1"]),
        tio.Compose([tio.Crop(cropping=(1, 0, 0)), tio.To(torch.float32)]),
        tio.Lambda(lambda x: x.mul_(2)),
    ],
)
def test_outputs_share_no_memory_with_inputs(transform: tio.Transform) -> None:
    subject = make_subject()
    before = {name: image.data.clone() for name, image in subject.images.items()}
    result = transform(subject)
    assert not _storages(result) & _storages(subject)
    for name, image in subject.images.items():
        assert torch.equal(image.data, before[name])
    image = subject.t1
    out = transform(image) if not isinstance(transform, tio.CopyAffine) else image
    assert out is image or not _storages(out) & _storages(image)
    tensor = subject.t1.data
    if not isinstance(transform, tio.CopyAffine):
        assert transform(tensor).untyped_storage().data_ptr() != tensor.untyped_storage().data_ptr()
    assert torch.equal(tensor, before["t1"])


def test_user_transforms_writing_in_place_get_a_deep_copy() -> None:
    class Doubler(tio.Transform):
        def apply_transform(self, batch: Any, params: dict[str, Any]) -> Any:
            for images in batch.images.values():
                images.data.mul_(2)  # in place, as TorchIO subclasses may do
            return batch

    subject = make_subject()
    before = subject.t1.data.clone()
    for transform in (Doubler(), tio.Compose([tio.Flip(axes=(0,)), Doubler()])):
        result = transform(subject)
        assert torch.equal(subject.t1.data, before)
        assert not torch.equal(result.t1.data, before)


def _scaling_transform(module: Any, seen: list[str]) -> Any:
    """The same user-written transform for ``module`` (tioxide or torchio)."""

    class Scale(module.IntensityTransform):  # type: ignore[misc, name-defined]
        def make_params(self, batch: Any) -> dict[str, Any]:
            seen.append(type(batch).__name__)
            return {"factor": float(torch.rand(1)) + 1}

        def apply_transform(self, batch: Any, params: dict[str, Any]) -> Any:
            for images in self._get_images(batch).values():
                seen.append(f"{images.data.dim()}D")
                images.data = images.data * params["factor"]
            return batch

    return Scale


def test_user_transforms_get_batches_as_in_torchio() -> None:
    results = []
    for module in (tio, torchio):
        seen: list[str] = []
        scale = _scaling_transform(module, seen)
        subject = module.Subject(
            t1=module.ScalarImage(torch.arange(24.0).reshape(1, 2, 3, 4)),
            seg=module.LabelMap(torch.ones(1, 2, 3, 4, dtype=torch.int64)),
        )
        torch.manual_seed(3)
        one = scale()(subject)
        batch = module.SubjectsBatch.from_subjects([subject, subject])
        two = module.Compose([scale(), scale(include=["t1"])])(batch)
        tensor = scale()(torch.ones(1, 2, 2, 2))
        results.append((one, two, tensor, seen))
    (one, two, tensor, seen), (one_t, two_t, tensor_t, seen_t) = results
    assert seen == seen_t == ["SubjectsBatch", "5D"] * 4
    assert torch.equal(one.t1.data, one_t.t1.data) and torch.equal(one.seg.data, one_t.seg.data)
    assert one.applied_transforms[0].params == one_t.applied_transforms[0].params
    assert torch.equal(two.t1.data, two_t.t1.data) and torch.equal(tensor, tensor_t)
    assert [r.name for r in two.applied_transforms] == ["Scale", "Scale"]


class Broken(tio.Transform):
    def apply_transform(self, batch: Any, params: dict[str, Any]) -> Any:
        return batch.unbatch()[0]


def test_user_transforms_must_return_the_batch() -> None:
    with pytest.raises(TypeError, match="Broken.apply_transform returned Subject"):
        Broken()(make_subject())
    batch = tio.SubjectsBatch.from_subjects([make_subject()])
    with pytest.raises(TypeError, match="Broken.apply_transform returned Subject"):
        Broken()(batch)
