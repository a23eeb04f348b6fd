"""Each transform against TorchIO 2.0.0a2: same tensors, affines and history.

Random volumes, affines and parameters; random transforms are run after the
same ``torch.manual_seed`` in both libraries, so they must draw the same
parameters (and hence give the same result).
"""

from __future__ import annotations

import random
import warnings
from typing import Any

import numpy as np
import pytest
import torch

from transforms_helpers import (
    assert_images_equal,
    assert_subjects_equal,
    history,
    run_both,
    subject_pair,
)

SEEDS = range(12)


def _six(rng: random.Random, high: int) -> tuple[int, ...]:
    return tuple(rng.randint(0, high) for _ in range(6))


def _cases(seed: int) -> list[tuple[str, dict[str, Any]]]:
    """Random arguments for every deterministic transform."""
    rng = random.Random(seed)
    mode = rng.choice(["constant", "reflect", "replicate", "circular", "mean", "median", "minimum"])
    # reflect and circular need padding smaller than the image: not for CropOrPad's sizes.
    any_size_mode = rng.choice(["constant", "replicate", "mean", "median", "minimum"])
    target = tuple(rng.choice([None, rng.randint(2, 14)]) for _ in range(3))
    return [
        ("Flip", {"axes": tuple(rng.sample([0, 1, 2], rng.randint(1, 3)))}),
        ("Flip", {"axes": rng.choice(["L", "Anterior", "si", ("R", 2)])}),
        ("Pad", {"padding": _six(rng, 2), "padding_mode": mode}),
        ("Pad", {"padding": _six(rng, 3), "fill": rng.choice([0, 7.5, -2])}),
        ("Pad", {"padding": rng.randint(0, 2)}),
        ("Crop", {"cropping": _six(rng, 1)}),
        ("Crop", {"cropping": (rng.randint(0, 1), 0, 1)}),
        ("CropOrPad", {"target_shape": target}),
        ("CropOrPad", {"target_shape": rng.randint(2, 14), "padding_mode": any_size_mode}),
        ("CropOrPad", {"target_shape": (rng.randint(2, 14), 8, 5), "only_crop": True}),
        ("CropOrPad", {"target_shape": (rng.randint(2, 14), 8, 5), "only_pad": True}),
        ("CropOrPad", {"target_shape": (20.0, 15.5, 9.0), "units": "mm"}),
        ("CropOrPad", {"target_shape": 1.2, "units": "cm", "include": ["t1"]}),
        ("EnsureShapeMultiple", {"target_multiple": rng.randint(1, 5)}),
        ("EnsureShapeMultiple", {"target_multiple": (2, 3, 4), "method": "crop"}),
        ("Transpose", {}),
        ("Reorient", {"orientation": "".join(rng.choice(p) for p in ("RL", "AP", "SI"))}),
        ("Reorient", {"orientation": rng.choice(["RAS", "LPS", "ASR", "ipl"])}),
        ("CopyAffine", {"target": "seg"}),
        ("Clamp", {"out_min": rng.choice([None, 80.0]), "out_max": 120.0}),
        ("Clamp", {"out_min": 90.0, "out_max": rng.choice([None, 95.0])}),
        ("RescaleIntensity", {"out_min": 0.0, "out_max": 1.0}),
        ("RescaleIntensity", {"percentile_low": 2.0, "percentile_high": 97.5, "out_min": -3.0}),
        ("RescaleIntensity", {"in_min": 50.0, "in_max": 150.0}),
        ("RescaleIntensity", {"masking_method": "seg"}),
        ("Normalize", {"masking_method": lambda x: x > 100}),
        ("ZNormalization", {}),
        ("Standardize", {"masking_method": "seg", "exclude": ["t2"]}),
        ("RemapLabels", {"remapping": {1: 3, 3: 1, 4: 0}}),
        ("RemoveLabels", {"labels": [1, 2], "background_label": rng.randint(0, 4)}),
        ("OneHot", {}),
        ("OneHot", {"num_classes": 7}),
        ("Lambda", {"function": lambda x: x * 2 + 1}),
        ("Mask", {"masking_method": "seg", "outside_value": rng.choice([0.0, -7.5])}),
        ("Mask", {"masking_method": "seg", "labels": [1, 3], "exclude": ["t2"]}),
        ("Mask", {"masking_method": lambda x: x > 100}),
        ("SequentialLabels", {}),
        ("Contour", {}),
        ("KeepLargestComponent", {}),
        (
            "KeepLargestComponent",
            {"labels": [1, 2], "background_label": 4, "fully_connected": False},
        ),
        ("Blur", {"std": (rng.uniform(0, 2), 0.0, rng.uniform(0, 3))}),
        ("Resize", {"target_shape": tuple(rng.randint(2, 12) for _ in range(3))}),
        ("Resize", {"target_shape": 6, "image_interpolation": "nearest", "exclude": ["t1"]}),
        ("Resample", {"target": rng.uniform(0.6, 4.0)}),
        ("Resample", {"target": (2.0, 0.8, 1.3), "antialias": True, "default_pad_value": 7.0}),
        ("Resample", {"target": "t2", "image_interpolation": 0, "include": ["t1", "seg"]}),
        ("Resample", {"target": ((5, 6, 4), np.diag([2.0, 1.5, 3.0, 1.0]))}),
        ("Resample", {"target": [1.0, 2.0, 1.5], "default_pad_label": 9}),
        (
            "Affine",
            {
                "scales": rng.uniform(0.7, 1.4),
                "degrees": (rng.uniform(-30, 30), 0, rng.uniform(-90, 90)),
                "translation": (rng.uniform(-5, 5), 2.0, -1.0),
                "default_pad_value": rng.choice(["minimum", "mean", "otsu", -3.0]),
            },
        ),
        ("Affine", {"degrees": 15, "center": "origin", "label_interpolation": "linear"}),
        (
            "ElasticDeformation",
            {"control_points": np.random.default_rng(seed).uniform(-2, 2, size=(5, 4, 6, 3))},
        ),
        ("Spatial", {"target": 1.7, "scales": (1.1, 0.9, 1.0), "locked_borders": 0}),
        ("Resample", {"target": 2.0, "image_interpolation": rng.choice(["cubic", 2, 5])}),
        ("Resample", {"target": rng.uniform(0.6, 3.0), "label_interpolation": "label"}),
        (
            "Resample",
            {
                "target": 2.5,
                "label_interpolation": "label",
                "antialias": True,
                "one_hot_label_interpolation": rng.choice(["nearest", "linear", 3]),
            },
        ),
        ("Affine", {"degrees": 12, "label_interpolation": "label", "default_pad_label": 7}),
        ("Lambda", {"function": lambda x: x.flip(1), "types_to_apply": "label"}),
    ]


