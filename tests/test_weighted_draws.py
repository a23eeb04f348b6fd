"""The sampler's weighted draw against ``torch.multinomial(p, 1)``: same index,
same generator state afterwards, on the default and on private generators."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tioxide.data import _draw
from tioxide.data._draw import WeightedDraws


def test_the_fast_path_is_on_for_this_torch() -> None:
    # If torch changes its algorithm this fails, and draws fall back to torch.
    assert _draw._torch_agrees()


def _map(rng: np.random.Generator, length: int, density: float) -> torch.Tensor:
    weights = (rng.random(length) * rng.choice([1e-30, 1.0, 7.0, 1e20])).astype(np.float32)
    weights[rng.random(length) >= density] = 0
    weights[rng.integers(length)] = 1.0
    return torch.from_numpy(weights)


@pytest.mark.parametrize("case", range(60))
def test_draws_and_state_equal_torch(case: int) -> None:
    rng = np.random.default_rng(case)
    length = int(rng.choice([1, 2, 311, 312, 313, 624, 5000, 100_003]))
    flat = _map(rng, length, float(rng.choice([0.001, 0.05, 0.5, 1.0])))
    generator = torch.Generator().manual_seed(case)
    torch.rand(int(rng.integers(0, 1500)), generator=generator)  # anywhere in a block
    start = generator.get_state()
    draws = WeightedDraws(flat, generator)
    ours = [draws.draw() for _ in range(4)]
    after = generator.get_state()
    generator.set_state(start)
    theirs = [int(torch.multinomial(flat, 1, generator=generator).item()) for _ in range(4)]
    assert ours == theirs
    assert torch.equal(after, generator.get_state())


def test_the_default_generator_just_after_seeding() -> None:
    flat = _map(np.random.default_rng(1), 70_000, 0.02)
    saved = torch.get_rng_state()
    try:
        torch.manual_seed(2024)
        ours = [WeightedDraws(flat).draw() for _ in range(3)]
        after = torch.get_rng_state()
        torch.manual_seed(2024)
        theirs = [int(torch.multinomial(flat, 1).item()) for _ in range(3)]
        assert ours == theirs
        assert torch.equal(after, torch.get_rng_state())
    finally:
        torch.set_rng_state(saved)


@pytest.mark.parametrize("weight", [0.0, 0.5])
def test_a_variate_of_exactly_zero(weight: float) -> None:
    # Element 5 draws u = 0 (its two state words are 0, which temper to 0):
    # a zero weight gives 0/0 = NaN, a positive one +inf; argmax takes it either way.
    generator = torch.Generator().manual_seed(0)
    torch.rand(10, generator=generator)  # 10 words of the block read
    state = generator.get_state()
    words = state.numpy()[24 : 24 + 8 * 624].view(np.uint64)
    words[10 + 2 * 5 : 10 + 2 * 5 + 2] = 0
    generator.set_state(state)
    flat = torch.ones(100)
    flat[5] = weight
    ours = WeightedDraws(flat, generator).draw()
    after = generator.get_state()
    generator.set_state(state)
    theirs = int(torch.multinomial(flat, 1, generator=generator).item())
    assert ours == theirs == 5
    assert torch.equal(after, generator.get_state())


@pytest.mark.parametrize(
    "values",
    [[0.0, 0.0], [1.0, -1.0], [1.0, float("nan")], [1.0, float("inf")]],
    ids=["all-zero", "negative", "nan", "inf"],
)
def test_bad_maps_raise_torchs_error(values: list[float]) -> None:
    flat = torch.tensor(values)
    with pytest.raises(RuntimeError) as theirs:
        torch.multinomial(flat, 1)
    with pytest.raises(RuntimeError) as ours:
        WeightedDraws(flat).draw()
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16])
def test_other_dtypes_draw_through_torch(dtype: torch.dtype) -> None:
    flat = _map(np.random.default_rng(3), 4000, 0.1).to(dtype)
    generator = torch.Generator().manual_seed(5)
    ours = WeightedDraws(flat, generator).draw()
    generator.manual_seed(5)
    assert ours == int(torch.multinomial(flat, 1, generator=generator).item())


@pytest.mark.parametrize("layout", ["fortran", "permuted", "strided", "c"])
@pytest.mark.parametrize("density", [0.01, 0.6])
def test_maps_of_any_layout_draw_as_their_flattening(layout: str, density: float) -> None:
    rng = np.random.default_rng(11)
    volume = _map(rng, 30 * 40 * 12, density).numpy().reshape(30, 40, 12)
    arrays = {
        "fortran": np.asfortranarray(volume[:, :20]),
        "permuted": np.ascontiguousarray(volume[:, :20].transpose(1, 2, 0)).transpose(2, 0, 1),
        "strided": volume[:, ::2],  # dense in no axis order
        "c": volume[:, :20].copy(),
    }
    probabilities = torch.from_numpy(arrays[layout])
    generator = torch.Generator().manual_seed(9)
    ours = [WeightedDraws(probabilities, generator).draw() for _ in range(3)]
    after = generator.get_state()
    generator.manual_seed(9)
    flat = probabilities.flatten()
    theirs = [int(torch.multinomial(flat, 1, generator=generator).item()) for _ in range(3)]
    assert ours == theirs
    assert torch.equal(after, generator.get_state())


def test_without_the_fast_path_torch_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_draw, "_torch_agrees", lambda: False)
    flat = _map(np.random.default_rng(4), 3000, 0.1)
    generator = torch.Generator().manual_seed(1)
    draws = WeightedDraws(flat, generator)
    assert draws._sparse is None
    ours = draws.draw()
    generator.manual_seed(1)
    assert ours == int(torch.multinomial(flat, 1, generator=generator).item())


def test_no_draw_of_another_thread_is_lost() -> None:
    # The generator's words are consumed the same number of times whatever
    # the interleaving: 2 per element per weighted draw, 1 per torch.rand(1).
    import threading

    flat = _map(np.random.default_rng(8), 50_000, 0.05)
    saved = torch.get_rng_state()
    try:
        torch.manual_seed(77)
        stop = threading.Event()
        others = 0

        def other() -> None:
            nonlocal others
            while not stop.is_set():
                torch.rand(1)
                others += 1

        thread = threading.Thread(target=other)
        thread.start()
        draws = WeightedDraws(flat)
        for _ in range(30):
            draws.draw()
        stop.set()
        thread.join()
        after = torch.get_rng_state()
        torch.manual_seed(77)
        torch.rand(30 * 2 * flat.numel() + others)
        assert others > 0
        assert torch.equal(after, torch.get_rng_state())
    finally:
        torch.set_rng_state(saved)
