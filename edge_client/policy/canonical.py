"""Canonical form of a policy: the bytes that are signed and hashed.

The canonical document holds every field (defaults filled in) with sets sorted and enums
as their string values; its bytes are compact JSON with sorted keys, ASCII only. Two
TOML files that differ only in comments, order or spelled-out defaults have the same
canonical bytes, so the device and the server agree on :func:`policy_hash`.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from typing import Any

from edge_client.digest import sha256
from edge_client.policy.fields import FIELDS
from edge_client.policy.model import Policy

__all__ = ["canonical_bytes", "field_value", "jsonable", "policy_document", "policy_hash"]


def field_value(policy: Policy, path: str) -> object:
    """Return the parsed value of dotted field ``path`` in ``policy``.

    Parameters
    ----------
    policy
        A parsed policy.
    path
        Dotted field path, e.g. ``"federated.min_cohort"``.

    Returns
    -------
    object
        The value (enums, frozensets, numbers, strings).
    """
    value: object = policy
    for part in path.split("."):
        value = getattr(value, part)
    return value


def jsonable(value: object) -> object:
    """Return ``value`` as a JSON-ready value: enums to strings, sets to sorted lists.

    Parameters
    ----------
    value
        A parsed field value.

    Returns
    -------
    object
        Its canonical JSON form.
    """
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, frozenset):
        return sorted(jsonable(item) for item in value)  # type: ignore[type-var]  # str items
    return value


def policy_document(policy: Policy) -> dict[str, Any]:
    """Return the canonical nested document of ``policy`` (every field, defaults filled).

    Parameters
    ----------
    policy
        A parsed policy.

    Returns
    -------
    dict[str, Any]
        Nested tables as in the TOML source.
    """
    document: dict[str, Any] = {}
    for spec in FIELDS:
        *tables, key = spec.path.split(".")
        node = document
        for table in tables:
            node = node.setdefault(table, {})
        node[key] = jsonable(field_value(policy, spec.path))
    return document


def canonical_bytes(policy: Policy | Mapping[str, Any]) -> bytes:
    """Return the canonical bytes of a policy or of its canonical document.

    Parameters
    ----------
    policy
        A parsed policy, or a document from :func:`policy_document`.

    Returns
    -------
    bytes
        Compact, key-sorted ASCII JSON.
    """
    document = policy_document(policy) if isinstance(policy, Policy) else policy
    text = json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )
    return text.encode("ascii")


def policy_hash(policy: Policy) -> str:
    """Return the SHA-256 hex digest of ``policy``'s canonical bytes.

    Parameters
    ----------
    policy
        A parsed policy.

    Returns
    -------
    str
        64 lowercase hex characters; rounds carry it so clients can check the policy.
    """
    return sha256(canonical_bytes(policy)).hexdigest()
