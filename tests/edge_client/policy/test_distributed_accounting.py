"""Accounting of distributed discrete Gaussian noise: rigorous, and never under the ledger."""

from __future__ import annotations

import math

import pytest

from edge_client.policy.accounting import ORDERS, compute_epsilon
from edge_client.policy.distributed_accounting import (
    calibrate_device_noise,
    ddg_rdp,
    ddg_tau,
    effective_noise_multiplier,
    minimum_device_noise,
    rounded_l2_bound,
    subsampled_rdp_bound,
)
from edge_client.policy.errors import PolicyError

pytest.importorskip("dp_accounting", reason="dp_accounting is not installed")

DIM = 131_073


def test_rounding_bound_is_between_the_norm_and_the_worst_case() -> None:
    """Conditional rounding inflates the norm a little; β = 0 gives the worst case √d."""
    l2 = 0.5 * 2**24
    bound = rounded_l2_bound(l2, dim=DIM)
    assert l2 < bound < l2 * 1.0001
    assert rounded_l2_bound(l2, dim=DIM, beta=0) == l2 + math.sqrt(DIM)
    assert rounded_l2_bound(3.0, dim=DIM) > 3.0 + 100  # coarse scales pay for rounding
    with pytest.raises(PolicyError):
        rounded_l2_bound(0.0, dim=DIM)


def test_tau_vanishes_for_large_noise_and_not_for_tiny_noise() -> None:
    """τ (the distance of a sum of discrete Gaussians from one) is 0 at σ ≥ a few."""
    assert ddg_tau(1000.0, 500) == 0.0
    assert ddg_tau(0.3, 10) > 0.1
    assert ddg_rdp(4, l2_scale=1.0, l1_scale=5.0, tau=0.0, dim=DIM) == pytest.approx(2.0)


def test_subsampled_bound_is_above_the_exact_gaussian_and_below_the_unsampled() -> None:
    """The general Poisson bound is valid: above the tight Gaussian value, below no sampling."""
    import dp_accounting
    from dp_accounting.rdp import rdp_privacy_accountant as rdp

    z, q = 1.2, 0.01
    accountant = rdp.RdpAccountant(orders=list(ORDERS))
    accountant.compose(dp_accounting.PoissonSampledDpEvent(q, dp_accounting.GaussianDpEvent(z)))
    for order, exact in zip(ORDERS, accountant.rdp, strict=True):
        bound = subsampled_rdp_bound(int(order), q, lambda a: a / (2 * z * z))
        assert exact <= bound * (1 + 1e-9) + 1e-12
        assert bound <= order / (2 * z * z) + 1e-12


def test_without_sampling_the_effective_multiplier_is_the_gaussian_one() -> None:
    """At q = 1 and τ = 0 the sum of n shares of std σ is charged at √n·σ/Δ."""
    delta2, n, std = 1000.0, 16, 300.0
    z = effective_noise_multiplier(
        sampling_rate=1.0, noise_std=std, parties=n, l2_sensitivity=delta2, dim=DIM
    )
    assert z == pytest.approx(math.sqrt(n) * std / delta2, rel=1e-6)


@pytest.mark.parametrize(("q", "z", "n"), [(0.01, 1.2, 135), (0.1, 1.0, 20)])
def test_calibrated_noise_is_never_charged_below_its_rigorous_epsilon(
    q: float, z: float, n: int
) -> None:
    """Charging the ledger at the policy's z is at least the rigorous ε of the device noise."""
    from dp_accounting.rdp import rdp_privacy_accountant as rdp

    sensitivity = rounded_l2_bound(0.5 * 2**24, dim=DIM)
    noise = calibrate_device_noise(
        noise_multiplier=z, sampling_rate=q, l2_sensitivity=sensitivity, parties=n, dim=DIM
    )
    floor = minimum_device_noise(noise_multiplier=z, l2_sensitivity=sensitivity, parties=n)
    assert noise.effective_noise_multiplier >= z and noise.noise_std >= floor
    assert 1.0 < noise.factor < 1.3  # the price of the general subsampling bound
    scale = sensitivity / (math.sqrt(n) * noise.noise_std)
    curve = [subsampled_rdp_bound(int(a), q, lambda o: o / 2 * scale**2) for a in ORDERS]
    for rounds in (1, 10, 100):
        rigorous, _ = rdp.compute_epsilon(list(ORDERS), [c * rounds for c in curve], 1e-6)
        charged = compute_epsilon(noise_multiplier=z, sampling_rate=q, rounds=rounds, delta=1e-6)
        assert charged.amplified_epsilon >= rigorous


def test_fewer_survivors_need_more_noise_per_device() -> None:
    """The per-device share grows as the survivor minimum shrinks (σ ∝ 1/√n)."""
    sensitivity = rounded_l2_bound(2.0**20, dim=DIM)
    small, large = (
        calibrate_device_noise(
            noise_multiplier=1.0, sampling_rate=0.02, l2_sensitivity=sensitivity, parties=p, dim=DIM
        ).noise_std
        for p in (25, 100)
    )
    assert small == pytest.approx(2 * large, rel=1e-3)
