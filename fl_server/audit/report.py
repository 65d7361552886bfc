"""The audit report for privacy engineers: ``audit.json``, four PNG plots and a summary.

``<output>/audit.json`` is rewritten after every round (settings, ε spent with the budget
and δ, every round with its estimates and standard errors, the flags). The plots are drawn
with matplotlib's non-interactive backend: ``exposure.png`` (share of impressions per
variant and sponsored-offer share per style bucket, with the disparity threshold),
``engagement.png`` (engagement and dismissal rates per style bucket and variant),
``fatigue.png`` (engagement by exposure count, with the policy's limit) and ``lift.png``
(lift of personalization over the control group per round, with ``min_lift``). Error
bars are 95% intervals of the DP noise. :func:`summary` is what ``edgeprof audit`` prints.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from edge_client.audit.layout import BUCKETS, EXPOSURE_BINS, VARIANTS
from edge_client.policy.model import OutcomeAuditRules
from fl_server.errors import ServerConfigError

__all__ = ["FORMAT", "load_report", "plot_report", "summary", "write_report"]

FORMAT = "edgeprof-audit-report/1"
_MAX_BYTES = 20_000_000


def write_report(path: Path, document: Mapping[str, Any]) -> None:
    """Write ``audit.json`` atomically (``format`` added)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    text = json.dumps({"format": FORMAT, **document}, indent=2, sort_keys=True, allow_nan=False)
    temporary.write_text(text + "\n", encoding="utf-8")
    temporary.replace(path)


