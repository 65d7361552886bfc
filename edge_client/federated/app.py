"""The device's Flower ClientApp: join a round only inside the policy, send a clipped update.

For every ``train`` message the device checks the round against its signed policy and the
person's consent (:func:`~edge_client.federated.rounds.refusal_reasons`), verifies the
signed global model (:func:`~edge_client.federated.bundle.verify_model_bundle`), trains
the shipped LiteRT model the plan names (decision style, interests or ranking,
:class:`~edge_client.federated.trainable.FederatedModel`) on its own examples through the
model's ``train`` signature,
clips ``new - received`` to the round's clipping norm, and replies with that update and
the metrics the policy allows. A refused round gets an error reply whose reason, also
logged, names the rule and never user data. Secure rounds run the stages of
:mod:`edge_client.secagg.clientapp` instead (``train.secagg_*`` messages); a device whose
policy requires secure aggregation refuses plain ``train`` and ``evaluate`` messages. Run
it with Flower's engines: ``clientapp = "edge_client.federated.app:app"``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from edge_client.errors import MissingExtraError

try:
    from flwr.app import (
        Array,
        ArrayRecord,
        ConfigRecord,
        Context,
        Error,
        Message,
        MetricRecord,
        RecordDict,
    )
    from flwr.clientapp import ClientApp
except ModuleNotFoundError as exc:  # Flower comes with the 'federated' extra only
    raise MissingExtraError(
        "edge_client.federated.app (the Flower ClientApp)",
        extra="federated",
        module=exc.name or "flwr",
    ) from exc

from edge_client.federated.bundle import ModelBundle, verify_model_bundle
from edge_client.federated.clipping import clip_update, weight_delta
from edge_client.federated.device import FederatedDevice, device_from_config
from edge_client.federated.errors import FederatedError
from edge_client.federated.examples import LocalExamples, RankingExamples
from edge_client.federated.rounds import (
    BUNDLE_FIELD,
    RecordName,
    RoundPlan,
    parse_plan,
    refusal_reasons,
)
from edge_client.federated.trainable import FederatedModel, load_trainable
from edge_client.federated.training import (
    LocalResult,
    evaluate_locally,
    evaluate_ranking_locally,
    train_locally,
    train_ranking_locally,
)
from edge_client.models import LiteModel
from edge_client.policy import Purpose, RoundKey
from edge_client.secagg.clientapp import register_secure_aggregation
from edge_client.selection.model import RankingModel

if TYPE_CHECKING:
    from edge_client.audit.source import AuditSource

__all__ = [
    "REFUSED",
    "app",
    "context_audit_source",
    "context_device",
    "local_update",
    "make_client_app",
]

_LOG = logging.getLogger("edge_client.federated")
REFUSED = 4001  # error code of a refused round
_STATE = "edgeprof-device"
_AUDIT_STATE = "edgeprof-audit"


def context_device(context: Context) -> FederatedDevice:
    """Return the device of a Flower node (see :func:`device_from_config`)."""
    return device_from_config(dict(context.node_config), dict(context.run_config))


def context_audit_source(context: Context) -> AuditSource:
    """Return the SIMULATED audit device of a Flower node (outcome audits, see docs/audits.md)."""
    from edge_client.audit.source import SimulatedAuditSource
    from edge_client.federated.device import engine_for

    config = {**dict(context.run_config), **dict(context.node_config)}
    if _AUDIT_STATE not in context.state:
        context.state[_AUDIT_STATE] = ConfigRecord({})
    state = context.state[_AUDIT_STATE]
    if not isinstance(state, ConfigRecord):
        raise FederatedError(f"device state: record {_AUDIT_STATE!r} is not a ConfigRecord")
    engine = engine_for(str(config.get("policy", "default")))
    return SimulatedAuditSource.from_config(engine, config, state)


@lru_cache(maxsize=6)
def _model(name: FederatedModel, model_dir: str = "") -> LiteModel | RankingModel:
    return load_trainable(name, Path(model_dir) if model_dir else None)


def _train(model: LiteModel | RankingModel, plan: RoundPlan, examples: object) -> float:
    if isinstance(model, RankingModel) and isinstance(examples, RankingExamples):
        return train_ranking_locally(model, examples, plan.settings)
    if isinstance(model, LiteModel) and isinstance(examples, LocalExamples):
        return train_locally(model, examples, plan.settings)
    raise FederatedError(f"model {plan.model.value!r}: examples of the wrong kind")


def _evaluate(model: LiteModel | RankingModel, plan: RoundPlan, examples: object) -> LocalResult:
    if isinstance(model, RankingModel) and isinstance(examples, RankingExamples):
        return evaluate_ranking_locally(model, examples)
    if isinstance(model, LiteModel) and isinstance(examples, LocalExamples):
        return evaluate_locally(model, examples)
    raise FederatedError(f"model {plan.model.value!r}: examples of the wrong kind")


def _refuse(message: Message, reasons: list[str]) -> Message:
    text = "; ".join(reasons)
    _LOG.warning("refused federated round: %s", text)
    return Message(Error(code=REFUSED, reason=f"refused: {text}"), reply_to=message)


def _state(context: Context) -> ConfigRecord:
    if _STATE not in context.state:
        context.state[_STATE] = ConfigRecord({"participations": 0, "version": 0})
    record = context.state[_STATE]
    if not isinstance(record, ConfigRecord):
        raise FederatedError(f"device state: record {_STATE!r} is not a ConfigRecord")
    return record


def _number(record: ConfigRecord, key: str) -> int:
    value = record.get(key, 0)
    return value if isinstance(value, int) else 0


def _example_reasons(device: FederatedDevice, plan: RoundPlan) -> list[str]:
    """Return why the device has nothing to train the plan's model on (empty: it has)."""
    if plan.model is FederatedModel.RANKING and not device.consent.allows(Purpose.PERSONALIZATION):
        # Ranking examples exist only under the personalization opt-in (revoking drops them).
        return ["consent for 'personalization' absent: no ranking examples may be used"]
    if not len(device.examples_for(plan.model) or ()):
        return [f"no local examples for model {plan.model.value!r}"]
    return []


