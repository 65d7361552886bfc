"""Shared fixtures: a signing key, a trust store and a round message for one device."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flwr.app import ConfigRecord, Context, Message, MessageType, RecordDict
from flwr.supercore.task_identity import TaskIdentity

from edge_client.federated.device import FederatedDevice, engine_for
from edge_client.federated.examples import style_examples
from edge_client.models import ModelName, load_model
from edge_client.policy import Preset, Purpose, TrustStore, generate_private_key
from edge_client.policy.engine import PolicyEngine
from fl_server.publish import sign_model_bundle
from fl_server.strategy import TrainPlan

CANARY = "CANARY-7f3a9c-zebra-quartz"


@pytest.fixture(autouse=True)
def _task_identity() -> None:
    TaskIdentity.run_id, TaskIdentity.node_id, TaskIdentity.task_id = 1, 1, 1


@pytest.fixture(scope="module")
def signing_key():  # type: ignore[no-untyped-def]  # fixture returns a cryptography key
    return generate_private_key()


@pytest.fixture
def engine() -> PolicyEngine:
    return engine_for(Preset.DEFAULT.value)


@pytest.fixture
def device(engine: PolicyEngine, signing_key) -> FederatedDevice:  # type: ignore[no-untyped-def]  # idem
    texts = [f"I love my dog {CANARY} so much, it makes me happy!"] * 40
    examples = {ModelName.STYLE: style_examples(texts, analytical=False, words_per_example=50)}
    consent = engine.consent_state([Purpose.FEDERATED_TRAINING])
    return FederatedDevice(
        engine, consent, TrustStore.from_keys(signing_key.public_key()), examples
    )


@pytest.fixture
def round_message(engine: PolicyEngine, signing_key) -> Callable[..., Message]:  # type: ignore[no-untyped-def]  # idem
    """Build the train message a policy-abiding server sends, with fields overridable."""

    def build(*, bundle: bytes | None = None, **overrides: object) -> Message:
        rules = engine.federated
        plan = TrainPlan()
        config: dict[str, Any] = {
            "policy_hash": engine.policy_hash,
            "cohort_size": rules.min_cohort,
            "sampling_rate": rules.sampling_rate,
            "clipping_norm": rules.clipping_norm,
            "noise_multiplier": rules.noise_multiplier,
            "secure_aggregation": False,
            "metrics": sorted(engine.allowed_metric_names()),
            "model": plan.model.value,
            "server-round": 1,
            "local-epochs": 2,
            "batch-size": 8,
            "learning-rate": 0.5,
            "l2": 0.0,
            **overrides,
        }
        if bundle is None:
            bundle = sign_model_bundle(
                private_key=signing_key,
                model="style",
                version=0,
                weights=load_model(ModelName.STYLE).get_weights(),
                metrics={},
                policy_hash=engine.policy_hash,
            )
        content = RecordDict(
            {"config": ConfigRecord(config), "bundle": ConfigRecord({"data": bundle})}
        )
        return Message(content, dst_node_id=7, message_type=MessageType.TRAIN)

    return build


@pytest.fixture
def context() -> Context:
    return Context(1, 7, {}, RecordDict(), {})


REPO = Path(__file__).resolve().parents[3]
