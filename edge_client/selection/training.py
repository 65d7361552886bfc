"""On-device learning of the ranking model from the person's own engagement.

Examples are feature rows with a 0/1 label (see :mod:`edge_client.selection.features`);
training runs the model's own ``train`` signature, so the same code runs on a phone and
in a federated client.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from edge_client.selection.model import RankingModel
from edge_client.selection.state import TrainingExample

__all__ = ["TrainingReport", "log_loss", "train_examples"]


@dataclass(frozen=True)
class TrainingReport:
    """What one round of on-device training did.

    Attributes
    ----------
    examples : int
        Examples trained on.
    steps : int
        SGD steps run.
    loss_before, loss_after : float
        Mean binary cross-entropy on those examples before and after (NaN with none).
    """

    examples: int
    steps: int
    loss_before: float
    loss_after: float


def log_loss(model: RankingModel, x: npt.NDArray[np.float32], y: npt.NDArray[np.float32]) -> float:
    """Return the mean binary cross-entropy of ``model`` on ``(x, y)`` (NaN when empty)."""
    if len(y) == 0:
        return math.nan
    p = np.clip(model.predict(x).astype(np.float64), 1e-7, 1 - 1e-7)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def train_examples(
    model: RankingModel,
    examples: Sequence[TrainingExample],
    *,
    learning_rate: float,
    l2: float,
    epochs: int,
    batch_size: int,
    seed: int = 0,
) -> TrainingReport:
    """Train ``model`` in place on ``examples`` with its ``train`` signature.

    Parameters
    ----------
    model : RankingModel
        The model to update.
    examples : sequence of TrainingExample
        Feature rows and labels.
    learning_rate : float
        SGD step size (> 0).
    l2 : float
        Pull towards the shipped prior (>= 0).
    epochs : int
        Passes over the examples (>= 1).
    batch_size : int
        Rows per step (>= 1).
    seed : int, default 0
        Shuffling seed.

    Returns
    -------
    TrainingReport
        Examples, steps and the loss before and after.

    Raises
    ------
    ValueError
        If a hyper-parameter is out of range.
    """
    if not learning_rate > 0 or l2 < 0 or epochs < 1 or batch_size < 1:
        raise ValueError("learning_rate must be > 0, l2 >= 0, epochs >= 1 and batch_size >= 1; "
                         f"got {learning_rate}, {l2}, {epochs}, {batch_size}")
    if not examples:
        return TrainingReport(0, 0, math.nan, math.nan)
    x = np.array([e.x for e in examples], np.float32)
    y = np.array([e.y for e in examples], np.float32)
    before = log_loss(model, x, y)
    rng = np.random.default_rng(seed)
    steps = 0
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(y), batch_size):
            batch = order[start : start + batch_size]
            model.train_step(x[batch], y[batch], learning_rate=learning_rate, l2=l2)
            steps += 1
    return TrainingReport(len(y), steps, before, log_loss(model, x, y))
