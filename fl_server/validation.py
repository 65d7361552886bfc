"""Validation of every client reply before it may be averaged: each reply is hostile.

A reply is accepted only when it comes from a node the round was sent to (once), holds
exactly an ``arrays`` record with the model's weight names, NumPy-serialized float32
arrays of the model's shapes (checked on the claimed metadata and the payload size before
anything is decoded, and again after), finite values and a global L2 norm within the
clipping norm, and a ``metrics`` record with finite numbers the policy allows, each within
its range (:data:`METRIC_RANGES`). Anything else, including any error raised while
looking at the reply, is a :class:`Rejection` counted by reason, never averaged and never
allowed to end the run.
"""

from __future__ import annotations

import enum
import functools
import io
import logging
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from flwr.app import Array, ArrayRecord, Message, MetricRecord

from edge_client.federated.clipping import update_norm
from edge_client.federated.rounds import RecordName
from edge_client.policy.model import ClientMetric

__all__ = ["METRIC_RANGES", "Rejection", "Verdict", "check_metrics", "validate_reply"]

_LOG = logging.getLogger("fl_server")

# Float32 rounding of an update clipped exactly to the norm may exceed it by ~1e-7.
_NORM_SLACK = 1e-5
# np.save's header is at most a few hundred bytes for our dtypes and shapes.
_NPY_HEADER_MAX = 4096
_NUMPY_STYPE = "numpy.ndarray"

METRIC_RANGES: Mapping[str, tuple[float, float]] = {
    ClientMetric.NUM_EXAMPLES.value: (0.0, 1e6),
    ClientMetric.LOSS.value: (0.0, 1e4),
    ClientMetric.ACCURACY.value: (0.0, 1.0),
    ClientMetric.UPDATE_NORM.value: (0.0, math.inf),  # bounded by the clipping norm below
}
"""Inclusive range of each metric a client may report; ``num_examples`` is also whole."""


class Rejection(enum.Enum):
    """Why a reply was not averaged."""

    REFUSED = "refused"
    SENDER = "unexpected_sender"
    RECORDS = "unexpected_records"
    NAMES = "wrong_weight_names"
    STYPE = "foreign_stype"
    DTYPE = "wrong_dtype"
    SHAPE = "wrong_shape"
    DECODE = "undecodable_array"
    NOT_FINITE = "not_finite"
    NORM = "norm_above_clip"
    METRICS = "disallowed_metrics"
    METRIC_RANGE = "metric_out_of_range"
    MALFORMED = "malformed_reply"


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


def check_metrics(
    record: object, allowed: frozenset[str], *, clipping_norm: float
) -> dict[str, float] | Rejection:
    """Return a reply's metrics when every one is allowed, finite and in range.

    Parameters
    ----------
    record
        The reply's ``metrics`` record (anything a client sent).
    allowed
        Metric names the policy allows.
    clipping_norm
        The round's clipping norm (the bound of ``update_norm``).

    Returns
    -------
    dict[str, float] or Rejection
        The metrics, or :attr:`Rejection.METRICS` (not a metric record, a name not
        allowed, a list or a non-number) or :attr:`Rejection.METRIC_RANGE` (not finite,
        out of :data:`METRIC_RANGES`, a fractional ``num_examples``).
    """
    if not isinstance(record, MetricRecord):
        return Rejection.METRICS
    out: dict[str, float] = {}
    for name, value in record.items():
        if name not in allowed or isinstance(value, bool) or not isinstance(value, int | float):
            return Rejection.METRICS  # lists, bools and anything else a client may send
        number = float(value) if abs(value) < 1e300 else math.inf
        low, high = METRIC_RANGES.get(name, (-math.inf, math.inf))
        if name == ClientMetric.UPDATE_NORM.value:
            high = clipping_norm * (1 + _NORM_SLACK)
        if not (math.isfinite(number) and low <= number <= high):
            return Rejection.METRIC_RANGE
        if name == ClientMetric.NUM_EXAMPLES.value and not number.is_integer():
            return Rejection.METRIC_RANGE
        out[name] = number
    return out


