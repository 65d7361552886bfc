"""Plain-words reasons for each choice ("shown because ..."), built from numbers, never text.

A reason names the interest category (a taxonomy path), the decision-style leaning and the
policy rule behind a choice; it never quotes what the person wrote or the item's text.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from edge_client.profile import Profile
from edge_client.selection.catalog import Variant

__all__ = ["Basis", "Fallback", "FallbackCause", "ReasonInput", "fallback_text", "reason_text"]


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
    """The policy turns personalization off."""
    NO_CONSENT = "no_consent"
    """The person has not opted in to personalization (or withdrew)."""
    NOT_ENGLISH = "not_english"
    """The observed text is not English prose, so nothing was inferred."""
    INTERESTS_NOT_ALLOWED = "interests_not_allowed"
    """The policy does not allow inferring interests."""
    TOO_FEW_WORDS = "too_few_words"
    """Fewer words than the policy's interest ``min_words``."""
    LOW_CONFIDENCE = "low_confidence"
    """No allowed interest reaches the policy's interest ``min_confidence``."""
    NOT_USABLE = "not_usable"
    """The profile (made elsewhere) does not mark interests usable though it meets the rules."""
    CONTROL_GROUP = "control_group"
    """The person is in the outcome audit's random control group for this window."""


@dataclass(frozen=True)
class Fallback:
    """Why personalization did not apply, with the numbers behind it.

    Attributes
    ----------
    cause : FallbackCause
        The rule that was not met.
    value : float
        What the profile has (words, or the best allowed interest score).
    required : float
        What the policy asks for (its ``min_words`` or ``min_confidence``).
    """

    cause: FallbackCause
    value: float = 0.0
    required: float = 0.0

    def text(self) -> str:
        """Return why personalization is off, in plain words with the numbers."""
        return fallback_text(self)


_FALLBACK = {
    FallbackCause.POLICY_OFF: "the privacy policy turns personalization off",
    FallbackCause.NO_CONSENT: "you have not allowed personalization (or withdrew it)",
    FallbackCause.NOT_ENGLISH: "your writing is not English prose, the only language the models "
    "read, so nothing was inferred from it",
    FallbackCause.INTERESTS_NOT_ALLOWED: "the privacy policy does not allow inferring interests",
    FallbackCause.NOT_USABLE: "the profile given does not mark its interests as usable",
    FallbackCause.CONTROL_GROUP: (
        "you are, for now, in a small random group that sees generic content so the privacy "
        "policy's audit can check that personalization still helps"
    ),
}


def fallback_text(fallback: Fallback) -> str:
    """Return why personalization is off, in plain words (with the policy minimum missed)."""
    if fallback.cause is FallbackCause.TOO_FEW_WORDS:
        have, need = round(fallback.value), round(fallback.required)
        return (
            f"the privacy policy needs at least {need} words of your own writing before "
            f"interests are used and there are {have} so far ({need - have} more needed)"
        )
    if fallback.cause is FallbackCause.LOW_CONFIDENCE:
        return (
            "no interest is clear enough yet: the best one the privacy policy allows scores "
            f"{fallback.value:.2f} and the policy needs {fallback.required:.2f} "
            f"({fallback.required - fallback.value:.2f} short)"
        )
    return _FALLBACK[fallback.cause]


_VARIANT_WORDS = {
    Variant.ANALYTICAL: "the facts-and-comparisons version",
    Variant.EMOTIONAL: "the story-and-experience version",
    Variant.GENERIC: "the general version",
}


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
    fallback: Fallback | None = None
    item_path: str | None = None
    """The item's category, when it is broader than the matched interest."""
    context_note: str | None = None
    """Why the time of day or device class raised the pick, when it did."""


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
        parts.append(
            f"Shown because {about} your interest in {reason.interest_path} "
            f"(score {reason.interest_score:.2f})."
        )
    elif reason.basis is Basis.EXPLORATION:
        parts.append(
            f"Shown to explore: about {reason.exploration_share:.0%} of picks are "
            "random, so your feed is not limited to what is guessed about you."
        )
    elif reason.basis is Basis.SENSITIVE:
        parts.append(
            "Shown because it is popular with everyone; it is marked sensitive, so it "
            "is never personalized."
        )
    elif reason.fallback is not None:
        parts.append(
            f"Shown because it is popular with everyone: personalization is off "
            f"because {reason.fallback.text()}."
        )
    else:
        parts.append(
            "Shown because it is popular with everyone; it matches none of your interests."
        )
    if reason.context_note:
        parts.append(reason.context_note)
    words = _VARIANT_WORDS[reason.variant]
    if reason.styled:
        style = profile.decision_style
        parts.append(
            f"Shown as {words} because your writing leans {style.leaning} "
            f"(confidence {style.confidence:.2f})."
        )
    else:
        parts.append(
            f"Shown as {words}, the one everyone sees: the variant is not chosen "
            "from your decision style here."
        )
    return " ".join(parts)
