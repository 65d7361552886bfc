"""Differential-privacy accounting for a policy's federated budget.

Pure maths over Google's ``dp_accounting`` (RDP accountant), imported lazily: it belongs
to the ``federated``/``dev`` extras and a device never needs it. A client's privacy loss
per period is bounded two ways and the smaller bound is reported:

* amplified: ``rounds`` Poisson-sampled Gaussian rounds at the sampling rate; a
  participation cap only lowers each round's inclusion probability, so the bound holds;
* capped: ``max_participation`` un-amplified Gaussian rounds, since a client contributes
  to at most that many.

:func:`compose_epsilon` does the same for rounds that differ in sampling rate or noise
(:class:`RoundCharge` per group of rounds), which is how the server's ledger recomputes
epsilon from what each round actually spent. Any failure inside ``dp_accounting`` (for
example a noise multiplier of 1e-300 or 1e308) is reported as a
:class:`~edge_client.policy.errors.PolicyError`, never passed on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from edge_client.policy.errors import AccountantUnavailableError, PolicyError

__all__ = [
    "ORDERS",
    "EpsilonReport",
    "RoundCharge",
    "calibrate_noise_multiplier",
    "compose_epsilon",
    "compute_epsilon",
]

# Integer RDP orders: the fractional orders of the default grid make the accountant log
# convergence warnings at high sampling rates; integer orders give a valid bound too.
_ORDERS: tuple[float, ...] = (*range(2, 65), 80, 96, 128, 192, 256, 512, 1024)
ORDERS = _ORDERS
"""The RDP orders every accountant of the project uses."""


@dataclass(frozen=True)
class EpsilonReport:
    """Epsilon per user per period for a federated configuration.

    Parameters
    ----------
    epsilon
        The smaller of the two bounds (what the policy is held to).
    amplified_epsilon
        Bound from Poisson-sampled rounds.
    capped_epsilon
        Bound from the participation cap without amplification (``inf`` when uncapped).
    delta
        The delta the epsilons are computed at.
    """

    epsilon: float
    amplified_epsilon: float
    capped_epsilon: float
    delta: float


def _import_accounting() -> tuple[Any, Any]:
    try:
        import dp_accounting  # heavy optional dependency, imported lazily
        from dp_accounting.rdp import rdp_privacy_accountant  # idem
    except ImportError as exc:
        raise AccountantUnavailableError(
            "dp_accounting is not installed, though edge-profiler depends on it: "
            "reinstall edge-profiler or run 'pip install dp-accounting'"
        ) from exc
    return dp_accounting, rdp_privacy_accountant


def compute_epsilon(
    *,
    noise_multiplier: float,
    sampling_rate: float,
    rounds: int,
    delta: float,
    max_participation: int | None = None,
) -> EpsilonReport:
    """Return epsilon at ``delta`` for Poisson-sampled Gaussian rounds.

    Parameters
    ----------
    noise_multiplier
        Noise standard deviation over the clipping norm; 0 means no noise (``inf``).
    sampling_rate
        Per-round Poisson sampling probability of a client, in (0, 1].
    rounds
        Rounds per period, at least 1.
    delta
        Target delta, in (0, 1).
    max_participation
        Most rounds one client joins per period, or ``None`` for no cap.

    Returns
    -------
    EpsilonReport
        Both bounds and the smaller one.

    Raises
    ------
    PolicyError
        When a parameter is out of range or the accountant cannot evaluate it.
    AccountantUnavailableError
        When ``dp_accounting`` is not installed.
    """
    if rounds < 1:
        raise PolicyError("accounting needs rounds >= 1")
    return compose_epsilon(
        [RoundCharge(sampling_rate, noise_multiplier, rounds)],
        delta=delta,
        max_participation=max_participation,
    )


@dataclass(frozen=True)
class RoundCharge:
    """What some rounds spent: ``steps`` Poisson-sampled Gaussian steps at ``(q, z)``.

    Parameters
    ----------
    sampling_rate
        Poisson sampling probability of a client in each step, in (0, 1].
    noise_multiplier
        Noise standard deviation over the clipping norm actually applied (for distributed
        noise: the conservative effective multiplier); 0 means no noise.
    steps
        Sampled Gaussian steps (one per federated round of DP-FedAvg).
    """

    sampling_rate: float
    noise_multiplier: float
    steps: int = 1


def _check(charge: RoundCharge) -> None:
    q, z, steps = charge.sampling_rate, charge.noise_multiplier, charge.steps
    if not (0 <= z < math.inf and 0 < q <= 1) or isinstance(steps, bool) or steps < 1:
        raise PolicyError(
            "accounting needs 0 <= noise_multiplier < inf, 0 < sampling_rate <= 1 and "
            "steps >= 1 for every round"
        )


def compose_epsilon(
    charges: Sequence[RoundCharge], *, delta: float, max_participation: int | None = None
) -> EpsilonReport:
    """Return epsilon at ``delta`` after rounds that may differ in rate and noise.

    Each charge is composed at its own sampling rate and noise multiplier (RDP composition
    is exact for heterogeneous Poisson-sampled Gaussian steps), so a change of the rate or
    the noise between rounds is never re-accounted at the new values. The participation
    bound is conservative: ``max_participation`` un-amplified steps at the smallest noise
    multiplier spent.

    Parameters
    ----------
    charges
        What each group of rounds spent.
    delta
        Target delta, in (0, 1).
    max_participation
        Most rounds one client joins, or ``None`` for no cap.

    Returns
    -------
    EpsilonReport
        Both bounds and the smaller one (0 for no charge).

    Raises
    ------
    PolicyError
        When a parameter is out of range, or the accountant cannot evaluate these values
        (an arithmetic failure inside ``dp_accounting`` is reported, never passed on).
    AccountantUnavailableError
        When ``dp_accounting`` is not installed.
    """
    if not 0 < delta < 1:
        raise PolicyError("accounting needs 0 < delta < 1")
    if max_participation is not None and max_participation < 1:
        raise PolicyError("accounting needs max_participation >= 1")
    for charge in charges:
        _check(charge)
    spent = list(charges)
    if not spent:
        return EpsilonReport(0.0, 0.0, 0.0, delta)
    if any(c.noise_multiplier == 0 for c in spent):
        return EpsilonReport(math.inf, math.inf, math.inf, delta)
    dp, rdp = _import_accounting()
    try:
        amplified = rdp.RdpAccountant(orders=_ORDERS)
        for charge in spent:
            gaussian = dp.GaussianDpEvent(charge.noise_multiplier)
            sampled = dp.PoissonSampledDpEvent(charge.sampling_rate, gaussian)
            amplified.compose(dp.SelfComposedDpEvent(sampled, charge.steps))
        amplified_eps = float(amplified.get_epsilon(delta))
        capped_eps = math.inf
        if max_participation is not None:
            weakest = min(c.noise_multiplier for c in spent)
            total = sum(c.steps for c in spent)
            capped = rdp.RdpAccountant(orders=_ORDERS)
            capped.compose(
                dp.SelfComposedDpEvent(dp.GaussianDpEvent(weakest), min(max_participation, total))
            )
            capped_eps = float(capped.get_epsilon(delta))
    except (ArithmeticError, ValueError, TypeError, RuntimeError) as exc:
        values = ", ".join(f"z={c.noise_multiplier:g} q={c.sampling_rate:g}" for c in spent[:3])
        raise PolicyError(
            f"the accountant cannot evaluate these parameters ({values}): "
            f"{type(exc).__name__} inside dp_accounting"
        ) from None
    epsilon = min(amplified_eps, capped_eps)
    if math.isnan(epsilon) or epsilon < 0:
        raise PolicyError("the accountant returned no valid epsilon for these parameters")
    return EpsilonReport(epsilon, amplified_eps, capped_eps, delta)


def calibrate_noise_multiplier(
    *,
    epsilon: float,
    delta: float,
    rounds: int,
    sampling_rate: float = 1.0,
    precision: float = 1e-3,
) -> float:
    """Return the smallest noise multiplier (to ``precision``) whose rounds stay within ε.

    ``rounds`` Poisson-sampled Gaussian mechanisms of sensitivity 1 are composed with the
    RDP accountant of :func:`compute_epsilon`; the result is rounded *up*, so the ε of the
    returned multiplier is never above ``epsilon``.

    Parameters
    ----------
    epsilon
        Budget for all ``rounds`` together, > 0.
    delta
        Target delta, in (0, 1).
    rounds
        Rounds composed (at least 1).
    sampling_rate
        Poisson sampling probability of a person per round, in (0, 1].
    precision
        Resolution of the search.

    Returns
    -------
    float
        The noise multiplier ``z`` (noise standard deviation over the sensitivity).

    Raises
    ------
    PolicyError
        When a parameter is out of range.
    AccountantUnavailableError
        When ``dp_accounting`` is not installed.
    """
    if not (epsilon > 0 and math.isfinite(epsilon)) or not precision > 0:
        raise PolicyError("noise calibration needs epsilon > 0 and precision > 0")

    def spent(z: float) -> float:
        return compute_epsilon(
            noise_multiplier=z, sampling_rate=sampling_rate, rounds=rounds, delta=delta
        ).epsilon

    low, high = 0.0, 1.0
    while spent(high) > epsilon:
        low, high = high, high * 2.0
        if high > 1e6:
            raise PolicyError(f"no noise multiplier reaches epsilon {epsilon:g}")
    while high - low > precision:
        middle = (low + high) / 2.0
        if spent(middle) > epsilon:
            low = middle
        else:
            high = middle
    return math.ceil(high / precision) * precision
