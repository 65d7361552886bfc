"""Catalog format: the sample loads, and invalid lines fail naming file, line and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edge_client.policy import PolicyEngine
from edge_client.selection import CatalogError, Variant, load_catalog, load_sample_catalog
from edge_client.taxonomy import Taxonomy

from .conftest import item


def test_sample_catalog_loads_with_both_variants(engine: PolicyEngine) -> None:
    """The packaged sample has ~40 items, each with analytical and emotional variants."""
    sample = load_sample_catalog()
    assert 35 <= len(sample) <= 50
    assert all({Variant.ANALYTICAL, Variant.EMOTIONAL} <= set(i.variants) for i in sample.items)
    allowed = [i for i in sample.items if all(engine.is_interest_allowed(c) for c in i.categories)]
    assert len({i.categories[0] for i in allowed}) >= 5
    assert any(i.sensitive for i in sample.items) and any(i.sponsored for i in sample.items)


def _write(tmp_path: Path, rows: list[object]) -> Path:
    path = tmp_path / "catalog.jsonl"
    lines = ["# comment line", ""] + [r if isinstance(r, str) else json.dumps(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ("{not json", "<line>"),
        (item("x", ["999999"]), "categories[0]"),
        ({**item("x", ["545"]), "variants": {"analytical": {"title": "a"}}}, "variants.emotional"),
        ({**item("x", ["545"]), "popularity": 1.5}, "popularity"),
        ({**item("x", ["545"]), "sponsored": "yes"}, "sponsored"),
        ({**item("x", ["545"]), "colour": "red"}, "colour"),
        (item("bad id!", ["545"]), "id"),
        (item("ok", []), "categories"),
        ({**item("x", ["545"]), "variants": {"analytical": {"title": " "},
                                              "emotional": {"title": "e"}}},
         "variants.analytical.title"),
        ({**item("x", ["545"]), "variants": {"analytical": {"title": "a"}, "emotional":
                                              {"title": "e"}, "pushy": {"title": "p"}}},
         "variants.pushy"),
    ],
)
def test_invalid_lines_name_file_line_and_field(tmp_path: Path, taxonomy: Taxonomy,
                                                bad: object, field: str) -> None:
    """Each kind of invalid line is reported as <file>:<line>: field '<field>'."""
    path = _write(tmp_path, [item("good", ["545"]), bad])
    with pytest.raises(CatalogError) as info:
        load_catalog(path, taxonomy=taxonomy)
    assert str(info.value).startswith(f"{path}:4: field {field!r}:")


def test_duplicate_id_points_at_first_line(tmp_path: Path, taxonomy: Taxonomy) -> None:
    """A repeated id fails on the second line and names the first one."""
    path = _write(tmp_path, [item("same", ["545"]), item("same", ["515"])])
    with pytest.raises(CatalogError, match=r":4: field 'id': duplicate of the id on line 3"):
        load_catalog(path, taxonomy=taxonomy)


def test_errors_never_quote_item_text(tmp_path: Path, taxonomy: Taxonomy) -> None:
    """A bad field's message does not repeat the text written in the catalog."""
    secret = "CANARY-9d1c-never-echo"
    bad = {**item("x", ["545"]), "variants": {"analytical": {"title": "a", "body": 5},
                                               "emotional": {"title": secret}}}
    path = _write(tmp_path, [bad])
    with pytest.raises(CatalogError) as info:
        load_catalog(path, taxonomy=taxonomy)
    assert "variants.analytical.body" in str(info.value)
    assert secret not in str(info.value)


def test_missing_file_is_a_catalog_error(tmp_path: Path) -> None:
    """An unreadable path raises CatalogError naming the path."""
    with pytest.raises(CatalogError, match="cannot read catalog"):
        load_catalog(tmp_path / "absent.jsonl")


def test_default_variant_is_generic_else_analytical(taxonomy: Taxonomy) -> None:
    """Items without a generic variant fall back to the analytical (factual) framing."""
    from .conftest import catalog

    cat = catalog([item("a", ["545"]), item("b", ["545"], generic=False)], taxonomy)
    assert [i.default_variant() for i in cat.items] == [Variant.GENERIC, Variant.ANALYTICAL]
