"""The policy-enforced strategy on an in-process federation running the real ClientApp."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from flwr.app import Array, ArrayRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

from edge_client.federated.app import app as real_app
from fl_server.app import run_server

Build = Callable[..., Any]  # a pytest fixture factory


def _tampering_app(every: int, how: str) -> ClientApp:
    """A ClientApp that corrupts the update of every ``every``-th node it serves."""
    app = ClientApp()

    @app.train()
    def train(message: Message, context: Context) -> Message:
        reply = real_app(message, context)
        if context.node_id % every or reply.has_error():
            return reply
        update = {k: a.numpy() for k, a in reply.content["arrays"].items()}  # type: ignore[union-attr]  # the real app replies with an ArrayRecord
        if how == "scale":
            update = {k: v * 100 for k, v in update.items()}
        elif how == "nan":
            update["b"] = np.full_like(update["b"], np.nan)
        elif how == "shape":
            update["w"] = update["w"][:10]
        elif how == "dtype":
            update = {k: v.astype(np.float64) for k, v in update.items()}
        content = RecordDict(
            {
                "arrays": ArrayRecord({k: Array(v) for k, v in update.items()}),
                "metrics": MetricRecord({"num_examples": 3}),
            }
        )
        return Message(content, reply_to=message)

    return app


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("scale", "norm_above_clip"),
        ("nan", "not_finite"),
        ("shape", "wrong_shape"),
        ("dtype", "wrong_dtype"),
    ],
)
def test_invalid_updates_are_rejected_and_counted(
    federation: Build, make_policy: Build, how: str, reason: str
) -> None:
    """Over-norm, NaN, wrong-shape and float64 updates are rejected, counted, never averaged."""
    policy = make_policy(sampling_rate=1.0, min_cohort=2)
    grid, settings, _ = federation(
        8, policy=policy, app=_tampering_app(2, how), **{"num-rounds": 1}
    )
    result = run_server(grid, settings)
    record = json.loads(result.metrics.read_text())["rounds"][0]
    assert record["status"] == "aggregated"
    assert record["rejected"] == {reason: 4}
    assert record["accepted"] == 4
    assert result.completed_round == 1


def test_round_with_too_few_valid_updates_is_not_aggregated(
    federation: Build, make_policy: Build
) -> None:
    """When rejections leave fewer than k updates, the global model does not change."""
    policy = make_policy(sampling_rate=1.0, min_cohort=6)
    grid, settings, _ = federation(
        8, policy=policy, app=_tampering_app(2, "nan"), **{"num-rounds": 1}
    )
    result = run_server(grid, settings)
    record = json.loads(result.metrics.read_text())["rounds"][0]
    assert record["status"] == "not_aggregated_under_k"
    assert result.completed_round == 0
    assert record["epsilon"] > 0  # the round was sent, so it is charged


def test_cohort_under_k_is_neither_sent_nor_charged(federation: Build, make_policy: Build) -> None:
    """With fewer sampled nodes than k, no message is sent, nothing aggregated, ε stays 0."""
    policy = make_policy(sampling_rate=0.5, min_cohort=20)
    grid, settings, _ = federation(10, policy=policy, **{"num-rounds": 3})
    result = run_server(grid, settings)
    rounds = json.loads(result.metrics.read_text())["rounds"]
    assert [r["status"] for r in rounds] == ["skipped_cohort_under_k"] * 3
    assert grid.sent == []
    assert result.epsilon == 0.0
    assert result.completed_round == 0


def test_aggregated_model_is_mean_update_plus_calibrated_noise(
    federation: Build, make_policy: Build
) -> None:
    """The new global model moves by the clipped mean plus noise of σ = z·C/m (m = q·N = n here)."""
    policy = make_policy(sampling_rate=1.0, min_cohort=2, noise_multiplier=1.0)
    grid, settings, _ = federation(6, policy=policy, **{"num-rounds": 1})
    result = run_server(grid, settings)
    record = json.loads(result.metrics.read_text())["rounds"][0]
    assert record["accepted"] == 6
    assert record["noise_std"] == 1.0 * 1.0 / 6
    from edge_client.federated.bundle import verify_model_bundle
    from edge_client.policy import TrustStore

    bundle = verify_model_bundle(
        (settings.output_dir / "bundles" / "style-latest.bundle").read_bytes(),
        TrustStore.load(settings.output_dir / "keys" / "model-signing.pub"),
        policy_hash=json.loads(result.metrics.read_text())["settings"]["policy_hash"],
    )
    mean = np.mean([r.content["arrays"]["w"].numpy() for r in grid.replies], axis=0)
    noise = bundle.weights["w"] - mean  # the initial model is zero
    assert bundle.version == 1
    assert abs(float(noise.std()) - 1 / 6) < 0.01


def test_noise_uses_the_expected_cohort_not_the_sampled_count(
    federation: Build, make_policy: Build
) -> None:
    """With Poisson sampling the denominator is q·N, whatever the sampled count was."""
    policy = make_policy(sampling_rate=0.5, min_cohort=2, noise_multiplier=1.0)
    grid, settings, _ = federation(20, policy=policy, **{"num-rounds": 2})
    result = run_server(grid, settings)
    rounds = json.loads(result.metrics.read_text())["rounds"]
    aggregated = [r for r in rounds if "noise_std" in r]
    assert aggregated
    for record in aggregated:
        assert record["expected_cohort"] == 10.0
        assert record["noise_std"] == 1.0 * 1.0 / 10.0
