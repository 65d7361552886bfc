"""Device identities for secure aggregation: Ed25519 keys certified by an identity authority.

Each device holds an Ed25519 *identity key* and a *certificate*: the identity authority's
Ed25519 signature over the device's name and identity public key. A device signs its key
advertisement (and, later, the survivor set) with its identity key; every peer and the
server check the certificate against the authority keys they trust (a
:class:`~edge_client.policy.TrustStore`) and the signature against the certified key. So
the server can neither substitute a device's keys nor invent devices — unless it holds
the authority's private key. **Trust assumption:** the authority is operated apart from the
aggregation server (e.g. the app vendor's device provisioning, or an attestation service);
if the server operator also runs the authority, it can mint identities (Sybils) and the
protection against a malicious server is lost.

Certificate (msgpack): ``{"format", "device", "key": 32 raw bytes, "authority": key id,
"signature": 64 bytes}``, signed over ``CERT_DOMAIN + msgpack([format, device, key,
authority])``. Identity file (msgpack, mode 0600): ``{"format", "identities": {name:
{"private": 32 raw bytes, "certificate": bytes}}}``; a deployed device's file holds its own
entry only; the simulation's holds every virtual device's (they run on one machine).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import msgpack
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from edge_client.policy.keys import TrustStore, key_id
from edge_client.secagg.errors import IdentityError
from edge_client.store._fs import write_new_file

__all__ = [
    "CERT_FORMAT",
    "IDENTITY_FORMAT",
    "Certificate",
    "DeviceIdentity",
    "issue_certificate",
    "load_identity",
    "raw_public_key",
    "verify_certificate",
    "write_identities",
]

CERT_FORMAT = "edgeprof-device-certificate/1"
IDENTITY_FORMAT = "edgeprof-secagg-identities/1"
CERT_DOMAIN = b"edgeprof device certificate v1\x00"
_MAX_NAME = 128
_MAX_CERT = 512
_MAX_FILE = 64 * 2**20


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    """Return the 32 raw bytes of an Ed25519 public key."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _signed(device: str, key: bytes, authority: str) -> bytes:
    return CERT_DOMAIN + bytes(
        msgpack.packb([CERT_FORMAT, device, key, authority], use_bin_type=True)
    )


def issue_certificate(authority: Ed25519PrivateKey, *, device: str, key: bytes) -> bytes:
    """Return the authority's certificate of ``device``'s identity key.

    Parameters
    ----------
    authority
        The identity authority's signing key.
    device
        The device's name (at most 128 characters).
    key
        The device's raw Ed25519 identity public key.

    Returns
    -------
    bytes
        The certificate.
    """
    if not (0 < len(device) <= _MAX_NAME) or len(key) != 32:
        raise IdentityError("certificate: device name must have 1-128 characters, key 32 bytes")
    kid = key_id(authority.public_key())
    document = {
        "format": CERT_FORMAT,
        "device": device,
        "key": key,
        "authority": kid,
        "signature": authority.sign(_signed(device, key, kid)),
    }
    return bytes(msgpack.packb(document, use_bin_type=True))


@dataclass(frozen=True)
class Certificate:
    """A verified device certificate.

    Attributes
    ----------
    device
        The certified device name.
    key
        Raw identity public key (32 bytes).
    public_key
        The identity public key.
    authority
        Key id of the authority that signed it.
    """

    device: str
    key: bytes
    public_key: Ed25519PublicKey
    authority: str


def verify_certificate(blob: object, trust: TrustStore) -> Certificate:
    """Verify a certificate against the trusted identity authorities.

    Parameters
    ----------
    blob
        The certificate bytes as received.
    trust
        The identity authorities' public keys.

    Returns
    -------
    Certificate
        The certified name and key.

    Raises
    ------
    IdentityError
        When it is malformed, from an untrusted authority, or the signature fails.
    """
    if not isinstance(blob, bytes) or len(blob) > _MAX_CERT:
        raise IdentityError("certificate: not bytes of at most 512")
    try:
        doc = msgpack.unpackb(blob, raw=False, max_array_len=8, max_map_len=8)
    except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError):
        raise IdentityError("certificate: not valid msgpack") from None
    if not isinstance(doc, dict) or set(doc) != {
        "format",
        "device",
        "key",
        "authority",
        "signature",
    }:
        raise IdentityError("certificate: unexpected fields")
    device, key, kid, signature = doc["device"], doc["key"], doc["authority"], doc["signature"]
    if doc["format"] != CERT_FORMAT or not (
        isinstance(device, str)
        and 0 < len(device) <= _MAX_NAME
        and isinstance(key, bytes)
        and len(key) == 32
        and isinstance(kid, str)
        and isinstance(signature, bytes)
    ):
        raise IdentityError("certificate: a field has the wrong type or size")
    authority = trust.get(kid)
    if authority is None:
        raise IdentityError(f"certificate of {device!r}: signed by untrusted authority {kid!r}")
    try:
        authority.verify(signature, _signed(device, key, kid))
        public = Ed25519PublicKey.from_public_bytes(key)
    except (InvalidSignature, ValueError):
        raise IdentityError(f"certificate of {device!r}: signature does not verify") from None
    return Certificate(device, key, public, kid)


