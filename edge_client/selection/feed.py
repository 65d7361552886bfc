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

from datetime import datetime, timezone

import numpy as np

from edge_client.audit.recorder import OutcomeRecorder
from edge_client.behaviour.context import SelectionContext, context_affinity
from edge_client.behaviour.events import DeviceClass, TimeOfDay
from edge_client.behaviour.recorder import current_device
from edge_client.policy.model import Purpose
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

    Notes
    -----
    Where the policy allows ``context`` (time of day) or ``device`` (device class), picks
    use what this person engages with now (:func:`edge_client.behaviour.context_affinity`)
    and engagement is counted by time of day and device. Where ``audit.outcomes`` is on,
    impressions and outcomes of consented personalization are counted for outcome audits
    (:class:`edge_client.audit.OutcomeRecorder`, in :attr:`state`), and in a control window
    the picks are generic.
    """

    def __init__(self, profiler: EdgeProfiler, *, model: RankingModel | None = None,
                 state: SelectionState | None = None,
                 rng: np.random.Generator | None = None) -> None:
        self.profiler = profiler
        self.selector = Selector(profiler.engine, consent=profiler.consent,
                                 taxonomy=profiler.taxonomy, model=model, state=state, rng=rng)
        rules = profiler.policy.audit.outcomes
        self.outcomes: OutcomeRecorder | None = (
            OutcomeRecorder(rules, self.selector.state.outcomes, self.selector.rng)
            if rules.enabled and profiler.engine.personalization.enabled
            else None
        )
        self._shown: dict[str, tuple[str, ...]] = {}

    @property
    def state(self) -> SelectionState:
        """The selector's serializable state (``.to_dict()`` for the store)."""
        return self.selector.state

    def _audited(self) -> OutcomeRecorder | None:
        consented = self.profiler.consent.allows(Purpose.PERSONALIZATION)
        return self.outcomes if consented else None

    def select(self, catalog: Catalog, *, k: int, now: datetime | None = None,
               device: DeviceClass | None = None) -> Selection:
        """Pick up to ``k`` items from ``catalog`` for the profiler's current profile.

        Parameters
        ----------
        catalog : Catalog
            The candidates.
        k : int
            How many items to show.
        now : datetime, optional
            Timezone-aware current time (default: the clock, in local time); its own
            local hour is the time of day.
        device : DeviceClass, optional
            The device in use (default: the class the person uses most, when recorded).

        Returns
        -------
        Selection
            The picks, each with its variant and a plain-words reason.
        """
        moment = now if now is not None else datetime.now(timezone.utc).astimezone()
        behaviour = self.profiler.behaviour
        context = context_affinity(
            behaviour,
            SelectionContext(TimeOfDay.of(moment), device or current_device(behaviour)),
            self.selector.model.spec.nodes,
            engine=self.profiler.engine,
            taxonomy=self.profiler.taxonomy,
        )
        recorder = self._audited()
        stamp = moment.timestamp()
        control = recorder.in_control(stamp) if recorder is not None else False
        picks = self.selector.select(self.profiler.profile(), catalog, k=k, now=moment,
                                     context=context, control=control)
        for choice in picks.choices:
            self._shown[choice.item.id] = choice.item.categories
            if recorder is not None:
                recorder.shown(choice.item.id, choice.variant.value,
                               sponsored=choice.item.sponsored, now=stamp)
        while len(self._shown) > 1000:
            del self._shown[next(iter(self._shown))]
        return picks

    def feedback(self, item_id: str, *, engaged: bool, dismissed: bool = False,
                 now: datetime | None = None) -> bool:
        """Record what the person did with a shown item (see :meth:`Selector.feedback`).

        Engagement is also counted by time of day and device class where the policy allows
        ``context``/``device``, and for outcome audits where ``audit.outcomes`` is on.

        Returns
        -------
        bool
            Whether a local training example was recorded.
        """
        moment = now if now is not None else datetime.now(timezone.utc).astimezone()
        kept = self.selector.feedback(item_id, engaged=engaged, dismissed=dismissed, now=moment)
        recorder = self._audited()
        if recorder is not None:
            recorder.outcome(item_id, engaged=engaged, dismissed=dismissed,
                             now=moment.timestamp())
        categories = self._shown.get(item_id)
        if engaged and categories:
            self.profiler.note_engagement(categories, at=moment)
        return kept

    def train_from_feedback(self, *, learning_rate: float = 0.5, l2: float = 0.01,
                            epochs: int = 3) -> TrainingReport:
        """Train the ranking model on the new local examples (its own ``train`` signature)."""
        return self.selector.train_from_feedback(learning_rate=learning_rate, l2=l2,
                                                 epochs=epochs)
