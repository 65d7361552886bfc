"""The interest taxonomy: IAB Content Taxonomy 3.1 nodes with GDPR Art. 9 marks.

The interest model predicts one of a fixed set of labels (the 20 Newsgroups groups); each
label maps onto a node of a subset of the IAB Tech Lab Content Taxonomy 3.1 (CC BY 3.0).
Nodes whose subject is a GDPR Art. 9 special category carry a :class:`SpecialCategory`
mark curated by this project. A mark covers the whole subtree: like Chrome Topics'
blocklist, a descendant of a marked node is special even when it carries no mark itself.

The packaged file is ``edge_client/assets/taxonomy.json``; its layout and the list of marks
with their reasons are documented in ``edge_client/assets/TAXONOMY_NOTICE.md``.
"""

from __future__ import annotations

import functools
import json
import pathlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from importlib import resources
from types import MappingProxyType
from typing import Any

from edge_client.errors import TaxonomyError

__all__ = [
    "InterestNode",
    "SpecialCategory",
    "Taxonomy",
    "load_taxonomy",
]

_PACKAGED_NAME = "taxonomy.json"


class SpecialCategory(str, Enum):
    """A GDPR Art. 9(1) special category of personal data."""

    RACIAL_ETHNIC_ORIGIN = "racial_ethnic_origin"
    POLITICAL_OPINIONS = "political_opinions"
    RELIGIOUS_PHILOSOPHICAL_BELIEFS = "religious_philosophical_beliefs"
    TRADE_UNION_MEMBERSHIP = "trade_union_membership"
    GENETIC = "genetic"
    BIOMETRIC = "biometric"
    HEALTH = "health"
    SEX_LIFE_ORIENTATION = "sex_life_orientation"


@dataclass(frozen=True)
class InterestNode:
    """One taxonomy node.

    Parameters
    ----------
    id : str
        The IAB unique ID (numeric or alphanumeric, kept as a string).
    label : str
        The IAB name, e.g. ``"Baseball"``.
    parent : str or None
        The parent's id; ``None`` for a tier-1 node.
    tier : int
        Depth in the tree, 1 for the roots.
    special : SpecialCategory or None
        This node's own Art. 9 mark; inherited marks are resolved by
        :meth:`Taxonomy.special_category`.
    special_reason : str or None
        One line saying why the node is marked; set exactly when ``special`` is.
    """

    id: str
    label: str
    parent: str | None
    tier: int
    special: SpecialCategory | None
    special_reason: str | None = None


