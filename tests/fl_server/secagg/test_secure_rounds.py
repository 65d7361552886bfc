"""Secure rounds through the real ClientApp and PolicyStrategy on the in-process grid."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import msgpack
import numpy as np
import pytest
from flwr.app import ArrayRecord, ConfigRecord, Message, MetricRecord, RecordDict

from edge_client.federated.app import app as client_app
from edge_client.secagg.clientapp import PARAMS_FIELD, REFUSALS
from edge_client.secagg.params import RoundParams
from edge_client.secagg.wire import pack
from fl_server.app import run_server
from fl_server.errors import ServerConfigError
from fl_server.local_grid import LocalGrid
from fl_server.secagg import simulation_identities
from fl_server.settings import ServerSettings

Build = Callable[..., Any]


def _secure(make_policy: Build, tmp_path: Path, nodes: int, **federated: object) -> dict[str, Any]:
    """Run config of a secure federation of ``nodes`` virtual devices."""
    identities, authority = simulation_identities(tmp_path / "identities", nodes)
    values = {"secure_aggregation": True, "sampling_rate": 1.0, "min_cohort": 3, **federated}
    return {
        "policy": str(make_policy("secure", **values)),
        "secagg-identity": str(identities),
        "secagg-authority": str(authority),
        "num-rounds": 1,
    }


class _Grid(LocalGrid):
    """The in-process grid, with a hook on each message before the device sees it."""

    def __init__(self, *args: Any, edit: Callable[[Message], Message | None], **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.edit = edit

    def push_messages(self, messages: Iterable[Message]) -> Iterable[str]:
        """Let ``edit`` change a message, or drop it (the device never answers)."""
        kept = [m for m in (self.edit(m) for m in messages) if m is not None]
        return super().push_messages(kept)


def _grid(federation: Build, nodes: int, extra: dict[str, Any], edit: Any = None) -> Any:
    grid, _, config = federation(nodes, **extra)
    if edit is not None:
        grid = _Grid(client_app, [{"partition-id": i} for i in range(nodes)], config, edit=edit)
    return grid, ServerSettings.from_run_config(config)


def _round(result: Any) -> dict[str, Any]:
    return json.loads(result.metrics.read_text())["rounds"][0]  # type: ignore[no-any-return]  # JSON


def test_secure_round_sends_no_float_update_and_no_metric(
    federation: Build, make_policy: Build, tmp_path: Path
) -> None:
    """Replies carry one uint32 masked vector or protocol bytes; the sum is applied."""
    grid, settings = _grid(federation, 6, _secure(make_policy, tmp_path, 6))
    result = run_server(grid, settings)
    record = _round(result)
    assert record["status"] == "aggregated" and record["accepted"] == 6
    assert record["secagg"]["survivors"] == 6 and record["secagg"]["refused"] == {}
    assert record["secagg"]["effective_noise_multiplier"] >= 1.0  # the policy's z
    kinds = set()
    for reply in grid.replies:
        assert not reply.has_error()
        for name, item in reply.content.items():
            assert not isinstance(item, MetricRecord)
            if isinstance(item, ArrayRecord):
                assert name == "masked"
                assert {a.dtype for a in item.values()} == {"uint32"}
            kinds.add(name)
    assert kinds == {"secagg", "masked"}
    assert record["num_examples"] > 0  # the mean of the securely summed counts
    assert result.completed_round == 1


@pytest.mark.parametrize(
    ("stage", "drop", "status"),
    [
        ("secagg_mask", 1, "aggregated"),
        ("secagg_confirm", 3, "aggregated"),
        ("secagg_unmask", 3, "aggregated"),
        ("secagg_share", 4, "secagg_stopped_at_share"),
    ],
)
def test_dropouts_through_flower(
    federation: Build, make_policy: Build, tmp_path: Path, *, stage: str, drop: int, status: str
) -> None:
    """Devices that stop answering at a stage: recovered up to the allowance, else skipped."""
    nodes = 10
    extra = {**_secure(make_policy, tmp_path, nodes), "secagg-max-dropout": 0.3}
    gone: set[int] = set()

    def edit(message: Message) -> Message | None:
        node = message.metadata.dst_node_id
        if message.metadata.message_type == f"train.{stage}" and len(gone) < drop:
            gone.add(node)
        return None if node in gone else message

    grid, settings = _grid(federation, nodes, extra, edit)
    result = run_server(grid, settings)
    record = _round(result)
    assert record["status"] == status
    assert result.epsilon > 0  # charged before sending, whatever happened
    if status == "aggregated":
        in_sum = nodes - drop if stage in ("secagg_share", "secagg_mask") else nodes
        assert record["secagg"]["survivors"] == in_sum and result.completed_round == 1
    else:
        assert result.completed_round == 0  # nothing published


def _edit_payload(message: Message, change: Callable[[dict[str, Any]], None]) -> Message:
    record = message.content["secagg"]
    doc = msgpack.unpackb(record["data"], raw=False)
    change(doc)
    content = RecordDict({"secagg": ConfigRecord({"data": pack(doc)})})
    return Message(
        content,
        dst_node_id=message.metadata.dst_node_id,
        message_type=message.metadata.message_type,
    )


def _edit_params(message: Message, change: Callable[[dict[str, Any]], None]) -> Message:
    config: dict[str, Any] = dict(message.content["config"])
    doc = msgpack.unpackb(config[PARAMS_FIELD], raw=False)
    change(doc)
    config[PARAMS_FIELD] = pack(doc)
    content = RecordDict({"config": ConfigRecord(config), "bundle": message.content["bundle"]})
    return Message(
        content,
        dst_node_id=message.metadata.dst_node_id,
        message_type=message.metadata.message_type,
    )


def _swap_key(doc: dict[str, Any]) -> None:
    doc["ads"][0]["share_key"] = bytes(32 - 1) + b"\x09"


def _wrong_model(doc: dict[str, Any]) -> None:
    doc["model_hash"] = "f" * 64


def _small_cohort(doc: dict[str, Any]) -> None:
    doc["cohort"] = doc["cohort"][:2]


def _not_me(doc: dict[str, Any]) -> None:
    doc["survivors"] = doc["survivors"][:-1]


@pytest.mark.parametrize(
    ("stage", "change", "reason", "refusing"),
    [
        ("secagg_share", _swap_key, "bad_signature", 6),
        ("secagg_advertise", _wrong_model, "model_hash", 6),
        ("secagg_advertise", _small_cohort, "cohort_under_k", 6),
        ("secagg_confirm", _not_me, "inconsistent_sets", 1),
    ],
)
def test_tampering_is_refused_logged_and_counted(
    federation: Build,
    make_policy: Build,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    *,
    stage: str,
    change: Callable[[dict[str, Any]], None],
    reason: str,
    refusing: int,
) -> None:
    """A server altering a stage's message: devices refuse, log the reason, count it."""
    target: list[int] = []

    def edit(message: Message) -> Message:
        if message.metadata.message_type != f"train.{stage}":
            return message
        if stage == "secagg_advertise":
            return _edit_params(message, change)
        if stage == "secagg_confirm":
            doc = msgpack.unpackb(message.content["secagg"]["data"], raw=False)
            if message.metadata.dst_node_id != doc["survivors"][-1]:
                return message
            target.append(message.metadata.dst_node_id)
        return _edit_payload(message, change)

    grid, settings = _grid(federation, 6, _secure(make_policy, tmp_path, 6), edit)
    with caplog.at_level(logging.WARNING, logger="edge_client.secagg"):
        result = run_server(grid, settings)
    record = _round(result)
    assert record["secagg"]["refused"].get(reason) == refusing
    assert f"refused secure aggregation at {stage}: {reason}" in caplog.text
    counted = sum(
        int(c.state[REFUSALS].get(reason, 0)) for c in grid.contexts.values() if REFUSALS in c.state
    )
    assert counted == refusing