def _claim(array: object, shape: tuple[int, ...]) -> Rejection | None:
    """Check what an array claims to be, and its payload's size, before decoding it."""
    if not isinstance(array, Array):
        return Rejection.MALFORMED
    if array.stype != _NUMPY_STYPE:
        return Rejection.STYPE
    if array.dtype != "float32":
        return Rejection.DTYPE
    if tuple(array.shape) != shape:
        return Rejection.SHAPE
    expected = 4 * math.prod(shape)
    if not isinstance(array.data, bytes) or not (
        expected < len(array.data) <= expected + _NPY_HEADER_MAX
    ):
        return Rejection.DECODE
    return None


@functools.lru_cache(maxsize=64)
def _npy_header(shape: tuple[int, ...]) -> bytes:
    """The exact ``.npy`` header NumPy writes for a C-order float32 array of ``shape``."""
    buffer = io.BytesIO()
    np.save(buffer, np.zeros(shape, np.float32), allow_pickle=False)
    return buffer.getvalue()[: -4 * math.prod(shape) or None]


def _decode(array: Array, shape: tuple[int, ...]) -> npt.NDArray[np.float32] | Rejection:
    """Decode one claimed float32 array, checking the claim before touching the payload.

    The common case, the header NumPy itself writes for this shape (what every Flower
    client sends), is read as a view of the payload without parsing the header again;
    any other header goes through ``numpy.load`` (``allow_pickle=False``).
    """
    refused = _claim(array, shape)
    if refused is not None:
        return refused
    header = _npy_header(shape)
    data = array.data
    if len(data) == len(header) + 4 * math.prod(shape) and data.startswith(header):
        return np.frombuffer(data, "<f4", offset=len(header)).reshape(shape)
    try:
        values = array.numpy()
    except (ValueError, TypeError, OSError, EOFError, OverflowError, MemoryError):
        return Rejection.DECODE
    if not isinstance(values, np.ndarray) or values.dtype != np.float32:
        return Rejection.DTYPE
    if values.shape != shape:
        return Rejection.SHAPE
    return values


def _arrays(
    arrays: object, shapes: Mapping[str, tuple[int, ...]]
) -> dict[str, npt.NDArray[np.float32]] | Rejection:
    if not isinstance(arrays, ArrayRecord) or set(arrays.keys()) != set(shapes):
        return Rejection.NAMES
    update: dict[str, npt.NDArray[np.float32]] = {}
    for name, array in arrays.items():
        values = _decode(array, tuple(shapes[name]))
        if isinstance(values, Rejection):
            return values
        if not np.all(np.isfinite(values)):
            return Rejection.NOT_FINITE
        update[name] = values
    return update


def _validate(
    reply: Message,
    shapes: Mapping[str, tuple[int, ...]],
    clipping_norm: float,
    allowed_metrics: frozenset[str],
) -> Verdict:
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
    norm = update_norm(checked)
    if not (math.isfinite(norm) and norm <= clipping_norm * (1 + _NORM_SLACK)):
        return Verdict(Rejection.NORM)
    metrics: dict[str, float] | Rejection = {}
    if RecordName.METRICS.value in names:
        metrics = check_metrics(
            content[RecordName.METRICS.value], allowed_metrics, clipping_norm=clipping_norm
        )
    if isinstance(metrics, Rejection):
        return Verdict(metrics)
    return Verdict(None, checked, metrics)


def validate_reply(
    reply: Message,
    *,
    shapes: Mapping[str, tuple[int, ...]],
    clipping_norm: float,
    allowed_metrics: frozenset[str],
    expected_senders: Collection[int] | None = None,
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
    expected_senders
        Node ids the round was sent to and that have not replied yet; a reply from any
        other node (or a second one from the same node) is rejected. ``None`` skips the
        check.

    Returns
    -------
    Verdict
        Accepted with the update and metrics, or the rejection reason. This function
        never raises: an unexpected error while looking at a reply rejects it as
        :attr:`Rejection.MALFORMED`.
    """
    try:
        if expected_senders is not None and reply.metadata.src_node_id not in expected_senders:
            return Verdict(Rejection.SENDER)
        return _validate(reply, shapes, clipping_norm, allowed_metrics)
    except Exception as exc:  # the boundary: no reply may end the run
        _LOG.warning("reply rejected as malformed (%s while validating it)", type(exc).__name__)
        return Verdict(Rejection.MALFORMED)