def _admit(
    device: FederatedDevice, message: Message, context: Context, *, training: bool
) -> tuple[dict[str, object], ModelBundle] | list[str]:
    """Return the round config and verified model, or the reasons to refuse."""
    content = message.content
    if RecordName.CONFIG.value not in content or RecordName.BUNDLE.value not in content:
        return ["round message lacks its config or bundle record"]  # (an empty config fails)
    record = content[RecordName.CONFIG.value]
    config: dict[str, object] = dict(record) if isinstance(record, ConfigRecord) else {}
    state = _state(context)
    participations = _number(state, "participations") if training else 0
    reasons = refusal_reasons(
        device.engine, config, consent=device.consent, participations=participations
    )
    if reasons:
        return reasons
    plan = parse_plan(config, seed=device.seed)
    missing = _example_reasons(device, plan)
    if missing:
        return missing
    blob = content[RecordName.BUNDLE.value]
    data = blob.get(BUNDLE_FIELD) if isinstance(blob, ConfigRecord) else None
    if not isinstance(data, bytes):
        return ["round bundle record holds no bundle bytes"]
    try:
        bundle = verify_model_bundle(
            data,
            device.trust,
            policy_hash=device.engine.policy_hash,
            model=plan.model.value,
            min_version=_number(state, "version"),
        )
    except FederatedError as exc:
        return [str(exc)]
    state["version"] = bundle.version
    return config, bundle


def local_update(
    device: FederatedDevice, config: Mapping[str, object], bundle: ModelBundle, context: Context
) -> tuple[dict[str, npt.NDArray[np.float32]], dict[str, float]]:
    """Train the verified model on the device's examples; return the clipped update and metrics.

    Counts the participation in the node's state. The metrics are the policy's allowed
    ones only.
    """
    plan = parse_plan(config, seed=device.seed)
    model = _model(plan.model, device.model_dir)
    model.set_weights(bundle.weights)
    received = model.get_weights()
    examples = device.examples_for(plan.model)
    loss = _train(model, plan, examples)
    clip = float(config[RoundKey.CLIPPING_NORM.value])  # type: ignore[arg-type]  # checked numeric by refusal_reasons
    update, norm = clip_update(weight_delta(model.get_weights(), received), max_norm=clip)
    state = _state(context)
    state["participations"] = _number(state, "participations") + 1
    # The norm that may leave is the sent (clipped) update's: the server bounds it by the
    # clipping norm and rejects larger values, and the pre-clip norm is not covered by DP.
    # A loss of a batch fitted exactly comes out of float32 as about -1e-7; the server
    # rejects negative losses, so it is reported as 0.
    allowed = device.engine.filter_metrics(
        {
            "num_examples": float(len(examples or ())),
            "loss": max(loss, 0.0),
            "update_norm": min(norm, clip),
        }
    )
    return update, allowed


