"""Tests for the interest taxonomy and its GDPR Art. 9 marks."""

from __future__ import annotations

import copy
import json
import pathlib
from collections.abc import Callable
from typing import Any

import pytest

from edge_client.errors import EdgeProfilerError, TaxonomyError
from edge_client.taxonomy import InterestNode, SpecialCategory, Taxonomy, load_taxonomy

NEWSGROUPS = (
    "alt.atheism",
    "comp.graphics",
    "comp.os.ms-windows.misc",
    "comp.sys.ibm.pc.hardware",
    "comp.sys.mac.hardware",
    "comp.windows.x",
    "misc.forsale",
    "rec.autos",
    "rec.motorcycles",
    "rec.sport.baseball",
    "rec.sport.hockey",
    "sci.crypt",
    "sci.electronics",
    "sci.med",
    "sci.space",
    "soc.religion.christian",
    "talk.politics.guns",
    "talk.politics.mideast",
    "talk.politics.misc",
    "talk.religion.misc",
)
SPECIAL_GROUPS = {
    "alt.atheism": SpecialCategory.RELIGIOUS_PHILOSOPHICAL_BELIEFS,
    "soc.religion.christian": SpecialCategory.RELIGIOUS_PHILOSOPHICAL_BELIEFS,
    "talk.religion.misc": SpecialCategory.RELIGIOUS_PHILOSOPHICAL_BELIEFS,
    "talk.politics.guns": SpecialCategory.POLITICAL_OPINIONS,
    "talk.politics.mideast": SpecialCategory.POLITICAL_OPINIONS,
    "talk.politics.misc": SpecialCategory.POLITICAL_OPINIONS,
    "sci.med": SpecialCategory.HEALTH,
}
PACKAGED = pathlib.Path(__file__).parents[2] / "edge_client" / "assets" / "taxonomy.json"


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    """Return the packaged taxonomy."""
    return load_taxonomy()


def _raw() -> dict[str, Any]:
    """Return a fresh copy of the packaged file's JSON document."""
    doc: dict[str, Any] = json.loads(PACKAGED.read_text(encoding="utf-8"))
    return copy.deepcopy(doc)


def _node_index(doc: dict[str, Any], node_id: str) -> int:
    """Return the position of ``node_id`` in ``doc["nodes"]``."""
    return next(i for i, node in enumerate(doc["nodes"]) if node["id"] == node_id)


def test_packaged_file_loads_and_is_cached(taxonomy: Taxonomy) -> None:
    """The packaged taxonomy loads, names IAB 3.1 and the default load is cached."""
    assert taxonomy.version == "3.1"
    assert "IAB" in taxonomy.name
    assert load_taxonomy() is load_taxonomy()
    roots = [node for node in taxonomy.nodes.values() if node.parent is None]
    assert len(roots) == 37  # Content Taxonomy 3.1 has 37 tier-1 nodes
    assert all(node.tier == 1 for node in roots)


def test_explicit_path_loads_same_content(taxonomy: Taxonomy) -> None:
    """Loading the file by path gives a taxonomy equal to the packaged one."""
    assert load_taxonomy(PACKAGED) == taxonomy


def test_twenty_labels_in_model_order(taxonomy: Taxonomy) -> None:
    """The labels are the 20 newsgroups in the interest model's output order."""
    assert taxonomy.labels == NEWSGROUPS
    assert len(taxonomy.label_nodes()) == 20
    assert taxonomy.label_nodes() == tuple(taxonomy.label_to_node[g] for g in NEWSGROUPS)


def test_sensitive_groups_map_to_special_nodes(taxonomy: Taxonomy) -> None:
    """Politics, religion and medicine groups land on nodes of the right Art. 9 category."""
    for group, category in SPECIAL_GROUPS.items():
        node_id = taxonomy.label_to_node[group]
        assert taxonomy.is_special(node_id), group
        assert taxonomy.special_category(node_id) is category, group


def test_other_groups_map_to_ordinary_nodes(taxonomy: Taxonomy) -> None:
    """Every other group lands on a node that is neither marked nor under a mark."""
    for group in set(NEWSGROUPS) - set(SPECIAL_GROUPS):
        node_id = taxonomy.label_to_node[group]
        assert not taxonomy.is_special(node_id), group
        assert taxonomy.special_category(node_id) is None, group


def test_expected_mappings(taxonomy: Taxonomy) -> None:
    """Selected groups map onto the documented IAB nodes."""
    assert taxonomy.path(taxonomy.label_to_node["rec.sport.baseball"]) == "Sports > Baseball"
    assert taxonomy.path(taxonomy.label_to_node["alt.atheism"]) == (
        "Religion & Spirituality > Atheism"
    )
    assert taxonomy.path(taxonomy.label_to_node["sci.space"]) == "Science > Space and Astronomy"
    assert taxonomy.path(taxonomy.label_to_node["sci.med"]) == "Medical Health"


def test_descendants_of_special_nodes_are_special(taxonomy: Taxonomy) -> None:
    """An unmarked descendant inherits the nearest marked ancestor's category."""
    for node_id, node in taxonomy.nodes.items():
        if node.special is None:
            continue
        for child_id in taxonomy.descendants(node_id):
            assert taxonomy.is_special(child_id), child_id
    christianity = taxonomy.label_to_node["soc.religion.christian"]
    assert taxonomy.node(christianity).special is None  # inherited, not explicit
    assert (
        taxonomy.special_category(christianity) is SpecialCategory.RELIGIOUS_PHILOSOPHICAL_BELIEFS
    )
    assert taxonomy.descendants("286") >= {"287", "320"}
    assert all(taxonomy.special_category(n) is SpecialCategory.HEALTH for n in ("287", "320"))