CASES = [(seed, n) for seed in SEEDS for n in range(len(_cases(0)))]


@pytest.mark.parametrize(("seed", "index"), CASES)
def test_subject_like_torchio(seed: int, index: int) -> None:
    name, kwargs = _cases(seed)[index]
    kinds = ("float", "label", "int16")
    ours_in, theirs_in = subject_pair(seed, kinds=kinds)
    ours, theirs = run_both(name, kwargs, seed, ours_in, theirs_in)
    assert_subjects_equal(ours, theirs)
    assert history(ours) == history(theirs)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("Noise", {"std": (0.0, 5.0), "mean": (-2.0, 2.0)}),
        ("Noise", {"std": 1.5, "rician": True}),
        ("Gamma", {"log_gamma": (-0.3, 0.3)}),
        ("Flip", {"axes": (0, 1, 2), "flip_probability": 0.5}),
        ("CropOrPad", {"target_shape": 6, "location": "random"}),
        ("RescaleIntensity", {"out_min": (-1.0, 0.0), "out_max": (1.0, 2.0)}),
        ("Flip", {"axes": (1,), "p": 0.5}),
        ("Noise", {"std": 0.5, "p": 0.3}),
        ("Blur", {"std": (0.0, 2.0)}),
        ("Resample", {"target": (1.0, 3.0)}),
        ("Affine", {"scales": (0.8, 1.2), "degrees": (-10, 10), "translation": (-3, 3)}),
        ("Affine", {"scales": (0.5, 1.5), "isotropic": True}),
        ("Affine", {"degrees": (0, 0, -90, 90, 0, 0), "image_interpolation": "nearest"}),
        ("ElasticDeformation", {"max_displacement": (0.5, 3.0), "num_control_points": 5}),
        ("BiasField", {"std": (0.0, 0.5)}),
        ("Swap", {"patch_size": 2, "num_iterations": (1.0, 20.0)}),
        ("Spike", {"num_spikes": (1, 4), "intensity": (-2.0, 3.0)}),
        ("Motion", {}),
        ("Motion", {"degrees": (-5, 20), "translation": (0, 0, -3, 3, 1, 2), "num_transforms": 1}),
        ("LabelsToImage", {}),
        (
            "LabelsToImage",
            {
                "label_key": "seg",
                "image_key": "synthetic",
                "mean": [0.0, (0.2, 0.4), 0.9],
                "std": [(0.0, 0.1)],
                "ignore_background": True,
            },
        ),
        ("Ghosting", {"num_ghosts": (2, 8), "intensity": (0.3, 1.0)}),
        ("Ghosting", {"axes": (1, 2), "intensity": 0.8, "restore": 0.3}),
        ("Swap", {"patch_size": (3, 1, 2), "num_iterations": 5, "include": ["t1"]}),
        ("BiasField", {"std": 0.3, "scale": 0.2, "exclude": ["t1"]}),
        ("Anisotropy", {"downsampling": (1.5, 5.0)}),
        ("Anisotropy", {"axes": (2,), "downsampling": 3, "image_interpolation": "nearest"}),
        ("ElasticDeformation", {"max_displacement": (1, 2, 0, 1, 2, 3), "locked_borders": 1}),
        (
            "Spatial",
            {
                "target": (0.8, 2.0),
                "degrees": (-8, 8),
                "max_displacement": 1.5,
                "num_control_points": (5, 6, 7),
                "affine_first": False,
                "default_pad_value": "otsu",
            },
        ),
    ],
)
def test_random_transforms_draw_like_torchio(seed: int, name: str, kwargs: dict[str, Any]) -> None:
    ours_in, theirs_in = subject_pair(seed, kinds=("float", "label"))
    ours, theirs = run_both(name, kwargs, seed, ours_in, theirs_in)
    assert_subjects_equal(ours, theirs)
    ours_history, theirs_history = history(ours), history(theirs)
    assert len(ours_history) == len(theirs_history)
    for a, b in zip(ours_history, theirs_history, strict=True):
        assert a[0] == b[0] and a[2:] == b[2:]
        assert_close_params(a[1], b[1])


