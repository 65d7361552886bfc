"""The Flower ServerApp: ``serverapp = "fl_server.app:app"`` in ``pyproject.toml``.

:func:`run_server` does the work for any :class:`flwr.serverapp.Grid` (Flower's simulation
or deployment grid, or the in-process test grid): load the policy, the signing key and the
checkpoint (resuming if there is one: past rounds keep what they spent, an interrupted
round keeps its number, and the run never goes past ``num-rounds``; a checkpoint that
already holds them all is reported plainly, not trained on in silence), wrap ``FedAvg``
in :class:`PolicyStrategy`, run the remaining rounds, and write ``metrics.json``,
``progress.jsonl`` and the plots.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge_client.errors import MissingExtraError

try:
    from flwr.app import ArrayRecord, Context, MetricRecord
    from flwr.serverapp import Grid, ServerApp
except ModuleNotFoundError as exc:  # Flower comes with the 'federated' extra only
    raise MissingExtraError(
        "fl_server.app (the Flower ServerApp)", extra="federated", module=exc.name or "flwr"
    ) from exc

from edge_client.federated.device import engine_for
from edge_client.federated.examples import LocalExamples
from edge_client.federated.trainable import FederatedModel, initial_weights, load_trainable
from edge_client.models import LiteModel, load_model
from edge_client.policy import PolicyEngine
from edge_client.policy.accounting import RoundCharge
from fl_server.checkpoint import CHECKPOINT_NAME, CheckpointStore, ServerState, resume_note
from fl_server.errors import CheckpointError
from fl_server.evaluation import heldout_devices, heldout_people, score_interests, score_people
from fl_server.ledger import PrivacyLedger
from fl_server.publish import Publisher, ensure_signing_key
from fl_server.report import plot_run, write_metrics
from fl_server.secagg import SecureAggregator
from fl_server.settings import InitialModel, ServerSettings
from fl_server.strategy import PolicyStrategy, policy_fedavg

__all__ = ["RunResult", "app", "run_server"]

_LOG = logging.getLogger("fl_server")


@dataclass(frozen=True)
class RunResult:
    """Where a run left its outputs and what it spent.

    Attributes
    ----------
    output_dir, metrics, plots
        The output folder, ``metrics.json`` and the PNG plots.
    completed_round
        Last round whose model was published.
    epsilon
        ε spent in total (checkpointed rounds included).
    note
        Why nothing was trained (the checkpoint already holds ``num-rounds`` rounds), or
        ``None`` when rounds ran.
    """

    output_dir: Path
    metrics: Path
    plots: tuple[Path, ...]
    completed_round: int
    epsilon: float
    note: str | None = None


def _rng(seed: int, saved: str) -> np.random.Generator:
    rng = np.random.default_rng(None if seed < 0 else seed)  # seed < 0: OS entropy
    if saved:
        rng.bit_generator.state = json.loads(saved)
    return rng


def _check_model(path: Path, state: ServerState, sha256: str) -> None:
    """Refuse a checkpoint trained on another version of the model (same shapes or not).

    A checkpoint written before the model's hash was recorded (empty) is checked by its
    weights' shapes only.
    """
    if state.model_sha256 and state.model_sha256 != sha256:
        raise CheckpointError(
            f"{path}: checkpoint was trained on {state.model} {state.model_sha256[:12]}, the "
            f"installed model is {sha256[:12]} (another model version); use another output "
            "directory"
        )


def _check_shapes(path: Path, state: ServerState, shipped: Mapping[str, Any]) -> None:
    """Refuse a checkpoint whose weights do not fit the shipped model (another version)."""
    found = {k: tuple(v.shape) for k, v in sorted(state.weights.items())}
    expected = {k: tuple(v.shape) for k, v in sorted(shipped.items())}
    if found != expected:
        raise CheckpointError(
            f"{path}: checkpoint weights {found} do not fit the shipped {state.model} model "
            f"{expected} (another model version); use another output directory"
        )


def _start_state(
    store: CheckpointStore, engine: PolicyEngine, settings: ServerSettings, rate: float
) -> ServerState:
    """Resume from the checkpoint (after checking it fits this run), or start afresh."""
    plan, rules = settings.plan, engine.federated
    state = store.load(
        policy_hash=engine.policy_hash,
        model=plan.model.value,
        legacy_charge=RoundCharge(rules.sampling_rate, rules.noise_multiplier),
    )
    variant = Path(settings.model_dir) if settings.model_dir else None  # the devices' model-dir
    model_sha256 = load_trainable(plan.model, variant).spec.sha256
    if state is None:
        zero = settings.initial_model is InitialModel.ZERO
        weights = initial_weights(plan.model, zero=zero, model_dir=variant)
        return ServerState(
            engine.policy_hash, plan.model.value, 0, weights, model_sha256=model_sha256
        )
    _check_model(store.path, state, model_sha256)
    _check_shapes(store.path, state, initial_weights(plan.model, model_dir=variant))
    state = state.with_interrupted_rounds()
    past = sorted({e.sampling_rate for e in state.ledger})
    _LOG.info(
        "resuming after round %d of %d; past rounds stay charged at what they spent "
        "(sampling rates %s), new rounds at q=%g",
        state.rounds_started,
        settings.num_rounds,
        ", ".join(f"{q:g}" for q in past) or "none",
        rate,
    )
    return state


def run_server(grid: Grid, settings: ServerSettings) -> RunResult:
    """Run (or resume) a policy-enforced federation on ``grid``.

    Parameters
    ----------
    grid
        Where the devices are.
    settings
        The run configuration.

    Returns
    -------
    RunResult
        Outputs and ε spent.
    """
    engine = engine_for(settings.policy)
    rules = engine.federated
    plan, out = settings.plan, settings.output_dir
    store = CheckpointStore(out / CHECKPOINT_NAME)
    rate = settings.sampling_rate or rules.sampling_rate
    state = _start_state(store, engine, settings, rate)
    ledger = PrivacyLedger.from_rules(rules, sampling_rate=rate, entries=state.ledger)
    note = resume_note(state, settings.num_rounds, out)
    if note is not None:
        _LOG.warning("%s", note)
    evaluation: dict[int, dict[str, float]] = {
        int(r["round"]): {
            key.removeprefix("heldout_"): float(value)
            for key, value in r.items()
            if key.startswith("heldout_")
        }
        for r in state.history
        if "heldout_loss" in r
    }
    summary: dict[str, Any] = {
        **{
            k: getattr(v, "value", str(v) if isinstance(v, Path) else v)
            for k, v in asdict(settings).items()
            if k not in ("plan", "secagg")
        },
        **{
            f"secagg_{k}": str(v) if isinstance(v, Path) else v
            for k, v in asdict(settings.secagg).items()
        },
        **{f"plan_{k}": getattr(v, "value", v) for k, v in asdict(plan).items()},
        "policy_hash": engine.policy_hash,
        "min_cohort": rules.min_cohort,
        "noise_multiplier": rules.noise_multiplier,
        "clipping_norm": rules.clipping_norm,
        "sampling_rate_used": rate,
        "sampling_rates_charged": sorted({e.sampling_rate for e in state.ledger} | {rate}),
        "target_epsilon": rules.target_epsilon,
        "target_delta": rules.target_delta,
    }
    progress = out / "progress.jsonl"
    strategy: PolicyStrategy

    def on_round(record: Mapping[str, Any]) -> None:
        with progress.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, sort_keys=True) + "\n")
        write_metrics(
            out / "metrics.json", settings=summary, rounds=strategy.history, evaluation=evaluation
        )

    people, scorer = _heldout(settings)
    score = score_interests if plan.model is FederatedModel.INTERESTS else score_people

    def evaluate(server_round: int, arrays: ArrayRecord) -> MetricRecord | None:
        if scorer is None:
            return None
        scorer.set_weights({k: a.numpy() for k, a in arrays.items()})
        scores = score(scorer, people)
        number = strategy.state.completed_round
        evaluation[number] = scores
        if strategy.history and strategy.history[-1].get("round") == number:
            for key, value in scores.items():
                strategy.history[-1][f"heldout_{key}"] = value  # type: ignore[index]  # records are dicts
        return MetricRecord({f"heldout_{k}": v for k, v in scores.items()})

    out.mkdir(parents=True, exist_ok=True)
    secure = (
        SecureAggregator(engine, settings.secagg, sampling_rate=rate)
        if engine.federated.secure_aggregation or settings.secagg.enabled
        else None
    )
    summary["secure_aggregation"] = secure is not None
    strategy = PolicyStrategy(
        policy_fedavg(fraction_evaluate=settings.fraction_evaluate),
        engine=engine,
        plan=plan,
        ledger=ledger,
        publisher=Publisher(ensure_signing_key(settings.signing_key), out / "bundles"),
        store=store,
        state=state,
        rng=_rng(settings.seed, state.rng_state),
        sampling_rate=rate,
        on_round=on_round,
        secure=secure,
        optimizer=settings.optimizer,
    )
    # Rounds are numbered once: closed, skipped, exhausted and interrupted rounds all count.
    remaining = settings.num_rounds - state.rounds_started
    if remaining > 0:
        initial = ArrayRecord({k: _array(v) for k, v in state.weights.items()})
        strategy.start(
            grid=grid,
            initial_arrays=initial,
            num_rounds=remaining,
            evaluate_fn=evaluate if scorer is not None else None,
        )
    write_metrics(
        out / "metrics.json", settings=summary, rounds=strategy.history, evaluation=evaluation
    )
    plots = plot_run(
        out,
        rounds=strategy.history,
        evaluation=evaluation,
        target_epsilon=rules.target_epsilon,
        target_delta=rules.target_delta,
        label=f"federated, σ = {rules.noise_multiplier:g} (ε = {ledger.spent:.2f})",
    )
    return RunResult(
        out,
        out / "metrics.json",
        tuple(plots),
        strategy.state.completed_round,
        ledger.spent,
        note,
    )


def _heldout(settings: ServerSettings) -> tuple[tuple[LocalExamples, ...], LiteModel | None]:
    """Held-out people and a scorer (simulation only; none for models without one).

    The style model is scored by AUC over held-out people, the interest model by top-1
    accuracy over the built-in population's held-out devices.
    """
    model = settings.plan.model
    people: tuple[LocalExamples, ...] = ()
    if settings.heldout_eval and model is FederatedModel.STYLE:
        people = heldout_people(settings.data, settings.population_seed)
    elif settings.heldout_eval and model is FederatedModel.INTERESTS and not settings.data:
        people = heldout_devices()
    name = model.lite_name
    return people, load_model(name) if people and name is not None else None


def _array(values: Any) -> Any:
    from flwr.app import Array

    return Array(np.array(values, np.float32, order="C"))  # keeps 0-d shapes


app = ServerApp()


@app.main()
def main(grid: Grid, context: Context) -> None:
    """Run the federation described by the run config (see :class:`RunKey`).

    With ``job = "audit"`` the ServerApp runs outcome-audit query rounds instead of
    training (:func:`fl_server.audit.run_audit`, docs/audits.md).
    """
    if context.run_config.get("job") == "audit":
        from fl_server.audit.job import AuditSettings, run_audit

        audit = run_audit(grid, AuditSettings.from_run_config(dict(context.run_config)))
        _LOG.warning("outcome audit finished: report %s", audit.report)
        return
    settings = ServerSettings.from_run_config(dict(context.run_config))
    result = run_server(grid, settings)
    _LOG.warning(
        "federated run finished: round %d, ε=%.3f; report %s, plots %s",
        result.completed_round,
        result.epsilon,
        result.metrics,
        ", ".join(str(p) for p in result.plots),
    )
