"""The profile an :class:`~edge_client.profiler.EdgeProfiler` returns, and its JSON form."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from edge_client.text.language import TextLanguage

__all__ = [
    "MAX_PROFILE_WORDS",
    "MIN_INTEREST_SCORE",
    "THIN_EVIDENCE_WORDS",
    "DecisionStyle",
    "Evidence",
    "Interest",
    "Profile",
    "evidence_for",
]

THIN_EVIDENCE_WORDS = 300
"""Below this many words the evidence is called thin (commercial tools ask for ~350)."""

MIN_INTEREST_SCORE = 0.1
"""Lowest calibrated score an interest is listed with, whatever the policy's minimum."""
MAX_PROFILE_WORDS = 10**15
"""Most words a profile read back with :meth:`Profile.from_dict` may claim (exact in floats)."""


class Evidence(Enum):
    """How much text a profile rests on."""

    NONE = "none"
    """No words at all: nothing is inferred."""
    THIN = "thin"
    """Fewer than :data:`THIN_EVIDENCE_WORDS` words: scores are shown but weak."""
    SUFFICIENT = "sufficient"
    """Enough words for the published accuracy of the models."""


def evidence_for(words: float) -> Evidence:
    """Classify an amount of text."""
    if words <= 0:
        return Evidence.NONE
    return Evidence.THIN if words < THIN_EVIDENCE_WORDS else Evidence.SUFFICIENT


@dataclass(frozen=True)
class DecisionStyle:
    """Where a person's words sit on the analytical ↔ emotional axis.

    Attributes
    ----------
    analytical : float or None
        Probability (0–1) of the analytical end; ``None`` without evidence or when a
        policy forbids the inference.
    confidence : float
        0–1: ``evidence × |2·analytical − 1|`` with ``evidence = words / (words + 300)``,
        so it grows with both the amount of text and how far the score is from the middle.
    """

    analytical: float | None
    confidence: float

    @property
    def leaning(self) -> str:
        """``analytical``, ``emotional``, ``balanced`` or ``unknown``, in plain words."""
        if self.analytical is None:
            return "unknown"
        if self.analytical >= 0.6:
            return "analytical"
        if self.analytical <= 0.4:
            return "emotional"
        return "balanced"


@dataclass(frozen=True)
class Interest:
    """One interest category of the taxonomy with its score (0–1)."""

    id: str
    label: str
    score: float


