"""Validation of every client reply before it may be averaged.

A reply is accepted only when it holds exactly an ``arrays`` record with the model's weight
names, float32 dtype and shapes, finite values and a global L2 norm within the clipping
norm, and a ``metrics`` record with finite numbers the policy allows. Anything else is
rejected with a :class:`Rejection` and counted, never averaged.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from flwr.app import ArrayRecord, Message, MetricRecord

from edge_client.federated.clipping import update_norm
from edge_client.federated.rounds import RecordName

__all__ = ["Rejection", "Verdict", "validate_reply"]

# Float32 rounding of an update clipped exactly to the norm may exceed it by ~1e-7.
_NORM_SLACK = 1e-5


class Rejection(enum.Enum):
    """Why a reply was not averaged."""

    REFUSED = "refused"
    RECORDS = "unexpected_records"
    NAMES = "wrong_weight_names"
    DTYPE = "wrong_dtype"
    SHAPE = "wrong_shape"
    NOT_FINITE = "not_finite"
    NORM = "norm_above_clip"
    METRICS = "disallowed_metrics"


@dataclass(frozen=True)
class Verdict:
    """The outcome of validating one reply.

    Attributes
    ----------
    rejection
        Why it was rejected, or ``None`` when accepted.
    update
        The update arrays when accepted.
    metrics
        The reported metrics when accepted.
    """

    rejection: Rejection | None
    update: Mapping[str, npt.NDArray[np.float32]] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        """Return whether the reply may be averaged."""
        return self.rejection is None


def _metrics(record: object, allowed: frozenset[str]) -> dict[str, float] | None:
    if not isinstance(record, MetricRecord):
        return None
    out: dict[str, float] = {}
    for name, value in record.items():
        if name not in allowed or isinstance(value, list | bool):
            return None
        if not isinstance(value, int | float) or not math.isfinite(float(value)):
            return None
        out[name] = float(value)
    return out


def _arrays(
    arrays: object, shapes: Mapping[str, tuple[int, ...]]
) -> dict[str, npt.NDArray[np.float32]] | Rejection:
    if not isinstance(arrays, ArrayRecord) or set(arrays.keys()) != set(shapes):
        return Rejection.NAMES
    update: dict[str, npt.NDArray[np.float32]] = {}
    for name, array in arrays.items():
        if array.dtype != "float32":
            return Rejection.DTYPE
        if tuple(array.shape) != tuple(shapes[name]):
            return Rejection.SHAPE
        values = array.numpy()
        if values.dtype != np.float32 or values.shape != tuple(shapes[name]):
            return Rejection.DTYPE
        if not np.all(np.isfinite(values)):
            return Rejection.NOT_FINITE
        update[name] = values
    return update


def validate_reply(
    reply: Message,
    *,
    shapes: Mapping[str, tuple[int, ...]],
    clipping_norm: float,
    allowed_metrics: frozenset[str],
) -> Verdict:
    """Validate one reply to a train message.

    Parameters
    ----------
    reply
        The reply as received.
    shapes
        Weight name to expected shape.
    clipping_norm
        The round's clipping norm.
    allowed_metrics
        Metric names the policy allows.

    Returns
    -------
    Verdict
        Accepted with the update and metrics, or the rejection reason.
    """
    if reply.has_error():
        return Verdict(Rejection.REFUSED)
    content = reply.content
    names = set(content.keys())
    if names - {RecordName.ARRAYS.value, RecordName.METRICS.value} or (
        RecordName.ARRAYS.value not in names
    ):
        return Verdict(Rejection.RECORDS)
    checked = _arrays(content[RecordName.ARRAYS.value], shapes)
    if isinstance(checked, Rejection):
        return Verdict(checked)
    if update_norm(checked) > clipping_norm * (1 + _NORM_SLACK):
        return Verdict(Rejection.NORM)
    metrics: dict[str, float] | None = {}
    if RecordName.METRICS.value in names:
        metrics = _metrics(content[RecordName.METRICS.value], allowed_metrics)
    if metrics is None:
        return Verdict(Rejection.METRICS)
    return Verdict(None, checked, metrics)
