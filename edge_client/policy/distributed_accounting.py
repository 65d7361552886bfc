"""Accounting for distributed discrete Gaussian noise under Poisson sampling (pure maths).

With secure aggregation no party adds the noise centrally: each device adds discrete
Gaussian noise of standard deviation ``σ`` (in the integer domain of the fixed-point
encoding) to its quantized update, and the server learns only the sum. The sum of ``n``
such shares is *not* a discrete Gaussian; Kairouz, Liu and Steinke (ICML 2021, "The
Distributed Discrete Gaussian Mechanism for Federated Learning with Secure Aggregation")
bound its Rényi DP (their Theorem 1 and Proposition 14):

``ε(α) = min(α/2·s₂² + τd, α/2·(s₂² + 2 s₁ τ + τ²d), α/2·(s₂ + τ√d)²)``

with ``s₂ = Δ₂/(√n σ)``, ``s₁ = Δ₁/(√n σ)``, ``τ = 10 Σ_{k=1}^{n-1} exp(−2π²σ² k/(k+1))``
and ``Δ₂``, ``Δ₁`` the sensitivities *after* conditional randomized rounding
(:func:`rounded_l2_bound`). Poisson sampling of devices is amplified with the general
upper bound of Zhu and Wang (ICML 2019, "Poisson Subsampled Rényi Differential Privacy",
Theorem 5), which holds for any mechanism (the exact subsampled-Gaussian analysis of
``dp_accounting`` does not apply to a discrete sum).

The ledger speaks Gaussian: :func:`effective_noise_multiplier` returns the largest ``z``
whose Poisson-sampled Gaussian RDP (computed by ``dp_accounting``) is at least the bound
above *at every order of the accountant's grid*, so composing rounds at ``z`` and
converting to (ε, δ) never under-counts. :func:`calibrate_device_noise` returns the
smallest per-device ``σ`` whose effective multiplier reaches the policy's, so a secure
round costs exactly what a central-noise round at the policy's multiplier costs.
Noise is calibrated to the *fewest* surviving devices a round may be published with:
more survivors only add noise. ``dp_accounting`` is imported lazily.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from edge_client.policy.accounting import ORDERS, _import_accounting
from edge_client.policy.errors import PolicyError

__all__ = [
    "DEFAULT_BETA",
    "DeviceNoise",
    "calibrate_device_noise",
    "ddg_rdp",
    "ddg_tau",
    "effective_noise_multiplier",
    "minimum_device_noise",
    "rounded_l1_bound",
    "rounded_l2_bound",
    "subsampled_rdp_bound",
]

DEFAULT_BETA = math.exp(-0.5)
"""Conditional randomized rounding parameter β (Kairouz, Liu, Steinke 2021)."""

_BISECTION_STEPS = 60


def rounded_l2_bound(l2_norm: float, *, dim: int, beta: float = DEFAULT_BETA) -> float:
    """Return the L2 norm bound after conditional randomized rounding to integers.

    A vector of norm at most ``l2_norm`` (already scaled to the integer grid) is rounded
    coordinate-wise up or down at random, and re-rounded until its norm is at most this
    bound (Kairouz, Liu, Steinke 2021, Theorem 1: with probability at least ``1 − β`` a
    single rounding already is).

    Parameters
    ----------
    l2_norm
        Norm bound before rounding, positive.
    dim
        Dimension of the vector.
    beta
        Rejection parameter in ``[0, 1)``; 0 gives the worst-case bound ``l2 + √d``.

    Returns
    -------
    float
        The bound.

    Raises
    ------
    PolicyError
        When a parameter is out of range.
    """
    if not (l2_norm > 0 and dim >= 1 and 0 <= beta < 1):
        raise PolicyError("rounding bound needs l2_norm > 0, dim >= 1 and 0 <= beta < 1")
    worst = l2_norm + math.sqrt(dim)
    if beta == 0:
        return worst
    squared = (
        l2_norm**2 + dim / 4 + math.sqrt(2 * math.log(1 / beta)) * (l2_norm + math.sqrt(dim) / 2)
    )
    return min(worst, math.sqrt(squared))


def rounded_l1_bound(l2_bound: float, *, dim: int) -> float:
    """Return the L1 bound of an integer vector of L2 norm ``l2_bound`` (``min(√d, L2)·L2``)."""
    return l2_bound * min(math.sqrt(dim), l2_bound)


def ddg_tau(noise_std: float, parties: int) -> float:
    """Return the τ of the sum of ``parties`` discrete Gaussians of std ``noise_std``.

    Parameters
    ----------
    noise_std
        Per-party standard deviation in the integer domain, positive.
    parties
        Number of noise shares summed, at least 1.

    Returns
    -------
    float
        ``10 Σ_{k=1}^{parties−1} exp(−2π² σ² k/(k+1))`` (0.0 when σ is large).
    """
    if not (noise_std > 0 and parties >= 1):
        raise PolicyError("τ needs noise_std > 0 and parties >= 1")
    total = 0.0
    for k in range(1, parties):
        total += math.exp(-2 * math.pi**2 * noise_std**2 * k / (k + 1))
    return 10 * total


def ddg_rdp(order: float, *, l2_scale: float, l1_scale: float, tau: float, dim: int) -> float:
    """Return the RDP at ``order`` of the (distributed) discrete Gaussian sum (KLS21, Prop. 14).

    Parameters
    ----------
    order
        Rényi order, above 1.
    l2_scale, l1_scale
        ``Δ₂/(√n σ)`` and ``Δ₁/(√n σ)``.
    tau
        See :func:`ddg_tau`.
    dim
        Dimension of the summed vector.

    Returns
    -------
    float
        The smallest of the three bounds.
    """
    first = order / 2 * l2_scale**2 + tau * dim
    second = order / 2 * (l2_scale**2 + 2 * l1_scale * tau + tau**2 * dim)
    third = order / 2 * (l2_scale + math.sqrt(dim) * tau) ** 2
    return min(first, second, third)


def _log_add(values: Sequence[float]) -> float:
    top = max(values)
    if top == -math.inf:
        return -math.inf
    return top + math.log(sum(math.exp(v - top) for v in values))


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def subsampled_rdp_bound(order: int, sampling_rate: float, rdp: Callable[[int], float]) -> float:
    """Return an RDP bound of ``rdp``'s mechanism run on a Poisson sample (Zhu–Wang 2019, Thm 5).

    Valid for any mechanism with RDP curve ``rdp`` at integer orders; the result is also
    capped by ``rdp(order)`` (sampling never costs privacy).

    Parameters
    ----------
    order
        Integer Rényi order, at least 2.
    sampling_rate
        Poisson inclusion probability in (0, 1].
    rdp
        The mechanism's RDP at integer orders ≥ 2.

    Returns
    -------
    float
        The bound at ``order``.
    """
    if order < 2 or not 0 < sampling_rate <= 1:
        raise PolicyError("subsampled RDP needs an integer order >= 2 and 0 < q <= 1")
    if sampling_rate == 1:
        return rdp(order)
    q, log_q, log_1q = sampling_rate, math.log(sampling_rate), math.log1p(-sampling_rate)
    terms = [
        (order - 1) * log_1q + math.log(order * q - q + 1),
        _log_comb(order, 2) + 2 * log_q + (order - 2) * log_1q + rdp(2),
    ]
    terms += [
        math.log(3) + (j - 1) * rdp(j) + _log_comb(order, j) + (order - j) * log_1q + j * log_q
        for j in range(3, order + 1)
    ]
    return min(_log_add(terms) / (order - 1), rdp(order))


@lru_cache(maxsize=256)
def _gaussian_curve(sampling_rate: float, noise_multiplier: float) -> tuple[float, ...]:
    """RDP of one Poisson-sampled Gaussian round over :data:`ORDERS` (``dp_accounting``)."""
    dp, rdp = _import_accounting()
    accountant = rdp.RdpAccountant(orders=list(ORDERS))
    accountant.compose(
        dp.PoissonSampledDpEvent(sampling_rate, dp.GaussianDpEvent(noise_multiplier))
    )
    return tuple(float(v) for v in accountant.rdp)


@lru_cache(maxsize=256)
def _ddg_curve(
    sampling_rate: float, l2_scale: float, l1_scale: float, tau: float, dim: int
) -> tuple[float, ...]:
    def curve(order: int) -> float:
        return ddg_rdp(order, l2_scale=l2_scale, l1_scale=l1_scale, tau=tau, dim=dim)

    return tuple(subsampled_rdp_bound(int(a), sampling_rate, curve) for a in ORDERS)


def _scales(noise_std: float, parties: int, l2: float, dim: int) -> tuple[float, float, float]:
    spread = math.sqrt(parties) * noise_std
    tau = ddg_tau(noise_std, parties)
    return l2 / spread, rounded_l1_bound(l2, dim=dim) / spread, tau


def _dominates(gaussian: Sequence[float], bound: Sequence[float]) -> bool:
    return all(g >= b for g, b in zip(gaussian, bound, strict=True))


def effective_noise_multiplier(
    *,
    sampling_rate: float,
    noise_std: float,
    parties: int,
    l2_sensitivity: float,
    dim: int,
) -> float:
    """Return the Gaussian noise multiplier a ledger may charge a distributed DG round at.

    Parameters
    ----------
    sampling_rate
        Poisson sampling rate of devices.
    noise_std
        Per-device discrete Gaussian standard deviation (integer domain).
    parties
        The fewest noise shares the published sum can hold (surviving devices).
    l2_sensitivity
        One device's L2 norm bound after rounding (integer domain).
    dim
        Dimension of the noised vector.

    Returns
    -------
    float
        The largest ``z`` whose Poisson-sampled Gaussian RDP is at least the rigorous
        bound at every order of :data:`~edge_client.policy.accounting.ORDERS` (0 when
        none is).
    """
    if not (
        0 < sampling_rate <= 1
        and noise_std > 0
        and parties >= 1
        and l2_sensitivity > 0
        and dim >= 1
    ):
        raise PolicyError("effective noise needs 0 < q <= 1, std > 0, parties >= 1, l2 > 0")
    l2_scale, l1_scale, tau = _scales(noise_std, parties, l2_sensitivity, dim)
    if tau == 0:  # the bound depends on l2_scale alone: share the cache across cohorts
        l1_scale, dim = 0.0, 1
    return _effective(sampling_rate, l2_scale, l1_scale, tau, dim)


@lru_cache(maxsize=256)
def _effective(
    sampling_rate: float, l2_scale: float, l1_scale: float, tau: float, dim: int
) -> float:
    bound = _ddg_curve(sampling_rate, l2_scale, l1_scale, tau, dim)
    # The Gaussian of the same variance is an upper end: its RDP is below the bound.
    low, high = 0.0, 1 / l2_scale
    for _ in range(_BISECTION_STEPS):
        middle = (low + high) / 2
        if middle > 0 and _dominates(_gaussian_curve(sampling_rate, middle), bound):
            low = middle
        else:
            high = middle
    return low


@lru_cache(maxsize=64)
def _largest_scale(sampling_rate: float, noise_multiplier: float) -> float:
    """The largest ``Δ₂/(√n σ)`` whose τ-free bound the target Gaussian still dominates."""
    target = _gaussian_curve(sampling_rate, noise_multiplier)
    high = 1 / noise_multiplier  # the plain Gaussian's scale: never below the bound here
    low = high
    while not _dominates(target, _ddg_curve(sampling_rate, low, 0.0, 0.0, 1)):
        low /= 1.25
    while high - low > 1e-7 * high:
        middle = (low + high) / 2
        if _dominates(target, _ddg_curve(sampling_rate, middle, 0.0, 0.0, 1)):
            low = middle
        else:
            high = middle
    return low


def minimum_device_noise(*, noise_multiplier: float, l2_sensitivity: float, parties: int) -> float:
    """Return the per-device std below which the sum has less noise than the policy asks.

    ``z·Δ₂/√n``: the least any honest device accepts (without sampling amplification the
    sum of ``n`` such shares has variance ``(zΔ₂)²``). Needs no ``dp_accounting``.

    Parameters
    ----------
    noise_multiplier
        The policy's noise multiplier.
    l2_sensitivity
        One device's L2 norm bound after rounding (integer domain).
    parties
        The fewest surviving devices of the round.

    Returns
    -------
    float
        The minimum standard deviation.
    """
    if not (noise_multiplier > 0 and l2_sensitivity > 0 and parties >= 1):
        raise PolicyError("device noise needs noise_multiplier > 0, l2 > 0, parties >= 1")
    return noise_multiplier * l2_sensitivity / math.sqrt(parties)


@dataclass(frozen=True)
class DeviceNoise:
    """The noise each device adds in a secure round, and what the ledger may charge.

    Attributes
    ----------
    noise_std
        Per-device discrete Gaussian standard deviation (integer domain).
    parties
        The fewest surviving devices the calibration assumes.
    l2_sensitivity
        One device's L2 bound after rounding (integer domain).
    effective_noise_multiplier
        The Gaussian multiplier the round may be charged at (at least the target).
    factor
        ``noise_std`` over :func:`minimum_device_noise` (the cost of rigour: subsampling
        bound, τ).
    """

    noise_std: float
    parties: int
    l2_sensitivity: float
    effective_noise_multiplier: float
    factor: float


def calibrate_device_noise(
    *,
    noise_multiplier: float,
    sampling_rate: float,
    l2_sensitivity: float,
    parties: int,
    dim: int,
) -> DeviceNoise:
    """Return the smallest per-device std whose round charges at most ``noise_multiplier``.

    Parameters
    ----------
    noise_multiplier
        The policy's multiplier: the round must be chargeable at (at least) this ``z``.
    sampling_rate
        Poisson sampling rate of devices.
    l2_sensitivity
        One device's L2 bound after rounding (integer domain).
    parties
        The fewest surviving devices the round may be published with.
    dim
        Dimension of the noised vector.

    Returns
    -------
    DeviceNoise
        The calibration.
    """
    floor = minimum_device_noise(
        noise_multiplier=noise_multiplier, l2_sensitivity=l2_sensitivity, parties=parties
    )
    std = l2_sensitivity / (math.sqrt(parties) * _largest_scale(sampling_rate, noise_multiplier))
    while True:  # τ is 0 for any std worth using; a tiny std needs a little more
        effective = effective_noise_multiplier(
            sampling_rate=sampling_rate,
            noise_std=std,
            parties=parties,
            l2_sensitivity=l2_sensitivity,
            dim=dim,
        )
        if effective >= noise_multiplier:
            return DeviceNoise(std, parties, l2_sensitivity, effective, std / floor)
        std *= 1.01
        if std > 1e3 * floor:
            raise PolicyError("device noise: no standard deviation reaches the multiplier")
