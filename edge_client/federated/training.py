"""Local training and evaluation of a shipped LiteRT model on a device's own examples.

Training goes through the model's own ``train`` signature
(:meth:`~edge_client.models.LiteModel.train_step`, or
:meth:`~edge_client.selection.model.RankingModel.train_step` for the ranking model): plain
minibatch SGD, seeded shuffling.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from edge_client.federated.errors import FederatedError
from edge_client.federated.examples import LocalExamples, RankingExamples
from edge_client.models import Head, LiteModel
from edge_client.selection.model import RankingModel

__all__ = [
    "LocalResult",
    "TrainSettings",
    "evaluate_locally",
    "evaluate_ranking_locally",
    "train_locally",
    "train_ranking_locally",
]


@dataclass(frozen=True)
class TrainSettings:
    """How a device trains in one round.

    Attributes
    ----------
    epochs
        Passes over the local examples, at least 1.
    batch_size
        Examples per SGD step, at least 1.
    learning_rate
        SGD step size, positive.
    l2
        L2 penalty, at least 0.
    seed
        Shuffling seed.
    """

    epochs: int = 1
    batch_size: int = 16
    learning_rate: float = 0.5
    l2: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        """Check the ranges."""
        if self.epochs < 1 or self.batch_size < 1:
            raise FederatedError("train settings: epochs and batch_size must be >= 1")
        if not (math.isfinite(self.learning_rate) and self.learning_rate > 0) or self.l2 < 0:
            raise FederatedError("train settings: learning_rate must be > 0 and l2 >= 0")


@dataclass(frozen=True)
class LocalResult:
    """Aggregate outcome of local training or evaluation (the only numbers that may leave).

    Attributes
    ----------
    num_examples
        Examples used.
    loss
        Mean loss.
    accuracy
        Share of examples whose top (or thresholded) output matches the target.
    """

    num_examples: int
    loss: float
    accuracy: float

    def as_metrics(self) -> dict[str, float]:
        """Return the result keyed by :class:`~edge_client.policy.ClientMetric` values."""
        return {
            "num_examples": float(self.num_examples),
            "loss": self.loss,
            "accuracy": self.accuracy,
        }


def train_locally(model: LiteModel, examples: LocalExamples, settings: TrainSettings) -> float:
    """Run ``settings.epochs`` epochs of SGD; return the mean batch loss of the last epoch.

    Raises
    ------
    FederatedError
        When there are no examples.
    """
    if len(examples) == 0:
        raise FederatedError(f"local training ({examples.model.value}): no local examples")
    return _sgd(
        len(examples),
        settings,
        lambda batch: model.train_step(
            [examples.counts[i] for i in batch],
            examples.targets[batch],
            learning_rate=settings.learning_rate,
            l2=settings.l2,
        ),
    )


def _sgd(
    size: int, settings: TrainSettings, step: Callable[[npt.NDArray[np.intp]], float]
) -> float:
    """Shuffled minibatch epochs; return the last epoch's mean loss."""
    rng = np.random.default_rng(settings.seed)
    losses: list[float] = []
    for _ in range(settings.epochs):
        order = rng.permutation(size)
        losses = [
            step(order[start : start + settings.batch_size])
            for start in range(0, size, settings.batch_size)
        ]
    return float(np.mean(losses))


def evaluate_locally(model: LiteModel, examples: LocalExamples) -> LocalResult:
    """Return loss and accuracy of ``model`` on ``examples``.

    Raises
    ------
    FederatedError
        When there are no examples.
    """
    if len(examples) == 0:
        raise FederatedError(f"local evaluation ({examples.model.value}): no local examples")
    probs = np.clip(model.predict(list(examples.counts)).astype(np.float64), 1e-7, 1 - 1e-7)
    y = examples.targets.astype(np.float64)
    if model.spec.head is Head.SIGMOID:
        loss = float(-np.mean(y * np.log(probs) + (1 - y) * np.log(1 - probs)))
        accuracy = float(np.mean((probs >= 0.5) == (y >= 0.5)))
    else:
        loss = float(-np.mean(np.sum(y * np.log(probs), axis=1)))
        accuracy = float(np.mean(np.argmax(probs, axis=1) == np.argmax(y, axis=1)))
    return LocalResult(len(examples), loss, accuracy)


def train_ranking_locally(
    model: RankingModel, examples: RankingExamples, settings: TrainSettings
) -> float:
    """Run ``settings.epochs`` epochs of SGD on feature rows; return the last epoch's mean loss.

    Raises
    ------
    FederatedError
        When there are no examples.
    """
    if len(examples) == 0:
        raise FederatedError("local training (ranking): no local examples")
    return _sgd(
        len(examples),
        settings,
        lambda batch: model.train_step(
            examples.x[batch],
            examples.y[batch],
            learning_rate=settings.learning_rate,
            l2=settings.l2,
        ),
    )


def evaluate_ranking_locally(model: RankingModel, examples: RankingExamples) -> LocalResult:
    """Return log loss and thresholded accuracy of the ranking model on ``examples``.

    Raises
    ------
    FederatedError
        When there are no examples.
    """
    if len(examples) == 0:
        raise FederatedError("local evaluation (ranking): no local examples")
    probs = np.clip(model.predict(examples.x).astype(np.float64), 1e-7, 1 - 1e-7)
    y = examples.y.astype(np.float64)
    loss = float(-np.mean(y * np.log(probs) + (1 - y) * np.log(1 - probs)))
    return LocalResult(len(examples), loss, float(np.mean((probs >= 0.5) == (y >= 0.5))))
