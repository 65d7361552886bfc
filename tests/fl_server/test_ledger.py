"""The privacy ledger and checkpoints: ε only grows, stops at the target, survives restarts."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path
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
    grid2, settings2, _ = federation(6, policy=policy, **{"num-rounds": 3})
    resumed = run_server(grid2, settings2)
    assert resumed.epsilon == pytest.approx(ledger.epsilon_for(3))
    rounds = json.loads(resumed.metrics.read_text())["rounds"]
    assert [(r["round"], r["status"]) for r in rounds] == [
        (1, "aggregated"),
        (2, "interrupted"),
        (3, "aggregated"),
    ]


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


def test_checkpoint_of_another_model_file_with_the_same_shapes_is_refused(
    federation: Build, make_policy: Build
) -> None:
    """Same shapes, other model file (e.g. interests 2.0.0 before 2.1.0): refused by hash."""
    policy, store = _one_round(federation, make_policy, 4)
    doc = msgpack.unpackb(store.path.read_bytes(), raw=False, strict_map_key=False)
    assert len(doc["model_sha256"]) == 64  # the run recorded the model it trains
    doc["model_sha256"] = "0" * 64
    store.path.write_bytes(msgpack.packb(doc, use_bin_type=True))
    grid2, settings2, _ = federation(4, policy=policy, **{"num-rounds": 2})
    with pytest.raises(CheckpointError, match="another model version"):
        run_server(grid2, settings2)
    del doc["model_sha256"]  # a checkpoint from before the hash was recorded: shapes decide
    store.path.write_bytes(msgpack.packb(doc, use_bin_type=True))
    assert run_server(grid2, settings2).completed_round == 2


class _Crash(BaseException):
    """Stands for the server process dying while a round's messages are out."""


def _crashing_app(at_round: int) -> Any:
    from flwr.app import Context, Message
    from flwr.clientapp import ClientApp

    from edge_client.federated.app import app as real_app

    app = ClientApp()

    @app.train()
    def train(message: Message, context: Context) -> Message:
        config = message.content.config_records["config"]
        if config["server-round"] == at_round:
            raise _Crash
        return real_app(message, context)

    return app


@pytest.mark.parametrize("crash_at", [1, 2, 3])
def test_an_interrupted_round_is_never_an_extra_round(
    federation: Build, make_policy: Build, crash_at: int
) -> None:
    """A crash in round r, then a resume: rounds 1..num-rounds exactly, r interrupted."""
    policy = make_policy(sampling_rate=1.0, min_cohort=2)
    grid, settings, _ = federation(
        6, policy=policy, app=_crashing_app(crash_at), **{"num-rounds": 3}
    )
    with pytest.raises(_Crash):
        run_server(grid, settings)
    grid2, settings2, _ = federation(6, policy=policy, **{"num-rounds": 3})
    resumed = run_server(grid2, settings2)
    rounds = json.loads(resumed.metrics.read_text())["rounds"]
    assert [r["round"] for r in rounds] == [1, 2, 3]
    assert [r["status"] for r in rounds][crash_at - 1] == "interrupted"
    reference = PrivacyLedger(
        noise_multiplier=1.0, sampling_rate=1.0, delta=1e-5, target_epsilon=50.0
    )
    assert resumed.epsilon == pytest.approx(reference.epsilon_for(3))  # 3 charged, no more


def test_a_lower_sampling_rate_on_resume_never_reprices_past_rounds(
    federation: Build, make_policy: Build
) -> None:
    """Two rounds at q=1, then two at q=0.5: ε counts the first two at q=1, not at 0.5."""
    policy = make_policy(sampling_rate=1.0, min_cohort=2)
    grid, settings, _ = federation(8, policy=policy, **{"num-rounds": 2})
    first = run_server(grid, settings)
    grid2, settings2, _ = federation(8, policy=policy, **{"num-rounds": 4, "sampling-rate": 0.5})
    second = run_server(grid2, settings2)
    ledger = PrivacyLedger(noise_multiplier=1.0, sampling_rate=0.5, delta=1e-5, target_epsilon=50)
    naive = ledger.epsilon_for(4)  # what re-pricing every round at 0.5 would claim
    assert second.epsilon > naive
    assert second.epsilon >= first.epsilon
    checkpoint = CheckpointStore(settings.output_dir / "checkpoint.msgpack")
    from edge_client.federated.device import engine_for

    state = checkpoint.load(policy_hash=engine_for(str(policy)).policy_hash, model="style")
    assert state is not None
    assert [e.sampling_rate for e in state.ledger] == [1.0, 1.0, 0.5, 0.5]
    assert [e.noise_multiplier for e in state.ledger] == [1.0] * 4


