"""Choosing a secure round's parameters: survivors, graph degree, fixed-point scale, noise.

* ``min_survivors = max(k, ⌈(1 − max_dropout)·n⌉)`` (and more than two thirds of ``n``):
  the round is published only if at least that many inputs are in the sum, and each device's
  noise is calibrated so that that many shares already carry the policy's noise.
* The degree is the smallest even ``d ≥ MIN_NEIGHBOURS`` for which, with devices dropping
  independently at ``max_dropout``, the chance that some device keeps fewer than a majority
  of its ``d + 1`` share holders is at most 10⁻³ (the complete graph when that is cheaper).
* The scale is the finest ``2**k`` for which the cohort's sum cannot wrap around 2³².
* The noise is :func:`~edge_client.policy.distributed_accounting.calibrate_device_noise`
  at the policy's multiplier, sampling rate and the rounded sensitivity.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from edge_client.policy.distributed_accounting import (
    DeviceNoise,
    calibrate_device_noise,
    rounded_l2_bound,
)
from edge_client.secagg.encoding import Layout, headroom_ok
from edge_client.secagg.graph import MIN_NEIGHBOURS, threshold
from edge_client.secagg.params import MAX_SCALE_BITS, MIN_SCALE_BITS, RoundParams
from fl_server.errors import ServerConfigError

__all__ = ["FAILURE_TARGET", "RoundPlan", "choose_degree", "min_survivors", "plan_round"]

FAILURE_TARGET = 1e-3
"""Accepted chance that independent dropouts leave some device's secret unrecoverable."""


def min_survivors(cohort: int, *, min_cohort: int, max_dropout: float) -> int:
    """Return the fewest survivors a round of ``cohort`` devices may be published with."""
    least = max(min_cohort, math.ceil((1 - max_dropout) * cohort - 1e-9))
    return max(least, 2 * cohort // 3 + 1)


def _tail(holders: int, alive: float) -> float:
    """P(fewer than a majority of ``holders`` survive), each surviving with ``alive``."""
    need = threshold(holders)
    return sum(math.comb(holders, i) * alive**i * (1 - alive) ** (holders - i) for i in range(need))


def choose_degree(cohort: int, *, max_dropout: float) -> int:
    """Return the neighbour-graph degree for ``cohort`` devices (``cohort - 1``: complete)."""
    if cohort - 1 <= MIN_NEIGHBOURS:
        return cohort - 1
    d = MIN_NEIGHBOURS
    while d < cohort - 1 and cohort * _tail(d + 1, 1 - max_dropout) > FAILURE_TARGET:
        d += 2
    return min(d, cohort - 1)


@dataclass(frozen=True)
class RoundPlan:
    """A secure round's parameters and the noise calibration behind them.

    Attributes
    ----------
    params
        Sent to every device.
    noise
        The calibration (effective noise multiplier the ledger may charge).
    degree
        Neighbours per device.
    threshold
        Shares needed to recover a secret.
    """

    params: RoundParams
    noise: DeviceNoise
    degree: int
    threshold: int


def plan_round(
    *,
    policy_hash: str,
    model: str,
    model_hash: str,
    server_round: int,
    nonce: bytes,
    cohort: Sequence[int],
    shapes: Sequence[tuple[str, tuple[int, ...]]],
    metrics: Sequence[str],
    clipping_norm: float,
    noise_multiplier: float,
    sampling_rate: float,
    min_cohort: int,
    max_dropout: float,
    neighbours: int,
) -> RoundPlan:
    """Return the parameters of one secure round (see the module docstring).

    Parameters
    ----------
    policy_hash, model, model_hash, server_round, nonce
        Identify the round.
    cohort
        The sampled node ids.
    shapes, metrics
        The layout (weights in name order, allowed metrics).
    clipping_norm, noise_multiplier, sampling_rate, min_cohort
        The policy's (and the rate used).
    max_dropout
        Dropout fraction the round must survive, in [0, 1/3).
    neighbours
        Degree to use (0: choose it, see :func:`choose_degree`).

    Returns
    -------
    RoundPlan
        The plan.

    Raises
    ------
    ServerConfigError
        When no fixed-point scale leaves headroom (an enormous cohort).
    """
    n = len(cohort)
    layout = Layout(tuple(shapes), tuple(metrics))
    survivors = min_survivors(n, min_cohort=min_cohort, max_dropout=max_dropout)
    degree = neighbours if neighbours > 0 else choose_degree(n, max_dropout=max_dropout)
    degree = min(degree + degree % 2, n - 1)
    for bits in range(MAX_SCALE_BITS, MIN_SCALE_BITS - 1, -1):
        sensitivity = rounded_l2_bound(clipping_norm * 2**bits, dim=max(layout.weight_dim, 1))
        noise = calibrate_device_noise(
            noise_multiplier=noise_multiplier,
            sampling_rate=sampling_rate,
            l2_sensitivity=sensitivity,
            parties=survivors,
            dim=max(layout.weight_dim, 1),
        )
        if headroom_ok(
            cohort=n, clipping_norm=clipping_norm, scale_bits=bits, noise_std=noise.noise_std
        ):
            params = RoundParams(
                policy_hash=policy_hash,
                model=model,
                model_hash=model_hash,
                server_round=server_round,
                nonce=nonce,
                cohort=tuple(sorted(cohort)),
                min_survivors=survivors,
                neighbours=degree,
                scale_bits=bits,
                noise_std=noise.noise_std,
                clipping_norm=clipping_norm,
                shapes=layout.shapes,
                metrics=layout.metrics,
            )
            return RoundPlan(params, noise, degree, threshold(degree + 1))
    raise ServerConfigError(f"secure aggregation: no fixed-point scale fits a cohort of {n}")
