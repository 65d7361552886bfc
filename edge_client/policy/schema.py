"""The published JSON Schema of policy documents (``policies/schema.json``).

Generated from :data:`~edge_client.policy.fields.FIELDS` so editors validate the same
keys, types, ranges and enums as :mod:`edge_client.policy.loader`. Contradictions and the
epsilon budget are beyond JSON Schema: run ``edgeprof policy lint`` for those.
"""

from __future__ import annotations

import json
from typing import Any

from edge_client.policy.fields import FIELDS, FieldKind, FieldSpec

__all__ = ["SCHEMA_ID", "json_schema", "schema_text"]

SCHEMA_ID = "https://edge-profiler.invalid/policies/schema.json"

_TYPES = {
    FieldKind.BOOL: "boolean",
    FieldKind.INT: "integer",
    FieldKind.FLOAT: "number",
    FieldKind.STR: "string",
    FieldKind.ENUM: "string",
}


def _property(spec: FieldSpec) -> dict[str, Any]:
    default = list(spec.default) if isinstance(spec.default, tuple) else spec.default
    prop: dict[str, Any] = {"description": f"{spec.description} Enforced by {spec.enforced_by}."}
    if spec.kind in (FieldKind.ENUM_SET, FieldKind.STR_SET):
        items: dict[str, Any] = {"type": "string", "minLength": 1}
        if spec.choices is not None:
            items = {"enum": [m.value for m in spec.choices]}
        elif spec.max_length is not None:
            items["maxLength"] = spec.max_length
        prop.update(type="array", items=items, uniqueItems=True)
        if spec.max_items is not None:
            prop["maxItems"] = spec.max_items
    else:
        prop["type"] = _TYPES[spec.kind]
        if spec.choices is not None:
            prop["enum"] = [m.value for m in spec.choices]
        if spec.max_length is not None:
            prop["maxLength"] = spec.max_length
    if spec.minimum is not None:
        prop["exclusiveMinimum" if spec.exclusive_minimum else "minimum"] = spec.minimum
    if spec.maximum is not None:
        prop["maximum"] = spec.maximum
    if not spec.required:
        prop["default"] = default
    return prop


def json_schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of a policy document.

    Returns
    -------
    dict[str, Any]
        The schema; unknown keys are rejected at every level.
    """
    root: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "edge-profiler privacy policy",
        "description": "Personalization boundaries enforced on device and server. "
        "Generated from edge_client.policy.fields; see docs/policies.md.",
        "type": "object",
        "additionalProperties": False,
        "required": ["policy"],
        "properties": {},
    }
    for spec in FIELDS:
        *tables, key = spec.path.split(".")
        node = root
        for table in tables:
            node = node["properties"].setdefault(
                table, {"type": "object", "additionalProperties": False, "properties": {}}
            )
        node["properties"][key] = _property(spec)
        if spec.required:
            node.setdefault("required", []).append(key)
    return root


def schema_text() -> str:
    """Return :func:`json_schema` as indented JSON text, as published.

    Returns
    -------
    str
        The schema with a trailing newline.
    """
    return json.dumps(json_schema(), indent=2) + "\n"
