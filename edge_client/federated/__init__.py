"""Federated training on the device: local examples, training, clipping, round checks.

The Flower ClientApp is :mod:`edge_client.federated.app` (it imports ``flwr``, from the
``federated`` extra); this package's top level stays free of Flower and ``dp_accounting``.

Its names load on first use (PEP 562): importing the package imports no submodule, so a
process whose threads import the ClientApp and the ServerApp at once (Flower's simulation
engine) cannot deadlock on this package's import lock while another thread holds a
submodule's (``_DeadlockError`` on ``edge_client.federated.device``, seen once in CI).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from edge_client.lazy import lazy_names

if TYPE_CHECKING:
    from edge_client.federated.bundle import ModelBundle, bundle_payload, verify_model_bundle
    from edge_client.federated.clipping import clip_update, update_norm, weight_delta
    from edge_client.federated.device import DeviceKey, FederatedDevice, device_from_config
    from edge_client.federated.errors import (
        BundleError,
        FederatedError,
        RoundConfigError,
        UpdateError,
    )
    from edge_client.federated.examples import (
        LocalExamples,
        RankingExamples,
        interest_examples,
        style_examples,
    )
    from edge_client.federated.population import VirtualPerson, virtual_person
    from edge_client.federated.rounds import (
        PlanKey,
        RecordName,
        RoundPlan,
        parse_plan,
        refusal_reasons,
    )
    from edge_client.federated.trainable import FederatedModel, initial_weights, load_trainable
    from edge_client.federated.training import (
        LocalResult,
        TrainSettings,
        evaluate_locally,
        evaluate_ranking_locally,
        train_locally,
        train_ranking_locally,
    )

__all__ = [
    "BundleError",
    "DeviceKey",
    "FederatedDevice",
    "FederatedError",
    "FederatedModel",
    "LocalExamples",
    "LocalResult",
    "ModelBundle",
    "PlanKey",
    "RankingExamples",
    "RecordName",
    "RoundConfigError",
    "RoundPlan",
    "TrainSettings",
    "UpdateError",
    "VirtualPerson",
    "bundle_payload",
    "clip_update",
    "device_from_config",
    "evaluate_locally",
    "evaluate_ranking_locally",
    "initial_weights",
    "interest_examples",
    "load_trainable",
    "parse_plan",
    "refusal_reasons",
    "style_examples",
    "train_locally",
    "train_ranking_locally",
    "update_norm",
    "verify_model_bundle",
    "virtual_person",
    "weight_delta",
]

__getattr__, __dir__ = lazy_names(
    __name__,
    {
        "BundleError": "edge_client.federated.errors",
        "DeviceKey": "edge_client.federated.device",
        "FederatedDevice": "edge_client.federated.device",
        "FederatedError": "edge_client.federated.errors",
        "FederatedModel": "edge_client.federated.trainable",
        "LocalExamples": "edge_client.federated.examples",
        "LocalResult": "edge_client.federated.training",
        "ModelBundle": "edge_client.federated.bundle",
        "PlanKey": "edge_client.federated.rounds",
        "RankingExamples": "edge_client.federated.examples",
        "RecordName": "edge_client.federated.rounds",
        "RoundConfigError": "edge_client.federated.errors",
        "RoundPlan": "edge_client.federated.rounds",
        "TrainSettings": "edge_client.federated.training",
        "UpdateError": "edge_client.federated.errors",
        "VirtualPerson": "edge_client.federated.population",
        "bundle_payload": "edge_client.federated.bundle",
        "clip_update": "edge_client.federated.clipping",
        "device_from_config": "edge_client.federated.device",
        "evaluate_locally": "edge_client.federated.training",
        "evaluate_ranking_locally": "edge_client.federated.training",
        "initial_weights": "edge_client.federated.trainable",
        "interest_examples": "edge_client.federated.examples",
        "load_trainable": "edge_client.federated.trainable",
        "parse_plan": "edge_client.federated.rounds",
        "refusal_reasons": "edge_client.federated.rounds",
        "style_examples": "edge_client.federated.examples",
        "train_locally": "edge_client.federated.training",
        "train_ranking_locally": "edge_client.federated.training",
        "update_norm": "edge_client.federated.clipping",
        "verify_model_bundle": "edge_client.federated.bundle",
        "virtual_person": "edge_client.federated.population",
        "weight_delta": "edge_client.federated.clipping",
    },
    globals(),
)
