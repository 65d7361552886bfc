"""``PersonalizedFeed``: selection and feedback on top of an :class:`EdgeProfiler`.

This is the ergonomic entry point for apps: it reads the profiler's current profile, its
policy engine, taxonomy and (shared) consent state, so revoking personalization on the
profiler's consent applies to the feed at once.

Examples
--------
>>> from edge_client import EdgeProfiler
>>> from edge_client.policy import Purpose
>>> from edge_client.selection import PersonalizedFeed, load_sample_catalog
>>> profiler = EdgeProfiler(consent=[Purpose.PROFILING, Purpose.PERSONALIZATION])
>>> feed = PersonalizedFeed(profiler)
>>> picks = feed.select(load_sample_catalog(), k=3)
>>> len(picks.choices) <= 3
True
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from edge_client.profiler import EdgeProfiler
from edge_client.selection.catalog import Catalog
from edge_client.selection.model import RankingModel
from edge_client.selection.result import Selection
from edge_client.selection.selector import Selector
from edge_client.selection.state import SelectionState
from edge_client.selection.training import TrainingReport

__all__ = ["PersonalizedFeed"]


class PersonalizedFeed:
    """Pick content for the person an :class:`EdgeProfiler` profiles, and learn from feedback.

    Parameters
    ----------
    profiler : EdgeProfiler
        Supplies the profile, the policy engine, the taxonomy and the consent state.
    model : RankingModel, optional
        The ranking model (default: a fresh copy of the packaged one).
    state : SelectionState, optional
        Restored caps, impressions and examples (e.g. from the encrypted store).
    rng : numpy.random.Generator, optional
        Exploration randomness (seed it in tests).
    """

    def __init__(self, profiler: EdgeProfiler, *, model: RankingModel | None = None,
                 state: SelectionState | None = None,
                 rng: np.random.Generator | None = None) -> None:
        self.profiler = profiler
        self.selector = Selector(profiler.engine, consent=profiler.consent,
                                 taxonomy=profiler.taxonomy, model=model, state=state, rng=rng)

    @property
    def state(self) -> SelectionState:
        """The selector's serializable state (``.to_dict()`` for the store)."""
        return self.selector.state

    def select(self, catalog: Catalog, *, k: int, now: datetime | None = None) -> Selection:
        """Pick up to ``k`` items from ``catalog`` for the profiler's current profile.

        Parameters
        ----------
        catalog : Catalog
            The candidates.
        k : int
            How many items to show.
        now : datetime, optional
            Timezone-aware current time (default: the clock).

        Returns
        -------
        Selection
            The picks, each with its variant and a plain-words reason.
        """
        return self.selector.select(self.profiler.profile(), catalog, k=k, now=now)

    def feedback(self, item_id: str, *, engaged: bool, dismissed: bool = False,
                 now: datetime | None = None) -> bool:
        """Record what the person did with a shown item (see :meth:`Selector.feedback`).

        Returns
        -------
        bool
            Whether a local training example was recorded.
        """
        return self.selector.feedback(item_id, engaged=engaged, dismissed=dismissed, now=now)

    def train_from_feedback(self, *, learning_rate: float = 0.5, l2: float = 0.01,
                            epochs: int = 3) -> TrainingReport:
        """Train the ranking model on the new local examples (its own ``train`` signature)."""
        return self.selector.train_from_feedback(learning_rate=learning_rate, l2=l2,
                                                 epochs=epochs)
