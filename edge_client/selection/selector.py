"""``Selector``: pick content on the device from the profile, the policy and the ranking model.

Order of operations in :meth:`Selector.select`: items in forbidden categories (and their
descendants) are dropped; the policy's caps (per item, per category, per hour, per day),
dismissal suppression and fatigue remove more; the ranking model scores the rest (with the
profile when personalization is allowed, consented and backed by evidence, else as for
everyone); decision style picks the variant only where the policy allows it; a share of the
slots goes to random exploration. Every choice carries a plain-words reason.
"""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import numpy.typing as npt

from edge_client.errors import InputError
from edge_client.policy.consent import ConsentState
from edge_client.policy.engine import PolicyEngine
from edge_client.policy.model import Fallback, Purpose, StoredItem, Trait
from edge_client.profile import Profile
from edge_client.selection.caps import eligible, pick
from edge_client.selection.catalog import Catalog, Variant
from edge_client.selection.errors import FeedbackError
from edge_client.selection.explain import Basis, FallbackCause, ReasonInput, reason_text
from edge_client.selection.features import (
    CompiledCatalog,
    compile_catalog,
    interest_vector,
    style_signal,
)
from edge_client.selection.model import RankingModel, load_ranking_model
from edge_client.selection.result import Choice, Selection
from edge_client.selection.scoring import Scored, score_pool, variant_of
from edge_client.selection.state import Pending, SelectionState, TrainingExample
from edge_client.selection.training import TrainingReport, train_examples
from edge_client.taxonomy import Taxonomy

__all__ = ["Selector"]


def _timestamp(now: datetime | None) -> float:
    if now is None:
        return datetime.now(timezone.utc).timestamp()
    if now.tzinfo is None:
        raise InputError("now must be a timezone-aware datetime (e.g. datetime.now(timezone.utc))")
    return now.timestamp()


