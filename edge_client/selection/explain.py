"""Plain-words reasons for each choice ("shown because ..."), built from numbers, never text.

A reason names the interest category (a taxonomy path), the decision-style leaning and the
policy rule behind a choice; it never quotes what the person wrote or the item's text.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from edge_client.profile import Profile
from edge_client.selection.catalog import Variant

__all__ = ["Basis", "FallbackCause", "ReasonInput", "fallback_text", "reason_text"]


class Basis(Enum):
    """Why an item was picked."""

    INTEREST = "interest"
    """Ranked first by the model because it matches an interest."""
    POPULAR = "popular"
    """Ranked by popularity: personalization did not apply to this item."""
    EXPLORATION = "exploration"
    """Picked at random for the exploration share."""
    SENSITIVE = "sensitive"
    """A sensitive item, ranked as for everyone."""


class FallbackCause(Enum):
    """Why the selection is not personalized."""

    POLICY_OFF = "policy_off"
    NO_CONSENT = "no_consent"
    NO_EVIDENCE = "no_evidence"


_FALLBACK = {
    FallbackCause.POLICY_OFF: "the privacy policy turns personalization off",
    FallbackCause.NO_CONSENT: "you have not allowed personalization (or withdrew it)",
    FallbackCause.NO_EVIDENCE: "there is not enough of your own writing yet to know your interests",
}
_VARIANT_WORDS = {
    Variant.ANALYTICAL: "the facts-and-comparisons version",
    Variant.EMOTIONAL: "the story-and-experience version",
    Variant.GENERIC: "the general version",
}


def fallback_text(cause: FallbackCause) -> str:
    """Return why personalization is off, in plain words."""
    return _FALLBACK[cause]


@dataclass(frozen=True)
class ReasonInput:
    """What a reason is built from (all numbers and taxonomy paths)."""

    basis: Basis
    variant: Variant
    styled: bool
    sponsored: bool
    interest_path: str | None = None
    interest_score: float = 0.0
    exploration_share: float = 0.0
    fallback: FallbackCause | None = None
    item_path: str | None = None
    """The item's category, when it is broader than the matched interest."""


def reason_text(reason: ReasonInput, profile: Profile) -> str:
    """Return the plain-words explanation of one choice.

    Parameters
    ----------
    reason : ReasonInput
        Why the item was picked and which variant is shown.
    profile : Profile
        The profile used (only its decision-style leaning and confidence are quoted).

    Returns
    -------
    str
        E.g. ``"Shown because you seem interested in Sports > Baseball (score 0.42). Shown
        as the facts-and-comparisons version because your writing leans analytical
        (confidence 0.61)."``
    """
    parts = ["Sponsored."] if reason.sponsored else []
    if reason.basis is Basis.INTEREST and reason.interest_path is not None:
        about = f"it is about {reason.item_path}, close to" if reason.item_path else "of"
        parts.append(f"Shown because {about} your interest in {reason.interest_path} "
                     f"(score {reason.interest_score:.2f}).")
    elif reason.basis is Basis.EXPLORATION:
        parts.append(f"Shown to explore: about {reason.exploration_share:.0%} of picks are "
                     "random, so your feed is not limited to what is guessed about you.")
    elif reason.basis is Basis.SENSITIVE:
        parts.append("Shown because it is popular with everyone; it is marked sensitive, so it "
                     "is never personalized.")
    elif reason.fallback is not None:
        parts.append(f"Shown because it is popular with everyone: personalization is off "
                     f"because {fallback_text(reason.fallback)}.")
    else:
        parts.append("Shown because it is popular with everyone; it matches none of your "
                     "interests.")
    words = _VARIANT_WORDS[reason.variant]
    if reason.styled:
        style = profile.decision_style
        parts.append(f"Shown as {words} because your writing leans {style.leaning} "
                     f"(confidence {style.confidence:.2f}).")
    else:
        parts.append(f"Shown as {words}, the one everyone sees: the variant is not chosen "
                     "from your decision style here.")
    return " ".join(parts)
