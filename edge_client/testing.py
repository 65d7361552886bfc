"""A test double of :class:`~edge_client.profiler.EdgeProfiler` for app developers' tests.

:class:`FakeEdgeProfiler` has the same public methods as the real profiler but loads no
model and needs no runtime: the app under test scripts the profile it should see, and can
check how many texts and words it fed in (never the texts: the double keeps no text
either, so tests written against it cannot depend on behaviour the real one lacks).

Examples
--------
>>> from edge_client.testing import FakeEdgeProfiler, make_profile
>>> fake = FakeEdgeProfiler(make_profile(analytical=0.9, words=500,
...                                      interests={"545": 0.7}))
>>> fake.observe("any text")
>>> fake.profile().decision_style.leaning
'analytical'
>>> fake.observed_texts
1
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from edge_client.behaviour.events import BehaviourEvent
from edge_client.behaviour.recorder import RecordResult, check_event
from edge_client.errors import InputError
from edge_client.explain import Explanation
from edge_client.profile import (
    THIN_EVIDENCE_WORDS,
    DecisionStyle,
    Evidence,
    Interest,
    Profile,
    evidence_for,
)
from edge_client.profiler import MAX_TEXT_CHARS
from edge_client.taxonomy import Taxonomy, load_taxonomy

__all__ = ["FakeEdgeProfiler", "make_profile"]


def make_profile(
    *,
    analytical: float | None = 0.5,
    words: int = THIN_EVIDENCE_WORDS,
    interests: Mapping[str, float] | None = None,
    cdi: float | None = 30.0,
    taxonomy: Taxonomy | None = None,
) -> Profile:
    """Build a valid :class:`Profile` for tests.

    Parameters
    ----------
    analytical : float or None, default 0.5
        Probability of the analytical end, in [0, 1].
    words : int, default 300
        Words the profile claims to rest on (sets evidence and confidence as the real
        profiler would).
    interests : mapping of str to float, optional
        Taxonomy node id → score in [0, 1]; labels come from the taxonomy.
    cdi : float or None, default 30.0
        Categorical-Dynamic Index to report.
    taxonomy : Taxonomy, optional
        Taxonomy used to label interests (default: packaged).

    Returns
    -------
    Profile
        Interests sorted best first.

    Raises
    ------
    ValueError
        If a score is outside [0, 1], ``words`` is negative or a node id is unknown.
    """
    if words < 0:
        raise ValueError(f"words must be >= 0, got {words}")
    if analytical is not None and not 0.0 <= analytical <= 1.0:
        raise ValueError(f"analytical must be in [0, 1], got {analytical}")
    tax = taxonomy if taxonomy is not None else load_taxonomy()
    items = []
    for node, score in (interests or {}).items():
        if not 0.0 <= score <= 1.0:
            raise ValueError(f"interest score for {node!r} must be in [0, 1], got {score}")
        items.append(Interest(node, tax.path(node), float(score)))
    items.sort(key=lambda i: (-i.score, i.id))
    evidence = evidence_for(words)
    if evidence is Evidence.NONE or analytical is None:
        style = DecisionStyle(None, 0.0)
    else:
        weight = words / (words + THIN_EVIDENCE_WORDS)
        style = DecisionStyle(analytical, weight * abs(2 * analytical - 1))
    notes: tuple[str, ...] = ()
    if evidence is Evidence.THIN:
        notes = (f"Only {words} words: the evidence is thin.",)
    return Profile(
        words=words,
        evidence=evidence,
        decision_style=style,
        cdi=cdi if words else None,
        interests=tuple(items),
        notes=notes,
        interest_confidence=items[0].score if items else 0.0,
    )


class FakeEdgeProfiler:
    """Scriptable stand-in for :class:`~edge_client.profiler.EdgeProfiler`.

    Parameters
    ----------
    profile : Profile, optional
        What :meth:`profile` returns (default: the empty "no evidence" profile). Replace
        it at any time with :meth:`set_profile`.
    """

    def __init__(self, profile: Profile | None = None) -> None:
        self._profile = profile if profile is not None else make_profile(words=0)
        self.observed_texts = 0
        """How many texts were observed since the last reset."""
        self.observed_characters = 0
        """How many characters were observed since the last reset."""
        self.recorded_events: dict[str, int] = {}
        """Behaviour events recorded since the last reset, by kind (``"view"``, ...)."""

    def set_profile(self, profile: Profile) -> None:
        """Script the profile returned from now on."""
        self._profile = profile

    def observe(self, text: str) -> None:
        """Validate and count a text exactly as the real profiler validates it."""
        if not isinstance(text, str):
            raise InputError(f"text must be str, got {type(text).__name__}")
        if len(text) > MAX_TEXT_CHARS:
            raise InputError(f"text has {len(text):,} characters; at most {MAX_TEXT_CHARS:,}")
        self.observed_texts += 1
        self.observed_characters += len(text)

    def observe_many(self, texts: Iterable[str]) -> None:
        """Observe several texts in order."""
        for text in texts:
            self.observe(text)

    def record(self, event: BehaviourEvent) -> RecordResult:
        """Validate a behaviour event as the real profiler does and count it by kind."""
        checked = check_event(event)
        self.recorded_events[checked.kind.value] = (
            self.recorded_events.get(checked.kind.value, 0) + 1
        )
        return RecordResult(checked.kind, stored=True)

    def reset(self) -> None:
        """Forget the observation counters (the scripted profile stays)."""
        self.observed_texts = 0
        self.observed_characters = 0
        self.recorded_events = {}

    def profile(self) -> Profile:
        """The scripted profile."""
        return self._profile

    def explain(self, *, top: int = 8) -> Explanation:
        """An explanation listing the scripted interests with no words behind them."""
        del top  # same signature as the real profiler
        return Explanation(self._profile, (), (), tuple((i, ()) for i in self._profile.interests))
