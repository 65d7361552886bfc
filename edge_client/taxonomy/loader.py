"""Loading and validating taxonomy files (the packaged one is cached per process).

Every taxonomy file passes the bounded decoder (size, depth, numbers, strings, repeated
keys) and then the structural checks (fields, ids, parents, tiers, labels). The packaged
file is the one exception, and only when its bytes are exactly those recorded in
:data:`PACKAGED_SHA256` (bytes both steps accepted, which a test checks): then Python's
``json`` decodes it and the nodes are built directly (the taxonomy still checks its graph).
Any other bytes, packaged or supplied by a user, take the full bounded decoding and every
structural check.
"""

from __future__ import annotations

import functools
import json
import pathlib
from collections.abc import Mapping
from typing import Any

from edge_client.decoding import DecodeError, Limits, decode_utf8, loads_json, read_bounded
from edge_client.digest import sha256
from edge_client.errors import TaxonomyError
from edge_client.packaged import asset_path
from edge_client.taxonomy.model import (
    InterestNode,
    NodeSource,
    SpecialCategory,
    Taxonomy,
    _find_cycle,
)

__all__ = ["PACKAGED_SHA256", "load_taxonomy"]

PACKAGED_SHA256 = "2e293ef6efd55b75ae4215f159a0556150e17d4a7285b6d4a37fb2cc338a3644"
"""SHA-256 of the packaged ``taxonomy.json`` that passed the bounded decoder.

Update it whenever ``edge_client/assets/taxonomy.json`` is rebuilt
(``tests/edge_client/test_taxonomy.py`` fails until it matches); a stale value only
makes loading slower, never skips a check on bytes it does not name."""

_PACKAGED_NAME = "taxonomy.json"
_MAX_BYTES = 16 * 1024 * 1024
_LIMITS = Limits(max_bytes=_MAX_BYTES, max_depth=16)


def load_taxonomy(path: pathlib.Path | None = None) -> Taxonomy:
    """Load and validate a taxonomy file.

    Parameters
    ----------
    path : pathlib.Path or None
        A taxonomy JSON file; ``None`` loads the packaged
        ``edge_client/assets/taxonomy.json`` (cached after the first load).

    Returns
    -------
    Taxonomy
        The validated taxonomy.

    Raises
    ------
    TaxonomyError
        If the file cannot be read or parsed, or a field is missing, mistyped or
        inconsistent; the message names the file and the field (or line for bad JSON).
    """
    if path is None:
        return _load_packaged()
    try:  # bounded: a FIFO, a device or an oversized file is refused unread
        text = decode_utf8(read_bounded(path, max_bytes=_MAX_BYTES), source=str(path))
    except DecodeError as exc:
        raise TaxonomyError(f"cannot be read: {exc}") from None
    return _parse(text, source=str(path))


@functools.lru_cache(maxsize=1)
def _load_packaged() -> Taxonomy:
    """Load the packaged taxonomy once per process."""
    resource = asset_path(_PACKAGED_NAME)
    source = f"edge_client/assets/{_PACKAGED_NAME}"
    try:
        data = resource.read_bytes()
        if sha256(data).hexdigest() == PACKAGED_SHA256:
            # The exact bytes the bounded decoder and the structural checks accepted.
            return _build_recorded(json.loads(data))
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TaxonomyError(f"{source}: cannot be read ({type(exc).__name__})") from None
    return _parse(text, source=source)


def _parse(text: str, *, source: str) -> Taxonomy:
    """Validate the JSON text of a taxonomy file and build the :class:`Taxonomy`."""
    try:
        doc = loads_json(text, source=source, limits=_LIMITS)
    except DecodeError as exc:
        where = f"line {exc.line}: " if exc.line is not None else ""
        raise TaxonomyError(f"{source}: {where}{exc.problem}") from None
    return _build(doc, source=source)


