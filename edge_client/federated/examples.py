"""A device's local training examples, kept as feature counts only.

Text is turned into :class:`~edge_client.text.features.TextCounts` as soon as it is read;
an example holds counts and a target, never the text. Decision style has one label per
person (the analytical end is 1), so a person's words are cut into examples of about 300
words (the amount a thinking-style app gets); interests have one label per post. The
ranking model's examples are the selector's own feature rows and 0/1 engagement labels
(:class:`RankingExamples`; numbers only, see :mod:`edge_client.selection.features`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from edge_client.federated.errors import FederatedError
from edge_client.models import ModelName
from edge_client.selection.state import TrainingExample
from edge_client.text.features import TextCounts, extract

__all__ = ["LocalExamples", "RankingExamples", "interest_examples", "style_examples"]


@dataclass(frozen=True)
class LocalExamples:
    """Examples of one model on one device.

    Attributes
    ----------
    model
        The model they train.
    counts
        One feature-count set per example.
    targets
        ``[len(counts), outputs]`` float32 targets.
    """

    model: ModelName
    counts: tuple[TextCounts, ...]
    targets: npt.NDArray[np.float32]

    def __post_init__(self) -> None:
        """Check that counts and targets line up."""
        if self.targets.ndim != 2 or self.targets.shape[0] != len(self.counts):
            raise FederatedError(
                f"local examples ({self.model.value}): {len(self.counts)} examples but "
                f"targets of shape {self.targets.shape}"
            )

    def __len__(self) -> int:
        """Return the number of examples."""
        return len(self.counts)


def style_examples(
    texts: Sequence[str],
    *,
    analytical: bool,
    words_per_example: int = 300,
    max_examples: int = 16,
) -> LocalExamples:
    """Cut one person's texts into decision-style examples.

    Parameters
    ----------
    texts
        The person's own texts, oldest first.
    analytical
        The person's label (``True``: the analytical end).
    words_per_example
        Words per example; the last, shorter piece is kept when it has half as many.
    max_examples
        Most examples kept (the first ones).

    Returns
    -------
    LocalExamples
        Examples with target ``[[1.0]]`` (analytical) or ``[[0.0]]``.
    """
    if words_per_example < 1 or max_examples < 1:
        raise FederatedError("style examples: words_per_example and max_examples must be >= 1")
    words = " ".join(texts).split()
    counts: list[TextCounts] = []
    for start in range(0, len(words), words_per_example):
        piece = words[start : start + words_per_example]
        if len(piece) * 2 < words_per_example and counts:
            break
        counts.append(extract(" ".join(piece)))
        if len(counts) == max_examples:
            break
    targets = np.full((len(counts), 1), 1.0 if analytical else 0.0, np.float32)
    return LocalExamples(ModelName.STYLE, tuple(counts), targets)


def interest_examples(
    posts: Sequence[tuple[str, str]], *, labels: Sequence[str], max_examples: int = 32
) -> LocalExamples:
    """Turn one person's labelled posts into interest examples.

    Parameters
    ----------
    posts
        ``(text, label)`` pairs; labels outside ``labels`` are skipped.
    labels
        The interest model's output labels, in order.
    max_examples
        Most examples kept.

    Returns
    -------
    LocalExamples
        One-hot targets over ``labels``.
    """
    index = {label: i for i, label in enumerate(labels)}
    counts: list[TextCounts] = []
    rows: list[int] = []
    for text, label in posts:
        if label in index and len(counts) < max_examples:
            counts.append(extract(text))
            rows.append(index[label])
    targets = np.zeros((len(counts), len(labels)), np.float32)
    targets[np.arange(len(rows)), rows] = 1.0
    return LocalExamples(ModelName.INTERESTS, tuple(counts), targets)


@dataclass(frozen=True)
class RankingExamples:
    """The ranking model's examples on one device: feature rows and engagement labels.

    Attributes
    ----------
    x
        ``[rows, width]`` float32 feature rows (:func:`edge_client.selection.features.build_rows`).
    y
        ``[rows]`` float32 labels, 1 for engaged and 0 for not.
    """

    x: npt.NDArray[np.float32]
    y: npt.NDArray[np.float32]

    def __post_init__(self) -> None:
        """Check that rows and labels line up and are finite 0/1 values."""
        if self.x.ndim != 2 or self.y.shape != (self.x.shape[0],):
            raise FederatedError(
                f"local examples (ranking): rows of shape {self.x.shape} but labels of "
                f"shape {self.y.shape}"
            )
        if not (np.all(np.isfinite(self.x)) and np.all((self.y == 0) | (self.y == 1))):
            raise FederatedError("local examples (ranking): rows must be finite, labels 0 or 1")

    def __len__(self) -> int:
        """Return the number of examples."""
        return int(self.x.shape[0])

    @classmethod
    def from_training(cls, examples: Sequence[TrainingExample], width: int) -> RankingExamples:
        """Return the selector's kept training examples as arrays.

        Parameters
        ----------
        examples
            :attr:`edge_client.selection.SelectionState.examples`.
        width
            The ranking model's input width (used when there are no examples).

        Returns
        -------
        RankingExamples
            Rows and labels in the same order.
        """
        x = np.array([e.x for e in examples], np.float32).reshape(len(examples), width)
        y = np.array([e.y for e in examples], np.float32).reshape(len(examples))
        return cls(x, y)
