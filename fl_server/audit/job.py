"""The outcome-audit job of the ServerApp: rounds, ledger, report, plots.

``flwr run`` with the run config ``job = "audit"`` runs :func:`run_audit` instead of
training (``edgeprof audit run`` sets it). Settings come from the run config
(:class:`AuditSettings`). In a SIMULATION (``audit-simulated``) rounds follow each other
in virtual time, one cadence apart; in a deployment each invocation runs one round at the
wall-clock time, and the audit ledger in the output folder refuses a round before the
cadence or beyond the budget. Every round is written to ``audit.json`` and
``progress.jsonl`` as it ends; the plots are drawn at the end.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from flwr.serverapp import Grid

from edge_client.audit.layout import Question, layout_for
from edge_client.audit.rounds import required_noise_multiplier
from edge_client.federated.device import engine_for
from fl_server.audit.estimates import AuditEstimates, raise_flags
from fl_server.audit.ledger import AuditLedger
from fl_server.audit.query import AuditRound, RoundStatus, run_audit_round
from fl_server.audit.report import load_report, plot_report, write_report
from fl_server.errors import BudgetExhaustedError, ServerConfigError

__all__ = ["SIMULATION_START", "AuditResult", "AuditSettings", "run_audit"]

_LOG = logging.getLogger("fl_server.audit")
SIMULATION_START = 1_736_121_600.0
"""Virtual time of a simulated audit's first round (2025-01-06 00:00 UTC)."""
_DAY = 86400.0


@dataclass(frozen=True)
class AuditSettings:
    """A validated audit job (run-config keys in parentheses)."""

    policy: str
    """Preset name or policy path (``policy``)."""
    rounds: int
    """Rounds to run now (``audit-rounds``)."""
    questions: tuple[Question, ...]
    """What to ask (``audit-questions``, comma-separated)."""
    output_dir: Path
    """Where the report goes (``output-dir``)."""
    seed: int
    """Sampling seed, < 0 for OS entropy (``seed``)."""
    simulated: bool
    """Virtual time, one cadence per round (``audit-simulated``)."""
    dropout_margin: float
    """Share of sampled devices that may not reply (``audit-dropout``)."""

    @classmethod
    def from_run_config(cls, config: Mapping[str, object]) -> AuditSettings:
        """Parse the run config.

        Raises
        ------
        ServerConfigError
            Naming the key at fault.
        """

        def get(key: str, kind: type, default: object) -> Any:
            value = config.get(key, default)
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
                raise ServerConfigError(f"run config: {key!r} must be {kind.__name__}")
            return value

        names = [n.strip() for n in str(get("audit-questions", str, "")).split(",") if n.strip()]
        known = {q.value: q for q in Question}
        if any(n not in known for n in names):
            raise ServerConfigError(
                f"run config: 'audit-questions' must name questions among {sorted(known)}"
            )
        settings = cls(
            policy=get("policy", str, "default"),
            rounds=get("audit-rounds", int, 1),
            questions=tuple(known[n] for n in names) or tuple(Question),
            output_dir=Path(get("output-dir", str, "runs/audit")),
            seed=get("seed", int, -1),
            simulated=get("audit-simulated", bool, False),
            dropout_margin=get("audit-dropout", float, 0.1),
        )
        if settings.rounds < 1 or not 0 <= settings.dropout_margin < 1:
            raise ServerConfigError("run config: 'audit-rounds' >= 1, 'audit-dropout' in [0, 1)")
        if settings.rounds > 1 and not settings.simulated:
            raise ServerConfigError(
                "run config: a deployment runs one audit round per invocation (the cadence is "
                "days); set 'audit-rounds' = 1 and run the job again each cadence"
            )
        return settings


@dataclass(frozen=True)
class AuditResult:
    """Where an audit left its report and what it found."""

    report: Path
    plots: tuple[Path, ...]
    document: dict[str, Any]


def _record(result: AuditRound) -> dict[str, Any]:
    return {
        "round": result.round,
        "at": result.at,
        "status": result.status.value,
        "sampled": result.sampled,
        "replies": result.replies,
        "rejected": result.rejected,
        "min_replies": result.min_replies,
        "sigma": round(result.sigma, 6),
        "epsilon": None if result.charge is None else round(result.charge.epsilon, 6),
        "estimates": None if result.estimates is None else result.estimates.to_dict(),
    }


