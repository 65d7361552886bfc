"""``EdgeProfiler``: observe a person's text on the device, return their profile, explain it."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from edge_client.errors import InputError, ModelError
from edge_client.explain import Explanation, explain_profile
from edge_client.models import LiteModel, ModelName, load_model
from edge_client.policy.consent import ConsentState
from edge_client.policy.engine import PolicyEngine
from edge_client.policy.errors import PolicyError
from edge_client.policy.model import Policy, Purpose, Signal, Trait
from edge_client.policy.presets import Preset, load_preset
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
from edge_client.text.features import TextCounts, cdi, extract
from edge_client.text.language import check_language

if TYPE_CHECKING:
    from edge_client.selection.catalog import Catalog
    from edge_client.selection.feed import PersonalizedFeed
    from edge_client.selection.result import Selection

__all__ = ["MAX_TEXT_CHARS", "EdgeProfiler"]

MAX_TEXT_CHARS = 20_000_000
"""Longest single text :meth:`EdgeProfiler.observe` accepts (about 3 million words)."""

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
    policy : Policy, optional
        The policy in force (default: the ``default`` preset).
    consent : ConsentState or iterable of Purpose, optional
        The person's opt-ins. Under the default policy profiling needs an explicit opt-in,
        so without ``consent`` :meth:`observe` refuses. A shared :class:`ConsentState`
        lets the app revoke a purpose for every component at once.
    model_dir : pathlib.Path, optional
        Directory with ``style.tflite``/``interests.tflite`` and sidecars (default: packaged).
    taxonomy : Taxonomy, optional
        Interest taxonomy (default: the packaged IAB-based one).

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
        policy: Policy | None = None,
        consent: ConsentState | Iterable[Purpose] | None = None,
        model_dir: Path | None = None,
        taxonomy: Taxonomy | None = None,
    ) -> None:
        self._taxonomy = taxonomy if taxonomy is not None else load_taxonomy()
        self._policy = policy if policy is not None else load_preset(Preset.DEFAULT)
        self._engine = PolicyEngine(self._policy, self._taxonomy)
        if isinstance(consent, ConsentState):
            self._consent = consent
        else:
            self._consent = self._engine.consent_state(consent or ())
        self._style = load_model(ModelName.STYLE, model_dir)
        self._interests = load_model(ModelName.INTERESTS, model_dir)
        label_nodes = self._taxonomy.label_nodes()
        if tuple(self._interests.spec.labels) != tuple(self._taxonomy.labels):
            raise ModelError("interest model labels do not match the taxonomy's labels")
        self._label_nodes = label_nodes
        self._paths = {node: self._taxonomy.path(node) for node in set(label_nodes)}
        self._bigrams = self._style.spec.bigrams or self._interests.spec.bigrams
        self._counts = TextCounts()
        self._cached: Profile | None = None
        self._feed: PersonalizedFeed | None = None

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

    def observe(self, text: str, *, signal: Signal = Signal.POST_TEXT) -> None:
        """Add one text (a post, a comment, a review) to the profile.

        Parameters
        ----------
        text : str
            The person's own words. Empty text is accepted and changes nothing.
        signal : Signal, default Signal.POST_TEXT
            Where the text comes from; the policy lists which sources may be profiled.

        Raises
        ------
        InputError
            If ``text`` is not a ``str`` or is longer than :data:`MAX_TEXT_CHARS`.
        ConsentError
            If profiling is not allowed now (no opt-in, or withdrawn); nothing is recorded.
        PolicyError
            If the policy forbids profiling this kind of input.
        """
        self._require_profiling()
        if not self._engine.is_signal_allowed(signal):
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
        self.observe_counts(extract(text, bigrams=self._bigrams))

    def observe_many(self, texts: Iterable[str], *, signal: Signal = Signal.POST_TEXT) -> None:
        """Observe several texts in order."""
        for text in texts:
            self.observe(text, signal=signal)

    def observe_counts(self, counts: TextCounts) -> None:
        """Add already-extracted counts (e.g. restored from the device's store).

        Raises
        ------
        ConsentError
            If profiling is not allowed now.
        """
        self._require_profiling()
        self._counts.add(counts)
        self._cached = None

    def _require_profiling(self) -> None:
        if not self._consent.allows(Purpose.PROFILING):
            self.reset()
            self._consent.check(Purpose.PROFILING)  # raises ConsentError with the reason

    def reset(self) -> None:
        """Forget everything observed."""
        self._counts = TextCounts()
        self._cached = None

    def decay(self, factor: float) -> None:
        """Multiply all counts by ``factor`` in [0, 1] (older evidence weighs less)."""
        self._counts.scale(factor)
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
        """
        return self.feed.select(catalog, k=k, now=now)

    def feedback(
        self, item_id: str, *, engaged: bool, dismissed: bool = False, now: datetime | None = None
    ) -> bool:
        """Record whether the person engaged with a shown item (a local training example).

        Returns
        -------
        bool
            Whether a training example was kept (only for personalized picks, with consent).
        """
        return self.feed.feedback(item_id, engaged=engaged, dismissed=dismissed, now=now)

    def explain(self, *, top: int = 8) -> Explanation:
        """Which signals drove the current profile, in plain words.

        Parameters
        ----------
        top : int, default 8
            How many signals and words to list per part.
        """
        return explain_profile(
            self.profile(), self._counts, self._style, self._interests, self._taxonomy, top=top
        )

    def _compute(self) -> Profile:
        counts = self._counts
        words = round(counts.words)
        evidence = evidence_for(counts.words)
        language = check_language(counts)
        if not language.readable:
            observed = counts.words or counts.emoji or counts.symbols or counts.sentences
            note = language.note() if observed else _NO_WORDS_NOTE
            return Profile(
                words=words,
                evidence=evidence,
                decision_style=DecisionStyle(None, 0.0),
                cdi=None,
                interests=(),
                notes=(note,),
                language=language.language,
            )
        rules = self._policy.inference
        notes: list[str] = []
        usable: set[str] = set()
        if rules.decision_style.allowed:
            analytical = float(self._style.predict([counts])[0, 0])
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
            interests, best, note = self._interests_of(counts)
            if note:
                notes.append(note)
            if interests and self._engine.may_use_trait(
                Trait.INTERESTS, words=words, confidence=best
            ):
                usable.add(Trait.INTERESTS.value)
        else:
            notes.append("The policy does not allow inferring interests.")
        if evidence is Evidence.THIN:
            notes.append(
                f"Only {words} words: the evidence is thin (about {THIN_EVIDENCE_WORDS} words "
                "are needed for the published accuracy); treat the scores as weak."
            )
        return Profile(
            words=words,
            evidence=evidence,
            decision_style=style,
            cdi=round(cdi(counts), 4),
            interests=interests,
            notes=tuple(notes),
            usable=frozenset(usable),
            interest_confidence=round(best, 6),
        )

    def _interests_of(self, counts: TextCounts) -> tuple[tuple[Interest, ...], float, str]:
        """Confident allowed interests, the best allowed score, and a note when none is clear.

        The model's calibrated probabilities are summed per taxonomy node; the policy engine
        drops forbidden categories (and descendants) whatever the model says and keeps its
        top N; only interests at least as likely as the policy's ``min_confidence`` (and
        :data:`MIN_INTEREST_SCORE`) are listed, so a profile never lists noise.
        """
        probs = self._interests.predict([counts])[0]
        by_node: dict[str, float] = {}
        for node, p in zip(self._label_nodes, probs.tolist(), strict=True):
            by_node[node] = by_node.get(node, 0.0) + p
        allowed = {
            node: score
            for node, score in self._engine.filter_interests(by_node).items()
            if math.isfinite(score)
        }
        best = max(allowed.values(), default=0.0)
        floor = max(self._policy.inference.interests.min_confidence, MIN_INTEREST_SCORE)
        listed = tuple(
            Interest(node, self._paths[node], score)
            for node, score in allowed.items()
            if score >= floor
        )
        if listed:
            return listed, best, ""
        return (
            (),
            best,
            f"No clear interest: no category the policy allows reaches a score of {floor:.2f} "
            f"(the best reaches {best:.2f}), so none is listed.",
        )