def _build_recorded(doc: dict[str, Any]) -> Taxonomy:
    """Build the taxonomy of the recorded packaged bytes (:data:`PACKAGED_SHA256`).

    Those bytes passed every check of :func:`_build` when their hash was recorded (a test
    proves both give the same taxonomy), so the nodes are built without re-checking each
    field; :class:`Taxonomy` still checks the graph.
    """
    specials = {item.value: item for item in SpecialCategory}
    origins = {item.value: item for item in NodeSource}
    nodes = {}
    for item in doc["nodes"]:
        special = item.get("special")
        nodes[item["id"]] = InterestNode(
            id=item["id"],
            label=item["label"],
            parent=item.get("parent"),
            tier=item["tier"],
            special=None if special is None else specials[special],
            special_reason=item.get("special_reason"),
            source=origins[item.get("source", NodeSource.IAB.value)],
        )
    labels = tuple(doc["labels"])
    mapping = doc["label_to_node"]
    return Taxonomy(
        name=doc["name"],
        version=doc["version"],
        nodes=nodes,
        labels=labels,
        label_to_node={label: mapping[label] for label in labels},
    )


def _build(doc: object, *, source: str) -> Taxonomy:
    """Check the structure of a decoded taxonomy document and build the :class:`Taxonomy`."""
    if not isinstance(doc, dict):
        raise TaxonomyError(f"{source}: top level: expected a JSON object")
    name = _str_field(doc, "name", source=source, where="name")
    version = _str_field(doc, "version", source=source, where="version")
    declared = _declared_categories(doc, source=source)
    nodes = _parse_nodes(doc, declared, source=source)
    labels = _parse_labels(doc, source=source)
    label_to_node = _parse_mapping(doc, labels, nodes, source=source)
    try:
        return Taxonomy(
            name=name, version=version, nodes=nodes, labels=labels, label_to_node=label_to_node
        )
    except TaxonomyError as exc:
        raise TaxonomyError(f"{source}: {exc}") from None


def _str_field(obj: Mapping[str, Any], key: str, *, source: str, where: str) -> str:
    """Return ``obj[key]`` as a non-empty string or raise naming ``where``."""
    if key not in obj:
        raise TaxonomyError(f"{source}: {where}: missing")
    value = obj[key]
    if not isinstance(value, str) or not value.strip():
        raise TaxonomyError(f"{source}: {where}: expected a non-empty string")
    return value


def _declared_categories(doc: Mapping[str, Any], *, source: str) -> frozenset[SpecialCategory]:
    """Validate ``special_categories`` against :class:`SpecialCategory`."""
    raw = doc.get("special_categories")
    if not isinstance(raw, list):
        raise TaxonomyError(f"{source}: special_categories: expected a list of strings")
    declared: set[SpecialCategory] = set()
    for index, value in enumerate(raw):
        declared.add(_category(value, source=source, where=f"special_categories[{index}]"))
    return frozenset(declared)


def _category(value: object, *, source: str, where: str) -> SpecialCategory:
    """Convert ``value`` to a :class:`SpecialCategory` or raise naming ``where``."""
    if isinstance(value, str):
        try:
            return SpecialCategory(value)
        except ValueError:
            pass
    allowed = ", ".join(item.value for item in SpecialCategory)
    raise TaxonomyError(
        f"{source}: {where}: unknown special category {value!r} (allowed: {allowed})"
    )


def _parse_nodes(
    doc: Mapping[str, Any], declared: frozenset[SpecialCategory], *, source: str
) -> dict[str, InterestNode]:
    """Validate the ``nodes`` list: fields, unique ids, known parents, tiers and marks."""
    raw = doc.get("nodes")
    if not isinstance(raw, list) or not raw:
        raise TaxonomyError(f"{source}: nodes: expected a non-empty list")
    nodes: dict[str, InterestNode] = {}
    index_of: dict[str, int] = {}
    for index, item in enumerate(raw):
        node = _parse_node(item, declared, source=source, where=f"nodes[{index}]")
        if node.id in nodes:
            raise TaxonomyError(
                f"{source}: nodes[{index}].id: duplicate id '{node.id}' "
                f"(first at nodes[{index_of[node.id]}])"
            )
        nodes[node.id] = node
        index_of[node.id] = index
    _check_tree(nodes, index_of, source=source)
    return nodes


