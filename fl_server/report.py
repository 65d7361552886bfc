"""Run reports for ML teams: metrics and ε per round as JSON, training and ε plots as PNG.

``<output>/metrics.json`` is rewritten after every round (a crashed run still leaves its
progress); ``<output>/training.png`` and ``<output>/epsilon.png`` are drawn at the end
with matplotlib's non-interactive backend.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["plot_run", "write_metrics"]


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
    document = {
        "settings": dict(settings),
        "rounds": [dict(r) for r in rounds],
        "heldout": {str(k): dict(v) for k, v in sorted(evaluation.items())},
        "epsilon": max((float(r.get("epsilon", 0.0)) for r in rounds), default=0.0),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    temporary.replace(path)


def plot_run(
    output: Path,
    *,
    rounds: Sequence[Mapping[str, Any]],
    evaluation: Mapping[int, Mapping[str, float]],
) -> list[Path]:
    """Draw ``training.png`` (held-out AUC/loss, client loss) and ``epsilon.png``.

    Returns
    -------
    list[Path]
        The files written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    output.mkdir(parents=True, exist_ok=True)
    done = [r for r in rounds if r.get("status") == "aggregated"]
    fig, left = plt.subplots(figsize=(7, 4))
    if evaluation:
        steps = sorted(evaluation)
        left.plot(
            steps,
            [evaluation[s].get("auc", float("nan")) for s in steps],
            "o-",
            label="held-out AUC",
        )
        left.set_ylabel("AUC")
    right = left.twinx()
    if done and "loss" in done[0]:
        right.plot(
            [r["round"] for r in done],
            [r["loss"] for r in done],
            "s--",
            color="tab:red",
            label="mean client loss",
        )
        right.set_ylabel("loss")
    left.set_xlabel("round")
    left.set_title("Federated training")
    if evaluation or done:
        fig.legend(loc="lower right")
    fig.tight_layout()
    training = output / "training.png"
    fig.savefig(training, dpi=100)
    plt.close(fig)
    fig, axis = plt.subplots(figsize=(7, 4))
    charged = [r for r in rounds if "epsilon" in r]
    axis.step(
        [r["round"] for r in charged],
        [r["epsilon"] for r in charged],
        where="post",
        label="ε spent",
    )
    axis.set_xlabel("round")
    axis.set_ylabel("ε")
    axis.set_title("Privacy budget over rounds")
    axis.legend()
    fig.tight_layout()
    epsilon = output / "epsilon.png"
    fig.savefig(epsilon, dpi=100)
    plt.close(fig)
    return [training, epsilon]
