r"""Signed policy bundles: canonical policy bytes, metadata and an Ed25519 signature.

A bundle is a UTF-8 JSON object::

    {"format": "edgeprof-policy-bundle/1",
     "header": {"key_id": ..., "name": ..., "version": ..., "issued_at": ...,
                "expires_at": ..., "policy_sha256": ...},
     "policy": "<canonical policy JSON>",
     "signature": "<base64 Ed25519 signature>"}

The signature covers ``b"edgeprof-policy-bundle/1\\n" + canonical(header) + b"\\n" +
policy``, where ``canonical`` is compact key-sorted ASCII JSON; times are UTC ISO 8601
with a ``Z`` suffix. :func:`verify_bundle` checks it against a trust store and raises a
distinct :class:`~edge_client.policy.errors.PolicyRefusedError` per refusal.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_client.decoding import DecodeError, Limits, loads_json, read_bounded
from edge_client.policy.canonical import canonical_bytes
from edge_client.policy.errors import (
    ExpiredPolicyError,
    PolicyError,
    TamperedPolicyError,
    UnknownKeyError,
    UnsignedPolicyError,
)
from edge_client.policy.keys import TrustStore, key_id
from edge_client.policy.loader import lint_document
from edge_client.policy.model import Policy
from edge_client.policy.problems import raise_for_errors

__all__ = [
    "BUNDLE_FORMAT",
    "BUNDLE_LIMITS",
    "CLOCK_SKEW",
    "MAX_BUNDLE_BYTES",
    "SignedBundle",
    "read_bundle_file",
    "sign_policy",
    "verify_bundle",
]

BUNDLE_FORMAT = "edgeprof-policy-bundle/1"
CLOCK_SKEW = timedelta(minutes=5)
MAX_BUNDLE_BYTES = 2 * 1024 * 1024
"""Largest policy bundle read (a policy's canonical JSON is bounded by its field ranges)."""
BUNDLE_LIMITS = Limits(max_bytes=MAX_BUNDLE_BYTES, max_depth=8)
"""Bounds of a bundle file and of the canonical policy JSON inside it."""
_MAX_HEADER_TEXT = 200
# Signed times are written with a four-digit year and parsed back with strptime.
_EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
_LATEST = datetime(9000, 1, 1, tzinfo=timezone.utc)
_HEADER_KEYS = ("expires_at", "issued_at", "key_id", "name", "policy_sha256", "version")


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: object, source: str, field: str) -> datetime:
    if not isinstance(text, str):
        raise TamperedPolicyError(f"{source}: header.{field}: not a timestamp")
    try:
        moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise TamperedPolicyError(f"{source}: header.{field}: not a UTC timestamp") from None
    return moment.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class SignedBundle:
    """A signed policy, as stored in a bundle file.

    Parameters
    ----------
    key_id
        Id of the signing key.
    name, version
        The policy's name and version, repeated in the signed header.
    issued_at, expires_at
        Validity window (UTC).
    policy_bytes
        Canonical policy bytes.
    signature
        Ed25519 signature over :meth:`signed_message`.
    """

    key_id: str
    name: str
    version: int
    issued_at: datetime
    expires_at: datetime
    policy_bytes: bytes
    signature: bytes

    @property
    def policy_sha256(self) -> str:
        """Return the SHA-256 of the policy bytes (the policy hash)."""
        return hashlib.sha256(self.policy_bytes).hexdigest()

    def header(self) -> dict[str, Any]:
        """Return the signed metadata.

        Returns
        -------
        dict[str, Any]
            Key id, name, version, times and policy hash.
        """
        return {
            "key_id": self.key_id,
            "name": self.name,
            "version": self.version,
            "issued_at": _iso(self.issued_at),
            "expires_at": _iso(self.expires_at),
            "policy_sha256": self.policy_sha256,
        }

    def signed_message(self) -> bytes:
        """Return the exact bytes the signature covers.

        Returns
        -------
        bytes
            Format tag, canonical header and policy bytes, newline separated.
        """
        header = json.dumps(
            self.header(), sort_keys=True, separators=(",", ":"), ensure_ascii=True
        ).encode("ascii")
        return BUNDLE_FORMAT.encode("ascii") + b"\n" + header + b"\n" + self.policy_bytes

    def to_bytes(self) -> bytes:
        """Return the bundle file's bytes.

        Returns
        -------
        bytes
            Indented UTF-8 JSON.
        """
        document = {
            "format": BUNDLE_FORMAT,
            "header": self.header(),
            "policy": self.policy_bytes.decode("ascii"),
            "signature": base64.b64encode(self.signature).decode("ascii"),
        }
        return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes, *, source: str = "<bundle>") -> SignedBundle:
        """Read a bundle file's bytes without verifying them.

        Parameters
        ----------
        data
            File contents.
        source
            Name used in messages.

        Returns
        -------
        SignedBundle
            The parsed bundle.

        Raises
        ------
        UnsignedPolicyError
            When the data is not a bundle (e.g. a bare TOML policy) or has no signature.
        TamperedPolicyError
            When a bundle field is malformed.
        """
        try:
            document = loads_json(data, source=source, limits=BUNDLE_LIMITS)
        except DecodeError as exc:
            raise UnsignedPolicyError(f"not a signed policy bundle: {exc}") from None
        if not isinstance(document, dict) or document.get("format") != BUNDLE_FORMAT:
            raise UnsignedPolicyError(f"{source}: not a signed policy bundle ({BUNDLE_FORMAT})")
        signature = document.get("signature")
        if not signature:
            raise UnsignedPolicyError(f"{source}: signature: missing")
        header, policy = document.get("header"), document.get("policy")
        if not isinstance(header, dict) or sorted(header) != list(_HEADER_KEYS):
            raise TamperedPolicyError(f"{source}: header: malformed")
        if not isinstance(policy, str) or not policy.isascii():
            raise TamperedPolicyError(f"{source}: policy: malformed")
        version = header["version"]
        if not isinstance(version, int) or isinstance(version, bool):
            raise TamperedPolicyError(f"{source}: header.version: not an integer")
        for field in ("key_id", "name"):
            value = header[field]
            if not isinstance(value, str) or not 0 < len(value) <= _MAX_HEADER_TEXT:
                raise TamperedPolicyError(f"{source}: header.{field}: malformed")
        try:
            raw_signature = base64.b64decode(str(signature), validate=True)
        except ValueError:  # binascii.Error, or text that is not even ASCII
            raise TamperedPolicyError(f"{source}: signature: not base64") from None
        return cls(
            key_id=str(header["key_id"]),
            name=str(header["name"]),
            version=version,
            issued_at=_parse_time(header["issued_at"], source, "issued_at"),
            expires_at=_parse_time(header["expires_at"], source, "expires_at"),
            policy_bytes=policy.encode("ascii"),
            signature=raw_signature,
        )

    def unverified_policy(self, *, source: str = "<bundle>") -> Policy:
        """Parse the embedded policy WITHOUT checking the signature (for review tools).

        Parameters
        ----------
        source
            Name used in messages.

        Returns
        -------
        Policy
            The embedded policy.

        Raises
        ------
        TamperedPolicyError
            When the embedded policy is not JSON.
        PolicyValidationError
            When it is not a valid policy.
        """
        try:
            document = loads_json(self.policy_bytes, source=source, limits=BUNDLE_LIMITS)
        except DecodeError as exc:
            raise TamperedPolicyError(f"{source}: policy: not JSON ({exc.problem})") from None
        if not isinstance(document, dict):
            raise TamperedPolicyError(f"{source}: policy: not a JSON object")
        result = lint_document(document, source=source, epsilon=False)
        raise_for_errors(result.problems)
        if result.policy is None:  # pragma: no cover - raise_for_errors raised already
            raise TamperedPolicyError(f"{source}: policy: unusable")
        return result.policy


