"""Run reports for ML teams: metrics and ε per round as JSON, training and ε plots as PNG.

``<output>/metrics.json`` is rewritten after every round (a crashed run still leaves its
progress); its held-out scores are keyed by round number in ascending numeric order (``"2"``
before ``"10"``). ``<output>/training.png`` (the held-out metric per round, optionally with a
comparison run overlaid, e.g. the same run without noise) and ``<output>/epsilon.png`` (ε per
round against the policy's budget, δ stated) are drawn at the end with matplotlib's
non-interactive backend; rounds that were not aggregated are marked on both, and round ticks
are integers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["METRIC_LABELS", "heldout_metric", "ordered_metrics", "plot_run", "write_metrics"]

METRIC_LABELS: Mapping[str, str] = {"auc": "held-out AUC", "accuracy": "held-out top-1 accuracy"}
"""Axis labels of the held-out metrics the server computes (first present wins)."""


def heldout_metric(evaluation: Mapping[int, Mapping[str, float]]) -> str | None:
    """Return the name of the held-out metric in ``evaluation`` (``None``: there is none)."""
    names = {name for scores in evaluation.values() for name in scores}
    return next((name for name in METRIC_LABELS if name in names), None)


def ordered_metrics(
    *,
    settings: Mapping[str, Any],
    rounds: Sequence[Mapping[str, Any]],
    evaluation: Mapping[int, Mapping[str, float]],
) -> dict[str, Any]:
    """Return the metrics document with every key in a stable, readable order.

    Settings and each round record are sorted by name; rounds stay in round order; held-out
    scores are keyed by round number in ascending numeric order.
    """
    return {
        "settings": {k: settings[k] for k in sorted(settings)},
        "rounds": [{k: r[k] for k in sorted(r)} for r in rounds],
        "heldout": {
            str(k): {m: v for m, v in sorted(evaluation[k].items())} for k in sorted(evaluation)
        },
        "epsilon": max((float(r.get("epsilon", 0.0)) for r in rounds), default=0.0),
    }


def write_metrics(
    path: Path,
    *,
    settings: Mapping[str, Any],
    rounds: Sequence[Mapping[str, Any]],
    evaluation: Mapping[int, Mapping[str, float]],
) -> None:
    """Write the run's metrics JSON atomically.

    Parameters
    ----------
    path
        The JSON file.
    settings
        Run settings and policy summary.
    rounds
        Per-round records from the strategy.
    evaluation
        Server-side held-out scores by round.
    """
    document = ordered_metrics(settings=settings, rounds=rounds, evaluation=evaluation)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)


def _mark_skipped(axis: Any, rounds: Sequence[Mapping[str, Any]]) -> None:
    """Shade every round that was not aggregated (one legend entry)."""
    skipped = [int(r["round"]) for r in rounds if r.get("status") not in (None, "aggregated")]
    for i, number in enumerate(skipped):
        axis.axvspan(
            number - 0.5,
            number + 0.5,
            color="0.85",
            zorder=0,
            label="round not aggregated" if i == 0 else None,
        )


def _integer_rounds(axis: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set_xlabel("round")


def plot_run(
    output: Path,
    *,
    rounds: Sequence[Mapping[str, Any]],
    evaluation: Mapping[int, Mapping[str, float]],
    target_epsilon: float | None = None,
    target_delta: float | None = None,
    label: str = "this run",
    comparison: Mapping[int, Mapping[str, float]] | None = None,
    comparison_label: str = "without noise",
) -> list[Path]:
    """Draw ``training.png`` (held-out metric per round) and ``epsilon.png`` (ε per round).

    Parameters
    ----------
    output
        The output folder.
    rounds
        Per-round records (``round``, ``status``, ``epsilon``, ``loss``).
    evaluation
        Held-out scores by round.
    target_epsilon, target_delta
        The policy's budget: drawn as a line on the ε plot and stated in its title.
    label
        Legend label of this run's curve.
    comparison
        Held-out scores of another run to overlay (e.g. the same run without noise).
    comparison_label
        Its legend label.

    Returns
    -------
    list[Path]
        The files written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    output.mkdir(parents=True, exist_ok=True)
    curves = {label: evaluation, **({comparison_label: comparison} if comparison else {})}
    training = _plot_training(plt, output, rounds, evaluation, curves=curves)
    epsilon = _plot_epsilon(plt, output, rounds, target_epsilon, target_delta)
    return [training, epsilon]


