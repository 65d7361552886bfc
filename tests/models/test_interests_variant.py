"""``models.interests.fit_model`` for a variant fitted without one corpus (absent labels)."""

from __future__ import annotations

import numpy as np
import pytest

from edge_client.text.features import extract
from models import interests
from models.data import Doc

TinyCorpus = tuple[tuple[str, ...], list[Doc]]


def test_absent_label_is_refused_unless_allowed(tiny_corpus: TinyCorpus) -> None:
    """A label without training text raises by default; allowed, only the head can reach it."""
    labels, docs = tiny_corpus
    counts = [extract(d.text) for d in docs]
    with pytest.raises(ValueError, match="shopping"):
        interests.fit_model(counts, docs, counts, docs, labels)
    model = interests.fit_model(counts, docs, counts, docs, labels, absent_labels=True)
    assert model.aggregation[:, labels.index("shopping")].sum() == 0
    assert model.trainable_values == len(labels) ** 2 + len(labels)
    x = interests.design_matrix(counts, model.idf)
    probs = interests.softmax(interests.forward(model, x))
    assert (probs.argmax(axis=1) != labels.index("shopping")).all()
    assert probs[:, labels.index("shopping")].max() < 1e-6
    hits = probs.argmax(axis=1) == np.array([labels.index(d.label) for d in docs])
    assert hits.all()


def test_built_head_reads_the_floored_log_probabilities_through_the_whitening(
    tiny_corpus: TinyCorpus,
) -> None:
    """W = P⁻¹, b = μ: the built model's logits are the floored label log-probabilities."""
    labels, docs = tiny_corpus
    counts = [extract(d.text) for d in docs]
    model = interests.fit_model(counts, docs, counts, docs, labels, absent_labels=True)
    x = interests.design_matrix(counts, model.idf)
    g = interests.label_log_probs(model, x)
    raw = interests.forward(model, x, calibrated=False)
    np.testing.assert_allclose(raw, np.maximum(g, interests.LOG_PROB_FLOOR), atol=1e-4)
    h = interests.whitened(model, g)
    assert np.abs(h.mean(axis=0)).max() < 1e-4  # centred on the training texts
    variances = np.linalg.eigvalsh(np.cov(h, rowvar=False))
    assert variances.max() <= 1.0 + 1e-4  # unit variance at most (the ridge shrinks it)
    assert np.isfinite(h).all()  # the label without text has no variance; the ridge bounds P
