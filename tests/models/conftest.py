"""Fixtures of the model-recipe tests: a tiny labelled corpus."""

from __future__ import annotations

import pytest

from models.data import Doc, Source

LABELS = ("sports", "technology", "music", "shopping")
TEXTS = {
    "sports": ["the team won the match with a late goal", "hockey season playoffs and goals"],
    "technology": ["my laptop cpu and the new graphics card", "compile the kernel driver code"],
    "music": ["the band played guitar and drums live", "a new album of songs and lyrics"],
}


@pytest.fixture
def tiny_corpus() -> tuple[tuple[str, ...], list[Doc]]:
    """Labels (one without any text: ``shopping``) and three texts per other label, x3."""
    return LABELS, [
        Doc(f"{label}-{i}", Source.REDDIT, label, label, text, "")
        for label, texts in TEXTS.items()
        for i, text in enumerate(texts * 3)
    ]