def handle_train(device: FederatedDevice, message: Message, context: Context) -> Message:
    """Answer one plain ``train`` message (see the module docstring).

    A device whose policy requires secure aggregation refuses plain rounds (its update
    would reach the server in the clear), whatever the round config claims.

    Parameters
    ----------
    device
        The device.
    message
        The server's message.
    context
        The node's context (its state counts participations and the newest model seen).

    Returns
    -------
    Message
        The clipped update and allowed metrics, or an error reply naming the refusal.
    """
    if device.engine.federated.secure_aggregation:
        return _refuse(message, ["secure aggregation is required: a plain round is refused"])
    admitted = _admit(device, message, context, training=True)
    if isinstance(admitted, list):
        return _refuse(message, admitted)
    config, bundle = admitted
    if config.get(RoundKey.SECURE_AGGREGATION.value) is True:
        return _refuse(message, ["a plain round must not claim secure aggregation"])
    update, allowed = local_update(device, config, bundle, context)
    metrics = MetricRecord({k: int(v) if k == "num_examples" else v for k, v in allowed.items()})
    arrays = ArrayRecord({name: Array(value) for name, value in update.items()})
    content = RecordDict({RecordName.ARRAYS.value: arrays, RecordName.METRICS.value: metrics})
    return Message(content, reply_to=message)


def handle_evaluate(device: FederatedDevice, message: Message, context: Context) -> Message:
    """Answer one ``evaluate`` message with the allowed metrics of the verified model.

    Parameters
    ----------
    device
        The device.
    message
        The server's message.
    context
        The node's context.

    Returns
    -------
    Message
        Allowed metrics, or an error reply naming the refusal.
    """
    if device.engine.federated.secure_aggregation:
        return _refuse(message, ["secure aggregation is required: per-device metrics stay here"])
    admitted = _admit(device, message, context, training=False)
    if isinstance(admitted, list):
        return _refuse(message, admitted)
    config, bundle = admitted
    plan = parse_plan(config, seed=device.seed)
    model = _model(plan.model, device.model_dir)
    model.set_weights(bundle.weights)
    result = _evaluate(model, plan, device.examples_for(plan.model))
    allowed = device.engine.filter_metrics(result.as_metrics())
    metrics = MetricRecord({k: int(v) if k == "num_examples" else v for k, v in allowed.items()})
    return Message(RecordDict({RecordName.METRICS.value: metrics}), reply_to=message)


def make_client_app(
    provider: Callable[[Context], FederatedDevice] | None = None,
    *,
    audit_provider: Callable[[Context], AuditSource] | None = None,
) -> ClientApp:
    """Return a ClientApp whose devices come from ``provider``.

    Parameters
    ----------
    provider
        Builds a node's :class:`FederatedDevice` from its context (default: :func:`context_device`).
        An app embedding the edge client passes one that reads the device's own store.
    audit_provider
        Builds a node's :class:`~edge_client.audit.AuditSource` for outcome-audit query
        rounds (default: :func:`context_audit_source`, SIMULATED outcomes); an app passes
        one that reads its own store (:class:`~edge_client.audit.StoreAuditSource`).

    Returns
    -------
    ClientApp
        With ``train``, ``evaluate`` and ``query`` (outcome audits) registered.
    """
    provide = provider if provider is not None else context_device
    audit_provide = audit_provider if audit_provider is not None else context_audit_source
    client = ClientApp()

    @client.query()
    def query(message: Message, context: Context) -> Message:
        from edge_client.audit.app import handle_query  # outcome audits (docs/audits.md)

        return handle_query(audit_provide(context), message, context)

    @client.train()
    def train(message: Message, context: Context) -> Message:
        return handle_train(provide(context), message, context)

    @client.evaluate()
    def evaluate(message: Message, context: Context) -> Message:
        return handle_evaluate(provide(context), message, context)

    def admit(
        device: FederatedDevice, message: Message, context: Context
    ) -> tuple[dict[str, object], ModelBundle] | list[str]:
        return _admit(device, message, context, training=True)

    register_secure_aggregation(client, provide, admit=admit, update=local_update)
    return client


app = make_client_app()
