"""Publication of global models as signed bundles (msgpack + Ed25519).

The format is :mod:`edge_client.federated.bundle` (the device verifies there); this module
signs, keeps the signing key, and writes ``<dir>/<model>-v<version>.bundle`` for the last
few versions plus ``<model>-latest.bundle``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import msgpack
import numpy.typing as npt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_client.federated.bundle import DOMAIN, bundle_payload
from edge_client.policy.keys import generate_private_key, key_id, load_private_key, write_keypair

__all__ = ["Publisher", "ensure_signing_key", "sign_model_bundle"]


def sign_model_bundle(
    *,
    private_key: Ed25519PrivateKey,
    model: str,
    version: int,
    weights: Mapping[str, npt.ArrayLike],
    metrics: Mapping[str, float],
    policy_hash: str,
) -> bytes:
    """Return a signed bundle of one global model.

    Parameters
    ----------
    private_key
        The server's model-signing key.
    model, version, weights, metrics, policy_hash
        See :class:`edge_client.federated.bundle.ModelBundle`.

    Returns
    -------
    bytes
        msgpack ``{"payload", "key_id", "signature"}``.
    """
    payload = bundle_payload(
        model=model, version=version, weights=weights, metrics=metrics, policy_hash=policy_hash
    )
    document = {
        "payload": payload,
        "key_id": key_id(private_key.public_key()),
        "signature": private_key.sign(DOMAIN + payload),
    }
    return bytes(msgpack.packb(document, use_bin_type=True))


def ensure_signing_key(path: Path) -> Ed25519PrivateKey:
    """Load the signing key at ``path`` (``.key``), creating it and its ``.pub`` if absent.

    Parameters
    ----------
    path
        The private key file; the public key is written beside it with suffix ``.pub``.

    Returns
    -------
    Ed25519PrivateKey
        The key.
    """
    if path.exists():
        return load_private_key(path)
    private_path, _ = write_keypair(generate_private_key(), path.with_suffix(""))
    return load_private_key(private_path)


class Publisher:
    """Sign and write each new global model.

    Parameters
    ----------
    private_key
        The model-signing key.
    directory
        Where bundles are written.
    keep
        Versioned bundles kept on disk (older ones are removed).
    """

    def __init__(self, private_key: Ed25519PrivateKey, directory: Path, *, keep: int = 3) -> None:
        self._key = private_key
        self.directory = directory
        self._keep = keep
        directory.mkdir(parents=True, exist_ok=True)

    def publish(
        self,
        *,
        model: str,
        version: int,
        weights: Mapping[str, npt.ArrayLike],
        metrics: Mapping[str, float],
        policy_hash: str,
    ) -> bytes:
        """Sign, write and return the bundle of one global model."""
        data = sign_model_bundle(
            private_key=self._key,
            model=model,
            version=version,
            weights=weights,
            metrics=metrics,
            policy_hash=policy_hash,
        )
        target = self.directory / f"{model}-v{version:05d}.bundle"
        for path in (target, self.directory / f"{model}-latest.bundle"):
            temporary = path.with_suffix(".tmp")
            temporary.write_bytes(data)
            temporary.replace(path)
        old = sorted(self.directory.glob(f"{model}-v*.bundle"))[: -self._keep]
        for path in old:
            path.unlink(missing_ok=True)
        return data