def assert_close_params(ours: Any, theirs: Any) -> None:
    """Equal records, floats within float32 rounding."""
    if isinstance(ours, dict):
        assert ours.keys() == theirs.keys()
        for key in ours:
            assert_close_params(ours[key], theirs[key])
    elif isinstance(ours, list):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs, strict=True):
            assert_close_params(a, b)
    elif isinstance(ours, float):
        assert ours == pytest.approx(theirs, rel=1e-6)
    else:
        assert ours == theirs


def test_gamma_on_positive_intensities() -> None:
    ours_in, theirs_in = subject_pair(3)
    ours, theirs = run_both("Gamma", {"log_gamma": 0.2}, 0, ours_in, theirs_in)
    assert_subjects_equal(ours, theirs)


@pytest.mark.parametrize("seed", SEEDS)
def test_compositions_draw_like_torchio(seed: int) -> None:
    import torchio

    import tioxide

    def build(lib: Any) -> Any:
        return lib.Compose(
            [
                lib.OneOf({lib.Flip(axes=(0,)): 0.3, lib.Transpose(): 0.7}),
                lib.SomeOf(
                    [lib.Noise(std=(0.0, 1.0)), lib.Flip(axes=(1, 2)), lib.Pad(padding=1)],
                    num_transforms=(1, 3),
                ),
                lib.CropOrPad(7, location="random"),
                lib.Flip(axes=(0, 1, 2), flip_probability=0.5, p=0.7),
                lib.SomeOf([lib.Gamma(log_gamma=(0.0, 0.1)), lib.Crop(cropping=1)], replace=True),
            ]
        )

    ours_in, theirs_in = subject_pair(seed, kinds=("float", "label"))
    for _ in range(3):
        state = torch.random.get_rng_state()
        ours = build(tioxide)(ours_in)
        torch.random.set_rng_state(state)
        theirs = build(torchio)(theirs_in)
        assert_subjects_equal(ours, theirs)
        assert [r[0] for r in history(ours)] == [r[0] for r in history(theirs)]


