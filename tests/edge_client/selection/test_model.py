"""The shipped ranking model: size, signatures, sidecar check, weights, the feed wrapper."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from edge_client import EdgeProfiler
from edge_client.models import default_model_dir
from edge_client.policy import Purpose
from edge_client.selection import (
    PersonalizedFeed,
    RankingModelError,
    load_ranking_model,
    load_sample_catalog,
)

from .conftest import START


def test_model_is_small_and_has_its_card() -> None:
    """ranking.tflite is at most 2 MB and ships a model card with a rebuild line."""
    path = default_model_dir() / "ranking.tflite"
    assert path.stat().st_size <= 2 * 1024 * 1024
    assert "Rebuild" in path.with_suffix(".md").read_text(encoding="utf-8")


def test_weights_round_trip_and_bad_shapes_refused() -> None:
    """set_weights restores get_weights; wrong shapes or NaN are refused."""
    model = load_ranking_model()
    weights = model.get_weights()
    x = np.random.default_rng(0).random((5, model.spec.width), dtype=np.float32)
    before = model.logits(x)
    model.train_step(x, np.zeros(5), learning_rate=1.0)
    assert not np.allclose(model.logits(x), before)
    model.set_weights(weights)
    np.testing.assert_allclose(model.logits(x), before, rtol=1e-6)
    with pytest.raises(RankingModelError, match="shape"):
        model.set_weights({**weights, "v": np.zeros(3)})
    with pytest.raises(RankingModelError, match="non-finite"):
        model.set_weights({**weights, "b": np.float32("nan")})
    with pytest.raises(RankingModelError, match="input must have shape"):
        model.predict(np.zeros((2, 3)))


def test_tampered_model_is_refused(tmp_path: Path) -> None:
    """A model whose bytes do not match the sidecar SHA-256 is not loaded."""
    for suffix in (".tflite", ".json"):
        shutil.copy(default_model_dir() / f"ranking{suffix}", tmp_path / f"ranking{suffix}")
    data = bytearray((tmp_path / "ranking.tflite").read_bytes())
    data[-10] ^= 0xFF
    (tmp_path / "ranking.tflite").write_bytes(bytes(data))
    with pytest.raises(RankingModelError, match="SHA-256"):
        load_ranking_model(tmp_path)


def test_personalized_feed_wraps_the_profiler() -> None:
    """PersonalizedFeed selects from the profiler's profile and records feedback."""
    profiler = EdgeProfiler(consent=[Purpose.PROFILING, Purpose.PERSONALIZATION])
    feed = PersonalizedFeed(profiler, rng=np.random.default_rng(1))
    picks = feed.select(load_sample_catalog(), k=4, now=START)
    assert len(picks.choices) == 4 and not picks.personalized  # no words observed yet
    feed.feedback(picks.choices[0].item.id, engaged=True, now=START)
    assert feed.state.streak(picks.choices[0].item.id) == 0
