"""Poisson client sampling: each eligible node joins a round independently with rate q.

This is the sampling the privacy accounting assumes when it claims amplification
(``PoissonSampledDpEvent``); Flower's own samplers draw a fixed-size cohort, which that
accounting does not cover, so the server samples node ids itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

__all__ = ["poisson_sample"]


def poisson_sample(
    node_ids: Iterable[int],
    *,
    rate: float,
    rng: np.random.Generator,
    participations: Mapping[int, int] | None = None,
    max_participation: int | None = None,
) -> list[int]:
    """Return the nodes that join a round, each independently with probability ``rate``.

    Parameters
    ----------
    node_ids
        Connected nodes.
    rate
        Inclusion probability, in (0, 1].
    rng
        Random source (unpredictable in production: seed it from the OS).
    participations
        Rounds each node already joined this period.
    max_participation
        Nodes at this many participations are never sampled (lowers inclusion only).

    Returns
    -------
    list[int]
        The sampled node ids, ascending.
    """
    if not 0 < rate <= 1:
        raise ValueError(f"poisson_sample: rate must be in (0, 1], got {rate}")
    counts = participations or {}
    cap = max_participation if max_participation is not None else np.inf
    ordered = sorted(set(node_ids))
    draws = rng.random(len(ordered))
    return [
        node
        for node, u in zip(ordered, draws, strict=True)
        if u < rate and counts.get(node, 0) < cap
    ]
