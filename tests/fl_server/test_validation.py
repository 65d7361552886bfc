"""Reply validation decodes every update exactly as ``numpy.load`` would, on any header."""

from __future__ import annotations

import io

import numpy as np
import pytest
from flwr.app import Array, ArrayRecord, Message, MessageType, MetricRecord, RecordDict

from fl_server.validation import Rejection, validate_reply

SHAPES = {"w": (36, 36), "b": (36,)}


def _reply(arrays: dict[str, Array]) -> Message:
    sent = Message(RecordDict(), dst_node_id=1, message_type=MessageType.TRAIN)
    content = RecordDict(
        {"arrays": ArrayRecord(arrays), "metrics": MetricRecord({"num_examples": 3})}
    )
    return Message(content, reply_to=sent)


def _npy(values: np.ndarray, *, version: tuple[int, int] | None = None) -> Array:
    """An Array whose payload is ``values`` saved with the given .npy format version."""
    buffer = io.BytesIO()
    if version is None:
        np.save(buffer, values, allow_pickle=False)
    else:
        np.lib.format.write_array(buffer, values, version=version, allow_pickle=False)
    return Array(
        dtype="float32", shape=tuple(values.shape), stype="numpy.ndarray", data=buffer.getvalue()
    )


def _verdict(arrays: dict[str, Array]) -> object:
    return validate_reply(
        _reply(arrays),
        shapes=SHAPES,
        clipping_norm=1.0,
        allowed_metrics=frozenset({"num_examples"}),
    )


@pytest.mark.parametrize("version", [None, (2, 0), (3, 0)])
def test_update_decodes_to_the_sent_values_whatever_the_header(
    version: tuple[int, int] | None,
) -> None:
    """NumPy's own header is read as a view; other valid headers through numpy.load: same values."""
    rng = np.random.default_rng(0)
    sent = {k: (rng.normal(size=s) * 0.01).astype(np.float32) for k, s in SHAPES.items()}
    verdict = _verdict({k: _npy(v, version=version) for k, v in sent.items()})
    assert verdict.accepted  # type: ignore[attr-defined]  # a Verdict
    for name, values in sent.items():
        np.testing.assert_array_equal(verdict.update[name], values)  # type: ignore[attr-defined]  # idem


def test_a_header_claiming_another_dtype_is_rejected() -> None:
    """A payload whose .npy header says float64 under a float32 claim is never averaged."""
    w = _npy(np.zeros((36, 36), np.float32))
    b64 = io.BytesIO()
    np.save(b64, np.zeros(18, np.float64))  # the same byte count as 36 float32
    b = Array(dtype="float32", shape=(36,), stype="numpy.ndarray", data=b64.getvalue())
    verdict = _verdict({"w": w, "b": b})
    assert verdict.rejection in {Rejection.DTYPE, Rejection.SHAPE}  # type: ignore[attr-defined]  # a Verdict
