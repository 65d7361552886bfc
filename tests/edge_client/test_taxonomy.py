"""Tests for the interest taxonomy and its GDPR Art. 9 marks."""

from __future__ import annotations

import copy
import hashlib
import json
import pathlib
from collections.abc import Callable
from typing import Any

import pytest

from edge_client.decoding import loads_json
from edge_client.errors import EdgeProfilerError, TaxonomyError
from edge_client.taxonomy import (
    InterestNode,
    NodeSource,
    SpecialCategory,
    Taxonomy,
    load_taxonomy,
    loader,
)

LABELS = (
    "automotive", "books", "business", "careers", "drugs", "education", "ethnic_origin",
    "fine_art", "firearms", "food_drink", "healthy_living", "hobbies", "home_garden", "law",
    "medical_health", "movies", "music", "parenting", "personal_finance", "pets", "politics",
    "pregnancy", "real_estate", "relationships", "religion", "science", "sex_life",
    "sexual_orientation", "shopping", "sports", "style_fashion", "technology", "television",
    "travel", "video_gaming", "wedding",
)  # fmt: skip
SPECIAL_LABELS = {
    "drugs": SpecialCategory.HEALTH,
    "ethnic_origin": SpecialCategory.RACIAL_ETHNIC_ORIGIN,
    "medical_health": SpecialCategory.HEALTH,
    "politics": SpecialCategory.POLITICAL_OPINIONS,
    "pregnancy": SpecialCategory.HEALTH,
    "religion": SpecialCategory.RELIGIOUS_PHILOSOPHICAL_BELIEFS,
    "sex_life": SpecialCategory.SEX_LIFE_ORIENTATION,
    "sexual_orientation": SpecialCategory.SEX_LIFE_ORIENTATION,
}
IAB_TSV = (
    pathlib.Path(__file__).parents[3]
    / "shared"
    / "data"
    / "iab-content-taxonomy-3.1"
    / "Content Taxonomy 3.1.tsv"
)
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
    iab = [node for node in taxonomy.nodes.values() if node.source is NodeSource.IAB]
    assert len(iab) == 704  # every node of Content Taxonomy 3.1
    roots = [node for node in iab if node.parent is None]
    assert len(roots) == 37  # Content Taxonomy 3.1 has 37 tier-1 nodes
    assert all(node.tier == 1 for node in roots)


def test_project_nodes_are_marked_as_not_iab(taxonomy: Taxonomy) -> None:
    """The nodes IAB lacks (orientation, ethnic origin) are the project's, ids EP-, special."""
    added = [node for node in taxonomy.nodes.values() if node.source is NodeSource.PROJECT]
    assert {node.id for node in added} == {"EP-SOGI", "EP-ETHN"}
    for node in added:
        assert node.id.startswith("EP-") and node.parent is None and node.special is not None


@pytest.mark.skipif(not IAB_TSV.is_file(), reason="../shared/data IAB taxonomy file not present")
def test_iab_nodes_match_the_official_file(taxonomy: Taxonomy) -> None:
    """Ids, names and parents of IAB nodes are exactly those of the official 3.1 file."""
    import csv

    with IAB_TSV.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))[2:]
    assert len(rows) == 704
    for row in rows:
        node = taxonomy.node(row[0].strip())
        parent = row[1].strip()
        assert node.label == row[2].strip()
        assert node.parent == (None if parent in ("", node.id) else parent)


def test_labels_in_model_order(taxonomy: Taxonomy) -> None:
    """The labels are the 36 interest groups in the interest model's output order."""
    assert taxonomy.labels == LABELS
    assert len(set(taxonomy.label_nodes())) == len(LABELS)
    assert taxonomy.label_nodes() == tuple(taxonomy.label_to_node[g] for g in LABELS)


def test_sensitive_groups_map_to_special_nodes(taxonomy: Taxonomy) -> None:
    """Politics, religion, health, sex life, orientation and origin land on marked nodes."""
    for label, category in SPECIAL_LABELS.items():
        node_id = taxonomy.label_to_node[label]
        assert taxonomy.is_special(node_id), label
        assert taxonomy.special_category(node_id) is category, label