def test_every_mark_has_reason(taxonomy: Taxonomy) -> None:
    """Each explicit mark carries a one-line reason and unmarked nodes carry none."""
    marked = [node for node in taxonomy.nodes.values() if node.special is not None]
    assert marked
    for node in marked:
        assert node.special_reason and "\n" not in node.special_reason
    assert all(
        node.special_reason is None for node in taxonomy.nodes.values() if node.special is None
    )


def test_ancestors_descendants_and_paths(taxonomy: Taxonomy) -> None:
    """Ancestors run nearest first; descendants exclude the node; paths join labels."""
    graphics = taxonomy.label_to_node["comp.graphics"]
    assert taxonomy.ancestors(graphics) == ("602", "599", "596")
    assert taxonomy.path(graphics) == (
        "Technology & Computing > Computing > Software and Applications > Graphics Software"
    )
    assert taxonomy.ancestors("596") == ()
    assert taxonomy.path("596") == "Technology & Computing"
    assert graphics in taxonomy.descendants("596")
    assert "596" not in taxonomy.descendants("596")
    assert taxonomy.descendants(graphics) == frozenset()


def test_unknown_node_id_is_named(taxonomy: Taxonomy) -> None:
    """Asking for an unknown id raises TaxonomyError naming the id."""
    with pytest.raises(TaxonomyError, match="'no-such-id'"):
        taxonomy.node("no-such-id")
    with pytest.raises(TaxonomyError, match="'no-such-id'"):
        taxonomy.is_special("no-such-id")
    assert issubclass(TaxonomyError, EdgeProfilerError)


def test_direct_construction_rejects_cycle() -> None:
    """Building a Taxonomy whose parents form a cycle raises instead of looping."""
    nodes = {
        "a": InterestNode(id="a", label="A", parent="b", tier=2, special=None),
        "b": InterestNode(id="b", label="B", parent="a", tier=2, special=None),
    }
    with pytest.raises(TaxonomyError, match="cycle"):
        Taxonomy(name="t", version="1", nodes=nodes, labels=("x",), label_to_node={"x": "a"})


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    """Return a mutation that sets ``doc[path...] = value``."""

    def mutate(doc: dict[str, Any]) -> None:
        target: Any = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _set_node(node_id: str, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Return a mutation that sets one field of the node with id ``node_id``."""

    def mutate(doc: dict[str, Any]) -> None:
        doc["nodes"][_node_index(doc, node_id)][key] = value

    return mutate


def _duplicate_first_node(doc: dict[str, Any]) -> None:
    """Append a copy of the first node."""
    doc["nodes"].append(dict(doc["nodes"][0]))


def _drop_mapping(doc: dict[str, Any]) -> None:
    """Remove the mapping of one label."""
    del doc["label_to_node"]["sci.space"]


def _cycle(doc: dict[str, Any]) -> None:
    """Make two tier-1 nodes each other's parent."""
    doc["nodes"][_node_index(doc, "1")]["parent"] = "42"
    doc["nodes"][_node_index(doc, "42")]["parent"] = "1"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (_set_node("27", "parent", "999"), r"nodes\[\d+\]\.parent: unknown id '999'"),
        (_cycle, r"nodes\[\d+\]\.parent: cycle"),
        (_duplicate_first_node, r"nodes\[\d+\]\.id: duplicate id '150'"),
        (_set_node("545", "special", "hobbies"), r"nodes\[\d+\]\.special: unknown special"),
        (_set_node("545", "special", "health"), r"nodes\[\d+\]\.special_reason: required"),
        (_set_node("545", "tier", 3), r"nodes\[\d+\]\.tier: expected 2"),
        (_set_node("545", "label", ""), r"nodes\[\d+\]\.label"),
        (_set(("special_categories", 0), "ethnicity"), r"special_categories\[0\]"),
        (_drop_mapping, r"label_to_node: label 'sci.space' is not mapped"),
        (_set(("label_to_node", "sci.space"), "999"), r"label_to_node\['sci.space'\]: unknown id"),
        (_set(("label_to_node", "extra.group"), "1"), r"label_to_node\['extra.group'\]"),
        (_set(("labels", 1), "alt.atheism"), r"labels\[1\]: duplicate"),
        (_set(("version",), 3.1), r"version: expected"),
        (_set(("nodes",), {}), r"nodes: expected"),
    ],
)
def test_malformed_file_error_names_field(
    tmp_path: pathlib.Path,
    mutate: Callable[[dict[str, Any]], None],
    expected: str,
) -> None:
    """Each kind of malformed taxonomy raises TaxonomyError naming the file and field."""
    doc = _raw()
    mutate(doc)
    path = tmp_path / "taxonomy.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(TaxonomyError, match=expected) as info:
        load_taxonomy(path)
    assert str(path) in str(info.value)


def test_invalid_json_names_line(tmp_path: pathlib.Path) -> None:
    """Unparseable JSON raises TaxonomyError naming the file and the line."""
    path = tmp_path / "taxonomy.json"
    path.write_text('{\n  "name": "x",\n  oops\n}\n', encoding="utf-8")
    with pytest.raises(TaxonomyError, match=r"taxonomy\.json: line 3"):
        load_taxonomy(path)


def test_missing_file_names_path(tmp_path: pathlib.Path) -> None:
    """A missing file raises TaxonomyError naming the path, not an OSError."""
    path = tmp_path / "absent.json"
    with pytest.raises(TaxonomyError, match=r"absent\.json"):
        load_taxonomy(path)
