"""The policy's delivery limits: which items may be shown now, and filling the slots.

:func:`eligible` applies the caps per item and per category (a day), dismissal suppression
and fatigue to a compiled catalog; :func:`pick` fills the slots best first, giving each slot
to random exploration with the policy's ``exploration_share`` and never exceeding a
category cap within one selection.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from edge_client.policy.model import PersonalizationRules
from edge_client.selection.features import CompiledCatalog
from edge_client.selection.state import SelectionState

__all__ = ["eligible", "pick"]


def eligible(compiled: CompiledCatalog, state: SelectionState, rules: PersonalizationRules,
             now: float) -> npt.NDArray[np.bool_]:
    """Return which items may be shown at ``now`` (seconds since the epoch).

    Parameters
    ----------
    compiled : CompiledCatalog
        The catalog; items in forbidden categories are already marked not allowed.
    state : SelectionState
        Impressions, dismissals and fatigue so far.
    rules : PersonalizationRules
        Caps, suppression and fatigue settings.
    now : float
        Current time.

    Returns
    -------
    numpy.ndarray
        ``[items]`` booleans.
    """
    counts = state.counts(now)
    mask = compiled.allowed.copy()
    blocked = state.blocked(now, rules)
    blocked.update(i for i, n in counts.per_item.items() if n >= rules.max_per_item_per_day)
    capped = {c for c, n in counts.per_category.items() if n >= rules.max_per_category_per_day}
    for item_id in blocked:
        pos = compiled.positions.get(item_id)
        if pos is not None:
            mask[pos] = False
    if capped:
        for pos, item in enumerate(compiled.catalog.items):
            if capped.intersection(item.categories):
                mask[pos] = False
    return mask


def _best_first(score: npt.NDArray[np.float32], head: int) -> Iterator[int]:
    """Yield positions by decreasing score, sorting only the head unless more are needed."""
    if head >= len(score):
        yield from np.argsort(-score, kind="stable").tolist()
        return
    top = np.argpartition(-score, head)[:head]
    top = top[np.argsort(-score[top], kind="stable")]
    yield from top.tolist()
    rest = np.setdiff1d(np.arange(len(score)), top)
    yield from rest[np.argsort(-score[rest], kind="stable")].tolist()


def pick(compiled: CompiledCatalog, pool: npt.NDArray[np.intp], score: npt.NDArray[np.float32],
         *, slots: int, state: SelectionState, rules: PersonalizationRules, now: float,
         rng: np.random.Generator) -> list[tuple[int, bool]]:
    """Fill up to ``slots`` slots from ``pool``; return ``(index into pool, explored)`` pairs.

    Parameters
    ----------
    compiled : CompiledCatalog
        The catalog.
    pool : numpy.ndarray
        Positions of the eligible items.
    score : numpy.ndarray
        ``[pool]`` ranking scores.
    slots : int
        Slots to fill.
    state : SelectionState
        For today's per-category counts.
    rules : PersonalizationRules
        Category cap and exploration share.
    now : float
        Current time.
    rng : numpy.random.Generator
        Decides which slots explore and what they show.

    Returns
    -------
    list of tuple
        Picks in slot order; fewer than ``slots`` when the pool runs out.
    """
    items = compiled.catalog.items
    taken = dict(state.counts(now).per_category)
    chosen: list[tuple[int, bool]] = []
    used: set[int] = set()
    order = _best_first(score, 4 * slots + 16)
    explore = rng.random(slots) < rules.exploration_share

    def fits(j: int) -> bool:
        return j not in used and all(taken.get(c, 0) < rules.max_per_category_per_day
                                     for c in items[int(pool[j])].categories)

    for want_random in explore.tolist():
        if want_random:
            j = next((i for i in rng.permutation(len(pool)).tolist() if fits(i)), -1)
        else:
            j = next((i for i in order if fits(i)), -1)
        if j < 0:
            break
        used.add(j)
        for c in items[int(pool[j])].categories:
            taken[c] = taken.get(c, 0) + 1
        chosen.append((j, bool(want_random)))
    return chosen