@dataclass(frozen=True)
class DeviceIdentity:
    """A device's identity key and certificate.

    Attributes
    ----------
    name
        The device name the certificate names.
    private_key
        The identity signing key (never leaves the device).
    certificate
        The certificate bytes, sent with every key advertisement.
    """

    name: str
    private_key: Ed25519PrivateKey
    certificate: bytes

    def sign(self, message: bytes) -> bytes:
        """Return the identity key's signature of ``message``."""
        return self.private_key.sign(message)


def write_identities(path: str | Path, identities: Mapping[str, tuple[bytes, bytes]]) -> Path:
    """Write an identity file (mode 0600; never overwrites).

    Parameters
    ----------
    path
        The file to create.
    identities
        Device name to (raw 32-byte private key, certificate).

    Returns
    -------
    Path
        The file.

    Raises
    ------
    IdentityError
        When the file exists or cannot be written.
    """
    target = Path(path)
    document = {
        "format": IDENTITY_FORMAT,
        "identities": {
            name: {"private": private, "certificate": certificate}
            for name, (private, certificate) in sorted(identities.items())
        },
    }
    data = bytes(msgpack.packb(document, use_bin_type=True))
    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_new_file(target, data)  # 0600, never follows or overwrites, fsynced
    except FileExistsError:
        raise IdentityError(f"{target}: exists already; refusing to overwrite") from None
    except OSError as exc:
        raise IdentityError(f"{target}: cannot write ({type(exc).__name__})") from None
    return target


@lru_cache(maxsize=4)
def _read(path: str) -> Mapping[str, tuple[bytes, bytes]]:
    file = Path(path)
    try:
        if file.stat().st_size > _MAX_FILE:
            raise IdentityError(f"{file}: identity file larger than 64 MiB")
        data = file.read_bytes()
    except OSError as exc:
        raise IdentityError(f"{file}: cannot read identity file ({type(exc).__name__})") from None
    try:
        doc = msgpack.unpackb(data, raw=False, max_map_len=1_000_000)
    except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError):
        raise IdentityError(f"{file}: not a valid identity file") from None
    if not isinstance(doc, dict) or doc.get("format") != IDENTITY_FORMAT:
        raise IdentityError(f"{file}: format is not {IDENTITY_FORMAT!r}")
    entries = doc.get("identities")
    if not isinstance(entries, dict):
        raise IdentityError(f"{file}: field 'identities' must be a map")
    out: dict[str, tuple[bytes, bytes]] = {}
    for name, entry in entries.items():
        private = entry.get("private") if isinstance(entry, dict) else None
        certificate = entry.get("certificate") if isinstance(entry, dict) else None
        if not (
            isinstance(private, bytes) and len(private) == 32 and isinstance(certificate, bytes)
        ):
            raise IdentityError(f"{file}: identity {name!r} is malformed")
        out[str(name)] = (private, certificate)
    return out


def load_identity(path: str | Path, name: str, trust: TrustStore) -> DeviceIdentity:
    """Read device ``name``'s identity and check its certificate matches its key.

    Parameters
    ----------
    path
        The identity file.
    name
        The device's name.
    trust
        The identity authorities (the device's own certificate must verify too).

    Returns
    -------
    DeviceIdentity
        The identity.

    Raises
    ------
    IdentityError
        When the file or entry is missing or malformed, or the certificate does not
        certify this key under this name.
    """
    entries = _read(str(Path(path).resolve()))
    if name not in entries:
        raise IdentityError(f"{path}: no identity for device {name!r}")
    private_raw, certificate = entries[name]
    private = Ed25519PrivateKey.from_private_bytes(private_raw)
    cert = verify_certificate(certificate, trust)
    if cert.device != name or cert.key != raw_public_key(private.public_key()):
        raise IdentityError(f"{path}: the certificate of {name!r} is for another device or key")
    return DeviceIdentity(name, private, certificate)
