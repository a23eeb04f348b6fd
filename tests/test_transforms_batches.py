"""Transforms applied to ImagesBatch and SubjectsBatch, against TorchIO 2.0.0a2."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import torch

import tioxide

torchio = pytest.importorskip("torchio")

#: Transforms built the same way in both packages (``mod`` is tioxide or torchio).
CASES: dict[str, Callable[[Any], Any]] = {
    "flip-fixed": lambda mod: mod.Flip(axes=(0,)),
    "flip-random": lambda mod: mod.Flip(axes=(0, 1, 2), flip_probability=0.5),
    "gamma-per-element": lambda mod: mod.Gamma(log_gamma=(-0.3, 0.3)),
    "gamma-shared": lambda mod: mod.Gamma(log_gamma=(-0.3, 0.3), per_instance=False),
    "gamma-p": lambda mod: mod.Gamma(log_gamma=(-0.3, 0.3), p=0.5),
    "noise-per-element": lambda mod: mod.Noise(std=(0.1, 0.3)),
    "noise-p": lambda mod: mod.Noise(std=(0.1, 0.3), p=0.5),
    "noise-shared": lambda mod: mod.Noise(std=(0.1, 0.3), per_instance=False),
    "blur-shared": lambda mod: mod.Blur(std=(0.5, 1.5), per_instance=False),
    "swap-shared": lambda mod: mod.Swap(patch_size=2, num_iterations=3, per_instance=False),
    "noise-rician": lambda mod: mod.Noise(mean=(-0.1, 0.1), std=(0.1, 0.3), rician=True),
    "blur": lambda mod: mod.Blur(std=(0.5, 1.5)),
    "blur-p": lambda mod: mod.Blur(std=(0.5, 1.5), p=0.5),
    "swap": lambda mod: mod.Swap(patch_size=2, num_iterations=3),
    "spike": lambda mod: mod.Spike(),
    "ghosting": lambda mod: mod.Ghosting(),
    "motion": lambda mod: mod.Motion(),
    "anisotropy": lambda mod: mod.Anisotropy(),
    "anisotropy-p": lambda mod: mod.Anisotropy(p=0.5),
    "bias-field": lambda mod: mod.BiasField(std=(0, 1)),
    "bias-field-p": lambda mod: mod.BiasField(std=(0, 1), p=0.5),
    "bias-field-shared": lambda mod: mod.BiasField(std=(0, 1), per_instance=False),
    "spike-p": lambda mod: mod.Spike(p=0.5),
    "ghosting-p": lambda mod: mod.Ghosting(p=0.5),
    "motion-p": lambda mod: mod.Motion(p=0.5),
    "swap-p": lambda mod: mod.Swap(patch_size=2, num_iterations=3, p=0.5),
    "flip-random-p": lambda mod: mod.Flip(axes=(0, 1, 2), flip_probability=0.5, p=0.5),
    "clamp": lambda mod: mod.Clamp(out_min=0.3, out_max=0.9),
    "znormalization": lambda mod: mod.ZNormalization(),
    "crop-or-pad": lambda mod: mod.CropOrPad(6),
    "compose": lambda mod: mod.Compose([mod.Flip(axes=(1,)), mod.Gamma(log_gamma=(-0.2, 0.2))]),
    "one-of-shared": lambda mod: mod.OneOf(
        [mod.Flip(axes=(0,)), mod.Flip(axes=(1,))], per_instance=False
    ),
}


def _subjects(mod: Any, size: int, seed: int = 1) -> list[Any]:
    generator = torch.Generator().manual_seed(seed)
    return [
        mod.Subject(
            t1=mod.ScalarImage(torch.rand(1, 8, 8, 8, generator=generator) + 0.1),
            seg=mod.LabelMap((torch.rand(1, 8, 8, 8, generator=generator) > 0.5).to(torch.uint8)),
            age=n,
        )
        for n in range(size)
    ]


def _plain(value: Any) -> Any:
    """Parameters with tensors and tuples as lists (TorchIO keeps per-element
    values as lists)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _run(mod: Any, case: str, seed: int) -> tuple[Any, list[Any]]:
    batch = mod.SubjectsBatch.from_subjects(_subjects(mod, 4))
    torch.manual_seed(seed)
    result = CASES[case](mod)(batch)
    return result, result.unbatch()


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("case", sorted(CASES))
def test_batches_transform_as_torchio_does(case: str, seed: int) -> None:
    ours, our_subjects = _run(tioxide, case, seed)
    theirs, their_subjects = _run(torchio, case, seed)
    assert isinstance(ours, tioxide.SubjectsBatch)
    for name in ("t1", "seg"):
        assert ours[name].data.dtype == theirs[name].data.dtype
        torch.testing.assert_close(ours[name].data, theirs[name].data, rtol=1e-5, atol=1e-6)
    assert ours.metadata == theirs.metadata
    for mine, other in zip(our_subjects, their_subjects, strict=True):
        assert [r.name for r in mine.applied_transforms] == [
            r.name for r in other.applied_transforms
        ]
        for a, b in zip(mine.applied_transforms, other.applied_transforms, strict=True):
            assert _plain(a.params) == _plain(b.params)


