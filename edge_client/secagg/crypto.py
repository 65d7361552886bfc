"""The cryptographic building blocks of secure aggregation, all from maintained libraries.

* key agreement: X25519 (``cryptography``); every derived key goes through HKDF-SHA256
  with a domain-separated ``info`` naming its purpose, the session and the two nodes;
* masks: the AES-256-CTR keystream of a derived key (``cryptography``), read as
  little-endian ``uint32`` values (uniform modulo 2³²);
* share encryption: AES-256-GCM with a random 96-bit nonce and the session and both node
  ids as associated data (``cryptography``);
* secret sharing: Shamir over GF(2¹²⁸) as Flower ships it
  (``flwr.common.secure_aggregation.crypto.shamir``, built on PyCryptodome);
* every secret comes from ``os.urandom``.

Flower's own ``pseudo_rand_gen`` (NumPy ``RandomState`` seeded with 32 bits) and its
Fernet helpers are *not* used: a 32-bit seed can be searched exhaustively.
"""

from __future__ import annotations

import hashlib
import os
import struct

import numpy as np
import numpy.typing as npt
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from edge_client.secagg.errors import Refusal, RefusalError

__all__ = [
    "KEY_BYTES",
    "SEED_BYTES",
    "combine_secret",
    "decrypt_shares",
    "encrypt_shares",
    "mask_vector",
    "new_seed",
    "pair_mask_key",
    "public_key",
    "seed_commitment",
    "self_mask_key",
    "share_key",
    "split_secret",
    "x25519_from_seed",
]

SEED_BYTES = 16
"""Length of the secrets that are Shamir-shared (128 bits; two 16-byte Shamir chunks)."""
KEY_BYTES = 32
_NONCE = 12


def new_seed() -> bytes:
    """Return a fresh secret seed from the operating system."""
    return os.urandom(SEED_BYTES)


def _hkdf(secret: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(secret)


def _nodes(first: int, second: int) -> bytes:
    low, high = sorted((first, second))
    return struct.pack(">QQ", low, high)


def x25519_from_seed(seed: bytes) -> X25519PrivateKey:
    """Return the X25519 key derived from a shared seed (so 16 bytes can be Shamir-shared)."""
    return X25519PrivateKey.from_private_bytes(_hkdf(seed, b"edgeprof secagg mask key v1"))


def public_key(raw: bytes) -> X25519PublicKey:
    """Return the X25519 public key of 32 raw bytes.

    Raises
    ------
    RefusalError
        When the bytes are not a public key.
    """
    try:
        return X25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise RefusalError(Refusal.MALFORMED, "an X25519 public key is malformed") from None


def _exchange(private: X25519PrivateKey, peer: bytes) -> bytes:
    try:
        return private.exchange(public_key(peer))
    except ValueError:  # an all-zero shared secret (small-order point)
        raise RefusalError(Refusal.MALFORMED, "a public key is of small order") from None


def pair_mask_key(
    private: X25519PrivateKey, peer: bytes, *, session: bytes, node: int, other: int
) -> bytes:
    """Return the key of the pairwise mask between ``node`` and ``other`` (either side)."""
    return _hkdf(
        _exchange(private, peer), b"edgeprof secagg pair mask v1" + session + _nodes(node, other)
    )


def share_key(
    private: X25519PrivateKey, peer: bytes, *, session: bytes, node: int, other: int
) -> bytes:
    """Return the AES-GCM key that encrypts shares between ``node`` and ``other``."""
    return _hkdf(
        _exchange(private, peer), b"edgeprof secagg share key v1" + session + _nodes(node, other)
    )


def self_mask_key(seed: bytes, *, session: bytes) -> bytes:
    """Return the key of a device's self mask from its shared seed."""
    return _hkdf(seed, b"edgeprof secagg self mask v1" + session)


def seed_commitment(seed: bytes, *, session: bytes) -> bytes:
    """Return the SHA-256 commitment to a self-mask seed (binds the seed, reveals nothing)."""
    return hashlib.sha256(b"edgeprof secagg seed commitment v1\x00" + session + seed).digest()


def mask_vector(key: bytes, size: int) -> npt.NDArray[np.uint32]:
    """Return ``size`` uniform ``uint32`` values: the AES-256-CTR keystream of ``key``.

    Every key is used for one vector only (derived per session and pair), so the zero
    initial counter block is safe.
    """
    encryptor = Cipher(algorithms.AES(key), modes.CTR(bytes(16))).encryptor()
    stream = encryptor.update(bytes(4 * size)) + encryptor.finalize()
    return np.frombuffer(stream, dtype="<u4").astype(np.uint32, copy=False)


def _aad(session: bytes, source: int, destination: int) -> bytes:
    return b"edgeprof secagg shares v1" + session + struct.pack(">QQ", source, destination)


def encrypt_shares(
    key: bytes, plaintext: bytes, *, session: bytes, source: int, destination: int
) -> bytes:
    """Encrypt the shares ``source`` sends ``destination``: ``nonce || AES-GCM ciphertext``."""
    nonce = os.urandom(_NONCE)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, _aad(session, source, destination))


def decrypt_shares(
    key: bytes, blob: bytes, *, session: bytes, source: int, destination: int
) -> bytes:
    """Decrypt and authenticate shares from ``source``.

    Raises
    ------
    RefusalError
        When the ciphertext was altered, replayed from another session or pair, or is
        not for this key.
    """
    if len(blob) <= _NONCE + 16:
        raise RefusalError(Refusal.CIPHERTEXT, f"shares from node {source} are truncated")
    try:
        return AESGCM(key).decrypt(blob[:_NONCE], blob[_NONCE:], _aad(session, source, destination))
    except InvalidTag:
        raise RefusalError(
            Refusal.CIPHERTEXT, f"shares from node {source} fail authentication"
        ) from None


def split_secret(secret: bytes, *, threshold: int, count: int) -> list[bytes]:
    """Return ``count`` Shamir shares of ``secret``, any ``threshold`` of which recover it.

    Share ``i`` (0-based) carries the 4-byte index ``i + 1`` (Flower's format).
    """
    from flwr.common.secure_aggregation.crypto.shamir import create_shares  # Flower's Shamir

    return create_shares(secret, threshold, count)


def combine_secret(shares: list[bytes]) -> bytes:
    """Return the secret of ``shares`` (exactly the threshold of them).

    Raises
    ------
    RefusalError
        When the shares are inconsistent (the padding check fails).
    """
    from flwr.common.secure_aggregation.crypto.shamir import combine_shares  # Flower's Shamir

    try:
        secret = combine_shares(shares)
    except ValueError:
        raise RefusalError(Refusal.MALFORMED, "shares do not combine to a secret") from None
    if len(secret) != SEED_BYTES:
        raise RefusalError(Refusal.MALFORMED, "shares combine to a secret of the wrong size")
    return secret
