"""Signed model bundles: the only form in which a device accepts a global model.

A bundle is msgpack ``{"payload": bytes, "key_id": str, "signature": bytes}``; the payload
is msgpack of the model name, its global version, the aggregate metrics of the round that
made it, the SHA-256 of the policy it was trained under, and its weights (name, dtype,
shape, raw little-endian bytes). The signature is Ed25519 over ``DOMAIN + payload``.
The server signs (:func:`fl_server.publish.sign_model_bundle`); the device verifies here,
against its own trust store, before any weight is loaded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgpack
import numpy as np
import numpy.typing as npt
from cryptography.exceptions import InvalidSignature

from edge_client.decoding import DecodeError, Limits, unpack_msgpack
from edge_client.federated.errors import BundleError
from edge_client.policy.keys import TrustStore

__all__ = [
    "BUNDLE_FORMAT",
    "BUNDLE_LIMITS",
    "DOMAIN",
    "MAX_BUNDLE_BYTES",
    "ModelBundle",
    "bundle_payload",
    "verify_model_bundle",
]

BUNDLE_FORMAT = "edgeprof-model-bundle/1"
DOMAIN = b"edgeprof model bundle v1\x00"
MAX_BUNDLE_BYTES = 64 * 1024 * 1024
"""Largest model bundle a device decodes (the interest model's is about 1.3 MB)."""
BUNDLE_LIMITS = Limits(max_bytes=MAX_BUNDLE_BYTES, max_depth=8)
_DTYPE = "<f4"
_MAX_RANK, _MAX_DIM, _MAX_NAME = 8, 2**31 - 1, 64


@dataclass(frozen=True)
class ModelBundle:
    """A verified global model.

    Attributes
    ----------
    model
        Model name (``style`` or ``interests``).
    version
        Global model version (the server round that produced it; 0 is the initial model).
    weights
        Weight name to float32 array.
    metrics
        Aggregate metrics of the round that produced the model (ε included).
    policy_hash
        SHA-256 of the policy the model was trained under.
    key_id
        Id of the key that signed it.
    """

    model: str
    version: int
    weights: Mapping[str, npt.NDArray[np.float32]]
    metrics: Mapping[str, float]
    policy_hash: str
    key_id: str


def bundle_payload(
    *,
    model: str,
    version: int,
    weights: Mapping[str, npt.ArrayLike],
    metrics: Mapping[str, float],
    policy_hash: str,
) -> bytes:
    """Return the canonical payload bytes that are signed.

    Parameters
    ----------
    model, version, weights, metrics, policy_hash
        See :class:`ModelBundle`.

    Returns
    -------
    bytes
        Deterministic msgpack (weights and metrics sorted by name).
    """
    arrays = []
    for name in sorted(weights):
        array = np.array(weights[name], dtype=_DTYPE, order="C")  # keeps 0-d shapes
        arrays.append([name, _DTYPE, list(array.shape), array.tobytes()])
    document = {
        "format": BUNDLE_FORMAT,
        "model": model,
        "version": int(version),
        "policy_hash": policy_hash,
        "metrics": [[k, float(metrics[k])] for k in sorted(metrics)],
        "weights": arrays,
    }
    return bytes(msgpack.packb(document, use_bin_type=True))


def _unpack(data: bytes, what: str) -> Any:
    try:
        return unpack_msgpack(data, source=what, limits=BUNDLE_LIMITS)
    except DecodeError as exc:
        raise BundleError(f"model bundle: {exc}") from None


def _shape(raw: object, name: str) -> list[int]:
    if not isinstance(raw, list) or len(raw) > _MAX_RANK:
        raise BundleError(f"model bundle: weight {name!r} has a malformed shape")
    for dim in raw:
        if isinstance(dim, bool) or not isinstance(dim, int) or not 0 <= dim <= _MAX_DIM:
            raise BundleError(f"model bundle: weight {name!r} has a malformed shape")
    return list(raw)


def _weights(raw: object) -> dict[str, npt.NDArray[np.float32]]:
    if not isinstance(raw, list):
        raise BundleError("model bundle: payload field 'weights' must be a list")
    out: dict[str, npt.NDArray[np.float32]] = {}
    for item in raw:
        if not (isinstance(item, list) and len(item) == 4 and item[1] == _DTYPE):
            raise BundleError("model bundle: payload field 'weights' has a malformed entry")
        name, _, raw_shape, blob = item
        if not (isinstance(name, str) and isinstance(blob, bytes)) or name in out:
            raise BundleError("model bundle: payload field 'weights' has a malformed entry")
        shape = _shape(raw_shape, name)
        if len(blob) != 4 * math.prod(shape):
            raise BundleError(f"model bundle: weight {name!r} size does not match its shape")
        array = np.frombuffer(blob, dtype=_DTYPE).reshape(shape).astype(np.float32)
        if not np.all(np.isfinite(array)):
            raise BundleError(f"model bundle: weight {name!r} holds values that are not finite")
        out[name] = array
    return out


def _metrics(raw: object) -> dict[str, float]:
    if not isinstance(raw, list):
        raise BundleError("model bundle: payload field 'metrics' must be a list")
    out: dict[str, float] = {}
    for item in raw:
        ok = isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)
        value = item[1] if ok else None
        if not ok or isinstance(value, bool) or not isinstance(value, int | float):
            raise BundleError("model bundle: payload field 'metrics' has a malformed entry")
        if not math.isfinite(value):
            raise BundleError("model bundle: a metric is not a finite number")
        out[item[0]] = float(value)
    return out


