"""Build the shipped interest taxonomy from the official IAB Content Taxonomy 3.1 file.

Usage (from the repository root; reads ``../shared/data/iab-content-taxonomy-3.1``)::

    python -m models.taxonomy

Writes ``edge_client/assets/taxonomy.json``: every node of IAB Tech Lab Content Taxonomy 3.1
(CC BY 3.0; ids, parents and names as published, trailing spaces stripped), the project's
own GDPR Art. 9 marks (IAB's ``SCD`` column is not used: it misses politics, and 3.1 has no
node for sexual orientation or ethnic origin), two project nodes where IAB has none
(clearly marked ``"source": "edge-profiler"``), and the interest model's output labels, each
mapped onto one node. ``edge_client/assets/TAXONOMY_NOTICE.md`` documents the result; the
output is deterministic, so rebuilding gives the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from models.data import data_dir

__all__ = ["LABELS", "MARKS", "PROJECT_NODES", "build", "main"]

OUT = Path(__file__).resolve().parent.parent / "edge_client" / "assets" / "taxonomy.json"
TSV = Path("iab-content-taxonomy-3.1") / "Content Taxonomy 3.1.tsv"
SOURCE = (
    "https://github.com/InteractiveAdvertisingBureau/Taxonomies/blob/"
    "b7acdcaa30d4c389d0fe022e93865ca59a4299e6/Content%20Taxonomies/Content%20Taxonomy%203.1.tsv"
)
IAB = "iab-3.1"
PROJECT = "edge-profiler"

SPECIAL_CATEGORIES = (
    "racial_ethnic_origin",
    "political_opinions",
    "religious_philosophical_beliefs",
    "trade_union_membership",
    "genetic",
    "biometric",
    "health",
    "sex_life_orientation",
)

MARKS: dict[str, tuple[str, str]] = {
    "136": (
        "health",
        "Special education reveals a disability or learning condition: data concerning health.",
    ),
    "188": (
        "sex_life_orientation",
        "Dating interest concerns sex life and, with partner preferences, sexual orientation.",
    ),
    "191": (
        "sex_life_orientation",
        "Civil unions were the legal form of same-sex partnership in many jurisdictions: can "
        "reveal orientation.",
    ),
    "219": (
        "health",
        "Food allergies are a medical condition: data concerning health.",
    ),
    "224": (
        "health",
        "Children's health topics reveal health conditions of the user's family.",
    ),
    "228": (
        "health",
        "Men's health covers conditions such as prostate or sexual health: data concerning health.",
    ),
    "230": (
        "health",
        "Senior health covers age-related conditions: data concerning health.",
    ),
    "231": (
        "health",
        "Weight-loss interest can reveal obesity or eating disorders: data concerning health.",
    ),
    "232": (
        "health",
        "Wellness covers alternative medicine, physical therapy and smoking cessation: health"
        " treatment.",
    ),
    "238": (
        "health",
        "Women's health covers gynaecological and reproductive conditions: data concerning health.",
    ),
    "273": (
        "racial_ethnic_origin",
        "Genealogy and ancestry research (often DNA tests) reveals ethnic origin and genetic data.",
    ),
    "286": (
        "health",
        "Medical topics (conditions, tests, drugs, surgery, vaccines, pregnancy, mental "
        "health) are data concerning health.",
    ),
    "361": (
        "religious_philosophical_beliefs",
        "Religious music and audio reveal religious beliefs.",
    ),
    "386": (
        "political_opinions",
        "Interest in politics, elections and policy issues reveals political opinions (Art. 9(1)).",
    ),
    "453": (
        "religious_philosophical_beliefs",
        "Religion, spirituality, atheism and agnosticism are religious or philosophical "
        "beliefs (Art. 9(1)).",
    ),
    "468": (
        "genetic",
        "Genetics covers genetic testing and inherited traits: genetic data.",
    ),
    "MQ2XML": (
        "sex_life_orientation",
        "Adult video games are explicit sexual content: they concern a person's sex life.",
    ),
    "Rm3SiT": (
        "sex_life_orientation",
        "Explicit sexual content concerns a person's sex life and sexual orientation.",
    ),
    "Z7rJBM": (
        "political_opinions",
        "Debated social issues (abortion, immigration, LGBTQ rights, ...) reveal political "
        "opinions and beliefs.",
    ),
    "HxqYV1": (
        "racial_ethnic_origin",
        "Hate speech targets people by race, ethnicity, religion or orientation; interest can"
        " reveal them.",
    ),
    "pg0WhF": (
        "health",
        "Drug, tobacco and alcohol use content can reveal addiction or substance use: health.",
    ),
    "494": (
        "health",
        "Disabled sports reveal a disability: data concerning health.",
    ),
}
"""The project's Art. 9 marks: node id → (category, one-line reason). A mark covers the subtree."""


@dataclass(frozen=True)
class ProjectNode:
    """A node this project adds where IAB 3.1 has none (a tier-1 root)."""

    id: str
    label: str
    special: str
    reason: str


PROJECT_NODES: tuple[ProjectNode, ...] = (
    ProjectNode(
        "EP-SOGI",
        "Sexual Orientation and Gender Identity",
        "sex_life_orientation",
        "Sexual orientation (and gender identity, treated alike) is Art. 9(1) data; IAB 3.1 "
        "has no node for it.",
    ),
    ProjectNode(
        "EP-ETHN",
        "Ethnic and Cultural Origin",
        "racial_ethnic_origin",
        "Racial or ethnic origin is Art. 9(1) data; IAB 3.1 has no node for it.",
    ),
)
"""Nodes added by edge-profiler (ids start with ``EP-``; ``source`` is ``edge-profiler``)."""