#: Transforms that TorchIO 2.0.0a2 applies differently to a batch, using
#: the first element's input range (rescaling) or geometry (resampling) for
#: all; here each element is transformed as it would be alone. They draw the
#: same parameters as TorchIO.
ELEMENTWISE: dict[str, Callable[[], Any]] = {
    "rescale": lambda: tioxide.RescaleIntensity(),
    "rescale-percentiles": lambda: tioxide.RescaleIntensity(percentile_low=2, percentile_high=98),
    "affine": lambda: tioxide.Affine(scales=0.1, degrees=10),
    "elastic": lambda: tioxide.ElasticDeformation(),
}


@pytest.mark.parametrize("case", sorted(ELEMENTWISE))
def test_each_element_is_transformed_by_its_own_recorded_parameters(case: str) -> None:
    batch = tioxide.SubjectsBatch.from_subjects(_subjects(tioxide, 5))
    torch.manual_seed(7)
    result = ELEMENTWISE[case]()(batch)
    params = []
    for n, subject in enumerate(result.unbatch()):
        alone = tioxide.Subject(
            t1=tioxide.ScalarImage(batch.t1.data[n].clone()),
            seg=tioxide.LabelMap(batch.seg.data[n].clone()),
        )
        records = subject.applied_transforms
        if records:
            (record,) = records
            params.append(record.params)
            alone = ELEMENTWISE[case]().apply_transform(alone, record.params)
        torch.testing.assert_close(subject.t1.data, alone.t1.data)
        torch.testing.assert_close(subject.seg.data, alone.seg.data)
    assert len(params) > 1


def test_images_batch_stays_an_images_batch_with_its_affines() -> None:
    images = [
        tioxide.ScalarImage(torch.rand(1, 6, 6, 6), affine=tioxide.AffineMatrix.from_spacing(s))
        for s in ((1.0, 1.0, 1.0), (2.0, 2.0, 2.0))
    ]
    batch = tioxide.ImagesBatch.from_images(images)
    before = batch.data.clone()
    result = tioxide.Flip(axes=(2,))(batch)
    assert isinstance(result, tioxide.ImagesBatch)
    torch.testing.assert_close(result.data, before.flip(-1))
    assert [a.spacing for a in result.affines] == [(1.0, 1.0, 1.0), (2.0, 2.0, 2.0)]
    torch.testing.assert_close(batch.data, before)  # copy=True leaves the input alone
    assert result.data.data_ptr() != batch.data.data_ptr()
    assert [r.name for r in result.applied_transforms] == ["Flip"]