@dataclass(frozen=True)
class Profile:
    """A person's current profile, computed from running counts (never from stored text).

    Attributes
    ----------
    words : int
        Words observed so far.
    evidence : Evidence
        How much text the profile rests on.
    decision_style : DecisionStyle
        Analytical ↔ emotional estimate and its confidence.
    cdi : float or None
        The Categorical-Dynamic Index (Pennebaker et al. 2014), a transparent baseline;
        ``None`` without words.
    interests : tuple of Interest
        Interest categories, best first (forbidden categories already removed).
    notes : tuple of str
        Plain-language caveats, e.g. that the evidence is thin.
    usable : frozenset of str
        Traits (``decision_style``, ``interests``) whose evidence meets the policy's
        minimum words and confidence, so personalization may use them.
    language : TextLanguage
        What the observed text is: English prose (the models read it), another language,
        code or numbers, or no words. Only English prose is profiled.
    interest_confidence : float
        Calibrated score of the best interest the policy allows, whether or not it is
        confident enough to be listed (0 when none was inferred): what the policy's
        interest ``min_confidence`` is compared with.
    """

    words: int
    evidence: Evidence
    decision_style: DecisionStyle
    cdi: float | None
    interests: tuple[Interest, ...] = ()
    notes: tuple[str, ...] = field(default=())
    usable: frozenset[str] = field(default=frozenset())
    language: TextLanguage = TextLanguage.ENGLISH
    interest_confidence: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The profile as JSON-ready data (the format ``edgeprof profile --jsonl`` writes)."""
        return {
            "words": self.words,
            "evidence": self.evidence.value,
            "decision_style": {
                "analytical": _round(self.decision_style.analytical),
                "confidence": round(self.decision_style.confidence, 4),
                "leaning": self.decision_style.leaning,
            },
            "cdi": _round(self.cdi, 2),
            "interests": [
                {"id": i.id, "label": i.label, "score": round(i.score, 4)} for i in self.interests
            ],
            "interest_confidence": round(self.interest_confidence, 4),
            "language": self.language.value,
            "usable": sorted(self.usable),
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: object, *, source: str = "profile") -> Profile:
        """Rebuild a profile from :meth:`to_dict` output (e.g. ``edgeprof profile --json``).

        Raises
        ------
        InputError
            Naming the field that is missing or has the wrong type or range.
        """
        from edge_client.errors import InputError

        def need(obj: object, key: str, where: str) -> object:
            if not isinstance(obj, dict) or key not in obj:
                raise InputError(f"{source}: missing field '{where}{key}'")
            return obj[key]

        def number(value: object, where: str, low: float, high: float) -> float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InputError(f"{source}: field '{where}' must be a number")
            if not low <= value <= high:  # compared as is: float() of a huge int overflows
                raise InputError(f"{source}: field '{where}' must be in [{low}, {high}]")
            return float(value)

        words = number(need(data, "words", ""), "words", 0, MAX_PROFILE_WORDS)
        style = need(data, "decision_style", "")
        raw_analytical = need(style, "analytical", "decision_style.")
        analytical = (
            None
            if raw_analytical is None
            else number(raw_analytical, "decision_style.analytical", 0.0, 1.0)
        )
        confidence = number(
            need(style, "confidence", "decision_style."), "decision_style.confidence", 0.0, 1.0
        )
        raw_interests = need(data, "interests", "")
        if not isinstance(raw_interests, list):
            raise InputError(f"{source}: field 'interests' must be a list")
        interests = []
        for i, item in enumerate(raw_interests):
            where = f"interests[{i}]."
            ident, label = need(item, "id", where), need(item, "label", where)
            if not isinstance(ident, str) or not isinstance(label, str):
                raise InputError(f"{source}: field '{where}id/label' must be strings")
            score = number(need(item, "score", where), f"{where}score", 0.0, 1.0)
            interests.append(Interest(ident, label, score))
        raw_cdi = data.get("cdi") if isinstance(data, dict) else None
        cdi = None if raw_cdi is None else number(raw_cdi, "cdi", -1e9, 1e9)
        usable = data.get("usable", []) if isinstance(data, dict) else []
        notes = data.get("notes", []) if isinstance(data, dict) else []
        if not isinstance(usable, list) or not isinstance(notes, list):
            raise InputError(f"{source}: fields 'usable' and 'notes' must be lists")
        extra = data if isinstance(data, dict) else {}
        raw_language = extra.get("language", TextLanguage.ENGLISH.value)
        try:
            language = TextLanguage(raw_language)
        except ValueError:
            known = ", ".join(item.value for item in TextLanguage)
            raise InputError(f"{source}: field 'language' must be one of: {known}") from None
        best = max((i.score for i in interests), default=0.0)
        raw_best = extra.get("interest_confidence", best)
        interest_confidence = number(raw_best, "interest_confidence", 0.0, 1.0)
        return cls(
            words=int(words),
            evidence=evidence_for(words),
            decision_style=DecisionStyle(analytical, confidence),
            cdi=cdi,
            interests=tuple(interests),
            notes=tuple(str(n) for n in notes),
            usable=frozenset(str(u) for u in usable),
            language=language,
            interest_confidence=interest_confidence,
        )

    def describe(self) -> str:
        """A readable, multi-line description for people."""
        lines = [f"Words observed: {self.words} (evidence: {self.evidence.value})"]
        style = self.decision_style
        if style.analytical is None:
            lines.append("Decision style: not inferred")
        else:
            lines.append(
                f"Decision style: {style.leaning} (analytical {style.analytical:.2f}, "
                f"confidence {style.confidence:.2f})"
            )
        if self.cdi is not None:
            lines.append(f"Categorical-Dynamic Index (baseline): {self.cdi:.1f}")
        if self.language is not TextLanguage.ENGLISH:
            lines.append(f"Language: {self.language.value.replace('_', ' ')} (not profiled)")
        if self.interests:
            lines.append("Interests:")
            lines.extend(f"  {i.score:5.2f}  {i.label}" for i in self.interests)
        else:
            lines.append("Interests: none inferred")
        if self.usable:
            lines.append(
                "Usable for personalization under the policy: " + ", ".join(sorted(self.usable))
            )
        else:
            lines.append("Usable for personalization under the policy: nothing yet")
        lines.extend(f"Note: {note}" for note in self.notes)
        return "\n".join(lines)


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)
