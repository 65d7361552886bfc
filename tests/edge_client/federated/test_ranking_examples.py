"""Ranking examples: the selector's rows and labels, checked before training."""

from __future__ import annotations

import numpy as np
import pytest

from edge_client.federated.errors import FederatedError
from edge_client.federated.examples import RankingExamples
from edge_client.federated.training import TrainSettings, train_ranking_locally
from edge_client.selection.model import load_ranking_model
from edge_client.selection.state import TrainingExample


def test_from_training_keeps_rows_and_labels_in_order() -> None:
    """Kept training examples become arrays row by row; none gives an empty set."""
    kept = [TrainingExample((0.5,) * 4, 1.0, 0.0), TrainingExample((0.25,) * 4, 0.0, 1.0)]
    examples = RankingExamples.from_training(kept, 4)
    np.testing.assert_array_equal(examples.y, [1.0, 0.0])
    assert examples.x[1, 0] == 0.25 and len(examples) == 2
    assert len(RankingExamples.from_training([], 4)) == 0


def test_mismatched_or_non_binary_examples_are_refused() -> None:
    """Rows and labels must line up, rows be finite and labels 0 or 1."""
    with pytest.raises(FederatedError, match="shape"):
        RankingExamples(np.zeros((3, 4), np.float32), np.zeros(2, np.float32))
    with pytest.raises(FederatedError, match="labels 0 or 1"):
        RankingExamples(np.zeros((2, 4), np.float32), np.array([0.5, 1.0], np.float32))
    with pytest.raises(FederatedError, match="finite"):
        RankingExamples(np.full((1, 4), np.nan, np.float32), np.ones(1, np.float32))


def test_local_ranking_training_moves_the_weights_and_needs_examples() -> None:
    """Training runs the model's train signature; an empty set raises instead."""
    model = load_ranking_model()
    width = model.spec.width
    before = model.get_weights()
    x = np.random.default_rng(0).random((8, width)).astype(np.float32)
    examples = RankingExamples(x, np.array([1, 0] * 4, np.float32))
    loss = train_ranking_locally(model, examples, TrainSettings(epochs=2, batch_size=4))
    assert np.isfinite(loss)
    assert any(not np.array_equal(before[k], v) for k, v in model.get_weights().items())
    empty = RankingExamples(np.zeros((0, width), np.float32), np.zeros(0, np.float32))
    with pytest.raises(FederatedError, match="no local examples"):
        train_ranking_locally(model, empty, TrainSettings())
