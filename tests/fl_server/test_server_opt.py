"""The server step: plain FedAvg, server momentum (Flower's FedAvgM rule), checkpointed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flwr.app import Array, ArrayRecord, Message, MessageType, MetricRecord, RecordDict
from flwr.serverapp.strategy import FedAvgM

from fl_server.app import run_server
from fl_server.checkpoint import CHECKPOINT_NAME, CheckpointStore, ServerState
from fl_server.errors import ServerConfigError
from fl_server.server_opt import ServerOptimizer
from fl_server.settings import ServerSettings


def _weights(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "w": rng.normal(size=(3, 4)).astype(np.float32),
        "b": rng.normal(size=4).astype(np.float32),
    }


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"learning_rate": 0.0}, "server-learning-rate"),
        ({"learning_rate": float("nan")}, "server-learning-rate"),
        ({"learning_rate": 11.0}, "server-learning-rate"),
        ({"momentum": 1.0}, "server-momentum"),
        ({"momentum": -0.1}, "server-momentum"),
    ],
)
def test_out_of_range_settings_name_the_run_config_key(kwargs: dict[str, float], key: str) -> None:
    """A step size or momentum outside its range is refused with the run-config key named."""
    with pytest.raises(ServerConfigError, match=key):
        ServerOptimizer(**kwargs)


def test_run_config_keys_reach_the_optimizer(tmp_path: Path) -> None:
    """server-learning-rate and server-momentum are parsed; a wrong type names the key."""
    base = {"output-dir": str(tmp_path)}
    settings = ServerSettings.from_run_config(
        {**base, "server-learning-rate": 2, "server-momentum": 0.5}
    )
    assert settings.optimizer == ServerOptimizer(learning_rate=2.0, momentum=0.5)
    assert ServerSettings.from_run_config(base).optimizer.plain
    with pytest.raises(ServerConfigError, match="server-momentum"):
        ServerSettings.from_run_config({**base, "server-momentum": "high"})


def test_plain_step_adds_the_update_and_keeps_no_velocity() -> None:
    """Step 1 without momentum is FedAvg: weights + update, nothing remembered."""
    weights, update = _weights(1), _weights(2)
    new, velocity = ServerOptimizer().step(weights, update, {})
    assert velocity == {}
    for name in weights:
        np.testing.assert_array_equal(new[name], weights[name] + update[name])
        assert new[name].dtype == np.float32


def _reply(arrays: dict[str, np.ndarray]) -> Message:
    sent = Message(RecordDict(), dst_node_id=1, message_type=MessageType.TRAIN)
    content = RecordDict(
        {
            "arrays": ArrayRecord({k: Array(v) for k, v in arrays.items()}),
            "metrics": MetricRecord({"num-examples": 1}),
        }
    )
    return Message(content, reply_to=sent)


def test_momentum_follows_flowers_fedavgm_round_by_round() -> None:
    """Server momentum moves the model exactly as Flower's FedAvgM does, over four rounds."""
    ours = ServerOptimizer(learning_rate=0.7, momentum=0.9)
    flower = FedAvgM(server_learning_rate=0.7, server_momentum=0.9)
    weights = _weights(0)
    flower.current_arrays = ArrayRecord({k: Array(v) for k, v in weights.items()})
    velocity: dict[str, Any] = {}
    for r in range(1, 5):
        update = _weights(10 + r)
        weights, velocity = ours.step(weights, update, velocity)
        current = {k: a.numpy() for k, a in flower.current_arrays.items()}
        # FedAvg of one reply is that reply: the model after a plain step of this update.
        arrays, _ = flower.aggregate_train(r, [_reply({k: current[k] + update[k] for k in update})])
        assert arrays is not None
        for name, array in arrays.items():
            np.testing.assert_allclose(weights[name], array.numpy(), rtol=1e-5, atol=1e-5)
        assert set(velocity) == set(weights)


def test_velocity_survives_a_checkpoint(tmp_path: Path) -> None:
    """The velocity is saved and loaded with the weights; a mismatched one is refused."""
    store = CheckpointStore(tmp_path / "state.ckpt")
    state = ServerState("p", "style", 3, _weights(0), velocity=_weights(1))
    store.save(state)
    loaded = store.load(policy_hash="p", model="style")
    assert loaded is not None
    for name in ("w", "b"):
        np.testing.assert_array_equal(loaded.velocity[name], state.velocity[name])
    store.save(ServerState("p", "style", 3, _weights(0), velocity={"w": np.zeros(2, np.float32)}))
    with pytest.raises(Exception, match="velocity does not match"):
        store.load(policy_hash="p", model="style")


def test_policy_run_with_server_momentum_checkpoints_its_velocity(
    federation: Any, make_policy: Any
) -> None:
    """A policy run with server momentum aggregates its rounds and saves the velocity."""
    policy = make_policy(sampling_rate=1.0, min_cohort=2)
    grid, settings, _ = federation(
        4, policy=policy, **{"num-rounds": 2, "server-momentum": 0.9, "server-learning-rate": 0.5}
    )
    result = run_server(grid, settings)
    rounds = json.loads(result.metrics.read_text())["rounds"]
    assert [r["status"] for r in rounds] == ["aggregated", "aggregated"]
    state = CheckpointStore(result.output_dir / CHECKPOINT_NAME).load(
        policy_hash=json.loads(result.metrics.read_text())["settings"]["policy_hash"],
        model="style",
    )
    assert state is not None and state.completed_round == 2
    assert set(state.velocity) == set(state.weights)
    assert any(np.abs(v).sum() > 0 for v in state.velocity.values())