def _parse_node(
    item: object, declared: frozenset[SpecialCategory], *, source: str, where: str
) -> InterestNode:
    """Validate one entry of ``nodes`` on its own (no cross-node checks)."""
    if not isinstance(item, dict):
        raise TaxonomyError(f"{source}: {where}: expected an object")
    node_id = _str_field(item, "id", source=source, where=f"{where}.id")
    label = _str_field(item, "label", source=source, where=f"{where}.label")
    parent = item.get("parent")
    if parent is not None and (not isinstance(parent, str) or not parent):
        raise TaxonomyError(f"{source}: {where}.parent: expected null or a non-empty string")
    tier = item.get("tier")
    if not isinstance(tier, int) or isinstance(tier, bool) or tier < 1:
        raise TaxonomyError(f"{source}: {where}.tier: expected an integer >= 1")
    special: SpecialCategory | None = None
    if item.get("special") is not None:
        special = _category(item["special"], source=source, where=f"{where}.special")
        if special not in declared:
            raise TaxonomyError(
                f"{source}: {where}.special: '{special.value}' is not in special_categories"
            )
    reason = item.get("special_reason")
    if special is not None and (not isinstance(reason, str) or not reason.strip()):
        raise TaxonomyError(f"{source}: {where}.special_reason: required when special is set")
    if special is None and reason is not None:
        raise TaxonomyError(f"{source}: {where}.special_reason: must be null when special is")
    origin = item.get("source", NodeSource.IAB.value)
    try:
        node_source = NodeSource(origin)
    except ValueError:
        allowed = ", ".join(repr(s.value) for s in NodeSource)
        raise TaxonomyError(
            f"{source}: {where}.source: unknown source {origin!r} (allowed: {allowed})"
        ) from None
    return InterestNode(
        id=node_id,
        label=label,
        parent=parent,
        tier=tier,
        special=special,
        special_reason=reason,
        source=node_source,
    )


def _check_tree(
    nodes: Mapping[str, InterestNode], index_of: Mapping[str, int], *, source: str
) -> None:
    """Check that parents exist, form no cycle, and that each tier is its parent's plus one."""
    for node_id, node in nodes.items():
        where = f"nodes[{index_of[node_id]}]"
        if node.parent is None and node.tier != 1:
            raise TaxonomyError(f"{source}: {where}.tier: a node without parent has tier 1")
        if node.parent is not None and node.parent not in nodes:
            raise TaxonomyError(f"{source}: {where}.parent: unknown id '{node.parent}'")
    on_cycle = _find_cycle(nodes)
    if on_cycle is not None:
        raise TaxonomyError(
            f"{source}: nodes[{index_of[on_cycle]}].parent: cycle through id '{on_cycle}'"
        )
    for node_id, node in nodes.items():
        if node.parent is not None and node.tier != nodes[node.parent].tier + 1:
            raise TaxonomyError(
                f"{source}: nodes[{index_of[node_id]}].tier: expected "
                f"{nodes[node.parent].tier + 1} (parent '{node.parent}' has tier "
                f"{nodes[node.parent].tier})"
            )


def _parse_labels(doc: Mapping[str, Any], *, source: str) -> tuple[str, ...]:
    """Validate ``labels``: a non-empty list of distinct non-empty strings."""
    raw = doc.get("labels")
    if not isinstance(raw, list) or not raw:
        raise TaxonomyError(f"{source}: labels: expected a non-empty list of strings")
    seen: set[str] = set()
    for index, label in enumerate(raw):
        if not isinstance(label, str) or not label:
            raise TaxonomyError(f"{source}: labels[{index}]: expected a non-empty string")
        if label in seen:
            raise TaxonomyError(f"{source}: labels[{index}]: duplicate label '{label}'")
        seen.add(label)
    return tuple(raw)


def _parse_mapping(
    doc: Mapping[str, Any],
    labels: tuple[str, ...],
    nodes: Mapping[str, InterestNode],
    *,
    source: str,
) -> dict[str, str]:
    """Validate ``label_to_node``: exactly the labels, each onto a known node."""
    raw = doc.get("label_to_node")
    if not isinstance(raw, dict):
        raise TaxonomyError(f"{source}: label_to_node: expected an object")
    for label in labels:
        if label not in raw:
            raise TaxonomyError(f"{source}: label_to_node: label '{label}' is not mapped")
    for label, node_id in raw.items():
        if label not in labels:
            raise TaxonomyError(f"{source}: label_to_node['{label}']: not one of labels")
        if not isinstance(node_id, str) or node_id not in nodes:
            raise TaxonomyError(f"{source}: label_to_node['{label}']: unknown id {node_id!r}")
    return {label: raw[label] for label in labels}
