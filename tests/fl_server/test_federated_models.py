"""In-process rounds of each federated model: style, interests and ranking."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from flwr.app import ArrayRecord, Context, MetricRecord
from flwr.clientapp import ClientApp

from edge_client.federated.app import REFUSED, make_client_app
from edge_client.federated.clipping import update_norm
from edge_client.federated.device import FederatedDevice, device_from_config, engine_for
from edge_client.federated.engagement import simulated_ranking_examples
from edge_client.federated.errors import FederatedError
from edge_client.federated.examples import RankingExamples, interest_examples
from edge_client.federated.trainable import FederatedModel, initial_weights
from edge_client.models import ModelName
from edge_client.policy import Purpose
from edge_client.selection.model import load_ranking_model
from edge_client.taxonomy import load_taxonomy
from fl_server.app import run_server

Build = Callable[..., Any]  # a pytest fixture factory

_TOPICS = (
    ("automotive", "My car engine needs new spark plugs and the dealer quoted a high price."),
    ("science", "The shuttle launch and the orbit of the new satellite were on the news."),
    ("sports", "The goalie stopped every shot and the team won the playoff game."),
)


def _posts(index: int) -> list[tuple[str, str]]:
    """Two synthetic labelled posts per device (written for this test, no corpus text)."""
    group, text = _TOPICS[index % len(_TOPICS)]
    return [(f"{text} Post {n}.", group) for n in range(2)]


def _app(*, consent: bool = True, examples: bool = True) -> ClientApp:
    """The real ClientApp over devices that also hold synthetic interest examples."""

    def provide(context: Context) -> FederatedDevice:
        run = dict(context.run_config)
        if run.get("model") == "interests":  # its real examples need the 20news data
            run["model"] = "style"
        device = device_from_config(dict(context.node_config), run)
        index = int(context.node_config["partition-id"])
        labels = load_taxonomy().labels
        texts = {ModelName.INTERESTS: interest_examples(_posts(index), labels=labels)}
        device = replace(device, examples={**device.examples, **texts})
        if not examples:
            width = load_ranking_model().spec.width
            empty = RankingExamples(np.zeros((0, width), np.float32), np.zeros(0, np.float32))
            device = replace(device, examples={}, ranking=empty)
        if not consent:
            device = replace(device, consent=device.engine.consent_state([]))
        return device

    return make_client_app(provide)


@pytest.mark.parametrize("model", list(FederatedModel))
def test_each_model_trains_with_clipped_updates_and_allowed_metrics(
    federation: Build, model: FederatedModel
) -> None:
    """Two rounds aggregate; every reply is a clipped update of the model's shapes."""
    grid, settings, _ = federation(10, app=_app(), model=model.value)
    result = run_server(grid, settings)
    assert result.completed_round == 2
    shapes = {k: v.shape for k, v in initial_weights(model).items()}
    engine = engine_for(str(grid.contexts[1000].run_config["policy"]))
    assert grid.replies
    for reply in grid.replies:
        assert not reply.has_error()
        arrays = reply.content["arrays"]
        metrics = reply.content["metrics"]
        assert isinstance(arrays, ArrayRecord) and isinstance(metrics, MetricRecord)
        update = {k: a.numpy() for k, a in arrays.items()}
        assert {k: v.shape for k, v in update.items()} == shapes
        assert all(v.dtype == np.float32 for v in update.values())
        assert 0 < update_norm(update) <= engine.federated.clipping_norm
        assert set(metrics) <= engine.allowed_metric_names()
        assert "update_norm" not in metrics  # computed on the device, not allowed to leave


@pytest.mark.parametrize("model", list(FederatedModel))
@pytest.mark.parametrize("kind", ["consent", "examples"])
def test_device_without_consent_or_examples_refuses(
    federation: Build, model: FederatedModel, kind: str
) -> None:
    """No consent or no local examples: every device refuses and nothing is aggregated."""
    app = _app(consent=kind != "consent", examples=kind != "examples")
    grid, settings, _ = federation(10, app=app, model=model.value, **{"num-rounds": 1})
    result = run_server(grid, settings)
    assert result.completed_round == 0
    assert grid.replies and all(r.has_error() for r in grid.replies)
    assert all(r.error.code == REFUSED for r in grid.replies)
    expected = "consent" if kind == "consent" else "no local examples"
    assert all(expected in (r.error.reason or "") for r in grid.replies)


def test_ranking_needs_the_personalization_opt_in(federation: Build) -> None:
    """A device that consents to federated training but not personalization refuses ranking."""

    def provide(context: Context) -> FederatedDevice:
        device = device_from_config(dict(context.node_config), dict(context.run_config))
        return replace(device, consent=device.engine.consent_state([Purpose.FEDERATED_TRAINING]))

    app = make_client_app(provide)
    grid, settings, _ = federation(10, app=app, model="ranking", **{"num-rounds": 1})
    assert run_server(grid, settings).completed_round == 0
    assert grid.replies
    assert all("personalization" in (r.error.reason or "") for r in grid.replies)


def test_simulated_ranking_examples_are_seeded_selector_rows() -> None:
    """Virtual devices hold SIMULATED selector rows of the model's width, labels 0/1."""
    engine = engine_for("default")
    first = simulated_ranking_examples(engine, 4, 1)
    again = simulated_ranking_examples(engine, 4, 1)
    other = simulated_ranking_examples(engine, 4, 2)
    assert len(first) > 0 and first.x.shape[1] == load_ranking_model().spec.width
    assert set(np.unique(first.y)) <= {0.0, 1.0}
    np.testing.assert_array_equal(first.x, again.x)
    assert first.x.shape != other.x.shape or not np.array_equal(first.x, other.x)


def test_unknown_model_is_refused_by_the_device_config() -> None:
    """A run config naming no federated model fails with a located error."""
    with pytest.raises(FederatedError, match="model"):
        device_from_config({"partition-id": 0}, {"model": "profile", "model-trust": "k.pub"})
