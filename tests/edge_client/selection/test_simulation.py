"""The SIMULATION engagement model: calibrated lift, population shape."""

from __future__ import annotations

import numpy as np
import pytest

from edge_client.selection import Variant, load_sample_catalog
from edge_client.selection.simulation import (
    CONGRUENCE_LIFT,
    click_probability,
    simulate_population,
)


def test_congruent_framing_gets_the_calibrated_lift() -> None:
    """Congruent framing multiplies the click probability by 1.4; generic gets no lift."""
    people = simulate_population(200, interests=["545", "472"], accuracy=0.77,
                                 rng=np.random.default_rng(0))
    item = load_sample_catalog().items[0]
    for person in people[:20]:
        own = Variant.ANALYTICAL if person.analytical else Variant.EMOTIONAL
        other = Variant.EMOTIONAL if person.analytical else Variant.ANALYTICAL
        base = click_probability(person, item, Variant.GENERIC, match=0.5)
        assert click_probability(person, item, other, match=0.5) == pytest.approx(base)
        assert click_probability(person, item, own, match=0.5) == pytest.approx(
            base * (1 + CONGRUENCE_LIFT))
    right = [(p.profile.decision_style.analytical or 0.5) > 0.5 for p in people]
    accuracy = np.mean([r == p.analytical for r, p in zip(right, people, strict=True)])
    assert 0.65 < accuracy < 0.9
    assert all("interests" in p.profile.usable for p in people)
