"""The store's on-disk format: an authenticated header followed by AES-256-GCM ciphertext.

Layout (all integers big-endian)::

    offset  size  field
    0       4     magic  b"EPST"
    4       2     format version (1)
    6       16    key id  (:func:`~edge_client.store.keys.key_fingerprint`, never the key)
    22      12    nonce   (random per write)
    34      n+16  AES-GCM ciphertext of the msgpack payload, then the 16-byte tag

The 34 header bytes are AES-GCM associated data, so any change to them fails
authentication. The payload is the msgpack map ``{"generation": int, "sections": {...}}``;
the generation grows by one on every save so that recovery can pick the newest good file.
"""

from __future__ import annotations

import secrets
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgpack
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from edge_client.decoding import DecodeError, Limits, unpack_msgpack
from edge_client.store.errors import StoreIntegrityError, StoreKeyError, StoreValueError
from edge_client.store.keys import KEY_ID_SIZE, key_fingerprint
from edge_client.store.state import MAX_DEPTH, State

__all__ = ["FORMAT_VERSION", "HEADER_SIZE", "MAGIC", "MIN_FILE_SIZE", "Sealed", "seal", "unseal"]

MAGIC = b"EPST"
FORMAT_VERSION = 1
NONCE_SIZE = 12
TAG_SIZE = 16
_HEADER = struct.Struct(f">4sH{KEY_ID_SIZE}s{NONCE_SIZE}s")
HEADER_SIZE = _HEADER.size
#: The shortest well-formed file: a header and the tag of an empty ciphertext.
MIN_FILE_SIZE = HEADER_SIZE + TAG_SIZE
_MAX_GENERATION = 2**63 - 1
_UINT64_MAX = 2**64 - 1


@dataclass(frozen=True)
class Sealed:
    """The verified contents of one store file.

    Attributes
    ----------
    generation : int
        The save counter stored inside the authenticated payload (>= 1).
    sections : dict[str, Any]
        The state as saved.
    """

    generation: int
    sections: State


def seal(sections: Mapping[str, Any], *, key: bytes, generation: int) -> bytes:
    """Serialize and encrypt one generation of the state.

    Parameters
    ----------
    sections : Mapping[str, Any]
        A state already checked by :func:`~edge_client.store.state.validate_state`.
    key : bytes
        The 32-byte store key.
    generation : int
        This save's generation, >= 1.

    Returns
    -------
    bytes
        The complete file contents.

    Raises
    ------
    StoreKeyError
        When ``key`` is not 32 bytes.
    StoreValueError
        When msgpack refuses ``sections`` (not expected after validation).
    ValueError
        When ``generation`` is out of range (a programming error in the caller).
    """
    if not 1 <= generation <= _MAX_GENERATION:
        raise ValueError(f"generation must be in [1, 2**63 - 1], got {generation}")
    key_id = bytes.fromhex(key_fingerprint(key))
    header = _HEADER.pack(MAGIC, FORMAT_VERSION, key_id, secrets.token_bytes(NONCE_SIZE))
    try:
        payload = msgpack.packb(
            {"generation": generation, "sections": dict(sections)}, use_bin_type=True
        )
    except (TypeError, ValueError, OverflowError) as exc:
        # validate_state() should have caught it; never let a raw msgpack error escape.
        raise StoreValueError(f"store state cannot be serialized: {type(exc).__name__}") from None
    nonce = header[-NONCE_SIZE:]
    return header + AESGCM(key).encrypt(nonce, payload, header)


def unseal(data: bytes, *, key: bytes, path: Path) -> Sealed:
    """Verify and decrypt the contents of a store file.

    Parameters
    ----------
    data : bytes
        The file's bytes.
    key : bytes
        The 32-byte store key.
    path : pathlib.Path
        The file the bytes came from, for error messages.

    Returns
    -------
    Sealed
        The generation and the sections.

    Raises
    ------
    StoreIntegrityError
        For an empty, truncated or foreign file, an unknown format version, a failed
        authentication tag (any modified bit) or a malformed authenticated payload.
    StoreKeyError
        When the file was encrypted under a different key than ``key`` (its key id differs
        and the file does not authenticate under ``key`` either).
    """
    size = len(data)
    if size == 0:
        raise StoreIntegrityError(path, "file is empty (truncated to 0 bytes)")
    if not data.startswith(MAGIC[: min(size, len(MAGIC))]):
        raise StoreIntegrityError(path, "bad magic bytes: not an edge-profiler store file")
    if size < MIN_FILE_SIZE:
        raise StoreIntegrityError(
            path, f"truncated: {size} bytes, shorter than the {MIN_FILE_SIZE}-byte minimum"
        )
    header, body = data[:HEADER_SIZE], data[HEADER_SIZE:]
    _magic, version, file_key_id, nonce = _HEADER.unpack(header)
    if version != FORMAT_VERSION:
        raise StoreIntegrityError(
            path, f"unknown format version {version} (this library reads version {FORMAT_VERSION})"
        )
    our_key_id = bytes.fromhex(key_fingerprint(key))
    aead = AESGCM(key)
    if file_key_id != our_key_id:
        # Either the wrong key, or corruption of the key id field: the file authenticates
        # under our key with our key id put back only in the second case.
        repaired = _HEADER.pack(MAGIC, version, our_key_id, nonce)
        try:
            aead.decrypt(nonce, body, repaired)
        except InvalidTag:
            raise StoreKeyError(
                f"store file {path} was encrypted with key id {file_key_id.hex()}, but the key "
                f"provider supplies key id {our_key_id.hex()}: wrong key"
            ) from None
        raise StoreIntegrityError(path, "key id field of the header is corrupted")
    try:
        payload = aead.decrypt(nonce, body, header)
    except InvalidTag:
        raise StoreIntegrityError(
            path, "authentication failed (AES-GCM tag mismatch): the file was modified or truncated"
        ) from None
    return _parse_payload(payload, path)


def _parse_payload(payload: bytes, path: Path) -> Sealed:
    # Bounded like every decoder: stored values nest at most MAX_DEPTH levels inside the
    # two levels of the payload, and integers go up to the uint64 msgpack stores.
    limits = Limits(
        max_bytes=max(len(payload), 1),
        max_depth=MAX_DEPTH + 3,
        max_int=_UINT64_MAX,
        allow_non_finite=True,
    )
    try:
        document = unpack_msgpack(payload, source=str(path), limits=limits)
    except DecodeError as exc:
        raise StoreIntegrityError(
            path, f"authenticated payload is not valid msgpack ({exc.problem})"
        ) from None
    if not isinstance(document, dict) or set(document) != {"generation", "sections"}:
        raise StoreIntegrityError(path, "authenticated payload lacks generation/sections")
    generation, sections = document["generation"], document["sections"]
    # A generation at the top of the range could not be followed by another save.
    if (
        isinstance(generation, bool)
        or not isinstance(generation, int)
        or not 1 <= generation < _MAX_GENERATION
    ):
        raise StoreIntegrityError(path, "authenticated payload has an invalid generation")
    if not isinstance(sections, dict) or not all(isinstance(k, str) for k in sections):
        raise StoreIntegrityError(path, "authenticated payload's sections are not a str map")
    return Sealed(generation=generation, sections=sections)