@dataclass(frozen=True)
class Taxonomy:
    """A validated interest taxonomy and the model labels mapped onto it.

    Parameters
    ----------
    name : str
        Human-readable name of the taxonomy.
    version : str
        Version of the source taxonomy, e.g. ``"3.1"``.
    nodes : Mapping[str, InterestNode]
        Every node by id.
    labels : tuple[str, ...]
        The interest model's output labels, in output order.
    label_to_node : Mapping[str, str]
        The node id for each label.

    Raises
    ------
    TaxonomyError
        If a parent or a mapped node is unknown, a label is unmapped, or the parents form
        a cycle.
    """

    name: str
    version: str
    nodes: Mapping[str, InterestNode]
    labels: tuple[str, ...]
    label_to_node: Mapping[str, str]
    _children: Mapping[str, tuple[str, ...]] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        """Freeze the mappings, check the graph and index the children."""
        object.__setattr__(self, "nodes", MappingProxyType(dict(self.nodes)))
        object.__setattr__(self, "labels", tuple(self.labels))
        object.__setattr__(self, "label_to_node", MappingProxyType(dict(self.label_to_node)))
        children: dict[str, list[str]] = {node_id: [] for node_id in self.nodes}
        for node_id, node in self.nodes.items():
            if node.id != node_id:
                raise TaxonomyError(f"taxonomy: node '{node_id}' is stored under id '{node.id}'")
            if node.parent is not None:
                if node.parent not in self.nodes:
                    raise TaxonomyError(
                        f"taxonomy: node '{node_id}': parent: unknown id '{node.parent}'"
                    )
                children[node.parent].append(node_id)
        on_cycle = _find_cycle(self.nodes)
        if on_cycle is not None:
            raise TaxonomyError(f"taxonomy: node '{on_cycle}': parent: cycle through this node")
        for label in self.labels:
            if label not in self.label_to_node:
                raise TaxonomyError(f"taxonomy: label_to_node: label '{label}' is not mapped")
            if self.label_to_node[label] not in self.nodes:
                raise TaxonomyError(
                    f"taxonomy: label_to_node['{label}']: unknown id '{self.label_to_node[label]}'"
                )
        object.__setattr__(
            self,
            "_children",
            MappingProxyType({key: tuple(value) for key, value in children.items()}),
        )

    def node(self, node_id: str) -> InterestNode:
        """Return the node with id ``node_id``.

        Parameters
        ----------
        node_id : str
            An IAB unique ID.

        Returns
        -------
        InterestNode
            The node.

        Raises
        ------
        TaxonomyError
            If no node has that id.
        """
        try:
            return self.nodes[node_id]
        except KeyError:
            raise TaxonomyError(
                f"taxonomy {self.name} {self.version}: unknown node id '{node_id}'"
            ) from None

    def ancestors(self, node_id: str) -> tuple[str, ...]:
        """Return the ids of the node's ancestors, nearest first (the node excluded).

        Parameters
        ----------
        node_id : str
            An IAB unique ID.

        Returns
        -------
        tuple[str, ...]
            Parent, grandparent, ..., tier-1 root; empty for a root.
        """
        chain: list[str] = []
        parent = self.node(node_id).parent
        while parent is not None:
            chain.append(parent)
            parent = self.nodes[parent].parent
        return tuple(chain)

    def descendants(self, node_id: str) -> frozenset[str]:
        """Return the ids of every node below ``node_id`` (the node excluded).

        Parameters
        ----------
        node_id : str
            An IAB unique ID.

        Returns
        -------
        frozenset[str]
            Children, grandchildren and so on.
        """
        self.node(node_id)
        found: set[str] = set()
        stack = list(self._children[node_id])
        while stack:
            current = stack.pop()
            found.add(current)
            stack.extend(self._children[current])
        return frozenset(found)

    def path(self, node_id: str) -> str:
        """Return the node's labels from its root down, e.g. ``"Sports > Baseball"``.

        Parameters
        ----------
        node_id : str
            An IAB unique ID.

        Returns
        -------
        str
            Labels joined by ``" > "``.
        """
        chain = (node_id, *self.ancestors(node_id))
        return " > ".join(self.nodes[item].label for item in reversed(chain))

    def special_category(self, node_id: str) -> SpecialCategory | None:
        """Return the node's own mark or, failing that, its nearest marked ancestor's.

        Parameters
        ----------
        node_id : str
            An IAB unique ID.

        Returns
        -------
        SpecialCategory or None
            The Art. 9 category that makes the node special, or ``None``.
        """
        for item in (node_id, *self.ancestors(node_id)):
            mark = self.nodes[item].special
            if mark is not None:
                return mark
        return None

    def is_special(self, node_id: str) -> bool:
        """Return whether the node or one of its ancestors is marked special.

        Parameters
        ----------
        node_id : str
            An IAB unique ID.

        Returns
        -------
        bool
            ``True`` if the node must never be inferred or targeted.
        """
        return self.special_category(node_id) is not None

    def label_nodes(self) -> tuple[str, ...]:
        """Return the node id for each model label, in label order.

        Returns
        -------
        tuple[str, ...]
            ``label_to_node[label]`` for each entry of :attr:`labels`.
        """
        return tuple(self.label_to_node[label] for label in self.labels)


def _find_cycle(nodes: Mapping[str, InterestNode]) -> str | None:
    """Return the id of a node on a parent cycle, or ``None`` if the parents form a forest.

    Every parent must already be a key of ``nodes``.
    """
    done: set[str] = set()
    for start in nodes:
        seen: list[str] = []
        current: str | None = start
        while current is not None and current not in done:
            if current in seen:
                return current
            seen.append(current)
            current = nodes[current].parent
        done.update(seen)
    return None


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
    try:
        text = pathlib.Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TaxonomyError(f"{path}: cannot be read ({type(exc).__name__})") from None
    return _parse(text, source=str(path))


@functools.lru_cache(maxsize=1)
def _load_packaged() -> Taxonomy:
    """Load the packaged taxonomy once per process."""
    resource = resources.files("edge_client") / "assets" / _PACKAGED_NAME
    try:
        text = resource.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TaxonomyError(
            f"edge_client/assets/{_PACKAGED_NAME}: cannot be read ({type(exc).__name__})"
        ) from None
    return _parse(text, source=f"edge_client/assets/{_PACKAGED_NAME}")


def _parse(text: str, *, source: str) -> Taxonomy:
    """Validate the JSON text of a taxonomy file and build the :class:`Taxonomy`."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TaxonomyError(
            f"{source}: line {exc.lineno} column {exc.colno}: invalid JSON ({exc.msg})"
        ) from None
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
    return InterestNode(
        id=node_id,
        label=label,
        parent=parent,
        tier=tier,
        special=special,
        special_reason=reason,
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