def read_bundle_file(path: str | Path) -> bytes:
    """Read a bundle file's bytes, within :data:`MAX_BUNDLE_BYTES`.

    Parameters
    ----------
    path
        The bundle file.

    Returns
    -------
    bytes
        Its contents (not parsed, not verified).

    Raises
    ------
    PolicyError
        When the file is missing, not a regular file (a FIFO, a device) or too large.
    """
    try:
        return read_bounded(path, max_bytes=MAX_BUNDLE_BYTES)
    except DecodeError as exc:
        raise PolicyError(f"cannot read bundle: {exc}") from None


def sign_policy(
    policy: Policy, private_key: Ed25519PrivateKey, *, issued_at: datetime, expires_at: datetime
) -> SignedBundle:
    """Sign ``policy``'s canonical bytes.

    Parameters
    ----------
    policy
        A validated policy (lint it, epsilon included, before signing).
    private_key
        The signing key.
    issued_at, expires_at
        Validity window; timezone-aware, seconds precision is kept.

    Returns
    -------
    SignedBundle
        The bundle; write it with :meth:`SignedBundle.to_bytes`.

    Raises
    ------
    ExpiredPolicyError
        When the window is empty, or a time is outside 1970-01-01 to 9000-01-01 UTC.
    """
    try:
        start = issued_at.astimezone(timezone.utc).replace(microsecond=0)
        end = expires_at.astimezone(timezone.utc).replace(microsecond=0)
    except (OverflowError, ValueError):
        raise ExpiredPolicyError("issued_at and expires_at must be real UTC times") from None
    if end <= start:
        raise ExpiredPolicyError("expires_at must be later than issued_at")
    if not (start >= _EARLIEST and end <= _LATEST):
        raise ExpiredPolicyError(
            f"issued_at and expires_at must lie between {_iso(_EARLIEST)} and {_iso(_LATEST)}"
        )
    unsigned = SignedBundle(
        key_id=key_id(private_key.public_key()),
        name=policy.name,
        version=policy.version,
        issued_at=start,
        expires_at=end,
        policy_bytes=canonical_bytes(policy),
        signature=b"",
    )
    signature = private_key.sign(unsigned.signed_message())
    return SignedBundle(**{**unsigned.__dict__, "signature": signature})


