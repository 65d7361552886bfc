"""The layout of one device's outcome-audit contribution, shared by devices and the server.

A device reports, for the current audit window, shares of its own impressions (``T`` of
them): which arm it is in (personalized, or the random control group), its decision-style
bucket, and one block per :class:`Question`. Inside a block, a cell holds several
*parts* (say impressions and engagements of one variant), each multiplied by a fixed
weight (:data:`PART_WEIGHTS`) whose squares sum to 1; since the parts of a device never
exceed its impressions, every block has L2 norm at most 1 and a contribution of ``B``
blocks at most ``sqrt(B)``. Weights put more of the noise budget where a rate needs it (the
numerator of a small rate). The server divides the weights out again
(:mod:`fl_server.audit.estimates`).

==========  ============================  =====================================================
question    cells                         parts (value / T, times the part's weight)
==========  ============================  =====================================================
exposure    arm × bucket × variant        impressions
offers      arm × bucket                  device (1), sponsored impressions
engagement  arm × bucket × variant        impressions, engagements, dismissals
fatigue     arm × exposure bin            impressions, engagements
lift        arm                           device (1), engagements
==========  ============================  =====================================================

The exposure bin of an impression is how many times the same item had been shown to the
person before it (1st, 2nd, 3rd, 4th or later).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from edge_client.audit.errors import AuditError

__all__ = [
    "ARMS",
    "BUCKETS",
    "EXPOSURE_BINS",
    "PART_WEIGHTS",
    "VARIANTS",
    "Arm",
    "Layout",
    "Part",
    "Question",
    "StyleBucket",
    "layout_for",
]

EXPOSURE_BINS = 4
"""Exposure bins: shown for the 1st, 2nd, 3rd, 4th-or-later time."""

VARIANTS: tuple[str, ...] = ("analytical", "emotional", "generic")
"""The variants an impression can show (values of :class:`edge_client.selection.Variant`)."""


class Arm(enum.Enum):
    """Which arm of the audit a device is in for a window."""

    PERSONALIZED = "personalized"
    CONTROL = "control"
    """Drawn at random (``audit.outcomes.control_share``): sees generic content."""


class StyleBucket(enum.Enum):
    """A device's decision-style bucket, from its own usable profile."""

    ANALYTICAL = "analytical"
    EMOTIONAL = "emotional"
    UNKNOWN = "unknown"
    """Balanced, or not enough evidence for the policy to use decision style."""


ARMS: tuple[Arm, ...] = tuple(Arm)
BUCKETS: tuple[StyleBucket, ...] = tuple(StyleBucket)


class Question(enum.Enum):
    """What an audit round asks (each question is one block of the contribution)."""

    EXPOSURE = "exposure"
    """Share of impressions per style bucket and variant."""
    OFFERS = "offers"
    """Share of impressions that are sponsored offers, per style bucket (disparity)."""
    ENGAGEMENT = "engagement"
    """Engagements and dismissals per impression, by style bucket and variant."""
    FATIGUE = "fatigue"
    """Engagements per impression by exposure count."""
    LIFT = "lift"
    """Engagements per impression of the personalized arm against the control group."""


class Part(enum.Enum):
    """What one part of a cell counts (each divided by the device's impressions)."""

    DEVICE = "device"
    SHOWN = "shown"
    SPONSORED = "sponsored"
    ENGAGED = "engaged"
    DISMISSED = "dismissed"


PART_WEIGHTS: dict[Question, dict[Part, float]] = {
    Question.EXPOSURE: {Part.SHOWN: 1.0},
    Question.OFFERS: {Part.DEVICE: 0.6, Part.SPONSORED: 0.8},
    Question.ENGAGEMENT: {Part.SHOWN: 0.3, Part.ENGAGED: 0.8, Part.DISMISSED: math.sqrt(0.27)},
    Question.FATIGUE: {Part.SHOWN: 0.3, Part.ENGAGED: math.sqrt(0.91)},
    Question.LIFT: {Part.DEVICE: 0.3, Part.ENGAGED: math.sqrt(0.91)},
}
"""Weight of each part; the squares of a question's weights sum to 1 (L2 norm <= 1)."""

_CELLS: dict[Question, tuple[int, ...]] = {
    Question.EXPOSURE: (len(ARMS), len(BUCKETS), len(VARIANTS)),
    Question.OFFERS: (len(ARMS), len(BUCKETS)),
    Question.ENGAGEMENT: (len(ARMS), len(BUCKETS), len(VARIANTS)),
    Question.FATIGUE: (len(ARMS), EXPOSURE_BINS),
    Question.LIFT: (len(ARMS),),
}


@dataclass(frozen=True)
class Layout:
    """Where each asked question's block lies in the contribution vector.

    Attributes
    ----------
    questions : tuple of Question
        The questions asked, in :class:`Question` order.
    offsets : dict of Question to int
        First index of each block.
    size : int
        Length of the vector.
    """

    questions: tuple[Question, ...]
    offsets: dict[Question, int]
    size: int

    @property
    def sensitivity(self) -> float:
        """Return the L2 sensitivity of one device's contribution, ``sqrt(questions)``."""
        return math.sqrt(len(self.questions))

    @staticmethod
    def shape(question: Question) -> tuple[int, ...]:
        """Return the block shape of ``question``: its cells, then its parts."""
        return (*_CELLS[question], len(PART_WEIGHTS[question]))

    @staticmethod
    def parts(question: Question) -> tuple[Part, ...]:
        """Return the parts of ``question``'s cells, in order."""
        return tuple(PART_WEIGHTS[question])

    def span(self, question: Question) -> slice:
        """Return the slice of ``question``'s block in the vector."""
        start = self.offsets[question]
        return slice(start, start + math.prod(self.shape(question)))


@cache
def _layout(questions: tuple[Question, ...]) -> Layout:
    offsets: dict[Question, int] = {}
    size = 0
    for question in questions:
        offsets[question] = size
        size += math.prod(Layout.shape(question))
    return Layout(questions, offsets, size)


def layout_for(questions: Iterable[Question]) -> Layout:
    """Return the layout of ``questions`` (order and duplicates do not matter).

    Raises
    ------
    AuditError
        When no question is given.
    """
    wanted = set(questions)
    chosen = tuple(q for q in Question if q in wanted)
    if not chosen:
        raise AuditError("an audit round must ask at least one question")
    return _layout(chosen)