def verify_model_bundle(
    data: bytes,
    trust: TrustStore,
    *,
    policy_hash: str,
    model: str | None = None,
    min_version: int = 0,
) -> ModelBundle:
    """Verify a signed bundle and return the model it holds.

    Parameters
    ----------
    data
        The bundle bytes as received.
    trust
        Keys the device trusts to sign models.
    policy_hash
        Hash of the policy in force on the device; a model trained under another is refused.
    model
        Expected model name, when known.
    min_version
        Oldest acceptable version (a replayed older model is refused).

    Returns
    -------
    ModelBundle
        The verified model.

    Raises
    ------
    BundleError
        When the bundle is malformed (also inside a payload a trusted key signed: a
        missing field, a wrong type, a shape that does not fit, weights or metrics that
        are not finite), signed by an unknown key, the signature does not match, or the
        model, policy or version is not the expected one. No other error is raised.
    """
    if not isinstance(data, bytes | bytearray):
        raise BundleError(f"model bundle: expected bytes, got {type(data).__name__}")
    outer = _unpack(bytes(data), "bundle")
    if not isinstance(outer, dict) or set(outer) != {"payload", "key_id", "signature"}:
        raise BundleError("model bundle: expected exactly payload, key_id and signature")
    payload, kid, signature = outer["payload"], outer["key_id"], outer["signature"]
    if not (isinstance(payload, bytes) and isinstance(kid, str) and isinstance(signature, bytes)):
        raise BundleError("model bundle: payload, key_id or signature has the wrong type")
    key = trust.get(kid)
    if key is None:
        raise BundleError(f"model bundle: signed by untrusted key {kid!r}")
    try:
        key.verify(signature, DOMAIN + payload)
    except InvalidSignature:
        raise BundleError("model bundle: signature does not match (tampered or corrupt)") from None
    doc = _unpack(payload, "payload")
    if not isinstance(doc, dict) or doc.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"model bundle: payload format is not {BUNDLE_FORMAT!r}")
    if doc.get("policy_hash") != policy_hash:
        raise BundleError("model bundle: trained under another policy than the one in force")
    name = doc.get("model")
    if not isinstance(name, str) or not 0 < len(name) <= _MAX_NAME:
        raise BundleError("model bundle: payload field 'model' must be a model name")
    if model is not None and name != model:
        raise BundleError(f"model bundle: holds model {name!r}, expected {model!r}")
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise BundleError("model bundle: payload field 'version' must be an integer")
    if version < min_version:
        raise BundleError(f"model bundle: version {version} is older than {min_version}")
    return ModelBundle(
        model=name,
        version=version,
        weights=_weights(doc.get("weights")),
        metrics=_metrics(doc.get("metrics")),
        policy_hash=policy_hash,
        key_id=kid,
    )