def run_audit(grid: Grid, settings: AuditSettings) -> AuditResult:
    """Run the audit rounds of ``settings`` on ``grid`` and write the report.

    Parameters
    ----------
    grid : Grid
        Where the devices are.
    settings : AuditSettings
        The job.

    Returns
    -------
    AuditResult
        The report, the plots and the report's content.
    """
    engine = engine_for(settings.policy)
    rules = engine.policy.audit.outcomes
    if not rules.enabled:
        raise ServerConfigError(
            f"policy {engine.policy.name!r}: audit.outcomes.enabled is false; devices would "
            "refuse every audit round"
        )
    out = settings.output_dir
    report_path = out / "audit.json"
    previous: list[dict[str, Any]] = []
    if report_path.exists():
        old = load_report(report_path)
        if old.get("settings", {}).get("policy_hash") == engine.policy_hash:
            previous = list(old["rounds"])
    z = required_noise_multiplier(rules)
    ledger = AuditLedger.load(out / "audit-ledger.json", rules, noise_multiplier=z)
    layout = layout_for(settings.questions)
    rng = np.random.default_rng(None if settings.seed < 0 else settings.seed + len(previous))
    fatigue_limit = engine.personalization.fatigue_after_impressions
    document: dict[str, Any] = {
        "settings": {
            "policy": settings.policy,
            "policy_hash": engine.policy_hash,
            "questions": [q.value for q in layout.questions],
            "simulated": settings.simulated,
            "noise_multiplier": z,
            "sensitivity": layout.sensitivity,
            "min_cohort": rules.min_cohort,
            "control_share": rules.control_share,
            "sampling_rate": ledger.sampling_rate,
            "thresholds": {
                "disparity": rules.disparity_threshold,
                "fatigue_max_drop": rules.fatigue_max_drop,
                "min_lift": rules.min_lift,
                "fatigue_limit": fatigue_limit,
            },
        },
        "rounds": previous,
    }
    first = 1 + max((int(r["round"]) for r in previous), default=0)
    last_at = max((float(r["at"]) for r in previous), default=None)
    for number in range(first, first + settings.rounds):
        if settings.simulated:
            at = SIMULATION_START if last_at is None else last_at + rules.cadence_days * _DAY
        else:
            at = time.time()
        try:
            result = run_audit_round(
                grid,
                engine=engine,
                layout=layout,
                ledger=ledger,
                round_number=number,
                at=at,
                rng=rng,
                dropout_margin=settings.dropout_margin,
                simulated=settings.simulated,
            )
        except BudgetExhaustedError as exc:
            _LOG.warning("audit stopped: %s", exc)
            document.setdefault("stopped", str(exc))
            break
        last_at = at
        record = _record(result)
        document["rounds"].append(record)
        _finish(document, engine_rules=rules, ledger=ledger, at=at, limit=fatigue_limit)
        write_report(report_path, document)
        with (out / "progress.jsonl").open("a", encoding="utf-8") as handle:
            handle.write(
                json.dumps({k: record[k] for k in ("round", "status", "replies", "epsilon")}) + "\n"
            )
    _finish(
        document, engine_rules=rules, ledger=ledger, at=last_at or time.time(), limit=fatigue_limit
    )
    write_report(report_path, document)
    plots = plot_report(out, document, rules, fatigue_limit=fatigue_limit)
    return AuditResult(report_path, tuple(plots), document)


def _finish(
    document: dict[str, Any], *, engine_rules: Any, ledger: AuditLedger, at: float, limit: int
) -> None:
    aggregated = [
        (int(r["round"]), AuditEstimates.from_dict(r["estimates"]))
        for r in document["rounds"]
        if r.get("status") == RoundStatus.AGGREGATED.value and r.get("estimates")
    ]
    document["flags"] = [
        f.to_dict() for f in raise_flags(aggregated, engine_rules, fatigue_limit=limit)
    ]
    document["epsilon"] = {
        "spent": round(ledger.spent(at), 6),
        "budget": engine_rules.epsilon,
        "delta": engine_rules.delta,
        "period_days": engine_rules.period_days,
    }
