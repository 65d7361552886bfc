"""The word-bucket membership attack of the threat model, on what the server receives.

The style model's trainable residual is linear over hashed word buckets (the hash folded to
the residual's rows), so a device's update is non-zero exactly at the rows of its words:
from a plain reply the server ranks the device's own rows above all others (AUC 1). In a
secure round the same attack, run on every byte the server and the SuperLink receive (each
device's replies at every stage), is at chance (AUC 0.5 within sampling error), and no
reply holds a float update or a metric.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from flwr.app import ArrayRecord, Message
from sklearn.metrics import roc_auc_score

from edge_client.federated.device import device_from_config
from edge_client.models import ModelName, load_model
from fl_server.app import run_server
from fl_server.secagg import simulation_identities

Build = Callable[..., Any]
NODES = 6


def _word_buckets(config: dict[str, Any], partition: int) -> npt.NDArray[np.int64]:
    """The residual rows of every word the device's examples hold (the attack's truth)."""
    device = device_from_config({"partition-id": partition}, config)
    model = load_model(ModelName.STYLE)
    rows = model.get_weights()["w"].shape[0]
    examples = device.examples[ModelName.STYLE]
    buckets = np.concatenate([model.spec.row(c)[0] for c in examples.counts])
    return np.unique(buckets % rows).astype(np.int64)


def _auc(scores: npt.NDArray[np.float64], buckets: npt.NDArray[np.int64]) -> float:
    truth = np.zeros(scores.size, bool)
    truth[buckets] = True
    return float(roc_auc_score(truth, scores))


def _recovered(scores: npt.NDArray[np.float64], buckets: npt.NDArray[np.int64]) -> float:
    """Share of the device's buckets among the attacker's top-ranked (as many) buckets."""
    top = np.argsort(-scores, kind="stable")[: buckets.size]
    return float(np.isin(top, buckets).mean())


def _updates(
    replies: list[Message], grid: Any, *, secure: bool
) -> dict[int, npt.NDArray[np.float64]]:
    """Per node, the attacker's score of each bucket from what that node sent."""
    out = {}
    offset = 1  # weights in name order: "b" (1 value) then "w" (the residual's rows)
    rows = load_model(ModelName.STYLE).get_weights()["w"].shape[0]
    for reply in replies:
        node = reply.metadata.src_node_id
        for item in reply.content.values():
            if not isinstance(item, ArrayRecord):
                continue
            if secure:
                vector = item["masked"].numpy().view(np.int32)
                out[node] = np.abs(vector[offset : offset + rows].astype(np.float64))
            else:
                out[node] = np.abs(item["w"].numpy().ravel().astype(np.float64))
    return out


def test_membership_attack_is_at_chance_in_a_secure_round(
    federation: Build, make_policy: Build, tmp_path: Path
) -> None:
    """Plain round: the attack finds each device's words (AUC ≈ 1); secure round: chance."""
    identities, authority = simulation_identities(tmp_path / "identities", NODES)
    results, recovered = {}, {}
    for secure in (False, True):
        policy = make_policy(
            f"attack-{secure}", sampling_rate=1.0, min_cohort=3, secure_aggregation=secure
        )
        extra = {"secagg-identity": str(identities), "secagg-authority": str(authority)}
        grid, settings, config = federation(
            NODES, policy=policy, out=tmp_path / f"run-{secure}", **{"num-rounds": 1}, **extra
        )
        result = run_server(grid, settings)
        assert json.loads(result.metrics.read_text())["rounds"][0]["status"] == "aggregated"
        scores = _updates(grid.replies, grid, secure=secure)
        assert len(scores) == NODES
        truth = {
            node: _word_buckets(config, int(ctx.node_config["partition-id"]))
            for node, ctx in grid.contexts.items()
        }
        results[secure] = float(np.mean([_auc(scores[n], truth[n]) for n in truth]))
        recovered[secure] = float(np.mean([_recovered(scores[n], truth[n]) for n in truth]))
        if secure:  # nothing else could carry the update
            for reply in grid.replies:
                for name, item in reply.content.items():
                    assert name in ("secagg", "masked")
                    if isinstance(item, ArrayRecord):
                        assert item["masked"].dtype == "uint32"
    print(
        f"attack AUC plain {results[False]:.4f} secure {results[True]:.4f}; buckets "
        f"recovered plain {recovered[False]:.3f} secure {recovered[True]:.4f}"
    )
    assert results[False] > 0.99 and recovered[False] > 0.95  # works on plain updates
    assert abs(results[True] - 0.5) < 0.05  # and is at chance on what a secure round sends
    assert recovered[True] < 0.05