def test_an_exhausted_budget_stays_exhausted_with_a_lower_rate(
    federation: Build, make_policy: Build
) -> None:
    """A run that spent its budget at q=1 cannot buy more rounds by resuming at a lower q."""
    policy = make_policy(sampling_rate=1.0, min_cohort=2, target_epsilon=4.0)
    grid, settings, _ = federation(8, policy=policy, **{"num-rounds": 6})
    first = run_server(grid, settings)
    statuses = [r["status"] for r in json.loads(first.metrics.read_text())["rounds"]]
    assert "budget_exhausted" in statuses
    grid2, settings2, _ = federation(8, policy=policy, **{"num-rounds": 12, "sampling-rate": 0.05})
    second = run_server(grid2, settings2)
    assert first.epsilon <= second.epsilon <= 4.0
    rounds = json.loads(second.metrics.read_text())["rounds"]
    assert [r["round"] for r in rounds] == list(range(1, 13))


def test_a_complete_checkpoint_says_so_instead_of_training_nothing(
    federation: Build, make_policy: Build
) -> None:
    """Running again with the same num-rounds reports that the checkpoint is complete."""
    policy = make_policy(sampling_rate=1.0, min_cohort=2)
    grid, settings, _ = federation(6, policy=policy, **{"num-rounds": 2})
    first = run_server(grid, settings)
    assert first.note is None
    grid2, settings2, _ = federation(6, policy=policy, **{"num-rounds": 2})
    again = run_server(grid2, settings2)
    assert again.note is not None
    assert "already holds 2 round(s)" in again.note and "nothing to train" in again.note
    assert "Raise num-rounds" in again.note and "checkpoint.msgpack" in again.note
    assert again.completed_round == 2 and again.epsilon == pytest.approx(first.epsilon)


def test_a_checkpoint_without_per_round_accounting_is_charged_conservatively(
    tmp_path: Path,
) -> None:
    """Old ledger entries (round, cohort, ε) take the policy's q and σ, the most they spent."""
    import msgpack

    from edge_client.policy.accounting import RoundCharge

    path = tmp_path / "checkpoint.msgpack"
    path.write_bytes(
        msgpack.packb(
            {
                "policy_hash": "h",
                "model": "style",
                "completed_round": 1,
                "weights": [],
                "ledger": [[1, 10, 0.5]],
                "participations": [],
                "history": json.dumps([{"round": 1, "status": "aggregated"}]),
                "rng_state": "",
            }
        )
    )
    store = CheckpointStore(path)
    with pytest.raises(CheckpointError, match="without its rate and noise"):
        store.load(policy_hash="h", model="style")
    state = store.load(policy_hash="h", model="style", legacy_charge=RoundCharge(0.02, 1.1))
    assert state is not None
    assert (state.ledger[0].sampling_rate, state.ledger[0].noise_multiplier) == (0.02, 1.1)


@pytest.mark.parametrize(
    "content",
    [b"", b"\x91" * 100_000, b"not msgpack at all", b"\x80"],
)
def test_a_corrupt_checkpoint_is_a_checkpoint_error(tmp_path: Path, content: bytes) -> None:
    """Truncated, deep or foreign checkpoint files raise CheckpointError, nothing else."""
    path = tmp_path / "checkpoint.msgpack"
    path.write_bytes(content)
    with pytest.raises(CheckpointError):
        CheckpointStore(path).load(policy_hash="h", model="style")


def test_heterogeneous_rounds_compose_between_their_uniform_bounds() -> None:
    """ε of rounds at two rates lies between all rounds at the lower and at the higher rate."""
    mixed = PrivacyLedger(noise_multiplier=1.0, sampling_rate=0.5, delta=1e-5, target_epsilon=50)
    mixed.charge(1, 5, sampling_rate=0.1)
    mixed.charge(2, 5, sampling_rate=0.1)
    mixed.charge(3, 50)
    low = PrivacyLedger(noise_multiplier=1.0, sampling_rate=0.1, delta=1e-5, target_epsilon=50)
    high = PrivacyLedger(noise_multiplier=1.0, sampling_rate=0.5, delta=1e-5, target_epsilon=50)
    assert low.epsilon_for(3) < mixed.spent < high.epsilon_for(3)
    noisier = PrivacyLedger(noise_multiplier=1.0, sampling_rate=0.5, delta=1e-5, target_epsilon=50)
    noisier.charge(1, 5, noise_multiplier=2.0)
    assert noisier.spent < high.epsilon_for(1)
    assert [e.noise_multiplier for e in noisier.entries] == [2.0]


def test_simulate_refuses_a_complete_checkpoint_before_starting_anything(
    federation: Build, make_policy: Build
) -> None:
    """`edgeprof simulate --output DIR` with a finished checkpoint says so and how to go on."""
    from click.testing import CliRunner

    from fl_server.cli import simulate

    policy = make_policy(sampling_rate=1.0, min_cohort=2)
    grid, settings, _ = federation(6, policy=policy, **{"num-rounds": 2})
    run_server(grid, settings)
    args = ["--output", str(settings.output_dir), "--policy", str(policy), "--devices", "6"]
    args += ["--model", "style"]  # the federation trains style; simulate defaults to interests
    result = CliRunner().invoke(simulate, [*args, "--rounds", "2"])
    assert result.exit_code == 1
    assert "already holds 2 round(s)" in result.output and "Raise --rounds" in result.output