def test_other_groups_map_to_ordinary_nodes(taxonomy: Taxonomy) -> None:
    """Every other label lands on a node that is neither marked nor under a mark."""
    for label in set(LABELS) - set(SPECIAL_LABELS):
        node_id = taxonomy.label_to_node[label]
        assert not taxonomy.is_special(node_id), label
        assert taxonomy.special_category(node_id) is None, label


def test_expected_mappings(taxonomy: Taxonomy) -> None:
    """Selected labels map onto the documented nodes (tier 2 where the data separates)."""
    assert taxonomy.path(taxonomy.label_to_node["movies"]) == "Entertainment > Movies"
    assert taxonomy.path(taxonomy.label_to_node["television"]) == "Entertainment > Television"
    assert taxonomy.path(taxonomy.label_to_node["sports"]) == "Sports"
    assert taxonomy.path(taxonomy.label_to_node["pregnancy"]) == (
        "Medical Health > Diseases and Conditions > Reproductive Health > Pregnancy"
    )
    assert taxonomy.path(taxonomy.label_to_node["relationships"]) == "Family and Relationships"


def test_descendants_of_special_nodes_are_special(taxonomy: Taxonomy) -> None:
    """An unmarked descendant inherits the nearest marked ancestor's category."""
    for node_id, node in taxonomy.nodes.items():
        if node.special is None:
            continue
        for child_id in taxonomy.descendants(node_id):
            assert taxonomy.is_special(child_id), child_id
    christianity = "459"
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
    graphics = "614"
    assert taxonomy.ancestors(graphics) == ("602", "599", "596")
    assert taxonomy.path(graphics) == (
        "Technology & Computing > Computing > Computer Software and Applications"
        " > Graphics Software"
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
    del doc["label_to_node"]["science"]


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
        (_drop_mapping, r"label_to_node: label 'science' is not mapped"),
        (_set(("label_to_node", "science"), "999"), r"label_to_node\['science'\]: unknown id"),
        (_set_node("EP-SOGI", "source", "wikipedia"), r"nodes\[\d+\]\.source: unknown source"),
        (_set(("label_to_node", "extra.group"), "1"), r"label_to_node\['extra.group'\]"),
        (_set(("labels", 1), "automotive"), r"labels\[1\]: duplicate"),
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


def test_recorded_hash_names_the_packaged_file() -> None:
    """``PACKAGED_SHA256`` is the packaged file's hash, so its load skips the deep re-scan."""
    data = PACKAGED.read_bytes()
    assert hashlib.sha256(data).hexdigest() == loader.PACKAGED_SHA256, (
        "edge_client/assets/taxonomy.json changed: set PACKAGED_SHA256 in "
        "edge_client/taxonomy/loader.py to its new SHA-256 once it loads with the full decoder"
    )


def test_packaged_fast_path_equals_full_bounded_decoding() -> None:
    """The packaged file decoded directly gives the taxonomy the bounded decoder gives."""
    full = load_taxonomy(PACKAGED)  # a path: always fully decoded
    fast = load_taxonomy()
    assert full == fast
    assert full.labels == fast.labels and full.label_to_node == fast.label_to_node


def test_packaged_bytes_with_another_hash_take_the_bounded_decoder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Packaged bytes other than the recorded ones pass the bounded decoder again."""
    calls: list[str] = []

    def counting(data: bytes | str, **kwargs: Any) -> object:
        calls.append(kwargs["source"])
        return loads_json(data, **kwargs)

    monkeypatch.setattr(loader, "loads_json", counting)
    monkeypatch.setattr(loader, "PACKAGED_SHA256", "0" * 64)
    loader._load_packaged.cache_clear()
    try:
        rebuilt = load_taxonomy()
    finally:
        loader._load_packaged.cache_clear()
    assert calls == ["edge_client/assets/taxonomy.json"]
    assert rebuilt == load_taxonomy()
