"""Taxonomy model: IAB Content Taxonomy 3.1 nodes with GDPR Art. 9 marks.

The interest model predicts one of a fixed set of labels (the 20 Newsgroups groups); each
label maps onto a node of a subset of the IAB Tech Lab Content Taxonomy 3.1 (CC BY 3.0).
Nodes whose subject is a GDPR Art. 9 special category carry a :class:`SpecialCategory`
mark curated by this project. A mark covers the whole subtree: like Chrome Topics'
blocklist, a descendant of a marked node is special even when it carries no mark itself.

The packaged file is ``edge_client/assets/taxonomy.json``; its layout and the list of marks
with their reasons are documented in ``edge_client/assets/TAXONOMY_NOTICE.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType

from edge_client.errors import TaxonomyError

__all__ = ["InterestNode", "NodeSource", "SpecialCategory", "Taxonomy"]


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


class NodeSource(str, Enum):
    """Where a taxonomy node comes from."""

    IAB = "iab-3.1"
    """IAB Tech Lab Content Taxonomy 3.1 (id, parent and name as published)."""
    PROJECT = "edge-profiler"
    """Added by this project where IAB 3.1 has no node (ids start with ``EP-``)."""


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
    source : NodeSource
        Whether the node is IAB's or one this project added where IAB has none.
    """

    id: str
    label: str
    parent: str | None
    tier: int
    special: SpecialCategory | None
    special_reason: str | None = None
    source: NodeSource = NodeSource.IAB


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
