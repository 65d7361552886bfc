"""Encoding of a device's policy, consent and controls sections, and the JSON export form.

Every decoder checks what it reads and raises
:class:`~edge_client.store.codec.SectionFormatError` naming the section and field, so a
device can drop one damaged section and keep the rest.
"""

from __future__ import annotations

import base64
import copy
import math
from collections.abc import Iterable
from typing import Any

from edge_client.errors import EdgeProfilerError
from edge_client.policy.canonical import policy_document, policy_hash
from edge_client.policy.loader import lint_document
from edge_client.policy.model import Policy, Purpose
from edge_client.policy.signing import SignedBundle
from edge_client.store.codec import SectionFormatError

__all__ = [
    "decode_consent",
    "decode_controls",
    "decode_policy",
    "encode_consent",
    "encode_controls",
    "encode_policy",
    "to_json_document",
]


def encode_policy(policy: Policy, bundle: SignedBundle | None) -> dict[str, Any]:
    """Return the ``policy`` section: the canonical document, its hash and the bundle bytes.

    Parameters
    ----------
    policy : Policy
        The policy in force.
    bundle : SignedBundle or None
        The signed bundle it came in, when the app has one.

    Returns
    -------
    dict[str, Any]
        ``{"hash": str, "document": {...}, "bundle": bytes or None}``.
    """
    return {
        "hash": policy_hash(policy),
        "document": policy_document(policy),
        "bundle": bundle.to_bytes() if bundle is not None else None,
    }


def decode_policy(section: object) -> tuple[Policy, SignedBundle | None]:
    """Read a ``policy`` section back.

    Parameters
    ----------
    section : object
        What :func:`encode_policy` wrote.

    Returns
    -------
    tuple of (Policy, SignedBundle or None)
        The validated policy and its bundle.

    Raises
    ------
    SectionFormatError
        When the section is malformed, the document is not a valid policy, its hash does
        not match, or the bundle is unreadable or holds another policy.
    """
    if not isinstance(section, dict) or not isinstance(section.get("document"), dict):
        raise SectionFormatError("section 'policy': field 'document' is missing")
    result = lint_document(section["document"], source="store section 'policy'", epsilon=False)
    if result.policy is None:
        raise SectionFormatError("section 'policy': field 'document' is not a valid policy")
    policy = result.policy
    if section.get("hash") != policy_hash(policy):
        raise SectionFormatError("section 'policy': field 'hash' does not match the document")
    raw = section.get("bundle")
    if raw is None:
        return policy, None
    if not isinstance(raw, bytes):
        raise SectionFormatError("section 'policy': field 'bundle' must be bytes")
    try:
        bundle = SignedBundle.from_bytes(raw, source="store section 'policy'")
    except EdgeProfilerError:
        raise SectionFormatError("section 'policy': field 'bundle' is not a bundle") from None
    if bundle.policy_sha256 != policy_hash(policy):
        raise SectionFormatError("section 'policy': field 'bundle' holds another policy")
    return policy, bundle


def encode_consent(granted: Iterable[Purpose]) -> dict[str, Any]:
    """Return the ``consent`` section: the granted purposes, sorted."""
    return {"granted": sorted(p.value for p in granted)}


def decode_consent(section: object) -> frozenset[Purpose]:
    """Read the granted purposes back.

    Raises
    ------
    SectionFormatError
        When the section is malformed or names an unknown purpose.
    """
    granted = section.get("granted") if isinstance(section, dict) else None
    if not isinstance(granted, list):
        raise SectionFormatError("section 'consent': field 'granted' must be a list")
    known = {p.value: p for p in Purpose}
    if not all(isinstance(g, str) and g in known for g in granted):
        raise SectionFormatError("section 'consent': field 'granted' names an unknown purpose")
    return frozenset(known[g] for g in granted)


def encode_controls(*, paused: bool, paused_at: float | None) -> dict[str, Any]:
    """Return the ``controls`` section: whether personalization is paused, and since when."""
    return {"paused": paused, "paused_at": paused_at}


def decode_controls(section: object) -> tuple[bool, float | None]:
    """Read the controls back as ``(paused, paused_at)``.

    Raises
    ------
    SectionFormatError
        When ``paused`` is not a bool or ``paused_at`` not a number or ``None``.
    """
    if not isinstance(section, dict) or not isinstance(section.get("paused"), bool):
        raise SectionFormatError("section 'controls': field 'paused' must be a bool")
    since = section.get("paused_at")
    if since is not None and (
        isinstance(since, bool) or not isinstance(since, int | float) or not math.isfinite(since)
    ):
        raise SectionFormatError("section 'controls': field 'paused_at' must be a number")
    return bool(section["paused"]), None if since is None else float(since)


def to_json_document(value: Any) -> Any:
    """Return a JSON-ready deep copy of stored data: ``bytes`` become ``{"base64": ...}``.

    Parameters
    ----------
    value : Any
        A store state or part of one.

    Returns
    -------
    Any
        The same structure with only JSON types (a non-finite float becomes ``None``).
    """
    if isinstance(value, bytes):
        return {"base64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {str(k): to_json_document(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json_document(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN or infinity; an export must never fail on one
    return copy.copy(value)
