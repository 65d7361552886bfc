"""The two signed statements of the protocol: key advertisements and survivor confirmations.

* An *advertisement* says "in session S, node N's key-agreement keys are C (encrypting
  shares) and M (pairwise masks)"; it is signed with the device's identity key and carries
  the device's certificate. Neither the server nor a peer can substitute keys or replay
  an advertisement into another session (the session id is covered).
* A *confirmation* says "in session S, the survivors are U"; an honest device signs one
  survivor set per session and reveals shares only after seeing a quorum of survivors'
  confirmations of the *same* set, so the server cannot tell one device that a peer
  dropped (to learn its mask key) and another that it survived (to learn its self mask).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from edge_client.policy.keys import TrustStore
from edge_client.secagg.errors import IdentityError, Refusal, RefusalError
from edge_client.secagg.identity import Certificate, DeviceIdentity, verify_certificate
from edge_client.secagg.wire import Fields, pack

__all__ = [
    "Advertisement",
    "confirmation_message",
    "make_advertisement",
    "survivor_digest",
    "verify_advertisement",
    "verify_confirmation",
]

_AD_DOMAIN = b"edgeprof secagg advertisement v1\x00"
_CONFIRM_DOMAIN = b"edgeprof secagg survivors v1\x00"
SIGNATURE_BYTES = 64


def _ad_message(
    session: bytes, node: int, share_key: bytes, mask_key: bytes, commitment: bytes
) -> bytes:
    return _AD_DOMAIN + session + struct.pack(">Q", node) + share_key + mask_key + commitment


@dataclass(frozen=True)
class Advertisement:
    """A verified (or own) key advertisement.

    Attributes
    ----------
    node
        The advertising node id.
    share_key
        Raw X25519 public key for share encryption.
    mask_key
        Raw X25519 public key for pairwise masks.
    commitment
        SHA-256 commitment to the self-mask seed (lets the server check a reconstruction).
    certificate
        The verified certificate (device name and identity key).
    blob
        The advertisement's bytes as sent (the transcript hashes these).
    """

    node: int
    share_key: bytes
    mask_key: bytes
    commitment: bytes
    certificate: Certificate
    blob: bytes


def make_advertisement(
    identity: DeviceIdentity,
    certificate: Certificate,
    *,
    session: bytes,
    node: int,
    share_key: bytes,
    mask_key: bytes,
    commitment: bytes,
) -> Advertisement:
    """Return this device's signed advertisement."""
    signature = identity.sign(_ad_message(session, node, share_key, mask_key, commitment))
    blob = _blob(
        node,
        share_key=share_key,
        mask_key=mask_key,
        commitment=commitment,
        cert=identity.certificate,
        signature=signature,
    )
    return Advertisement(node, share_key, mask_key, commitment, certificate, blob)


def _blob(
    node: int,
    *,
    share_key: bytes,
    mask_key: bytes,
    commitment: bytes,
    cert: bytes,
    signature: bytes,
) -> bytes:
    return pack(
        {
            "node": node,
            "share_key": share_key,
            "mask_key": mask_key,
            "commitment": commitment,
            "certificate": cert,
            "signature": signature,
        }
    )


def verify_advertisement(fields: Fields, *, session: bytes, authority: TrustStore) -> Advertisement:
    """Verify one advertisement of ``session``.

    Parameters
    ----------
    fields
        The parsed advertisement.
    session
        The session id the verifier computed itself.
    authority
        The identity authorities.

    Returns
    -------
    Advertisement
        The verified advertisement.

    Raises
    ------
    RefusalError
        ``malformed``, ``untrusted_identity`` (certificate) or ``bad_signature``.
    """
    node = fields.integer("node")
    share_key = fields.bytes_("share_key", size=32)
    mask_key = fields.bytes_("mask_key", size=32)
    commitment = fields.bytes_("commitment", size=32)
    signature = fields.bytes_("signature", size=SIGNATURE_BYTES)
    raw_certificate = fields.bytes_("certificate", most=512)
    try:
        certificate = verify_certificate(raw_certificate, authority)
    except IdentityError as exc:
        raise RefusalError(Refusal.IDENTITY, f"advertisement of node {node}: {exc}") from None
    try:
        certificate.public_key.verify(
            signature, _ad_message(session, node, share_key, mask_key, commitment)
        )
    except InvalidSignature:
        raise RefusalError(
            Refusal.SIGNATURE,
            f"advertisement of node {node} is not signed by its certified key for this session",
        ) from None
    blob = _blob(
        node,
        share_key=share_key,
        mask_key=mask_key,
        commitment=commitment,
        cert=raw_certificate,
        signature=signature,
    )
    return Advertisement(node, share_key, mask_key, commitment, certificate, blob)


def survivor_digest(survivors: Iterable[int]) -> bytes:
    """Return the SHA-256 of a survivor set (ids in increasing order)."""
    digest = hashlib.sha256()
    for node in sorted(survivors):
        digest.update(struct.pack(">Q", node))
    return digest.digest()


def confirmation_message(session: bytes, survivors: Iterable[int]) -> bytes:
    """Return the bytes a device signs to confirm the survivor set."""
    return _CONFIRM_DOMAIN + session + survivor_digest(survivors)


def verify_confirmation(key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    """Return whether ``signature`` is ``key``'s signature of ``message``."""
    if len(signature) != SIGNATURE_BYTES:
        return False
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True
