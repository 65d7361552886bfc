"""Fixed-point encoding, conditional rounding and discrete Gaussian noise on the device."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edge_client.policy.distributed_accounting import rounded_l2_bound
from edge_client.secagg.encoding import (
    Layout,
    decode_sum,
    encode_update,
    headroom_ok,
    quantize,
    to_ring,
)
from edge_client.secagg.errors import SecAggError
from edge_client.secagg.noise import discrete_gaussian, noise_rng

LAYOUT = Layout((("b", (1,)), ("w", (400, 2))), ("loss", "num_examples"))


def _update(rng: np.random.Generator, norm: float = 0.999) -> dict[str, np.ndarray]:
    values = {"b": rng.normal(size=(1,)), "w": rng.normal(size=(400, 2))}
    total = math.sqrt(sum(float(np.sum(v**2)) for v in values.values()))
    return {k: v * norm / total for k, v in values.items()}


def test_discrete_gaussian_is_integer_centred_with_the_right_spread() -> None:
    """Draws are integers with mean 0 and the standard deviation asked (large σ)."""
    rng = np.random.default_rng(1)
    draws = discrete_gaussian(rng, 40.0, 200_000)
    assert draws.dtype == np.int64
    assert abs(float(draws.mean())) < 0.5
    assert float(draws.std()) == pytest.approx(40.0, rel=0.01)


def test_discrete_gaussian_matches_its_pmf_at_small_sigma() -> None:
    """At σ = 0.8 the frequencies follow exp(-x²/2σ²) normalised over the integers."""
    rng = np.random.default_rng(2)
    draws = discrete_gaussian(rng, 0.8, 200_000)
    support = np.arange(-6, 7)
    pmf = np.exp(-(support**2) / (2 * 0.8**2))
    pmf /= pmf.sum()
    freq = np.array([np.mean(draws == x) for x in support])
    assert np.allclose(freq, pmf, atol=0.004)


def test_noise_generator_is_seeded_from_the_os_and_sigma_is_checked() -> None:
    """Two generators give different noise; σ ≤ 0 is refused."""
    first, second = noise_rng().integers(0, 2**62, 4), noise_rng().integers(0, 2**62, 4)
    assert not np.array_equal(first, second)
    with pytest.raises(SecAggError):
        discrete_gaussian(np.random.default_rng(0), 0.0, 3)


def test_conditional_rounding_stays_within_the_norm_bound_and_is_unbiased() -> None:
    """Rounded vectors never exceed the bound the noise is calibrated to; the mean is exact."""
    rng = np.random.default_rng(3)
    update = _update(rng)
    bits = 6
    bound = rounded_l2_bound(2**bits, dim=LAYOUT.weight_dim)
    draws = [
        quantize(update, LAYOUT, scale_bits=bits, clipping_norm=1.0, rng=rng) for _ in range(300)
    ]
    assert all(float(np.linalg.norm(d)) <= bound for d in draws)
    flat = np.concatenate([update["b"].ravel(), update["w"].ravel()]) * 2**bits
    assert np.allclose(np.mean(draws, axis=0), flat, atol=0.2)


def test_unclipped_update_cannot_be_encoded() -> None:
    """An update far above the clipping norm finds no rounding within the bound."""
    rng = np.random.default_rng(4)
    with pytest.raises(SecAggError, match="not clipped"):
        quantize(_update(rng, norm=50.0), LAYOUT, scale_bits=10, clipping_norm=1.0, rng=rng)


def test_sum_of_encodings_decodes_to_the_float_sum() -> None:
    """Encoded updates (negatives in two's complement) sum and decode to the float sum."""
    rng = np.random.default_rng(5)
    updates = [_update(rng) for _ in range(20)]
    total = np.zeros(LAYOUT.dim, np.uint32)
    for u in updates:
        vector = encode_update(
            u,
            {"num_examples": 3, "loss": 0.5},
            LAYOUT,
            scale_bits=20,
            clipping_norm=1.0,
            noise_std=1e-9,
            cohort=20,
            rng=rng,
        )
        np.add(total, vector, out=total)
    weights, metrics = decode_sum(total, LAYOUT, scale_bits=20)
    expected = sum(u["w"] for u in updates)
    assert np.max(np.abs(weights["w"] - expected)) < 20 * 2.0**-20 + 1e-6
    assert metrics == {"loss": 10.0, "num_examples": 60.0}


def test_metrics_are_capped_so_the_sum_cannot_wrap() -> None:
    """A huge metric is capped at 2³¹ / cohort; non-finite ones become 0."""
    rng = np.random.default_rng(6)
    vector = encode_update(
        _update(rng),
        {"num_examples": 1e12, "loss": float("nan")},
        LAYOUT,
        scale_bits=20,
        clipping_norm=1.0,
        noise_std=1e-9,
        cohort=1000,
        rng=rng,
    )
    assert int(vector[-1]) == (2**31 - 1) // 1000 and int(vector[-2]) == 0


def test_headroom_refuses_scales_that_could_wrap() -> None:
    """The check holds for the chosen scale and fails when the cohort's sum could wrap."""
    assert headroom_ok(cohort=150, clipping_norm=0.5, scale_bits=24, noise_std=1e6)
    assert not headroom_ok(cohort=150, clipping_norm=0.5, scale_bits=30, noise_std=1e6)
    assert to_ring(np.array([-1, 2**32 + 5], np.int64)).tolist() == [2**32 - 1, 5]