class Selector:
    """On-device content selector bound to one policy engine and one person's consent.

    Parameters
    ----------
    engine : PolicyEngine
        The policy in force and its taxonomy.
    consent : ConsentState
        The person's opt-ins (shared with the profiler, so a revocation applies at once).
    taxonomy : Taxonomy
        The taxonomy of the catalog's categories.
    model : RankingModel, optional
        The ranking model (default: a fresh copy of the packaged one).
    state : SelectionState, optional
        Restored caps, impressions and examples (default: empty).
    rng : numpy.random.Generator, optional
        Source of exploration randomness (inject a seeded one in tests).
    """

    def __init__(self, engine: PolicyEngine, *, consent: ConsentState, taxonomy: Taxonomy,
                 model: RankingModel | None = None, state: SelectionState | None = None,
                 rng: np.random.Generator | None = None) -> None:
        self.engine = engine
        self.consent = consent
        self.taxonomy = taxonomy
        self.model = model if model is not None else load_ranking_model()
        self.state = state if state is not None else SelectionState()
        self.rng = rng if rng is not None else np.random.default_rng()
        self._nodes = self.model.spec.nodes
        unknown = [n for n in self._nodes if n not in taxonomy.nodes]
        if unknown:
            raise InputError(f"ranking model nodes {unknown} are not in the taxonomy")
        self._compiled: CompiledCatalog | None = None

    def compile(self, catalog: Catalog) -> CompiledCatalog:
        """Return ``catalog`` as arrays (cached for the last catalog seen)."""
        if self._compiled is None or self._compiled.catalog is not catalog:
            self._compiled = compile_catalog(catalog, self._nodes, self.engine, self.taxonomy)
        return self._compiled

    def _mode(self, profile: Profile) -> tuple[FallbackCause | None, bool]:
        rules = self.engine.personalization
        if not rules.enabled:
            return FallbackCause.POLICY_OFF, False
        if not self.consent.allows(Purpose.PERSONALIZATION):
            return FallbackCause.NO_CONSENT, False
        styled = Trait.DECISION_STYLE.value in profile.usable and self.engine.may_choose_variant(
            words=profile.words, confidence=profile.decision_style.confidence)
        if Trait.INTERESTS.value not in profile.usable:
            return FallbackCause.NO_EVIDENCE, styled
        return None, styled

    def select(self, profile: Profile, catalog: Catalog, *, k: int, now: datetime | None = None,
               record: bool = True) -> Selection:
        """Pick up to ``k`` items for the person, with a variant and a reason each.

        Parameters
        ----------
        profile : Profile
            The person's current profile.
        catalog : Catalog
            The candidates.
        k : int
            How many items to show (>= 0).
        now : datetime, optional
            Timezone-aware current time (default: the clock).
        record : bool, default True
            Count the picks as impressions (caps, fatigue) and keep their features for
            :meth:`feedback`.

        Returns
        -------
        Selection
            The picks, best first.
        """
        if k < 0:
            raise InputError(f"k must be >= 0, got {k}")
        ts = _timestamp(now)
        rules = self.engine.personalization
        self.state.prune(ts, rules, examples_ttl=self._examples_ttl())
        cause, styled = self._mode(profile)
        if cause is not None and rules.fallback is Fallback.NONE:
            return Selection((), False, cause)
        counts = self.state.counts(ts)
        slots = max(0, min(k, rules.max_per_hour - counts.last_hour,
                           rules.max_per_day - counts.last_day))
        compiled = self.compile(catalog)
        pool = np.flatnonzero(eligible(compiled, self.state, rules, ts))
        if slots == 0 or pool.size == 0:
            return Selection((), cause is None, cause)
        u = interest_vector(profile, self._nodes, self.engine) if cause is None else None
        style = style_signal(profile) if styled else 0.0
        scored = self._score(compiled, pool, u, style)
        choices = []
        picks = pick(compiled, pool, scored.score, slots=slots, state=self.state, rules=rules,
                     now=ts, rng=self.rng)
        for j, explored in picks:
            pos = int(pool[j])
            item = compiled.catalog.items[pos]
            row = int(scored.best[j])
            if explored and scored.styled and self.rng.random() < 0.5:
                row = int(scored.alt[j])  # explore the framing too
            x, sign = scored.rows[row], float(scored.sign[row])
            variant = variant_of(compiled, pos, sign)
            personal = u is not None and not item.sensitive
            reason = self._reason(compiled, pos, u, explored=explored,
                                  styled=styled and not item.sensitive, variant=variant,
                                  cause=cause)
            choices.append(Choice(item, variant, float(scored.score[j]), explored, personal,
                                  reason_text(reason, profile)))
            if record:
                self.state.record_impression(item.id, item.categories, ts,
                                             Pending(tuple(x.tolist()), ts, personal))
        return Selection(tuple(choices), cause is None, cause)

    def _score(self, compiled: CompiledCatalog, pool: npt.NDArray[np.intp],
               u: npt.NDArray[np.float32] | None, style: float) -> Scored:
        limit = max(1, self.engine.personalization.fatigue_after_impressions)
        full = np.zeros(len(compiled.catalog.items), np.float32)
        for item_id, (streak, _) in self.state.streaks.items():
            pos = compiled.positions.get(item_id)
            if pos is not None:
                full[pos] = streak / limit
        fatigue = full[pool]
        u_vec = u if u is not None else np.zeros(len(self._nodes), np.float32)
        return score_pool(self.model, compiled, pool, u_vec, style=style, fatigue=fatigue)

    def scores(self, profile: Profile, catalog: Catalog) -> npt.NDArray[np.float32]:
        """Return the model's score of every item as :meth:`select` would rank it.

        Policy exclusions apply (forbidden categories score NaN; so does everything when the
        fallback is ``none``); caps, fatigue, suppression and exploration do not, so this is
        the ranking to evaluate offline.

        Parameters
        ----------
        profile : Profile
            The person's profile.
        catalog : Catalog
            The candidates.

        Returns
        -------
        numpy.ndarray
            ``[len(catalog)]`` logits of each item's best allowed framing, NaN if excluded.
        """
        compiled = self.compile(catalog)
        out = np.full(len(catalog), np.nan, np.float32)
        cause, styled = self._mode(profile)
        if cause is not None and self.engine.personalization.fallback is Fallback.NONE:
            return out
        pool = np.flatnonzero(compiled.allowed)
        u = interest_vector(profile, self._nodes, self.engine) if cause is None else None
        out[pool] = self._score(compiled, pool, u, style_signal(profile) if styled else 0.0).score
        return out

    def _reason(self, compiled: CompiledCatalog, pos: int, u: npt.NDArray[np.float32] | None,
                *, explored: bool, styled: bool, variant: Variant,
                cause: FallbackCause | None) -> ReasonInput:
        item = compiled.catalog.items[pos]
        basis, path, score, broader = Basis.POPULAR, None, 0.0, None
        if explored:
            basis = Basis.EXPLORATION
        elif item.sensitive:
            basis = Basis.SENSITIVE
        elif u is not None:
            overlap = u * compiled.membership[pos]
            j = int(np.argmax(overlap))
            if overlap[j] > 0:
                basis, path, score = Basis.INTEREST, self.taxonomy.path(self._nodes[j]), float(u[j])
                if compiled.membership[pos, j] < 1.0:
                    broader = compiled.primary_label[pos]
        return ReasonInput(basis, variant, styled, item.sponsored, path, score,
                           self.engine.personalization.exploration_share, cause, broader)

    # feedback and on-device training -------------------------------------------------
    def _examples_ttl(self) -> float:
        return self.engine.retention_ttl(StoredItem.TRAINING_EXAMPLES).total_seconds()

    def feedback(self, item_id: str, *, engaged: bool, dismissed: bool = False,
                 now: datetime | None = None) -> bool:
        """Record what the person did with a shown item.

        Engagement resets the item's fatigue; a dismissal suppresses it for the policy's
        ``dismissal_suppression_hours``. When the item was shown personalized, personalization
        is still consented and the policy keeps training examples, the item's feature row and
        the 0/1 outcome become a local training example (numbers and a timestamp only).

        Parameters
        ----------
        item_id : str
            The id of an item returned by :meth:`select` in the last 24 hours.
        engaged : bool
            Whether the person engaged (clicked, read, bought...).
        dismissed : bool, default False
            Whether the person dismissed it ("not interested").
        now : datetime, optional
            Timezone-aware time of the outcome (default: the clock).

        Returns
        -------
        bool
            Whether a training example was recorded.

        Raises
        ------
        FeedbackError
            If the item was not shown in the last 24 hours (the id is not quoted).
        """
        ts = _timestamp(now)
        pending = self.state.pending.pop(item_id, None)
        if pending is None:
            raise FeedbackError("feedback for an item that was not shown in the last 24 hours")
        self.state.record_outcome(item_id, engaged=engaged, dismissed=dismissed, at=ts)
        keep = (StoredItem.TRAINING_EXAMPLES in self.engine.retention.keep
                and self._examples_ttl() > 0)
        if not (pending.personalized and keep and self.consent.allows(Purpose.PERSONALIZATION)):
            return False
        self.state.examples.append(TrainingExample(pending.x, 1.0 if engaged else 0.0, ts))
        return True

    def train_from_feedback(self, *, learning_rate: float = 0.5, l2: float = 0.01,
                            epochs: int = 3, batch_size: int = 32,
                            only_new: bool = True) -> TrainingReport:
        """Train the ranking model on the local examples with its own ``train`` signature.

        Parameters
        ----------
        learning_rate : float, default 0.5
            SGD step size.
        l2 : float, default 0.01
            Pull towards the shipped prior weights.
        epochs : int, default 3
            Passes over the examples.
        batch_size : int, default 32
            Rows per step.
        only_new : bool, default True
            Train only on examples not trained on before (then mark them trained).

        Returns
        -------
        TrainingReport
            Examples used, steps and the loss before and after.

        Raises
        ------
        ConsentError
            When the personalization opt-in is missing or was revoked: learning from the
            person's engagement stops at once, and the kept examples are dropped.
        """
        if not self.consent.allows(Purpose.PERSONALIZATION):
            self.state.examples = []
            self.consent.check(Purpose.PERSONALIZATION)  # raises ConsentError with the reason
        chosen = [e for e in self.state.examples if not (only_new and e.trained)]
        report = train_examples(self.model, chosen, learning_rate=learning_rate, l2=l2,
                                epochs=epochs, batch_size=batch_size)
        self.state.examples = [TrainingExample(e.x, e.y, e.at, True) for e in self.state.examples]
        return report
