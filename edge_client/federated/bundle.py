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

from edge_client.federated.errors import BundleError
from edge_client.policy.keys import TrustStore

__all__ = [
    "BUNDLE_FORMAT",
    "DOMAIN",
    "ModelBundle",
    "bundle_payload",
    "verify_model_bundle",
]

BUNDLE_FORMAT = "edgeprof-model-bundle/1"
DOMAIN = b"edgeprof model bundle v1\x00"
_DTYPE = "<f4"


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
        return msgpack.unpackb(data, raw=False, strict_map_key=True)
    except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
        raise BundleError(
            f"model bundle: {what} is not valid msgpack ({type(exc).__name__})"
        ) from None


def _weights(raw: object) -> dict[str, npt.NDArray[np.float32]]:
    if not isinstance(raw, list):
        raise BundleError("model bundle: payload field 'weights' must be a list")
    out: dict[str, npt.NDArray[np.float32]] = {}
    for item in raw:
        if not (isinstance(item, list) and len(item) == 4 and item[1] == _DTYPE):
            raise BundleError("model bundle: payload field 'weights' has a malformed entry")
        name, _, shape, blob = item
        if not (isinstance(name, str) and isinstance(blob, bytes) and isinstance(shape, list)):
            raise BundleError("model bundle: payload field 'weights' has a malformed entry")
        array = np.frombuffer(blob, dtype=_DTYPE)
        if array.size != math.prod(int(d) for d in shape):
            raise BundleError(f"model bundle: weight {name!r} size does not match its shape")
        out[name] = array.reshape([int(d) for d in shape]).astype(np.float32)
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
        When the bundle is malformed, signed by an unknown key, the signature does not
        match, or the model, policy or version is not the expected one.
    """
    outer = _unpack(data, "bundle")
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
    if model is not None and doc.get("model") != model:
        raise BundleError(f"model bundle: holds model {doc.get('model')!r}, expected {model!r}")
    version = doc.get("version")
    if not isinstance(version, int) or version < min_version:
        raise BundleError(f"model bundle: version {version!r} is older than {min_version}")
    metrics = doc.get("metrics")
    if not isinstance(metrics, list):
        raise BundleError("model bundle: payload field 'metrics' must be a list")
    return ModelBundle(
        model=str(doc["model"]),
        version=version,
        weights=_weights(doc.get("weights")),
        metrics={str(k): float(v) for k, v in metrics},
        policy_hash=policy_hash,
        key_id=kid,
    )
