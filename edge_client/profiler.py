"""``EdgeProfiler``: observe a person's text on the device, return their profile, explain it."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING

from edge_client.arguments import enum_member, enum_members, integer_in_range, number_in_range
from edge_client.behaviour.counts import BehaviourCounts
from edge_client.behaviour.fusion import FusedInterests, fuse_interests
from edge_client.errors import ArgumentError, InputError, ModelError
from edge_client.models import LiteModel, ModelName, load_model
from edge_client.policy.consent import ConsentState
from edge_client.policy.engine import PolicyEngine
from edge_client.policy.errors import PolicyError
from edge_client.policy.loader import load_policy
from edge_client.policy.model import Policy, Purpose, Signal, Trait
from edge_client.policy.presets import Preset
from edge_client.profile import (
    MIN_INTEREST_SCORE,
    THIN_EVIDENCE_WORDS,
    DecisionStyle,
    Evidence,
    Interest,
    Profile,
    evidence_for,
)
from edge_client.taxonomy import Taxonomy, load_taxonomy
from edge_client.text.features import TextCounts, UnigramArrays, cdi, extract_prepared
from edge_client.text.hashing import HashedInput, hashed_input, prepared_input
from edge_client.text.language import TextLanguage, check_language, text_language

if TYPE_CHECKING:
    from edge_client.behaviour.events import BehaviourEvent
    from edge_client.behaviour.recorder import RecordResult
    from edge_client.explain import Explanation
    from edge_client.selection.catalog import Catalog
    from edge_client.selection.feed import PersonalizedFeed
    from edge_client.selection.result import Selection

__all__ = ["MAX_TEXT_CHARS", "EdgeProfiler"]

MAX_TEXT_CHARS = 20_000_000
"""Longest single text :meth:`EdgeProfiler.observe` accepts (about 3 million words)."""

_NOTHING_FUSED = FusedInterests({}, {})  # never mutated: shared by every profile without text
# The counts of a profiler that observed nothing since its last reset, shared and never
# mutated: a reset costs no allocation, and the first text's counts are adopted as they are.
_NO_COUNTS = TextCounts()
_NO_WORDS_NOTE = "No words observed yet: not enough evidence to infer anything."
_NO_CONSENT_NOTE = (
    "Profiling consent is not given (or was withdrawn): nothing is inferred and what was "
    "observed before has been discarded."
)


class EdgeProfiler:
    """On-device profiler of decision style and interests, bounded by a privacy policy.

    The profiler keeps running counts of the text it observes (word categories, hashed
    n-grams), never the text. Each :meth:`profile` call runs the shipped LiteRT models on
    those counts, so many short texts and one long text with the same sentences give the
    same profile. The policy decides which inputs may be profiled, which traits may be
    inferred and from how much evidence, and which interest categories must never appear
    (by default the GDPR Art. 9 special categories and their descendants), whatever the
    models output.

    Parameters
    ----------
    policy : Policy, Preset, str or pathlib.Path, optional
        The policy in force (default: the ``default`` preset). A preset's name
        (``"strict"``) or a TOML path is loaded with :func:`~edge_client.policy.load_policy`.
    consent : ConsentState or iterable of Purpose, optional
        The person's opt-ins, as :class:`~edge_client.policy.Purpose` members or their
        names (``["profiling"]``). Under the default policy profiling needs an explicit
        opt-in, so without ``consent`` :meth:`observe` refuses. A shared
        :class:`ConsentState` lets the app revoke a purpose for every component at once.
    model_dir : pathlib.Path or str, optional
        Directory with ``style.tflite``/``interests.tflite`` and sidecars (default: packaged).
    taxonomy : Taxonomy, optional
        Interest taxonomy (default: the packaged IAB-based one).

    Raises
    ------
    ArgumentError
        When an argument has the wrong type or names an unknown purpose.
    PolicyError
        When ``policy`` names a file that is missing or invalid.
    ConsentError
        When ``consent`` grants a purpose the policy does not allow.

    Examples
    --------
    >>> from edge_client.policy import Purpose
    >>> profiler = EdgeProfiler(consent=[Purpose.PROFILING])
    >>> profiler.observe("I compared the specifications of both engines before buying.")
    >>> profiler.profile().evidence.value
    'thin'
    """

    def __init__(
        self,
        *,
        policy: Policy | Preset | str | Path | None = None,
        consent: ConsentState | Iterable[Purpose] | Iterable[str] | Purpose | None = None,
        model_dir: Path | str | None = None,
        taxonomy: Taxonomy | None = None,
    ) -> None:
        if taxonomy is not None and not isinstance(taxonomy, Taxonomy):
            raise ArgumentError(
                "EdgeProfiler(taxonomy): expected a Taxonomy "
                f"(edge_client.taxonomy.load_taxonomy), got {type(taxonomy).__name__}"
            )
        if model_dir is not None and not isinstance(model_dir, str | Path):
            raise ArgumentError(
                f"EdgeProfiler(model_dir): expected a folder path, got {type(model_dir).__name__}"
            )
        granted: tuple[Purpose, ...] = ()
        if consent is not None and not isinstance(consent, ConsentState):
            # Checked before any model loads, so a wrong argument fails at once.
            granted = enum_members(Purpose, consent, name="EdgeProfiler(consent)")
        self._taxonomy = taxonomy if taxonomy is not None else load_taxonomy()
        self._policy = self._policy_argument(policy)
        self._engine = PolicyEngine(self._policy, self._taxonomy)
        if isinstance(consent, ConsentState):
            self._consent = consent
        else:
            self._consent = self._engine.consent_state(granted)
        folder = Path(model_dir) if model_dir is not None else None
        self._style = load_model(ModelName.STYLE, folder)
        self._interests = load_model(ModelName.INTERESTS, folder)
        label_nodes = self._taxonomy.label_nodes()
        if tuple(self._interests.spec.labels) != tuple(self._taxonomy.labels):
            raise ModelError("interest model labels do not match the taxonomy's labels")
        self._label_nodes = label_nodes
        self._one_label_per_node = len(set(label_nodes)) == len(label_nodes)
        self._paths = {node: self._taxonomy.path(node) for node in set(label_nodes)}
        # The policy and taxonomy are fixed: what each profile asks of them is looked up once.
        allowed = [
            i for i, node in enumerate(label_nodes) if self._engine.is_interest_allowed(node)
        ]
        self._allowed_labels = tuple(allowed)  # positions of the labels the policy allows
        self._allowed_nodes = tuple(label_nodes[i] for i in allowed)
        rules = self._policy.inference
        self._floor = max(rules.interests.min_confidence, MIN_INTEREST_SCORE)
        self._max_interests = rules.max_interests
        self._signals = {signal: self._engine.is_signal_allowed(signal) for signal in Signal}
        self._bigrams = self._style.spec.bigrams or self._interests.spec.bigrams
        self._shared_input = self._style.spec.bigrams == self._interests.spec.bigrams
        self._counts = _NO_COUNTS
        self._fresh = True  # nothing observed since the last reset: a new text is adopted
        # The adopted text's unigrams as arrays, while the counts are that text's alone.
        self._unigram_arrays: UnigramArrays | None = None
        self._behaviour = BehaviourCounts()
        self._fused = _NOTHING_FUSED
        self._cached: Profile | None = None
        self._feed: PersonalizedFeed | None = None

    @staticmethod
    def _policy_argument(policy: object) -> Policy:
        if policy is None:
            return load_policy(Preset.DEFAULT)
        if isinstance(policy, Policy):
            return policy
        if isinstance(policy, Preset | str | Path):
            return load_policy(policy)
        raise ArgumentError(
            f"EdgeProfiler(policy): expected a Policy, a preset name or a policy file path, got "
            f"{type(policy).__name__} (e.g. policy='strict' or policy=load_policy(path))"
        )

    @property
    def style_model(self) -> LiteModel:
        """The decision-style model (for on-device training and weight exchange)."""
        return self._style

    @property
    def interest_model(self) -> LiteModel:
        """The interest model (for on-device training and weight exchange)."""
        return self._interests

    @property
    def policy(self) -> Policy:
        """The policy in force."""
        return self._policy

    @property
    def taxonomy(self) -> Taxonomy:
        """The interest taxonomy in use."""
        return self._taxonomy

    @property
    def engine(self) -> PolicyEngine:
        """The policy engine enforcing the policy in force."""
        return self._engine

    @property
    def consent(self) -> ConsentState:
        """The person's consent state (grant or revoke purposes here)."""
        return self._consent

    @property
    def counts(self) -> TextCounts:
        """A copy of the running counts behind the profile."""
        return self._counts.copy()

    def observe(self, text: str, *, signal: Signal | str = Signal.POST_TEXT) -> None:
        """Add one text (a post, a comment, a review) to the profile.

        Parameters
        ----------
        text : str
            The person's own words. Empty text is accepted and changes nothing.
        signal : Signal or str, default Signal.POST_TEXT
            Where the text comes from (a :class:`~edge_client.policy.Signal` or its name,
            such as ``"review_text"``); the policy lists which sources may be profiled.

        Raises
        ------
        InputError
            If ``text`` is not a ``str`` or is longer than :data:`MAX_TEXT_CHARS`.
        ConsentError
            If profiling is not allowed now (no opt-in, or withdrawn); nothing is recorded.
        PolicyError
            If the policy forbids profiling this kind of input.
        """
        if type(signal) is not Signal:  # a name: checked and converted
            signal = enum_member(Signal, signal, name="observe(signal)")
        self._require_profiling()
        if not self._signals[signal]:
            raise PolicyError(
                f"policy {self._policy.policy.name!r} does not allow profiling {signal.value!r} "
                "(signals.allowed / signals.forbidden)"
            )
        if not isinstance(text, str):
            raise InputError(
                f"text must be str, got {type(text).__name__}"
                + (" (decode bytes as UTF-8 first)" if isinstance(text, bytes | bytearray) else "")
            )
        if len(text) > MAX_TEXT_CHARS:
            raise InputError(
                f"text has {len(text):,} characters; at most {MAX_TEXT_CHARS:,} per observation "
                "(split it into several texts)"
            )
        counts, arrays = extract_prepared(text, bigrams=self._bigrams)
        if self._fresh:  # nobody else holds these counts: adopt them instead of copying
            self._counts, self._fresh, self._cached = counts, False, None
            self._unigram_arrays = arrays
        else:
            self.observe_counts(counts)

    def observe_many(
        self, texts: Iterable[str], *, signal: Signal | str = Signal.POST_TEXT
    ) -> None:
        """Observe several texts in order.

        Raises
        ------
        ArgumentError
            When ``texts`` is a single string (pass ``[text]`` or use :meth:`observe`).
        """
        if isinstance(texts, str | bytes | bytearray):
            raise ArgumentError(
                "observe_many(texts): expected several texts (a list of str), got one "
                f"{type(texts).__name__}; use observe(text) for a single text"
            )
        for text in texts:
            self.observe(text, signal=signal)

    def record(self, event: BehaviourEvent) -> RecordResult:
        """Count one first-party behaviour event (a view, purchase, session, device, context).

        Each kind is a policy signal (``content_categories_viewed``, ``purchases``,
        ``engagement_time``, ``device``, ``context``). Only decayed counts are kept, never
        the event; categories the policy forbids (GDPR Art. 9 and their descendants) are
        dropped before anything is counted. Views and purchases move interest scores
        together with the person's words; see :mod:`edge_client.behaviour`.

        Parameters
        ----------
        event : View, Purchase, Session, DeviceUse or ContextEvent
            The event (:mod:`edge_client.behaviour`).

        Returns
        -------
        RecordResult
            Whether anything was counted and how many categories the policy dropped.

        Raises
        ------
        ConsentError
            If profiling is not allowed now; nothing is recorded.
        ForbiddenSignalError
            If the policy forbids the event's signal; nothing is recorded.
        BehaviourError, ArgumentError
            If the event is malformed or names an unknown category; nothing is recorded.
        """
        from edge_client.behaviour.recorder import record_event  # events: only when recorded

        self._require_profiling()
        result = record_event(
            self._behaviour,
            event,
            engine=self._engine,
            taxonomy=self._taxonomy,
            consent=self._consent,
        )
        self._cached = None
        return result

    def note_engagement(self, categories: tuple[str, ...], *, at: datetime) -> int:
        """Count engagement with a shown item by time of day and device class.

        Kept only where the policy allows ``context`` (time of day) or ``device`` (device
        class) and profiling is consented; forbidden categories are skipped. Interests do
        not move (engagement is not a view). Returns how many counts were added.
        """
        from edge_client.behaviour.recorder import record_engagement

        if not self._consent.allows(Purpose.PROFILING):
            return 0
        return record_engagement(
            self._behaviour, categories, engine=self._engine, at=at, device=None
        )

    @property
    def behaviour(self) -> BehaviourCounts:
        """A copy of the behaviour counts behind the profile."""
        return self._behaviour.copy()

    def observe_behaviour(self, counts: BehaviourCounts) -> None:
        """Add already-counted behaviour (e.g. restored from the device's store).

        Raises
        ------
        ConsentError
            If profiling is not allowed now.
        """
        self._require_profiling()
        self._behaviour.merge(counts)
        self._cached = None

    def observe_counts(self, counts: TextCounts) -> None:
        """Add already-extracted counts (e.g. restored from the device's store).

        Raises
        ------
        ConsentError
            If profiling is not allowed now.
        """
        self._require_profiling()
        self._own_counts().add(counts)
        self._fresh = False
        self._cached = None

    def _require_profiling(self) -> None:
        if not self._consent.allows(Purpose.PROFILING):
            self.reset()
            self._consent.check(Purpose.PROFILING)  # raises ConsentError with the reason

    def _own_counts(self) -> TextCounts:
        """The running counts, made this profiler's own before they are changed in place."""
        self._unigram_arrays = None  # the counts are about to change
        if self._counts is _NO_COUNTS:
            self._counts = TextCounts()
        return self._counts

    def reset(self) -> None:
        """Forget everything observed (text counts and behaviour counts)."""
        self._counts = _NO_COUNTS
        self._fresh = True
        self._unigram_arrays = None
        self._behaviour.clear()
        self._cached = None

    def decay(self, factor: float) -> None:
        """Multiply all counts by ``factor`` in [0, 1] (older evidence weighs less).

        Raises
        ------
        ArgumentError
            When ``factor`` is not a number in [0, 1] (1 keeps everything, 0 forgets).
        """
        factor = number_in_range(
            factor,
            name="decay(factor)",
            low=0.0,
            high=1.0,
            hint="1 keeps everything, 0 forgets all",
        )
        self._own_counts().scale(factor)
        self._fresh = False
        self._behaviour.scale(factor)
        self._cached = None

    def profile(self) -> Profile:
        """The current profile.

        Returns
        -------
        Profile
            Decision style with confidence, CDI and interests; with no words, an explicit
            "not enough evidence" profile with nothing inferred.
        """
        if not self._consent.allows(Purpose.PROFILING):
            self.reset()
            return Profile(
                0, Evidence.NONE, DecisionStyle(None, 0.0), None, (), (_NO_CONSENT_NOTE,)
            )
        if self._cached is None:
            self._cached = self._compute()
        return self._cached

    @property
    def feed(self) -> PersonalizedFeed:
        """The on-device selector bound to this profiler (created on first use)."""
        if self._feed is None:
            from edge_client.selection.feed import PersonalizedFeed

            self._feed = PersonalizedFeed(self)
        return self._feed

    def select(self, catalog: Catalog, *, k: int, now: datetime | None = None) -> Selection:
        """Pick up to ``k`` items of ``catalog`` for this person, on the device.

        Forbidden categories are excluded, caps, fatigue and exploration applied, the
        variant chosen by decision style only where the policy allows it, and generic
        content shown when evidence or the personalization opt-in is missing. Every
        choice carries a plain-words reason. See :class:`edge_client.selection.Selector`.

        Parameters
        ----------
        catalog : Catalog
            The candidates (:func:`~edge_client.selection.load_catalog`,
            :func:`~edge_client.selection.parse_catalog`).
        k : int
            How many items to pick (at least 1).
        now : datetime, optional
            Timezone-aware current time (default: the clock).

        Raises
        ------
        ArgumentError
            When ``catalog`` is not a :class:`~edge_client.selection.Catalog`, ``k`` is not
            a positive integer or ``now`` is not a timezone-aware datetime.
        """
        from edge_client.selection.catalog import Catalog

        if not isinstance(catalog, Catalog):
            raise ArgumentError(
                f"select(catalog): expected a Catalog, got {type(catalog).__name__}; load one with "
                "edge_client.selection.load_catalog(path) or parse_catalog(text)"
            )
        k = integer_in_range(k, name="select(k)", low=1)
        return self.feed.select(catalog, k=k, now=_moment(now))

    def feedback(
        self, item_id: str, *, engaged: bool, dismissed: bool = False, now: datetime | None = None
    ) -> bool:
        """Record whether the person engaged with a shown item (a local training example).

        Parameters
        ----------
        item_id : str
            The ``id`` of an item shown by :meth:`select`.
        engaged : bool
            Whether the person engaged with it.
        dismissed : bool, default False
            Whether the person dismissed it (suppressed for a while).
        now : datetime, optional
            Timezone-aware current time (default: the clock).

        Returns
        -------
        bool
            Whether a training example was kept (only for personalized picks, with consent).

        Raises
        ------
        ArgumentError
            When an argument has the wrong type.
        FeedbackError
            When ``item_id`` was not shown recently.
        """
        if not isinstance(item_id, str):
            raise ArgumentError(
                "feedback(item_id): expected the str id of a shown item, got "
                f"{type(item_id).__name__} (e.g. selection.choices[0].item.id)"
            )
        for name, flag in (("engaged", engaged), ("dismissed", dismissed)):
            if not isinstance(flag, bool):
                raise ArgumentError(
                    f"feedback({name}): expected True or False, got {type(flag).__name__}"
                )
        return self.feed.feedback(item_id, engaged=engaged, dismissed=dismissed, now=_moment(now))

    def explain(self, *, top: int = 8) -> Explanation:
        """Which signals drove the current profile, in plain words.

        Parameters
        ----------
        top : int, default 8
            How many signals and words to list per part (at least 1).

        Raises
        ------
        ArgumentError
            When ``top`` is not a positive integer.
        """
        from edge_client.explain import explain_profile  # only when asked: light start-up

        top = integer_in_range(top, name="explain(top)", low=1)
        profile = self.profile()
        behaviour = tuple(
            (i.id, self._fused.sources[i.id].describe())
            for i in profile.interests
            if i.id in self._fused.sources and self._fused.sources[i.id].describe()
        )
        return explain_profile(
            profile,
            self._counts,
            self._style,
            self._interests,
            self._taxonomy,
            top=top,
            behaviour=behaviour,
        )

    def _prepared(self, counts: TextCounts) -> HashedInput:
        """The style model's hashed input of ``counts`` (the interest model's too, if shared).

        While the counts are one adopted text's, its unigram arrays are used as they are
        (the same keys, in the same order, as converting ``counts.unigrams``).
        """
        arrays = self._unigram_arrays
        if arrays is not None and not self._bigrams:  # the models read unigrams only
            return prepared_input(*arrays)
        return hashed_input(self._style.spec.bags(counts))

    def _compute(self) -> Profile:
        counts = self._counts
        words = round(counts.words)
        evidence = evidence_for(counts.words)
        # The verdict alone for English (the usual case); the whole check only for its note.
        language = text_language(counts)
        readable = language is TextLanguage.ENGLISH
        # Words the models may read: English prose. Other text is counted but not read.
        text = evidence is not Evidence.NONE and readable
        self._fused = _NOTHING_FUSED
        notes: list[str] = []
        if not readable:
            observed = counts.words or counts.emoji or counts.symbols or counts.sentences
            notes.append(check_language(counts).note() if observed else _NO_WORDS_NOTE)
            if not self._behaviour:
                return Profile(
                    words=words,
                    evidence=evidence,
                    decision_style=DecisionStyle(None, 0.0),
                    cdi=None,
                    interests=(),
                    notes=tuple(notes),
                    language=language,
                )
        rules = self._policy.inference
        usable: set[str] = set()
        # Both models read the same hashed counts (unigrams): converted once, folded twice.
        prepared = self._prepared(counts) if text else None
        if rules.decision_style.allowed and prepared is None:
            style = DecisionStyle(None, 0.0)
        elif rules.decision_style.allowed and prepared is not None:
            analytical = float(self._style.predict_input(prepared)[0, 0])
            weight = counts.words / (counts.words + THIN_EVIDENCE_WORDS)
            confidence = weight * abs(2.0 * analytical - 1.0)
            style = DecisionStyle(round(analytical, 6), round(float(confidence), 6))
            if self._engine.may_use_trait(Trait.DECISION_STYLE, words=words, confidence=confidence):
                usable.add(Trait.DECISION_STYLE.value)
        else:
            style = DecisionStyle(None, 0.0)
            notes.append("The policy does not allow inferring decision style.")
        interests: tuple[Interest, ...] = ()
        best = 0.0
        if rules.interests.allowed:
            if prepared is not None and not self._shared_input:
                prepared = hashed_input(self._interests.spec.bags(counts))
            interests, best, note = self._interests_of(counts.words, prepared)
            if note:
                notes.append(note)
            if interests and self._engine.may_use_trait(
                Trait.INTERESTS, words=words, confidence=best
            ):
                usable.add(Trait.INTERESTS.value)
        else:
            notes.append("The policy does not allow inferring interests.")
        if evidence is Evidence.THIN and text:
            notes.append(
                f"Only {words} words: the evidence is thin (about {THIN_EVIDENCE_WORDS} words "
                "are needed for the published accuracy); treat the scores as weak."
            )
        return Profile(
            words=words,
            evidence=evidence,
            decision_style=style,
            cdi=round(cdi(counts), 4) if text else None,
            interests=interests,
            notes=tuple(notes),
            usable=frozenset(usable),
            language=language,
            interest_confidence=round(best, 6),
        )

    def _interests_of(
        self, words: float, prepared: HashedInput | None
    ) -> tuple[tuple[Interest, ...], float, str]:
        """Confident allowed interests, the best allowed score, and a note when none is clear.

        The text model's calibrated probabilities of the prepared hashed counts of ``words``
        words of text (none when ``prepared`` is ``None``) are
        summed per taxonomy node and fused with the behaviour counts; the policy engine drops
        forbidden categories (and descendants) whatever the model says and keeps its top N;
        only interests at least as likely as the policy's ``min_confidence`` (and
        :data:`~edge_client.profile.MIN_INTEREST_SCORE`) are listed, so a profile never
        lists noise.
        """
        by_node: dict[str, float] = {}
        if prepared is not None:
            probs = self._interests.predict_input(prepared)[0].tolist()
            if self._one_label_per_node and not self._behaviour:
                found = self._text_interests(probs)
                if found is not None:
                    # Text alone: no interest has behaviour behind it for explain() to name.
                    self._fused = _NOTHING_FUSED
                    return found
            if self._one_label_per_node:
                by_node = dict(zip(self._label_nodes, probs, strict=True))
            else:
                for node, p in zip(self._label_nodes, probs, strict=True):
                    by_node[node] = by_node.get(node, 0.0) + p
        # Behaviour hook: views and purchases join the words (edge_client.behaviour).
        self._fused = fuse_interests(
            by_node,
            self._behaviour,
            words=words if prepared is not None else 0.0,
            taxonomy=self._taxonomy,
        )
        # Allowed, finite scores, best first (the engine's filter guarantees all three).
        allowed = self._engine.filter_interests(self._fused.scores)
        best = next(iter(allowed.values()), 0.0)
        floor = self._floor
        listed = tuple(
            Interest(node, self._paths.get(node) or self._taxonomy.path(node), score)
            for node, score in allowed.items()
            if score >= floor
        )
        if listed or not allowed:
            return listed, best, ""
        return (), best, _no_clear_interest(floor, best)

    def _text_interests(self, probs: list[float]) -> tuple[tuple[Interest, ...], float, str] | None:
        """What :meth:`_interests_of` returns for text alone, one node per label.

        Without behaviour the fused scores are the probabilities themselves, so only the
        labels the policy allows are read, and only those that reach the floor are ranked
        (highest first, ties by node id, top ``max_interests``): the engine's ranking of
        every allowed node, cut to the same list. ``None`` leaves the cases that ranking
        decides differently to the general path: no allowed label, a ``max_interests``
        below 1, a score that is not finite, or a best score of zero (whose sign the full
        ranking picks).
        """
        scores = [probs[i] for i in self._allowed_labels]
        if not scores or self._max_interests < 1 or not math.isfinite(sum(scores)):
            return None
        best = max(scores)
        if best == 0.0:
            return None
        floor = self._floor
        kept = [
            (node, score)
            for node, score in zip(self._allowed_nodes, scores, strict=True)
            if score >= floor
        ]
        if not kept:
            return (), best, _no_clear_interest(floor, best)
        kept.sort(key=itemgetter(0))
        kept.sort(key=itemgetter(1), reverse=True)
        paths = self._paths
        listed = tuple(
            Interest(node, paths[node], score) for node, score in kept[: self._max_interests]
        )
        return listed, best, ""


def _no_clear_interest(floor: float, best: float) -> str:
    """The note of a profile whose best allowed interest does not reach the floor."""
    return (
        f"No clear interest: no category the policy allows reaches a score of {floor:.2f} "
        f"(the best reaches {best:.2f}), so none is listed."
    )


def _moment(now: object) -> datetime | None:
    """Check a ``now`` argument: ``None`` or a timezone-aware datetime."""
    if now is None:
        return None
    if not isinstance(now, datetime) or now.tzinfo is None:
        kind = "naive datetime" if isinstance(now, datetime) else type(now).__name__
        raise ArgumentError(
            f"now: expected None or a timezone-aware datetime, got {kind} "
            "(e.g. datetime.now(timezone.utc))"
        )
    return now