def test_per_element_records_split_on_unbatch_and_skip_gated_elements() -> None:
    batch = tioxide.SubjectsBatch.from_subjects(_subjects(tioxide, 8))
    torch.manual_seed(3)
    result = tioxide.Gamma(log_gamma=(-0.3, 0.3), p=0.5)(batch)
    (record,) = result.applied_transforms
    keep = record.params["_keep"]
    assert 0 < sum(keep) < 8
    for n, subject in enumerate(result.unbatch()):
        original = batch.t1.data[n]
        if keep[n]:
            (own,) = subject.applied_transforms
            gamma = torch.exp(torch.tensor(own.params["log_gamma"]))
            assert own.params["log_gamma"] == record.params["log_gamma"][n]
            torch.testing.assert_close(subject.t1.data, original**gamma)
        else:
            assert subject.applied_transforms == []
            torch.testing.assert_close(subject.t1.data, original)


def test_per_element_choice_keeps_each_history_and_inverts_each_element() -> None:
    batch = tioxide.SubjectsBatch.from_subjects(_subjects(tioxide, 6))
    torch.manual_seed(4)
    branched = tioxide.OneOf([tioxide.Flip(axes=(0,)), tioxide.Flip(axes=(1,))])(batch)
    assert branched._per_element_history is not None
    axes = [s.applied_transforms[0].params["axes"] for s in branched.unbatch()]
    assert len(set(axes)) == 2
    for n, axis in enumerate(axes):
        flipped = batch.t1.data[n].flip(1 + axis[0])
        torch.testing.assert_close(branched.t1.data[n], flipped)
    with pytest.raises(RuntimeError, match="apply_inverse_transform"):
        branched.get_inverse_transform()
    restored = branched.apply_inverse_transform()
    torch.testing.assert_close(restored.t1.data, batch.t1.data)
    subjects = branched.unbatch()
    rebuilt = tioxide.SubjectsBatch.from_subjects(subjects)
    rebuilt.adopt_history(branched, subjects)
    assert [[r.name for r in s.applied_transforms] for s in rebuilt.unbatch()] == [["Flip"]] * 6


@pytest.mark.parametrize(
    "make",
    [
        lambda: tioxide.Flip(axes=(0, 1, 2), flip_probability=0.5),
        lambda: tioxide.Gamma(log_gamma=(-0.3, 0.3)),
        lambda: tioxide.Affine(degrees=(0, 0, (10, 45)), default_pad_value=0.0),
        lambda: tioxide.Compose(
            [tioxide.Flip(axes=(1,)), tioxide.Gamma(log_gamma=(-0.3, 0.3), p=0.5)]
        ),
    ],
)
def test_per_element_records_are_undone_element_by_element(make: Callable[[], Any]) -> None:
    # TorchIO's own tests (test_flip, test_gamma, test_inverse) undo such batches;
    # both the method and the function must, without touching the batch.
    batch = tioxide.SubjectsBatch.from_subjects(_subjects(tioxide, 4))
    torch.manual_seed(2)
    result = make()(batch)
    assert any("_batched_keys" in r.params for r in result.applied_transforms)
    before = result.t1.data.clone()
    by_method = result.apply_inverse_transform()
    by_function = tioxide.apply_inverse_transform(result)
    torch.testing.assert_close(result.t1.data, before)
    torch.testing.assert_close(by_method.t1.data, by_function.t1.data)
    assert by_method.applied_transforms == [] and by_function.applied_transforms == []
    for n, subject in enumerate(result.unbatch()):
        torch.testing.assert_close(by_method.t1.data[n], subject.apply_inverse_transform().t1.data)
    if not any(r.name == "Affine" for r in result.applied_transforms):
        torch.testing.assert_close(by_method.t1.data, batch.t1.data)


def test_shared_history_adopted_and_inverted_for_the_whole_batch() -> None:
    batch = tioxide.SubjectsBatch.from_subjects(_subjects(tioxide, 3))
    result = tioxide.Flip(axes=(1,))(batch)
    subjects = result.unbatch()
    rebuilt = tioxide.SubjectsBatch.from_subjects(subjects)
    rebuilt.adopt_history(result, subjects)
    assert rebuilt._per_element_history is None
    assert [r.name for r in rebuilt.applied_transforms] == ["Flip"]
    undone = rebuilt.get_inverse_transform()(rebuilt)
    torch.testing.assert_close(undone.t1.data, batch.t1.data)


