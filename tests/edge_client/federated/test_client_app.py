"""The device's ClientApp: refuses out-of-policy rounds, sends only clipped updates."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from flwr.app import ArrayRecord, Context, Message
from flwr.supercore.inflatable.inflatable_object import get_all_nested_objects

from edge_client.federated.app import REFUSED, handle_train
from edge_client.federated.clipping import update_norm
from edge_client.federated.device import FederatedDevice
from edge_client.policy import Purpose

Build = Callable[..., Any]  # a pytest fixture factory


CANARY = "CANARY-7f3a9c-zebra-quartz"  # the same string the device fixture writes


def _arrays(reply: Message) -> dict[str, np.ndarray]:
    record = reply.content["arrays"]
    assert isinstance(record, ArrayRecord)
    return {k: a.numpy() for k, a in record.items()}


def _reason(reply: Message) -> str:
    return reply.error.reason or ""


def _bytes(message: Message) -> bytes:
    return b"".join(o.deflate() for o in get_all_nested_objects(message).values())


def test_reply_is_a_clipped_update_with_allowed_metrics_only(
    device: FederatedDevice, round_message: Build, context: Context
) -> None:
    """The reply holds the update (norm ≤ clip) and only the policy's allowed metrics."""
    reply = handle_train(device, round_message(), context)
    assert not reply.has_error()
    assert set(reply.content.keys()) == {"arrays", "metrics"}
    update = _arrays(reply)
    assert set(update) == {"w", "b"}
    assert 0 < update_norm(update) <= device.engine.federated.clipping_norm
    assert set(reply.content["metrics"].keys()) <= device.engine.allowed_metric_names()


def test_reply_bytes_hold_no_text_or_canary(
    device: FederatedDevice, round_message: Build, context: Context
) -> None:
    """Byte by byte, the serialized reply contains no canary and no word of the device's text."""
    wire = _bytes(handle_train(device, round_message(), context))
    assert len(wire) > 4 * 8_193  # the update itself is there (8,193 float32 values)
    for needle in [CANARY, "CANARY", "zebra", "quartz", "love my dog", "happy"]:
        assert needle.encode() not in wire
        assert needle.encode("utf-16-le") not in wire


@pytest.mark.parametrize(
    "case",
    [
        ({"policy_hash": "0" * 64}, "policy hash"),
        ({"cohort_size": 3}, "cohort size"),
        ({"noise_multiplier": 0.0}, "differential privacy"),
        ({"clipping_norm": 50.0}, "clipping norm"),
        ({"metrics": ["num_examples", "accuracy", "update_norm"]}, "metrics"),
    ],
)
def test_out_of_policy_round_is_refused_and_logged(
    device: FederatedDevice,
    round_message: Build,
    context: Context,
    caplog: pytest.LogCaptureFixture,
    case: tuple[dict[str, object], str],
) -> None:
    """Wrong policy hash, cohort < k, missing DP, larger clip or extra metrics are refused."""
    override, reason = case
    with caplog.at_level(logging.WARNING, logger="edge_client.federated"):
        reply = handle_train(device, round_message(**override), context)
    assert reply.has_error()
    assert reply.error.code == REFUSED
    assert reason in _reason(reply)
    assert reason in caplog.text
    assert CANARY not in caplog.text and CANARY not in _reason(reply)


def test_revoked_consent_refuses_the_round(
    device: FederatedDevice,
    round_message: Build,
    context: Context,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """After the person revokes federated-training consent, the device refuses."""
    device.consent.revoke(Purpose.FEDERATED_TRAINING)
    with caplog.at_level(logging.WARNING, logger="edge_client.federated"):
        reply = handle_train(device, round_message(), context)
    assert reply.has_error() and "not consented" in _reason(reply)
    assert "not consented" in caplog.text


def test_tampered_bundle_is_refused(
    device: FederatedDevice, round_message: Build, context: Context
) -> None:
    """A bundle with one flipped byte in its weights fails verification; nothing is trained."""
    good = round_message().content["bundle"]["data"]
    position = len(good) // 2
    tampered = good[:position] + bytes([good[position] ^ 0x01]) + good[position + 1 :]
    reply = handle_train(device, round_message(bundle=tampered), context)
    assert reply.has_error()
    assert re.search(r"signature does not match|not valid msgpack", _reason(reply))


def test_participation_cap_is_enforced_by_the_device(
    device: FederatedDevice, round_message: Build, context: Context
) -> None:
    """After max_participation_per_period rounds the device refuses further rounds."""
    cap = device.engine.federated.max_participation_per_period
    for _ in range(cap):
        assert not handle_train(device, round_message(), context).has_error()
    reply = handle_train(device, round_message(), context)
    assert reply.has_error() and "participation limit" in _reason(reply)


def test_update_is_new_minus_received(
    device: FederatedDevice, round_message: Build, context: Context
) -> None:
    """Local training on emotional text pushes the style logit down (update sign is right)."""
    reply = handle_train(device, round_message(), context)
    update_b = _arrays(reply)["b"]
    assert np.all(update_b < 0)