@pytest.mark.parametrize("kind", ["tensor", "image", "numpy3d", "numpy4d", "nibabel", "dict"])
def test_input_types_like_torchio(kind: str) -> None:
    import nibabel as nib
    import torchio

    import tioxide

    rng = np.random.default_rng(5)
    array = rng.normal(size=(1, 5, 6, 7)).astype(np.float32)
    affine = np.diag([2.0, 3.0, 4.0, 1.0])
    inputs = {
        "tensor": lambda lib: torch.from_numpy(array.copy()),
        "image": lambda lib: lib.ScalarImage(torch.from_numpy(array.copy()), affine=affine),
        "numpy3d": lambda lib: array[0].copy(),
        "numpy4d": lambda lib: array.copy().astype(np.float64),
        "nibabel": lambda lib: nib.Nifti1Image(array[0].copy(), affine),
        "dict": lambda lib: {"a": torch.from_numpy(array.copy()), "meta": 3},
    }
    for name, kwargs in [("Pad", {"padding": (1, 0, 2)}), ("Flip", {"axes": (2,)})]:
        ours, theirs = run_both(name, kwargs, 0, inputs[kind](tioxide), inputs[kind](torchio))
        assert type(ours).__name__ == type(theirs).__name__
        if kind == "image":
            assert_images_equal(ours, theirs)
            assert history(ours) == history(theirs)
        elif kind == "nibabel":
            np.testing.assert_array_equal(ours.get_fdata(), theirs.get_fdata())
            np.testing.assert_allclose(ours.affine, theirs.affine)
        elif kind == "dict":
            assert ours.keys() == theirs.keys()
            assert torch.equal(ours["a"], theirs["a"]) and ours["meta"] == theirs["meta"]
        else:
            assert ours.dtype == theirs.dtype
            np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


def test_noise_promotes_integers_like_torchio() -> None:
    ours_in, theirs_in = subject_pair(1, kinds=("int16",))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = run_both("Noise", {"std": 3.0}, 1, ours_in, theirs_in)
    assert_subjects_equal(ours, theirs)


def test_to_like_torchio() -> None:
    ours_in, theirs_in = subject_pair(2)
    ours, theirs = run_both("To", {"dtype": torch.float64}, 0, ours_in, theirs_in)
    assert_subjects_equal(ours, theirs)
    assert history(ours)[0][0] == "To"


