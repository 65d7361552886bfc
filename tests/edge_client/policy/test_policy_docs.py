from pathlib import Path

from edge_client.policy.fields import FIELDS, FieldKind

DOC = Path(__file__).resolve().parents[3] / "docs" / "policies.md"


def test_every_field_is_documented() -> None:
    """docs/policies.md has a row for every field with its default and enforcing code."""
    text = DOC.read_text(encoding="utf-8")
    rows = {
        line.split("|")[1].strip().strip("`"): line
        for line in text.splitlines()
        if line.startswith("| `")
    }
    for spec in FIELDS:
        assert spec.path in rows, spec.path
        assert spec.enforced_by.split(".")[-1].split()[0] in rows[spec.path], spec.path


def test_documented_ranges_are_the_enforced_ones() -> None:
    """Each numeric and text field's row shows the range validation enforces."""
    text = DOC.read_text(encoding="utf-8")
    rows = {
        line.split("|")[1].strip().strip("`"): line.split("|")[3]
        for line in text.splitlines()
        if line.startswith("| `")
    }
    for spec in FIELDS:
        if spec.kind in (FieldKind.INT, FieldKind.FLOAT, FieldKind.STR, FieldKind.STR_SET):
            assert spec.range_text() in rows[spec.path], spec.path
