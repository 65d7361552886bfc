"""SIMULATED ranking examples of a virtual device (no public engagement log exists).

This is a *simulation* for federated runs, tests and benchmarks; nothing here is measured
behaviour. A virtual device's person is drawn by
:func:`edge_client.selection.simulation.simulate_population` (true decision style, the
profile the device would estimate, one or two interests), sees sessions of picks made by
the real :class:`~edge_client.selection.Selector` over the packaged sample catalog, and
clicks with the SIMULATED probability of
:func:`edge_client.selection.simulation.click_probability` (calibrated to Matz et al.
2017's +40% for congruent framing). The examples are what the selector itself keeps from
that feedback: feature rows and 0/1 labels, never text.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache

import numpy as np

from edge_client.federated.examples import RankingExamples
from edge_client.policy import PolicyEngine, Purpose
from edge_client.selection import Catalog, SelectionState, Selector, load_sample_catalog
from edge_client.selection.model import RankingModel, load_ranking_model
from edge_client.selection.simulation import click_probability, simulate_population
from edge_client.taxonomy import load_taxonomy

__all__ = ["SIMULATED_STYLE_ACCURACY", "simulated_ranking_examples"]

SIMULATED_STYLE_ACCURACY = 0.77
"""SIMULATION: share of people whose estimated style is on the right side (~ style AUC)."""
_START = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
_SESSION_GAP = timedelta(hours=3)


@lru_cache(maxsize=1)
def _shipped() -> tuple[RankingModel, Catalog]:
    return load_ranking_model(), load_sample_catalog()


def simulated_ranking_examples(
    engine: PolicyEngine, seed: int, index: int, *, sessions: int = 12, picks: int = 3
) -> RankingExamples:
    """Return the SIMULATED selection training examples of virtual device ``index``.

    Parameters
    ----------
    engine
        The device's policy (caps, retention of training examples, allowed categories).
    seed
        Population seed.
    index
        Device index; the same ``(seed, index)`` always gives the same examples.
    sessions
        Sessions of picks, three hours apart (inside the policy's caps and retention).
    picks
        Items shown per session.

    Returns
    -------
    RankingExamples
        The rows and labels the selector kept (empty when the policy keeps none).
    """
    model, catalog = _shipped()
    nodes = sorted(
        {c for item in catalog.items for c in item.categories if engine.is_interest_allowed(c)}
    )
    rng = np.random.default_rng([seed, index, 7])
    person = simulate_population(1, interests=nodes, accuracy=SIMULATED_STYLE_ACCURACY, rng=rng)[0]
    selector = Selector(
        engine,
        consent=engine.consent_state([Purpose.PERSONALIZATION]),
        taxonomy=load_taxonomy(),
        model=model,
        state=SelectionState(),
        rng=np.random.default_rng([seed, index, 11]),
    )
    interests = {i.id: i.score for i in person.profile.interests}
    for session in range(sessions):
        now = _START + session * _SESSION_GAP
        for choice in selector.select(person.profile, catalog, k=picks, now=now).choices:
            match = max((interests.get(c, 0.0) for c in choice.item.categories), default=0.0)
            p = click_probability(person, choice.item, choice.variant, match=match)
            selector.feedback(choice.item.id, engaged=bool(rng.random() < p), now=now)
    return RankingExamples.from_training(selector.state.examples, model.spec.width)