def load_report(path: Path) -> dict[str, Any]:
    """Read an ``audit.json`` written by :func:`write_report`.

    Raises
    ------
    ServerConfigError
        Naming the file when it is missing, too large, not JSON or not an audit report.
    """
    try:
        if path.stat().st_size > _MAX_BYTES:
            raise ServerConfigError(f"{path}: larger than {_MAX_BYTES} bytes")
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ServerConfigError(f"{path}: cannot read ({exc.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ServerConfigError(f"{path}: not an audit report ({exc})") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise ServerConfigError(f"{path}: field 'format' must be {FORMAT!r}")
    if not isinstance(raw.get("rounds"), list) or not isinstance(raw.get("flags"), list):
        raise ServerConfigError(f"{path}: fields 'rounds' and 'flags' must be lists")
    return raw


def _value(estimate: Any) -> tuple[float, float]:
    if not isinstance(estimate, dict) or estimate.get("value") is None:
        return math.nan, 0.0
    se = estimate.get("se")
    return float(estimate["value"]), 1.96 * float(se) if se is not None else 0.0


def _latest(rounds: Sequence[Mapping[str, Any]], name: str) -> Mapping[str, Any] | None:
    for record in reversed(rounds):
        estimates = record.get("estimates") or {}
        if estimates.get(name) is not None:
            return dict(estimates)
    return None


def _bars(axis: Any, values: Mapping[str, Any], title: str, ylabel: str) -> None:
    import numpy as np

    width = 0.8 / len(VARIANTS)
    x = np.arange(len(BUCKETS))
    for k, variant in enumerate(VARIANTS):
        pairs = [_value(values.get(f"{b.value}/{variant}")) for b in BUCKETS]
        axis.bar(
            x + (k - 1) * width,
            [p[0] for p in pairs],
            width,
            yerr=[p[1] for p in pairs],
            capsize=3,
            label=f"{variant} variant",
        )
    axis.set_xticks(
        x, [f"{b.value}-leaning" if b.value != "unknown" else "style unknown" for b in BUCKETS]
    )
    axis.set_title(title)
    axis.set_ylabel(ylabel)
    axis.legend(fontsize=8, loc="upper right")


def _exposure(
    left: Any, right: Any, latest: Mapping[str, Any] | None, rules: OutcomeAuditRules
) -> None:
    if latest is None:
        return
    _bars(
        left,
        latest["exposure"],
        "Exposure by style bucket and variant",
        "share of impressions (personalized arm)",
    )
    shares = [_value(latest["sponsored"].get(b.value)) for b in BUCKETS]
    right.bar(
        [b.value for b in BUCKETS],
        [s[0] for s in shares],
        yerr=[s[1] for s in shares],
        capsize=4,
        color="tab:purple",
        label="sponsored-offer share",
    )
    gap = _value(latest.get("disparity"))
    right.set_title(
        f"Sponsored offers by style bucket\n(gap emotional − analytical: "
        f"{gap[0] * 100:+.1f} ± {gap[1] * 100:.1f} points)",
        fontsize=10,
    )
    right.set_ylabel("share of impressions")
    right.set_xlabel(f"disparity threshold: {rules.disparity_threshold * 100:.1f} points")
    right.legend(fontsize=8)


def _fatigue(
    axis: Any, latest: Mapping[str, Any] | None, rules: OutcomeAuditRules, limit: int
) -> None:
    axis.set_xlabel("times the same item was shown to the person")
    axis.set_ylabel("engagements per impression")
    axis.set_title("Fatigue: engagement by exposure count")
    if latest is None:
        return
    points = [_value(e) for e in latest["fatigue"]]
    x = list(range(1, EXPOSURE_BINS + 1))
    axis.errorbar(
        x,
        [p[0] for p in points],
        yerr=[p[1] for p in points],
        fmt="o-",
        capsize=4,
        label="engagement rate (95% noise interval)",
    )
    if not math.isnan(points[0][0]):
        axis.axhline(
            points[0][0] * (1.0 - rules.fatigue_max_drop),
            color="tab:red",
            linestyle="--",
            label=f"alert below at exposure {min(limit, EXPOSURE_BINS)} "
            f"({rules.fatigue_max_drop:.0%} under the first)",
        )
    axis.set_xticks(x, ["1st", "2nd", "3rd", "4th+"])
    axis.legend(fontsize=8)


def _lift(axis: Any, rounds: Sequence[Mapping[str, Any]], rules: OutcomeAuditRules) -> None:
    axis.set_xlabel("audit round")
    axis.set_ylabel("engagement points over the control group")
    axis.set_title("Lift of personalization over generic content")
    lifted = [r for r in rounds if (r.get("estimates") or {}).get("lift") is not None]
    if not lifted:
        return
    values = [_value(r["estimates"]["lift"]) for r in lifted]
    numbers = [int(r["round"]) for r in lifted]
    axis.errorbar(
        numbers,
        [v[0] * 100 for v in values],
        yerr=[v[1] * 100 for v in values],
        fmt="o-",
        capsize=4,
        label="lift (95% noise interval)",
    )
    axis.axhline(
        rules.min_lift * 100,
        color="tab:red",
        linestyle="--",
        label=f"min_lift {rules.min_lift * 100:.1f} points",
    )
    axis.axhline(0.0, color="grey", linewidth=0.8)
    axis.set_xticks(numbers)
    axis.legend(fontsize=8)


def plot_report(
    output: Path, document: Mapping[str, Any], rules: OutcomeAuditRules, *, fatigue_limit: int
) -> list[Path]:
    """Draw the four plots of an audit report; return the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rounds = [r for r in document.get("rounds", []) if r.get("status") == "aggregated"]
    written: list[Path] = []
    simulated = bool(document.get("settings", {}).get("simulated"))

    def save(fig: Any, name: str) -> None:
        if simulated:
            fig.text(0.99, 0.01, "SIMULATION", ha="right", va="bottom", fontsize=8, color="grey")
        fig.tight_layout()
        output.mkdir(parents=True, exist_ok=True)
        fig.savefig(output / name, dpi=100)
        plt.close(fig)
        written.append(output / name)

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    _exposure(left, right, _latest(rounds, "exposure"), rules)
    save(fig, "exposure.png")
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    engagement = _latest(rounds, "engagement")
    if engagement is not None:
        _bars(
            left,
            engagement["engagement"],
            "Engagement by style bucket and variant",
            "engagements per impression",
        )
        _bars(
            right,
            engagement["dismissal"],
            "Dismissals by style bucket and variant",
            "dismissals per impression",
        )
    save(fig, "engagement.png")
    fig, axis = plt.subplots(figsize=(7, 4))
    _fatigue(axis, _latest(rounds, "fatigue"), rules, fatigue_limit)
    save(fig, "fatigue.png")
    fig, axis = plt.subplots(figsize=(7, 4))
    _lift(axis, rounds, rules)
    save(fig, "lift.png")
    return written


def summary(document: Mapping[str, Any]) -> str:
    """Return the plain-text summary ``edgeprof audit`` prints: budget, findings, flags."""
    settings = document.get("settings", {})
    budget = document.get("epsilon", {})
    rounds = document.get("rounds", [])
    done = [r for r in rounds if r.get("status") == "aggregated"]
    lines = [
        f"Outcome audit under policy {settings.get('policy', '?')!r}"
        + (" (SIMULATION)" if settings.get("simulated") else "")
        + f": {len(done)}/{len(rounds)} rounds aggregated, "
        f"ε = {budget.get('spent', 0.0):.3f} of {budget.get('budget', 0.0):g} per "
        f"{budget.get('period_days', '?')} days (δ = {budget.get('delta', 0.0):g}).",
    ]
    for name, label in (
        ("disparity", "sponsored-offer gap (emotional − analytical)"),
        ("lift", "lift over the control group"),
    ):
        latest = _latest(done, name)
        if latest is not None:
            value, margin = _value(latest[name])
            if not math.isnan(value):
                lines.append(f"  {label}: {value * 100:+.1f} ± {margin * 100:.1f} points")
    latest = _latest(done, "fatigue")
    if latest is not None:
        curve = ", ".join(
            "withheld" if math.isnan(v) else f"{v:.3f}"
            for v, _ in (_value(e) for e in latest["fatigue"])
        )
        lines.append(f"  engagement by exposure 1, 2, 3, 4+: {curve}")
    flags = document.get("flags", [])
    findings = [f for f in flags if f.get("kind") != "imprecise"]
    lines.append(f"Flags: {len(findings)}" + ("" if findings else " (nothing found)"))
    lines.extend(f"  FLAG {f['kind']} (round {f['round']}): {f['message']}" for f in findings)
    lines.extend(
        f"  note (round {f['round']}): {f['message']}"
        for f in flags
        if f.get("kind") == "imprecise"
    )
    return "\n".join(lines)
