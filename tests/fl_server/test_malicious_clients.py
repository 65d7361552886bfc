"""Malicious clients against the real ServerApp: every hostile reply is rejected and counted.

A ClientApp that answers like the real one on honest nodes and, on the others, with one
kind of hostile reply each (payloads that are not NumPy, foreign serializations, lying
metadata, absurd metrics, missing or extra records, spoofed senders, errors) drives the
real policy strategy through run_server; the run must finish every round, average only
the honest updates and count each rejection by its reason.
"""

from __future__ import annotations

import io
import json
import math
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from flwr.app import (
    Array,
    ArrayRecord,
    ConfigRecord,
    Context,
    Error,
    Message,
    MetricRecord,
    RecordDict,
)
from flwr.clientapp import ClientApp

from edge_client.federated.app import app as real_app
from fl_server.app import run_server
from fl_server.validation import Rejection, Verdict, validate_reply

Build = Callable[..., Any]


def _npy(values: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, values, allow_pickle=False)
    return buffer.getvalue()


def _raw(values: np.ndarray, stype: str, data: bytes, shape: Any = None) -> Array:
    return Array("float32", values.shape if shape is None else shape, stype, data)


NPY = "numpy.ndarray"
ARRAY_ATTACKS: dict[str, Callable[[np.ndarray], Array]] = {
    "not_numpy": lambda v: _raw(v, NPY, b"\x93" * (v.nbytes + 80)),
    "too_large": lambda v: _raw(v, NPY, b"\0" * (v.nbytes * 3)),
    "foreign_stype": lambda v: _raw(v, "torch.Tensor", v.tobytes()),
    # Metadata claims the model's shape or dtype, the payload holds something else.
    "lying_shape": lambda v: _raw(v, NPY, _npy(v.reshape(-1))),
    "lying_dtype": lambda v: _raw(v, NPY, _npy(v.view(np.int32))),
    "wrong_claimed_shape": lambda v: _raw(v, NPY, _npy(v[:1].reshape(1)), shape=(1,)),
}
METRIC_ATTACKS: dict[str, dict[str, Any]] = {
    "num_examples_1e17": {"num_examples": 10**17},
    "loss_1e307": {"loss": 1e307},
    "nan_metric": {"loss": math.nan},
    "list_metric": {"loss": [1.0, 2.0]},
}


def _attack(kind: str, update: dict[str, np.ndarray], message: Message) -> Message:
    """Return the hostile reply of one kind, built from an honest update."""
    arrays = {k: Array(v) for k, v in update.items()}
    if kind in ARRAY_ATTACKS:
        arrays["w"] = ARRAY_ATTACKS[kind](update["w"])
    metrics = MetricRecord(METRIC_ATTACKS.get(kind, {"num_examples": 3}))
    records: dict[str, Any] = {"arrays": ArrayRecord(arrays), "metrics": metrics}
    if kind == "extra_record":
        records["config"] = ConfigRecord({"x": 1})
    elif kind == "no_arrays":
        del records["arrays"]
    elif kind == "error":
        return Message(Error(code=0, reason="boom"), reply_to=message)
    elif kind == "spoofed_sender":  # a fresh message, not a reply: it is not from this node
        return Message(
            RecordDict(records), dst_node_id=0, message_type=message.metadata.message_type
        )
    return Message(RecordDict(records), reply_to=message)


ATTACKS = {
    "not_numpy": Rejection.DECODE,
    "too_large": Rejection.DECODE,
    "foreign_stype": Rejection.STYPE,
    "lying_shape": Rejection.SHAPE,
    "lying_dtype": Rejection.DTYPE,
    "wrong_claimed_shape": Rejection.SHAPE,
    "num_examples_1e17": Rejection.METRIC_RANGE,
    "loss_1e307": Rejection.METRIC_RANGE,
    "nan_metric": Rejection.METRIC_RANGE,
    "list_metric": Rejection.METRICS,
    "extra_record": Rejection.RECORDS,
    "no_arrays": Rejection.RECORDS,
    "error": Rejection.REFUSED,
    "spoofed_sender": Rejection.SENDER,
}
KINDS = list(ATTACKS)


def _hostile_app() -> ClientApp:
    app = ClientApp()

    @app.train()
    def train(message: Message, context: Context) -> Message:
        reply = real_app(message, context)
        index = context.node_id % (2 * len(KINDS))
        if index % 2 == 0 or reply.has_error():  # every other node is honest
            return reply
        update = {k: a.numpy() for k, a in reply.content["arrays"].items()}  # type: ignore[union-attr]  # the real app replies with arrays
        return _attack(KINDS[index // 2], update, message)

    return app


@pytest.mark.slow
def test_every_hostile_reply_is_rejected_counted_and_the_run_goes_on(
    federation: Build, make_policy: Build
) -> None:
    """Two rounds with 14 kinds of hostile replies: both rounds aggregate the honest half."""
    policy = make_policy(sampling_rate=1.0, min_cohort=2)
    nodes = 2 * len(KINDS)
    grid, settings, _ = federation(nodes, policy=policy, app=_hostile_app(), **{"num-rounds": 2})
    result = run_server(grid, settings)
    assert result.completed_round == 2
    report = json.loads(result.metrics.read_text())
    expected = Counter(reason.value for reason in ATTACKS.values())
    for record in report["rounds"]:
        assert record["status"] == "aggregated"
        assert record["accepted"] == len(KINDS)
        assert record["rejected"] == dict(sorted(expected.items()))
        assert record.get("num_examples", 0) < 1e6  # nothing absurd was averaged in
        assert math.isfinite(record.get("loss", 0.0))


class _Exploding:
    """A reply whose every attribute raises: validation must still return a verdict."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(name)


def test_an_error_inside_validation_rejects_the_reply_instead_of_raising() -> None:
    """validate_reply never raises, whatever object it is handed."""
    verdict = validate_reply(
        _Exploding(),  # type: ignore[arg-type]  # hostile input on purpose
        shapes={"w": (2,)},
        clipping_norm=1.0,
        allowed_metrics=frozenset({"loss"}),
    )
    assert verdict == Verdict(Rejection.MALFORMED)


@pytest.mark.parametrize(
    ("metrics", "reason"),
    [
        ({"num_examples": 2.5}, Rejection.METRIC_RANGE),
        ({"num_examples": -1}, Rejection.METRIC_RANGE),
        ({"num_examples": 10**400}, Rejection.METRIC_RANGE),
        ({"update_norm": 5.0}, Rejection.METRIC_RANGE),
        ({"accuracy": 1.5}, Rejection.METRICS),  # not allowed by this policy at all
        ({"loss": 0.7, "num_examples": 12}, None),
    ],
)
def test_metrics_are_range_checked(metrics: dict[str, Any], reason: Rejection | None) -> None:
    """Whole, non-negative example counts; update norms within the clip; allowed names only."""
    reply = Message(
        RecordDict(
            {
                "arrays": ArrayRecord({"w": Array(np.zeros(2, np.float32))}),
                "metrics": MetricRecord(metrics),
            }
        ),
        dst_node_id=5,
        message_type="train",
    )
    verdict = validate_reply(
        reply,
        shapes={"w": (2,)},
        clipping_norm=1.0,
        allowed_metrics=frozenset({"loss", "num_examples", "update_norm"}),
    )
    assert verdict.rejection is reason
