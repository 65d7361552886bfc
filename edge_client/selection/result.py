"""What a selection returns: the picked items, their variants, scores and reasons."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edge_client.selection.catalog import CatalogItem, Variant, VariantText
from edge_client.selection.explain import FallbackCause

__all__ = ["Choice", "Selection"]


@dataclass(frozen=True)
class Choice:
    """One picked item: which variant to show, its score and why."""

    item: CatalogItem
    variant: Variant
    score: float
    explored: bool
    personalized: bool
    reason: str

    @property
    def text(self) -> VariantText:
        """Return the variant's text to display."""
        return self.item.variants[self.variant]


@dataclass(frozen=True)
class Selection:
    """The result of one :meth:`Selector.select` call.

    Attributes
    ----------
    choices : tuple of Choice
        Best first; possibly fewer than asked (caps, fallback ``none``, small catalog).
    personalized : bool
        Whether the profile was used.
    fallback : FallbackCause or None
        Why it was not, when it was not.
    """

    choices: tuple[Choice, ...]
    personalized: bool
    fallback: FallbackCause | None = None

    def explain(self) -> str:
        """Return one line per choice: ``id [variant]: reason``."""
        return "\n".join(f"{c.item.id} [{c.variant.value}]: {c.reason}" for c in self.choices)

    def to_dict(self) -> dict[str, Any]:
        """Return the selection as JSON-ready data (ids, variants, scores, reasons)."""
        return {
            "personalized": self.personalized,
            "fallback": None if self.fallback is None else self.fallback.value,
            "choices": [
                {"id": c.item.id, "variant": c.variant.value, "score": round(c.score, 6),
                 "explored": c.explored, "personalized": c.personalized, "reason": c.reason}
                for c in self.choices
            ],
        }
