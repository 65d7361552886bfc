"""The privacy ledger and checkpoints: ε only grows, stops at the target, survives restarts."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

import msgpack
import pytest

from edge_client.policy import Preset, load_preset
from fl_server.app import run_server
from fl_server.checkpoint import CheckpointStore
from fl_server.errors import BudgetExhaustedError, CheckpointError
from fl_server.ledger import PrivacyLedger

Build = Callable[..., Any]  # a pytest fixture factory


def test_epsilon_is_monotone_in_rounds() -> None:
    """ε after t rounds never decreases as t grows, and is 0 before any round."""
    ledger = PrivacyLedger.from_rules(load_preset(Preset.DEFAULT).federated)
    values = [ledger.epsilon_for(t) for t in range(0, 40, 3)]
    assert values[0] == 0.0
    assert all(a <= b for a, b in itertools.pairwise(values))


def test_ledger_refuses_the_round_that_would_exceed_the_target() -> None:
    """Charging stops exactly before ε would exceed the target."""
    ledger = PrivacyLedger(noise_multiplier=1.0, sampling_rate=0.1, delta=1e-5, target_epsilon=4.0)
    while ledger.can_charge():
        ledger.charge(len(ledger.entries) + 1, 10)
    assert 0 < ledger.spent <= 4.0
    assert ledger.epsilon_for(len(ledger.entries) + 1) > 4.0
    with pytest.raises(BudgetExhaustedError):
        ledger.charge(99, 10)


def test_training_stops_before_the_budget_is_exceeded(
    federation: Build, make_policy: Build
) -> None:
    """A run asked for more rounds than the budget allows stops with ε within the target."""
    policy = make_policy(sampling_rate=0.5, min_cohort=2, target_epsilon=4.0, noise_multiplier=1.0)
    grid, settings, _ = federation(8, policy=policy, **{"num-rounds": 12})
    result = run_server(grid, settings)
    rounds = json.loads(result.metrics.read_text())["rounds"]
    statuses = [r["status"] for r in rounds]
    assert "budget_exhausted" in statuses
    assert statuses.index("budget_exhausted") > 0
    assert all(s == "budget_exhausted" for s in statuses[statuses.index("budget_exhausted") :])
    epsilons = [r["epsilon"] for r in rounds]
    assert epsilons == sorted(epsilons)
    assert 0 < result.epsilon <= 4.0


def test_restart_resumes_rounds_and_keeps_epsilon(federation: Build, make_policy: Build) -> None:
    """A restarted server continues after its last round and never under-counts ε."""
    policy = make_policy(sampling_rate=1.0, min_cohort=2)
    grid, settings, _ = federation(6, policy=policy, **{"num-rounds": 2})
    first = run_server(grid, settings)
    assert first.completed_round == 2
    grid2, settings2, _ = federation(6, policy=policy, **{"num-rounds": 4})
    second = run_server(grid2, settings2)
    rounds = json.loads(second.metrics.read_text())["rounds"]
    assert [r["round"] for r in rounds] == [1, 2, 3, 4]
    assert second.completed_round == 4
    ledger = PrivacyLedger(noise_multiplier=1.0, sampling_rate=1.0, delta=1e-5, target_epsilon=50.0)
    assert second.epsilon == pytest.approx(ledger.epsilon_for(4))
    assert second.epsilon > first.epsilon


def _one_round(federation: Build, make_policy: Build, nodes: int) -> tuple[Any, CheckpointStore]:
    """Run one round on ``nodes`` devices; return its policy and checkpoint store."""
    policy = make_policy(sampling_rate=1.0, min_cohort=2)
    grid, settings, _ = federation(nodes, policy=policy, **{"num-rounds": 1})
    run_server(grid, settings)
    return policy, CheckpointStore(settings.output_dir / "checkpoint.msgpack")


def test_round_charged_before_a_crash_is_still_counted(
    federation: Build, make_policy: Build
) -> None:
    """ε of a round whose messages went out is in the checkpoint even if the server died."""
    from edge_client.federated.device import engine_for
    from fl_server.checkpoint import ServerState

    policy, store = _one_round(federation, make_policy, 6)
    engine = engine_for(str(policy))
    state = store.load(policy_hash=engine.policy_hash, model="style")
    assert isinstance(state, ServerState)
    # Simulate a crash after round 2 was charged but before it completed.
    ledger = PrivacyLedger.from_rules(engine.federated, entries=state.ledger)
    ledger.charge(2, 6)
    from dataclasses import replace

    store.save(replace(state, ledger=ledger.entries))
    grid2, settings2, _ = federation(6, policy=policy, **{"num-rounds": 2})
    resumed = run_server(grid2, settings2)
    assert resumed.epsilon == pytest.approx(ledger.epsilon_for(3))


def test_checkpoint_of_another_policy_is_refused(federation: Build, make_policy: Build) -> None:
    """Resuming under another policy raises instead of mixing budgets."""
    grid, settings, _ = federation(
        4, policy=make_policy(sampling_rate=1.0, min_cohort=2), **{"num-rounds": 1}
    )
    run_server(grid, settings)
    with pytest.raises(CheckpointError):
        CheckpointStore(settings.output_dir / "checkpoint.msgpack").load(
            policy_hash="0" * 64, model="style"
        )


def test_checkpoint_of_another_model_version_is_refused(
    federation: Build, make_policy: Build
) -> None:
    """A checkpoint whose weight shapes are not the shipped model's (style v1) is refused."""
    import numpy as np

    policy, store = _one_round(federation, make_policy, 4)
    doc = msgpack.unpackb(store.path.read_bytes(), raw=False, strict_map_key=False)
    old = {"w": np.zeros((2**17, 1), np.float32), "b": np.zeros(1, np.float32)}
    doc["weights"] = [[k, list(v.shape), v.tobytes()] for k, v in sorted(old.items())]
    store.path.write_bytes(msgpack.packb(doc, use_bin_type=True))
    grid2, settings2, _ = federation(4, policy=policy, **{"num-rounds": 2})
    with pytest.raises(CheckpointError, match="another model version"):
        run_server(grid2, settings2)
