"""The layout of one device's outcome-audit contribution, shared by devices and the server.

A device reports, for the current audit window, shares of its own impressions (so every
block sums to at most 1 and its L2 norm is at most 1): which arm it is in (personalized or
the random control group), its decision-style bucket, and per :class:`Question` the blocks
below. The server sums the noisy contributions and divides block by block
(:mod:`fl_server.audit.estimates`).

=============  ======================  ==============================================
question       block                   cells (value per device)
=============  ======================  ==============================================
exposure       ``exposure``            arm × bucket × variant: impressions / T
exposure       ``sponsored``           arm × bucket: sponsored impressions / T
engagement     ``engaged``             arm × bucket × variant: engagements / T
engagement     ``dismissed``           arm × bucket × variant: dismissals / T
fatigue        ``fatigue_shown``       arm × exposure bin: impressions / T
fatigue        ``fatigue_engaged``     arm × exposure bin: engagements / T
lift           ``devices``             arm: 1
lift           ``arm_engaged``         arm: engagements / T
=============  ======================  ==============================================

``T`` is the device's impressions in the window; the exposure bin of an impression is how
many times the same item had been shown to the person before (1, 2, 3, 4 or more). With
``B`` blocks asked, the L2 sensitivity of one device's contribution is ``sqrt(B)``.
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
    "QUESTION_BLOCKS",
    "VARIANTS",
    "Arm",
    "Block",
    "Layout",
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
    """What an audit round asks."""

    EXPOSURE = "exposure"
    """Impressions by style bucket and variant, and the sponsored-offer share."""
    ENGAGEMENT = "engagement"
    """Engagements and dismissals by style bucket and variant."""
    FATIGUE = "fatigue"
    """Impressions and engagements by exposure count."""
    LIFT = "lift"
    """Devices and engagements per arm: personalized against the control group."""


class Block(enum.Enum):
    """A block of cells; each device's values in one block sum to at most 1."""

    EXPOSURE = "exposure"
    SPONSORED = "sponsored"
    ENGAGED = "engaged"
    DISMISSED = "dismissed"
    FATIGUE_SHOWN = "fatigue_shown"
    FATIGUE_ENGAGED = "fatigue_engaged"
    DEVICES = "devices"
    ARM_ENGAGED = "arm_engaged"


QUESTION_BLOCKS: dict[Question, tuple[Block, ...]] = {
    Question.EXPOSURE: (Block.EXPOSURE, Block.SPONSORED),
    Question.ENGAGEMENT: (Block.ENGAGED, Block.DISMISSED),
    Question.FATIGUE: (Block.FATIGUE_SHOWN, Block.FATIGUE_ENGAGED),
    Question.LIFT: (Block.DEVICES, Block.ARM_ENGAGED),
}

_SHAPES: dict[Block, tuple[int, ...]] = {
    Block.EXPOSURE: (len(ARMS), len(BUCKETS), len(VARIANTS)),
    Block.SPONSORED: (len(ARMS), len(BUCKETS)),
    Block.ENGAGED: (len(ARMS), len(BUCKETS), len(VARIANTS)),
    Block.DISMISSED: (len(ARMS), len(BUCKETS), len(VARIANTS)),
    Block.FATIGUE_SHOWN: (len(ARMS), EXPOSURE_BINS),
    Block.FATIGUE_ENGAGED: (len(ARMS), EXPOSURE_BINS),
    Block.DEVICES: (len(ARMS),),
    Block.ARM_ENGAGED: (len(ARMS),),
}


@dataclass(frozen=True)
class Layout:
    """Where each block of the asked questions lies in the contribution vector.

    Attributes
    ----------
    questions : tuple of Question
        The questions asked, in :class:`Question` order.
    blocks : tuple of Block
        Their blocks, in order.
    offsets : dict of Block to int
        First index of each block.
    size : int
        Length of the vector.
    """

    questions: tuple[Question, ...]
    blocks: tuple[Block, ...]
    offsets: dict[Block, int]
    size: int

    @property
    def sensitivity(self) -> float:
        """Return the L2 sensitivity of one device's contribution, ``sqrt(blocks)``."""
        return math.sqrt(len(self.blocks))

    @staticmethod
    def shape(block: Block) -> tuple[int, ...]:
        """Return the cell shape of ``block``."""
        return _SHAPES[block]

    def span(self, block: Block) -> slice:
        """Return the slice of ``block`` in the vector."""
        start = self.offsets[block]
        return slice(start, start + math.prod(_SHAPES[block]))


@cache
def _layout(questions: tuple[Question, ...]) -> Layout:
    blocks = tuple(b for q in questions for b in QUESTION_BLOCKS[q])
    offsets: dict[Block, int] = {}
    size = 0
    for block in blocks:
        offsets[block] = size
        size += math.prod(_SHAPES[block])
    return Layout(questions, blocks, offsets, size)


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