def test_per_element_choices_that_change_shapes_are_refused() -> None:
    batch = tioxide.SubjectsBatch.from_subjects(_subjects(tioxide, 8))
    torch.manual_seed(0)
    transform = tioxide.OneOf([tioxide.CropOrPad(4), tioxide.CropOrPad(6)])
    with pytest.raises(RuntimeError, match="per_instance=False"):
        transform(batch)
    torch.manual_seed(0)
    shared = tioxide.OneOf([tioxide.CropOrPad(4), tioxide.CropOrPad(6)], per_instance=False)
    assert shared(batch).t1.data.shape[-1] in (4, 6)


FLAGS = ("supports_per_instance_params", "supports_per_instance_p")


@pytest.mark.parametrize(
    "make",
    [
        lambda mod: mod.Flip(),
        lambda mod: mod.Gamma(),
        lambda mod: mod.Noise(),
        lambda mod: mod.Blur(),
        lambda mod: mod.RescaleIntensity(),
        lambda mod: mod.ZNormalization(),
        lambda mod: mod.CropOrPad(4),
        lambda mod: mod.Affine(scales=1.1),
        lambda mod: mod.Clamp(),
    ],
)
def test_per_instance_flags_match_torchio(make: Callable[[Any], Any]) -> None:
    ours, theirs = make(tioxide), make(torchio)
    assert [getattr(ours, flag) for flag in FLAGS] == [getattr(theirs, flag) for flag in FLAGS]


def test_built_in_apply_transform_takes_batches_as_in_torchio() -> None:
    # TorchIO's make_params/apply_transform are public: called directly on a
    # batch with given parameters, every element gets them (or its own).
    results = []
    for mod in (tioxide, torchio):
        batch = mod.SubjectsBatch.from_subjects(_subjects(mod, 3))
        noise = mod.Noise(std=1.0)
        shared = noise.apply_transform(batch, {"mean": 0.0, "std": 1.0, "seed": 42})
        again = noise.apply_transform(
            mod.SubjectsBatch.from_subjects(_subjects(mod, 3)),
            {"mean": 0.0, "std": 1.0, "seed": 42},
        )
        assert shared is batch  # changed in place, as TorchIO's are
        source = copy.deepcopy(batch)
        torch.manual_seed(5)
        flipped = mod.Flip(axes=(0, 1, 2), flip_probability=0.5)(batch)
        record = flipped.applied_transforms[-1].params
        replayed = mod.Flip().apply_transform(source, record)
        results.append((shared, again, flipped, replayed))
        affine = mod.Affine(degrees=(20.0, 80.0), default_pad_value=0.0)
        sampled = affine(batch).applied_transforms[-1].params
        with pytest.raises(RuntimeError, match="Per-instance spatial parameters"):
            affine.apply_transform(mod.SubjectsBatch.from_subjects(_subjects(mod, 2)), sampled)
    for ours, theirs in zip(results[0], results[1], strict=True):
        torch.testing.assert_close(ours.t1.data, theirs.t1.data)
    shared, again, flipped, replayed = results[0]
    torch.testing.assert_close(shared.t1.data, again.t1.data)
    torch.testing.assert_close(replayed.t1.data, flipped.t1.data)
    assert shared.applied_transforms == []


def test_flip_selecting_no_image_records_one_shared_no_op() -> None:
    for mod in (tioxide, torchio):
        batch = mod.SubjectsBatch.from_subjects(_subjects(mod, 3))
        torch.manual_seed(0)
        result = mod.Flip(axes=0, include=["missing"])(batch)
        assert torch.equal(result.t1.data, batch.t1.data)
        assert result.applied_transforms[-1].params == {"axes": ()}


@pytest.mark.parametrize("choice", ["OneOf", "SomeOf"])
def test_compositions_run_children_with_copy_off_as_torchio_does(choice: str) -> None:
    for mod in (tioxide, torchio):
        seen: list[bool] = []
        spy = _copy_spy(mod, seen)
        getattr(mod, choice)([spy])(_subjects(mod, 1)[0])
        assert seen == [False] and spy.copy is True


