"""Interests from words and behaviour together: one score per taxonomy node, and why.

The text model gives a probability per node, ``p_text``. Behaviour gives evidence mass per
node, ``m = dwell-weighted views + PURCHASE_WEIGHT × purchases`` (each node counted at its
nearest ancestor among the text model's nodes, or at itself). Both are combined as a
Dirichlet-style posterior mean in which the text is a prior worth ``W = words /
WORDS_PER_EVENT + PRIOR_EVENTS`` events::

    score(node) = (W · p_text(node) + m(node)) / (W + Σ m)

So with no behaviour the text scores are unchanged; with no text, behaviour alone is
shrunk by :data:`PRIOR_EVENTS` (one view is weak evidence, twenty are strong); and the more
someone writes, the more their words weigh against what they view. The policy's
boundaries apply to the result exactly as to text scores (the profiler filters it with
:meth:`~edge_client.policy.PolicyEngine.filter_interests`); forbidden categories never
reach the counts in the first place (:mod:`edge_client.behaviour.recorder`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from edge_client.behaviour.counts import BehaviourCounts, CountKind
from edge_client.taxonomy import Taxonomy

__all__ = [
    "PRIOR_EVENTS",
    "PURCHASE_WEIGHT",
    "WORDS_PER_EVENT",
    "FusedInterests",
    "InterestSource",
    "fuse_interests",
]

WORDS_PER_EVENT = 15.0
"""Words of the person's own text that weigh as much as one 30-second view."""

PRIOR_EVENTS = 5.0
"""Pseudo-events of the text prior, so a handful of views cannot dominate."""

PURCHASE_WEIGHT = 3.0
"""A purchase weighs as much as this many 30-second views."""


@dataclass(frozen=True)
class InterestSource:
    """Where one interest's score comes from.

    Attributes
    ----------
    text_share : float
        Share of the score that comes from the person's words (the rest is behaviour).
    views : float
        Views of content in the node (decayed count).
    dwell_minutes : float
        Their dwell-weighted time, in minutes (a weighted view is 30 s).
    purchases : float
        Purchases in the node (decayed count).
    """

    text_share: float
    views: float = 0.0
    dwell_minutes: float = 0.0
    purchases: float = 0.0

    def describe(self) -> str:
        """Return the behaviour behind the interest in plain words (empty when none)."""
        parts = []
        if self.views >= 0.5:
            parts.append(f"{self.views:.0f} view(s), about {self.dwell_minutes:.0f} min")
        if self.purchases >= 0.5:
            parts.append(f"{self.purchases:.0f} purchase(s)")
        if not parts:
            return ""
        return f"{', '.join(parts)} ({1.0 - self.text_share:.0%} of the score)"


@dataclass(frozen=True)
class FusedInterests:
    """Scores per node and, for each, the share of words and the behaviour behind it."""

    scores: dict[str, float]
    sources: dict[str, InterestSource]


_TEXT_ONLY = InterestSource(1.0)  # frozen, so every text-only interest can share it


def _home(node: str, label_nodes: frozenset[str], taxonomy: Taxonomy) -> str:
    if node in label_nodes:
        return node
    return next((a for a in taxonomy.ancestors(node) if a in label_nodes), node)


def fuse_interests(
    text_scores: Mapping[str, float],
    behaviour: BehaviourCounts,
    *,
    words: float,
    taxonomy: Taxonomy,
) -> FusedInterests:
    """Combine text scores and behaviour counts into one score per node.

    Parameters
    ----------
    text_scores : Mapping[str, float]
        Node → probability from the text model (summing to about 1), or empty without text.
    behaviour : BehaviourCounts
        The person's behaviour counts.
    words : float
        Words of text behind ``text_scores``.
    taxonomy : Taxonomy
        Maps a viewed node to the nearest node the text model scores.

    Returns
    -------
    FusedInterests
        Scores in [0, 1] (unchanged text scores when there is no view or purchase).
    """
    if not behaviour:  # words only: the text scores as they are
        unchanged = {n: float(s) for n, s in text_scores.items()}
        return FusedInterests(unchanged, dict.fromkeys(unchanged, _TEXT_ONLY))
    views = behaviour.of_kind(CountKind.VIEW)
    counted = behaviour.of_kind(CountKind.VIEWS)
    bought = behaviour.of_kind(CountKind.PURCHASE)
    mass: dict[str, float] = {}
    detail: dict[str, list[float]] = {}
    label_nodes = frozenset(taxonomy.label_nodes()) if views or bought else frozenset()
    for node in set(views) | set(bought):
        home = _home(node, label_nodes, taxonomy)
        weight = views.get(node, 0.0) + PURCHASE_WEIGHT * bought.get(node, 0.0)
        mass[home] = mass.get(home, 0.0) + weight
        row = detail.setdefault(home, [0.0, 0.0, 0.0])
        row[0] += counted.get(node, 0.0)
        row[1] += views.get(node, 0.0) * 0.5
        row[2] += bought.get(node, 0.0)
    if not mass:
        unchanged = {n: float(s) for n, s in text_scores.items()}
        return FusedInterests(unchanged, dict.fromkeys(unchanged, _TEXT_ONLY))
    prior = (words / WORDS_PER_EVENT + PRIOR_EVENTS) if text_scores else PRIOR_EVENTS
    total = prior + sum(mass.values())
    scores: dict[str, float] = {}
    sources: dict[str, InterestSource] = {}
    for node in set(text_scores) | set(mass):
        from_text = prior * float(text_scores.get(node, 0.0))
        from_behaviour = mass.get(node, 0.0)
        score = (from_text + from_behaviour) / total
        scores[node] = score
        share = from_text / (from_text + from_behaviour) if score > 0 else 1.0
        views_n, minutes, purchases = detail.get(node, [0.0, 0.0, 0.0])
        sources[node] = InterestSource(share, views_n, minutes, purchases)
    return FusedInterests(scores, sources)