LABELS: dict[str, str] = {
    "automotive": "1",
    "books": "42",
    "business": "52",
    "careers": "123",
    "drugs": "pg0WhF",
    "education": "132",
    "ethnic_origin": "EP-ETHN",
    "fine_art": "201",
    "firearms": "avbNf2",
    "food_drink": "210",
    "healthy_living": "223",
    "hobbies": "239",
    "home_garden": "274",
    "law": "383",
    "medical_health": "286",
    "movies": "324",
    "music": "338",
    "parenting": "192",
    "personal_finance": "391",
    "pets": "422",
    "politics": "386",
    "pregnancy": "305",
    "real_estate": "441",
    "relationships": "186",
    "religion": "453",
    "science": "464",
    "sex_life": "Rm3SiT",
    "sexual_orientation": "EP-SOGI",
    "shopping": "473",
    "sports": "483",
    "style_fashion": "552",
    "technology": "596",
    "television": "640",
    "travel": "653",
    "video_gaming": "680",
    "wedding": "165",
}
"""The interest model's output labels (in output order) and the node each one means.

The 35 interest groups of ``reddit-top2013`` keep their names; ``shopping`` is learned from
20 Newsgroups' ``misc.forsale``. ``relationships`` (relationship and dating advice) maps onto
the tier-1 Family and Relationships rather than the marked Dating node: sex life has a class
of its own (``sex_life``).
"""


def read_iab(path: Path) -> list[dict[str, object]]:
    """Read the IAB TSV into nodes with tiers from the parent chain.

    Rows whose ``Parent`` is empty or equal to their own id are tier-1 roots.

    Raises
    ------
    ValueError
        Naming the line of a row with a missing id, an unknown parent or a parent cycle.
    """
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    parents: dict[str, str | None] = {}
    names: dict[str, str] = {}
    order: list[str] = []
    for line, row in enumerate(rows[2:], start=3):
        node_id, parent, name = [*row, "", "", ""][:3]
        node_id, parent, name = node_id.strip(), parent.strip(), name.strip()
        if not node_id or not name:
            raise ValueError(f"{path}:{line}: missing id or name")
        parents[node_id] = None if parent in ("", node_id) else parent
        names[node_id] = name
        order.append(node_id)
    tiers: dict[str, int] = {}
    for node_id in order:
        chain: list[str] = []
        current: str | None = node_id
        while current is not None:
            if current in chain:
                raise ValueError(f"{path}: parent cycle through {current}")
            if current not in parents:
                raise ValueError(f"{path}: node {chain[-1]} has unknown parent {current}")
            chain.append(current)
            current = parents[current]
        tiers[node_id] = len(chain)
    return [
        {"id": n, "label": names[n], "parent": parents[n], "tier": tiers[n], "source": IAB}
        for n in order
    ]


def build(root: Path) -> str:
    """Return the JSON text of the shipped taxonomy built from the IAB file under ``root``."""
    path = root / TSV
    nodes = read_iab(path)
    ids = {str(n["id"]) for n in nodes}
    for extra in PROJECT_NODES:
        if extra.id in ids:
            raise ValueError(f"project node id {extra.id} collides with an IAB id")
        nodes.append(
            {"id": extra.id, "label": extra.label, "parent": None, "tier": 1, "source": PROJECT}
        )
        ids.add(extra.id)
    for node in nodes:
        node_id = str(node["id"])
        mark = MARKS.get(node_id)
        extra_mark = next((p for p in PROJECT_NODES if p.id == node_id), None)
        if extra_mark is not None:
            mark = (extra_mark.special, extra_mark.reason)
        node["special"], node["special_reason"] = mark if mark else (None, None)
    missing = sorted((set(MARKS) | set(LABELS.values())) - ids)
    if missing:
        raise ValueError(f"marks or labels name unknown nodes: {missing}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    head = {
        "name": "IAB Tech Lab Content Taxonomy with edge-profiler marks",
        "version": "3.1",
        "source": SOURCE,
        "source_sha256": digest,
        "license": "CC-BY-3.0",
        "attribution": (
            "IAB Tech Lab Content Taxonomy 3.1 by IAB Technology Laboratory, licensed under "
            "CC BY 3.0 (https://creativecommons.org/licenses/by/3.0/). Modified by "
            "edge-profiler: special-category marks, two added nodes (source 'edge-profiler') "
            "and the interest model's label mapping."
        ),
        "special_categories": list(SPECIAL_CATEGORIES),
    }
    lines = ["{"]
    lines += [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}," for k, v in head.items()]
    lines.append('  "nodes": [')
    keys = ("id", "label", "parent", "tier", "source", "special", "special_reason")
    rendered = ["    " + json.dumps({k: n[k] for k in keys}, ensure_ascii=False) for n in nodes]
    lines.append(",\n".join(rendered))
    lines.append("  ],")
    lines.append(f'  "labels": {json.dumps(list(LABELS))},')
    lines.append('  "label_to_node": {')
    lines.append(",\n".join(f"    {json.dumps(k)}: {json.dumps(v)}" for k, v in LABELS.items()))
    lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="where to write taxonomy.json")
    args = parser.parse_args(argv)
    root = data_dir()
    if not (root / TSV).is_file():
        print(f"IAB taxonomy file not found at {root / TSV} (set EDGEPROF_DATA)", file=sys.stderr)
        return 2
    args.out.write_text(build(root), encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
