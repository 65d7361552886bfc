"""The ClientApp stages of secure aggregation (the thin Flower glue of the device side).

:func:`register_secure_aggregation` adds five ``train`` actions to a ClientApp, one per
stage of :class:`~edge_client.secagg.session.Stage` (message types
``train.secagg_advertise`` … ``train.secagg_unmask``). The first stage runs the same
policy, consent and signed-bundle checks as a plain round (the caller's ``admit``), then
:func:`~edge_client.secagg.params.check_params`; the mask stage trains (the caller's
``update``) only after every check passed, and replies with one ``uint32`` array — the
masked, noised, encoded update. No metric record and no float array ever leaves the
device in a secure round. A refusal is logged (``refused secure aggregation at <stage>:
<reason>: <detail>``), counted in the node's state (record
``edgeprof-secagg-refusals``), ends the device's part in the round, and is answered with
an error whose reason starts with ``refused[<reason>]``.

The device's identity comes from the node config (then the run config): ``secagg-identity``
(identity file), ``secagg-device`` (its name in that file; default ``virtual-<partition-id>``)
and ``secagg-authority`` (the identity authorities' public keys).
"""

from __future__ import annotations

import enum
import hashlib
import logging
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import msgpack
import numpy as np
import numpy.typing as npt
from flwr.app import Array, ArrayRecord, ConfigRecord, Context, Error, Message, RecordDict
from flwr.clientapp import ClientApp

from edge_client.federated.bundle import ModelBundle, verify_model_bundle
from edge_client.federated.device import FederatedDevice
from edge_client.federated.errors import FederatedError
from edge_client.federated.rounds import BUNDLE_FIELD, RecordName, parse_plan
from edge_client.policy import RoundKey, TrustStore
from edge_client.secagg.encoding import encode_update
from edge_client.secagg.errors import IdentityError, Refusal, RefusalError, SecAggError
from edge_client.secagg.identity import DeviceIdentity, load_identity
from edge_client.secagg.noise import noise_rng
from edge_client.secagg.params import RoundParams, check_params
from edge_client.secagg.session import DeviceSession, Stage
from edge_client.secagg.wire import unpack

__all__ = [
    "MASKED",
    "PARAMS_FIELD",
    "PAYLOAD",
    "REFUSALS",
    "IdentityKey",
    "context_identity",
    "refusal_reason",
    "register_secure_aggregation",
]

_LOG = logging.getLogger("edge_client.secagg")
REFUSED = 4001  # the error code of refused rounds (as edge_client.federated.app)
PARAMS_FIELD = "secagg"
"""Field of the round's config record holding the :class:`RoundParams` bytes."""
PAYLOAD = "secagg"
"""Record (and its field ``data``) holding each stage's payload."""
MASKED = "masked"
"""Array record (and its array) holding the masked update."""
REFUSALS = "edgeprof-secagg-refusals"
"""Node-state record counting this device's refusals by reason."""
_STATE = "edgeprof-secagg"

Admit = Callable[
    [FederatedDevice, Message, Context], "tuple[dict[str, object], ModelBundle] | list[str]"
]
Update = Callable[
    [FederatedDevice, Mapping[str, object], ModelBundle, Context],
    "tuple[Mapping[str, npt.NDArray[np.float32]], Mapping[str, float]]",
]


class IdentityKey(enum.Enum):
    """Configuration keys of the device's identity (node config first, then run config)."""

    IDENTITY = "secagg-identity"
    DEVICE = "secagg-device"
    AUTHORITY = "secagg-authority"


@lru_cache(maxsize=4)
def _authority(path: str) -> TrustStore:
    return TrustStore.load(path)


def context_identity(context: Context) -> tuple[DeviceIdentity, TrustStore]:
    """Return the device's identity and the identity authorities from its configuration.

    Raises
    ------
    IdentityError
        When a key is missing or the identity cannot be loaded or verified.
    """
    merged = {**dict(context.run_config), **dict(context.node_config)}
    path, authority = (
        merged.get(IdentityKey.IDENTITY.value),
        merged.get(IdentityKey.AUTHORITY.value),
    )
    name = merged.get(IdentityKey.DEVICE.value) or f"virtual-{merged.get('partition-id', 0)}"
    if not (isinstance(path, str) and path and isinstance(authority, str) and authority):
        raise IdentityError("secure aggregation needs secagg-identity and secagg-authority")
    try:
        trust = _authority(authority)
    except Exception as exc:  # a TrustStoreError (edge_client.policy) or an OSError
        raise IdentityError(f"secagg-authority: {exc}") from None
    return load_identity(path, str(name), trust), trust


def refusal_reason(message: Message) -> str:
    """Return the refusal reason an error reply names (``refused`` when it names none)."""
    text = (message.error.reason or "") if message.has_error() else ""
    if text.startswith("refused[") and "]" in text[:64]:
        return text[len("refused[") : text.index("]")]
    return "refused"


def _session(context: Context) -> DeviceSession:
    record = context.state.get(_STATE)
    blob = record.get("data") if isinstance(record, ConfigRecord) else None
    return DeviceSession(blob if isinstance(blob, bytes) else None)


def _save(context: Context, session: DeviceSession) -> None:
    context.state[_STATE] = ConfigRecord({"data": session.dump()})


def _refuse(
    message: Message, context: Context, stage: Stage, reason: Refusal, detail: str
) -> Message:
    _LOG.warning("refused secure aggregation at %s: %s: %s", stage.value, reason.value, detail)
    counts = context.state.get(REFUSALS)
    record = counts if isinstance(counts, ConfigRecord) else ConfigRecord()
    previous = record.get(reason.value, 0)
    record[reason.value] = (previous if isinstance(previous, int) else 0) + 1
    context.state[REFUSALS] = record
    session = _session(context)
    session.reset()
    _save(context, session)
    return Message(
        Error(code=REFUSED, reason=f"refused[{reason.value}]: {detail}"), reply_to=message
    )