@pytest.mark.parametrize("seed", SEEDS)
def test_choice_of_spacings_like_torchio(seed: int) -> None:
    import torchio

    import tioxide

    ours_in, theirs_in = subject_pair(seed, kinds=("float", "label"))
    torch.manual_seed(seed)
    ours = tioxide.Resample(tioxide.Choice([0.5, 1.0, 2.5], [0.2, 0.5, 0.3]))(ours_in)
    torch.manual_seed(seed)
    theirs = torchio.Resample(torchio.Choice([0.5, 1.0, 2.5], [0.2, 0.5, 0.3]))(theirs_in)
    assert_subjects_equal(ours, theirs)
    assert history(ours) == history(theirs)


@pytest.mark.parametrize("seed", SEEDS)
def test_to_reference_space_like_torchio(seed: int) -> None:
    import torchio

    import tioxide

    ours_in, theirs_in = subject_pair(seed, kinds=("float", "label"))
    rng = np.random.default_rng(seed)
    shape = tuple(int(n) for n in rng.integers(2, 9, size=3))
    output = torch.from_numpy(rng.normal(size=(2, *shape)).astype(np.float32))
    ours = tioxide.ToReferenceSpace(ours_in.t1)(tioxide.ScalarImage(output.clone()))
    theirs = torchio.ToReferenceSpace(theirs_in.t1)(torchio.ScalarImage(output.clone()))
    assert_images_equal(ours, theirs)
    assert history(ours) == history(theirs)
    ours_image = tioxide.ToReferenceSpace.from_tensor(output, ours_in.seg)
    theirs_image = torchio.ToReferenceSpace.from_tensor(output, theirs_in.seg)
    assert_images_equal(ours_image, theirs_image)


@pytest.mark.parametrize("seed", SEEDS)
def test_pca_like_torchio(seed: int) -> None:
    import torchio

    import tioxide

    rng = np.random.default_rng(seed)
    data = torch.from_numpy(rng.normal(size=(5, 6, 7, 4)).astype(np.float32))
    kwargs: dict[str, Any] = {"num_components": int(rng.integers(1, 4))}
    if seed % 2:
        kwargs.update(whiten=False, normalize=False, clip=False, values_range=(-1.0, 3.0))
    torch.manual_seed(seed)
    ours = tioxide.PCA(**kwargs)(tioxide.ScalarImage(data.clone()))
    torch.manual_seed(seed)
    theirs = torchio.PCA(**kwargs)(torchio.ScalarImage(data.clone()))
    assert_images_equal(ours, theirs)


@pytest.mark.parametrize("seed", SEEDS)
def test_histogram_standardization_like_torchio(seed: int, tmp_path: Any) -> None:
    import torchio
    from torchio.transforms.intensity import histogram_standardization as theirs_module

    import tioxide
    from tioxide.transforms.intensity import histogram_standardization as ours_module

    rng = np.random.default_rng(seed)
    training = [rng.gamma(2.0, 50.0, size=(1, 9, 8, 7)).astype(np.float32) for _ in range(3)]
    cutoff = (0.01, 0.99) if seed % 2 else (0.05, 0.95)
    mask = (lambda x: x > 30) if seed % 3 == 0 else None
    ours_landmarks = ours_module.compute_histogram_landmarks(
        [tioxide.ScalarImage(torch.from_numpy(t)) for t in training],
        cutoff=cutoff,
        masking_method=mask,
    )
    theirs_landmarks = theirs_module.compute_histogram_landmarks(
        [torchio.ScalarImage(torch.from_numpy(t)) for t in training],
        cutoff=cutoff,
        masking_method=mask,
    )
    assert torch.equal(ours_landmarks, theirs_landmarks)
    path = tmp_path / "landmarks.npy"
    np.save(path, ours_landmarks.numpy())
    ours_in, theirs_in = subject_pair(seed, kinds=("float", "label", "int16"))
    ours = tioxide.HistogramStandardization(path, cutoff=cutoff)(ours_in)
    theirs = torchio.HistogramStandardization(path, cutoff=cutoff)(theirs_in)
    assert_subjects_equal(ours, theirs)