def _plot_training(
    plt: Any,
    output: Path,
    rounds: Sequence[Mapping[str, Any]],
    evaluation: Mapping[int, Mapping[str, float]],
    *,
    curves: Mapping[str, Mapping[int, Mapping[str, float]]],
) -> Path:
    """Draw ``training.png``: the held-out metric (and held-out loss) of ``curves`` per round."""
    metric = heldout_metric(evaluation)
    with_loss = metric not in (None, "loss") and any("loss" in v for v in evaluation.values())
    if with_loss:  # accuracy can settle early; the held-out loss shows what later rounds add
        fig, (axis, lower) = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
    else:
        fig, axis = plt.subplots(figsize=(7, 4))
    _mark_skipped(axis, rounds)
    if metric is not None:
        for shown, ax in ((metric, axis), *((("loss", lower),) if with_loss else ())):
            for (name, curve), style, colour in zip(
                curves.items(), ("o-", "s--"), ("tab:blue", "tab:orange"), strict=False
            ):
                steps = sorted(curve)
                values = [curve[s].get(shown, math.nan) for s in steps]
                ax.plot(steps, values, style, color=colour, label=name)
            ax.set_ylabel(METRIC_LABELS.get(shown, f"held-out {shown}"))
        axis.set_title(f"{METRIC_LABELS[metric].capitalize()} per round")
        if with_loss:
            _mark_skipped(lower, rounds)
            lower.set_title("Held-out loss (cross-entropy) per round")
            _integer_rounds(lower)
    else:
        done = [r for r in rounds if r.get("status") == "aggregated" and "loss" in r]
        axis.plot([r["round"] for r in done], [r["loss"] for r in done], "s-", label="client loss")
        axis.set_ylabel("mean client loss")
        axis.set_title("Federated training (no held-out metric for this model)")
    _integer_rounds(axis)
    if with_loss:
        axis.set_xlabel("")  # the shared round axis is labelled under the lower panel
    if axis.get_legend_handles_labels()[0]:
        axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    fig.tight_layout()
    training = output / "training.png"
    fig.savefig(training, dpi=100)
    plt.close(fig)
    return training


def _plot_epsilon(
    plt: Any,
    output: Path,
    rounds: Sequence[Mapping[str, Any]],
    target_epsilon: float | None,
    target_delta: float | None,
) -> Path:
    """Draw ``epsilon.png``: ε spent per round with the budget line and δ."""
    fig, axis = plt.subplots(figsize=(7, 4))
    _mark_skipped(axis, rounds)
    charged = [r for r in rounds if "epsilon" in r]
    axis.step(
        [r["round"] for r in charged],
        [r["epsilon"] for r in charged],
        where="post",
        marker="o",
        label="ε spent",
    )
    if target_epsilon is not None:
        axis.axhline(
            target_epsilon, color="tab:red", linestyle="--", label=f"budget ε = {target_epsilon:g}"
        )
        axis.set_ylim(0, target_epsilon * 1.1)
    axis.set_ylabel("ε")
    _integer_rounds(axis)
    delta = f" at δ = {target_delta:g}" if target_delta is not None else ""
    axis.set_title(f"Privacy budget spent per round{delta}")
    axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    fig.tight_layout()
    epsilon = output / "epsilon.png"
    fig.savefig(epsilon, dpi=100)
    plt.close(fig)
    return epsilon