def _payload(message: Message, stage: Stage) -> Any:
    record = message.content.get(PAYLOAD)
    blob = record.get("data") if isinstance(record, ConfigRecord) else None
    return unpack(blob, stage.value)


def _reply(message: Message, blob: bytes) -> Message:
    return Message(RecordDict({PAYLOAD: ConfigRecord({"data": blob})}), reply_to=message)


def _advertise(
    device: FederatedDevice, message: Message, context: Context, admit: Admit
) -> Message:
    admitted = admit(device, message, context)
    if isinstance(admitted, list):
        raise RefusalError(Refusal.POLICY, "; ".join(admitted))
    config, bundle = admitted
    if config.get(RoundKey.SECURE_AGGREGATION.value) is not True:
        raise RefusalError(Refusal.POLICY, "round config does not declare secure aggregation")
    record = message.content.get(RecordName.BUNDLE.value)
    blob = record.get(BUNDLE_FIELD) if isinstance(record, ConfigRecord) else None
    if not isinstance(blob, bytes):
        raise RefusalError(Refusal.MALFORMED, "round bundle record holds no bundle bytes")
    params = RoundParams.from_bytes(config.get(PARAMS_FIELD))
    plan = parse_plan(config, seed=device.seed)
    rules = device.engine.federated
    check_params(
        params,
        node=context.node_id,
        policy_hash=device.engine.policy_hash,
        model=plan.model.value,
        server_round=plan.server_round,
        bundle_hash=hashlib.sha256(blob).hexdigest(),
        shapes=tuple((k, tuple(v.shape)) for k, v in sorted(bundle.weights.items())),
        allowed_metrics=device.engine.allowed_metric_names(),
        min_cohort=rules.min_cohort,
        noise_multiplier=rules.noise_multiplier,
        clipping_norm=float(config[RoundKey.CLIPPING_NORM.value]),  # type: ignore[arg-type]  # checked numeric by admit
    )
    try:
        identity, authority = context_identity(context)
    except IdentityError as exc:
        raise RefusalError(Refusal.NO_IDENTITY, str(exc)) from None
    session = _session(context)
    keep = bytes(msgpack.packb({"config": config, "bundle": blob}, use_bin_type=True))
    advert = session.advertise(
        params, node=context.node_id, identity=identity, authority=authority, keep=keep
    )
    _save(context, session)
    return _reply(message, advert)


def _mask(device: FederatedDevice, message: Message, context: Context, update: Update) -> Message:
    session = _session(context)
    fields = _payload(message, Stage.MASK)
    kept = msgpack.unpackb(session.kept, raw=False) if session.kept else {}
    config, blob = kept.get("config", {}), kept.get("bundle", b"")

    def encode(params: RoundParams) -> npt.NDArray[np.uint32]:
        bundle = verify_model_bundle(  # verified again on load
            blob, device.trust, policy_hash=device.engine.policy_hash, model=params.model
        )
        values, metrics = update(device, config, bundle, context)
        return encode_update(
            values,
            metrics,
            params.layout,
            scale_bits=params.scale_bits,
            clipping_norm=params.clipping_norm,
            noise_std=params.noise_std,
            cohort=len(params.cohort),
            rng=noise_rng(),
        )

    vector = session.mask(fields, encode)
    _save(context, session)
    record = ArrayRecord({MASKED: Array(np.ascontiguousarray(vector))})
    return Message(RecordDict({MASKED: record}), reply_to=message)


def _stage(
    stage: Stage,
    provide: Callable[[Context], FederatedDevice],
    admit: Admit,
    update: Update,
) -> Callable[[Message, Context], Message]:
    def handle(message: Message, context: Context) -> Message:
        try:
            if stage is Stage.ADVERTISE:
                return _advertise(provide(context), message, context, admit)
            if stage is Stage.MASK:
                return _mask(provide(context), message, context, update)
            session = _session(context)
            fields = _payload(message, stage)
            if stage is Stage.SHARE:
                _, authority = context_identity(context)
                blob = session.share(fields, authority=authority)
            elif stage is Stage.CONFIRM:
                identity, _ = context_identity(context)
                blob = session.confirm(fields, identity=identity)
            else:
                blob = session.unmask(fields)
            _save(context, session)
            return _reply(message, blob)
        except RefusalError as refusal:
            return _refuse(message, context, stage, refusal.reason, refusal.detail)
        except IdentityError as exc:
            return _refuse(message, context, stage, Refusal.NO_IDENTITY, str(exc))
        except (SecAggError, FederatedError) as exc:  # state, bundle or training trouble
            return _refuse(message, context, stage, Refusal.MALFORMED, str(exc))

    return handle


def register_secure_aggregation(
    client: ClientApp,
    provide: Callable[[Context], FederatedDevice],
    *,
    admit: Admit,
    update: Update,
) -> None:
    """Register the five secure-aggregation stages on ``client``.

    Parameters
    ----------
    client
        The ClientApp.
    provide
        Builds the node's device from its context.
    admit
        The plain round's admission (policy, consent, examples, signed bundle); returns
        the round config and verified bundle, or the reasons to refuse.
    update
        Trains and returns the clipped update and the allowed metrics.
    """
    for stage in Stage:
        client.train(stage.value)(_stage(stage, provide, admit, update))