def test_replayed_round_is_refused(federation: Build, make_policy: Build, tmp_path: Path) -> None:
    """Re-sending a finished round's first message: every device refuses it as a replay."""
    grid, settings = _grid(federation, 6, _secure(make_policy, tmp_path, 6))
    run_server(grid, settings)
    first = [m for m in grid.sent if m.metadata.message_type == "train.secagg_advertise"]
    replies = list(
        grid.send_and_receive(
            [
                Message(
                    m.content,
                    dst_node_id=m.metadata.dst_node_id,
                    message_type=m.metadata.message_type,
                )
                for m in first
            ]
        )
    )
    assert all(r.has_error() and r.error.reason.startswith("refused[replay]") for r in replies)


def test_secure_policy_devices_refuse_plain_rounds(
    federation: Build, make_policy: Build, tmp_path: Path
) -> None:
    """A device whose policy requires secure aggregation refuses a plain train message."""
    extra = _secure(make_policy, tmp_path, 4)
    grid, _, config = federation(4, **extra)
    plain = ServerSettings.from_run_config(
        {**config, "policy": str(make_policy("plain", sampling_rate=1.0))}
    )
    result = run_server(grid, plain)  # the server runs plain rounds; devices hold the secure policy
    assert _round(result)["status"] == "not_aggregated_under_k"
    reasons = {r.error.reason for r in grid.replies}
    assert any("secure aggregation is required" in (text or "") for text in reasons)


def test_secure_rounds_need_an_identity_authority(
    federation: Build, make_policy: Build, tmp_path: Path
) -> None:
    """Without secagg-authority the server refuses to start a secure federation."""
    extra = {**_secure(make_policy, tmp_path, 3), "secagg-authority": ""}
    grid, settings = _grid(federation, 3, extra)
    with pytest.raises(ServerConfigError, match="secagg-authority"):
        run_server(grid, settings)


def test_params_in_the_config_parse_back(
    federation: Build, make_policy: Build, tmp_path: Path
) -> None:
    """The parameters the devices receive are the server's plan (a positive control)."""
    grid, settings = _grid(federation, 4, _secure(make_policy, tmp_path, 4))
    run_server(grid, settings)
    message = next(m for m in grid.sent if m.metadata.message_type == "train.secagg_advertise")
    params = RoundParams.from_bytes(message.content["config"][PARAMS_FIELD])
    assert len(params.cohort) == 4 and params.min_survivors == 4
    assert np.isfinite(params.noise_std) and params.noise_std > 0


def test_evaluation_metrics_allowed_by_the_policy_stay_out_of_the_layout(
    federation: Build, make_policy: Build, tmp_path: Path
) -> None:
    """A policy that also allows `accuracy` (an evaluation metric): training sums the others."""
    allowed = ["num_examples", "loss", "accuracy", "update_norm"]
    extra = _secure(make_policy, tmp_path, 4, allowed_metrics=allowed)
    grid, settings = _grid(federation, 4, extra)
    record = _round(run_server(grid, settings))
    assert record["status"] == "aggregated"
    assert {"num_examples", "loss", "update_norm"} <= set(record) and "accuracy" not in record
    assert record["update_norm"] > 0  # the mean of the devices' norms, from their sum