def verify_bundle(
    bundle: SignedBundle, trust: TrustStore, *, now: datetime, source: str = "<bundle>"
) -> Policy:
    """Check a bundle's key, signature, content and validity window; return its policy.

    Parameters
    ----------
    bundle
        The bundle.
    trust
        Trusted public keys.
    now
        The current time (timezone-aware).
    source
        Name used in messages.

    Returns
    -------
    Policy
        The verified policy.

    Raises
    ------
    UnknownKeyError
        When the signing key is not trusted.
    TamperedPolicyError
        When the signature or the header does not match the content.
    ExpiredPolicyError
        When ``now`` is past ``expires_at`` or before ``issued_at`` (beyond clock skew).
    PolicyValidationError
        When the signed content is not a valid policy.
    """
    public_key = trust.get(bundle.key_id)
    if public_key is None:
        raise UnknownKeyError(f"{source}: signed by key {bundle.key_id}, which is not trusted")
    try:
        public_key.verify(bundle.signature, bundle.signed_message())
    except InvalidSignature:
        raise TamperedPolicyError(f"{source}: signature does not match the content") from None
    policy = bundle.unverified_policy(source=source)
    if policy.version != bundle.version or policy.name != bundle.name:
        raise TamperedPolicyError(f"{source}: header does not match the policy it signs")
    if canonical_bytes(policy) != bundle.policy_bytes:
        raise TamperedPolicyError(f"{source}: policy bytes are not canonical")
    if now >= bundle.expires_at:
        raise ExpiredPolicyError(f"{source}: expired at {_iso(bundle.expires_at)}")
    if now + CLOCK_SKEW < bundle.issued_at:
        raise ExpiredPolicyError(f"{source}: not valid before {_iso(bundle.issued_at)}")
    return policy
