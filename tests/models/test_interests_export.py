"""The exported ``interests.tflite`` computes what the NumPy recipe says (needs TensorFlow)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge_client.models import LiteModel
from edge_client.text.features import extract
from models import interests
from models.data import Doc

pytest.importorskip("tensorflow", reason="converting a model needs the build extra")


@pytest.mark.slow
def test_tflite_infer_and_train_match_the_numpy_recipe(
    tmp_path: Path, tiny_corpus: tuple[tuple[str, ...], list[Doc]]
) -> None:
    """The infer signature equals forward(); a train step is SGD on the whitened input."""
    from models.build import export_interests

    labels, docs = tiny_corpus
    counts = [extract(d.text) for d in docs]
    model = interests.fit_model(counts, docs, counts, docs, labels, absent_labels=True)
    lite = LiteModel(export_interests(model, tmp_path))
    x = interests.design_matrix(counts, model.idf)
    expected = interests.softmax(interests.forward(model, x))
    np.testing.assert_allclose(lite.predict(counts), expected, atol=2e-5)

    y = np.eye(len(labels), dtype=np.float32)[[labels.index(d.label) for d in docs]]
    h = interests.whitened(model, interests.label_log_probs(model, x))
    p = interests.softmax(interests.forward(model, x))
    grad = (p - y) / model.temperature / len(docs)
    w = model.w.astype(np.float64) - 0.3 * h.T @ grad
    b = model.b.astype(np.float64) - 0.3 * grad.sum(axis=0)
    lite.train_step(counts, y, learning_rate=0.3)
    weights = lite.get_weights()
    np.testing.assert_allclose(weights["w"], w, atol=1e-4)
    np.testing.assert_allclose(weights["b"], b, atol=1e-4)
