"""SIMULATION of engagement with decision-style framing (no public engagement log exists).

This module is a *simulation*, for benchmarks and app developers' tests; nothing in it is
measured behaviour. Its one calibration is the published effect size: psychologically
congruent messages raised clicks by up to 40% (Matz, Kosinski, Nave & Stillwell 2017,
PNAS 114(48), "Psychological targeting as an effective approach to digital mass
persuasion"). A simulated person has a true decision style; their click probability on an
item is a base rate (interest match and popularity) multiplied by ``1 + CONGRUENCE_LIFT``
when the variant shown matches their true style (analytical ↔ analytical framing,
emotional ↔ emotional framing) and by 1 otherwise (generic framing: no lift).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from edge_client.profile import Profile
from edge_client.selection.catalog import CatalogItem, Variant
from edge_client.testing import make_profile

__all__ = [
    "CONGRUENCE_LIFT",
    "SimulatedPerson",
    "click_probability",
    "simulate_population",
]

CONGRUENCE_LIFT = 0.40
"""SIMULATION calibration: relative click lift of a congruent framing (Matz et al. 2017)."""


@dataclass(frozen=True)
class SimulatedPerson:
    """A SIMULATED person: true style, the profile the device would estimate, interests.

    Attributes
    ----------
    analytical : bool
        True decision style (what the engagement model responds to).
    profile : Profile
        What the device sees: the estimated style (right side with the population's
        ``accuracy``) and interests, marked usable.
    """

    analytical: bool
    profile: Profile


def simulate_population(n: int, *, interests: list[str], accuracy: float, words: int = 800,
                        rng: np.random.Generator) -> list[SimulatedPerson]:
    """Draw ``n`` SIMULATED people with half of each style.

    Parameters
    ----------
    n : int
        How many.
    interests : list of str
        Taxonomy nodes to draw one or two interests from.
    accuracy : float
        Probability that the estimated style is on the right side of 0.5.
    words : int, default 800
        Words the simulated profiles rest on.
    rng : numpy.random.Generator
        Randomness.

    Returns
    -------
    list of SimulatedPerson
        The population.
    """
    people = []
    for _ in range(n):
        analytical = bool(rng.random() < 0.5)
        right = rng.random() < accuracy
        side = 1.0 if analytical == right else -1.0
        estimate = 0.5 + side * float(rng.uniform(0.25, 0.45))
        chosen = rng.choice(len(interests), size=int(rng.integers(1, 3)), replace=False)
        scores = {interests[int(i)]: float(rng.uniform(0.3, 0.8)) for i in chosen}
        base = make_profile(analytical=estimate, words=words, interests=scores)
        usable = frozenset({"interests", "decision_style"})
        people.append(SimulatedPerson(analytical, replace(base, usable=usable)))
    return people


def click_probability(person: SimulatedPerson, item: CatalogItem, variant: Variant,
                      *, match: float) -> float:
    """Return the SIMULATED probability that ``person`` clicks ``item`` shown as ``variant``.

    Parameters
    ----------
    person : SimulatedPerson
        The simulated person.
    item : CatalogItem
        The item.
    variant : Variant
        The framing shown.
    match : float
        Interest match in [0, 1] (the person's score for the item's category, 0 if none).

    Returns
    -------
    float
        ``(0.02 + 0.08·match + 0.02·popularity) × (1 + CONGRUENCE_LIFT if congruent)``.
    """
    base = 0.02 + 0.08 * match + 0.02 * item.popularity
    congruent = (variant is Variant.ANALYTICAL and person.analytical) or (
        variant is Variant.EMOTIONAL and not person.analytical
    )
    return base * (1.0 + CONGRUENCE_LIFT) if congruent else base
