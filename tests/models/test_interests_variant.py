"""``models.interests.fit_model`` for a variant fitted without one corpus (absent labels)."""

from __future__ import annotations

import numpy as np
import pytest

from edge_client.text.features import extract
from models import interests
from models.data import Doc, Source

LABELS = ("sports", "technology", "music", "shopping")
TEXTS = {
    "sports": ["the team won the match with a late goal", "hockey season playoffs and goals"],
    "technology": ["my laptop cpu and the new graphics card", "compile the kernel driver code"],
    "music": ["the band played guitar and drums live", "a new album of songs and lyrics"],
}


def _docs() -> list[Doc]:
    return [
        Doc(f"{label}-{i}", Source.REDDIT, label, label, text, "")
        for label, texts in TEXTS.items()
        for i, text in enumerate(texts * 3)
    ]


def test_absent_label_is_refused_unless_allowed() -> None:
    """A label without training text raises by default; allowed, only the head can reach it."""
    docs = _docs()
    counts = [extract(d.text) for d in docs]
    with pytest.raises(ValueError, match="shopping"):
        interests.fit_model(counts, docs, counts, docs, LABELS)
    model = interests.fit_model(counts, docs, counts, docs, LABELS, absent_labels=True)
    assert model.aggregation[:, LABELS.index("shopping")].sum() == 0
    assert model.trainable_values == len(LABELS) ** 2 + len(LABELS)
    x = interests.design_matrix(counts, model.idf)
    probs = interests.softmax(interests.forward(model, x))
    assert (probs.argmax(axis=1) != LABELS.index("shopping")).all()
    assert probs[:, LABELS.index("shopping")].max() < 1e-6
    hits = probs.argmax(axis=1) == np.array([LABELS.index(d.label) for d in docs])
    assert hits.all()