def _copy_spy(mod: Any, seen: list[bool]) -> Any:
    """A transform (for ``mod``) noting its ``copy`` flag when it runs."""

    class Spy(mod.IntensityTransform):  # type: ignore[misc, name-defined]
        def apply_transform(self, batch: Any, params: dict[str, Any]) -> Any:
            seen.append(self.copy)
            return batch

    return Spy()


def test_resolve_n_as_torchio_for_transforms_written_for_it() -> None:
    for mod in (tioxide, torchio):
        pair = mod.SubjectsBatch.from_subjects(_subjects(mod, 2))
        single = mod.SubjectsBatch.from_subjects(_subjects(mod, 1))
        assert mod.Noise()._resolve_n(pair) == 2
        assert mod.Noise(per_instance=False)._resolve_n(pair) is None
        assert mod.Noise()._resolve_n(single) is None
        assert mod.Clamp()._resolve_n(pair) is None


def test_replaying_a_gated_noise_record_that_skipped_the_first_element() -> None:
    # The record holds no seed for skipped elements: the batch's seed must
    # come from an applied one. Seed 2 skips element 0 and applies element 1.
    batch = tioxide.SubjectsBatch.from_subjects(_subjects(tioxide, 4))
    source = copy.deepcopy(batch)
    torch.manual_seed(2)
    out = tioxide.Noise(std=(0.1, 0.3), p=0.5, rician=True)(batch)
    record = out.applied_transforms[-1].params
    assert record["_keep"] == [False, True, False, False] and record["seed"][0] is None
    replayed = tioxide.Noise().apply_transform(source, record)  # rician from the record
    torch.testing.assert_close(replayed.t1.data, out.t1.data)
    nothing = {**record, "_keep": [False] * 4}
    untouched = copy.deepcopy(batch)
    assert tioxide.Noise().apply_transform(untouched, nothing) is untouched
    torch.testing.assert_close(untouched.t1.data, batch.t1.data)


@pytest.mark.parametrize("per_instance", [True, False])
def test_bias_field_on_a_batch_inverts_as_torchio(per_instance: bool) -> None:
    """A shared bias field is one draw for the whole batch (a different field
    in each element, as TorchIO's); either kind is undone by the inverse."""
    results = []
    for mod in (tioxide, torchio):
        torch.manual_seed(3)
        batch = mod.SubjectsBatch.from_subjects(_subjects(mod, 3))
        changed = mod.BiasField(std=(0.5, 1.0), per_instance=per_instance)(batch)
        restored = changed.apply_inverse_transform(warn=False)
        torch.testing.assert_close(restored.t1.data, batch.t1.data, rtol=1e-5, atol=1e-6)
        results.append(changed.t1.data)
    torch.testing.assert_close(results[0], results[1], rtol=1e-6, atol=1e-6)
    fields = results[0] / tioxide.SubjectsBatch.from_subjects(_subjects(tioxide, 3)).t1.data
    assert not torch.allclose(fields[0], fields[1])  # each element its own field


def test_per_element_values_are_lists_as_in_torchio() -> None:
    records = []
    for mod in (tioxide, torchio):
        torch.manual_seed(5)
        batch = mod.SubjectsBatch.from_subjects(_subjects(mod, 3))
        result = mod.Blur(std=(0.5, 1.0))(mod.Flip(axes=(0, 1, 2), flip_probability=0.5)(batch))
        records.append([record.params for record in result.applied_transforms])
        records.append([[r.params for r in s.applied_transforms] for s in result.unbatch()])
    ours, ours_unbatched, theirs, theirs_unbatched = records
    assert [r["axes"] for r in ours[:1]] == [r["axes"] for r in theirs[:1]]
    assert ours[1]["std"] == theirs[1]["std"]
    assert all(isinstance(value, list) for value in ours[1]["std"])
    assert ours_unbatched == theirs_unbatched
