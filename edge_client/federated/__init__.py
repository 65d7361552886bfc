"""Federated training on the device: local examples, training, clipping, round checks.

The Flower ClientApp is :mod:`edge_client.federated.app` (it imports ``flwr``, from the
``federated`` extra); this package's top level stays free of Flower and ``dp_accounting``.
"""

from __future__ import annotations

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
from edge_client.federated.rounds import PlanKey, RecordName, RoundPlan, parse_plan, refusal_reasons
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
