"""The content catalog: JSON lines of offers, each framed for analytical and emotional readers.

One JSON object per line (blank lines and lines starting with ``#`` are skipped)::

    {"id": "bike-commuter-01",
     "categories": ["27"],
     "variants": {
        "analytical": {"title": "...", "body": "..."},
        "emotional":  {"title": "...", "body": "..."},
        "generic":    {"title": "..."}},
     "sensitive": false, "sponsored": true, "popularity": 0.4}

``categories`` are taxonomy node ids. ``analytical`` (facts, specifications, comparisons)
and ``emotional`` (story, experience, social proof) are required and must be two framings of
the *same* offer; ``generic`` is optional and is what people see when decision style may not
choose the variant. ``popularity`` in [0, 1] (default 0.5) is a non-personalized prior.
Validation errors name the file, the line and the field, never the text of the item.
Lines end at a newline only: a raw U+2028 or U+2029 inside a title stays in the title.
Each line is decoded within bounds (256 kB, 8 levels of nesting, numbers in range, no lone
surrogates) before it is validated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from edge_client.decoding import DecodeError, Limits, decode_utf8, loads_json, read_bounded
from edge_client.selection.errors import CatalogError
from edge_client.taxonomy import Taxonomy, load_taxonomy

__all__ = [
    "MAX_CATALOG_BYTES",
    "Catalog",
    "CatalogItem",
    "Variant",
    "VariantText",
    "load_catalog",
    "load_sample_catalog",
    "parse_catalog",
]

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}")
_FIELDS = frozenset({"id", "categories", "variants", "sensitive", "sponsored", "popularity"})
_TEXT_FIELDS = frozenset({"title", "body", "url"})
_MAX_TEXT = 10_000
MAX_CATALOG_BYTES = 64 * 1024 * 1024
"""Largest catalog file read (about 60,000 items of 1 kB)."""
_LINE_LIMITS = Limits(max_bytes=256 * 1024, max_depth=8)


class Variant(Enum):
    """A framing of one offer."""

    ANALYTICAL = "analytical"
    """Facts, specifications, comparisons."""
    EMOTIONAL = "emotional"
    """Story, experience, social proof (never pressure: same offer, other framing)."""
    GENERIC = "generic"
    """Neutral framing, shown when decision style may not choose."""


@dataclass(frozen=True)
class VariantText:
    """What one variant shows: a title, an optional body and an optional link."""

    title: str
    body: str = ""
    url: str = ""


@dataclass(frozen=True)
class CatalogItem:
    """One offer of the catalog.

    Attributes
    ----------
    id : str
        Stable identifier (letters, digits, ``_ . : -``; at most 128 characters).
    categories : tuple of str
        Taxonomy node ids.
    variants : Mapping[Variant, VariantText]
        Always ``analytical`` and ``emotional``; ``generic`` when given.
    sensitive : bool
        Never personalized (ranked and framed as for everyone).
    sponsored : bool
        Paid placement (shown as such; the ranking may learn how the person responds).
    popularity : float
        Non-personalized prior in [0, 1].
    """

    id: str
    categories: tuple[str, ...]
    variants: Mapping[Variant, VariantText]
    sensitive: bool = False
    sponsored: bool = False
    popularity: float = 0.5

    def default_variant(self) -> Variant:
        """Return the variant shown when decision style may not choose: generic, else analytical."""
        return Variant.GENERIC if Variant.GENERIC in self.variants else Variant.ANALYTICAL


@dataclass(frozen=True)
class Catalog:
    """A validated catalog.

    Attributes
    ----------
    items : tuple of CatalogItem
        In file order; ids are unique.
    source : str
        Where it came from (a path or ``<string>``).
    """

    items: tuple[CatalogItem, ...]
    source: str = "<string>"

    def __len__(self) -> int:
        """Return the number of items."""
        return len(self.items)

    def index_of(self, item_id: str) -> int | None:
        """Return the position of ``item_id``, or ``None`` when it is not in the catalog."""
        for i, item in enumerate(self.items):
            if item.id == item_id:
                return i
        return None


def _fail(source: str, line: int, field: str, problem: str) -> CatalogError:
    return CatalogError(f"{source}:{line}: field {field!r}: {problem}")


def _flag(row: Mapping[str, Any], name: str, where: tuple[str, int]) -> bool:
    value = row.get(name, False)
    if not isinstance(value, bool):
        raise _fail(*where, name, f"must be true or false, got {type(value).__name__}")
    return value


def _variant(raw: object, name: str, where: tuple[str, int]) -> VariantText:
    field = f"variants.{name}"
    if not isinstance(raw, dict):
        raise _fail(*where, field, "must be an object with a 'title'")
    unknown = sorted(set(raw) - _TEXT_FIELDS)
    if unknown:
        raise _fail(*where, f"{field}.{unknown[0]}", "unknown field (title, body, url)")
    values: dict[str, str] = {}
    for key in sorted(_TEXT_FIELDS):
        value = raw.get(key, "")
        if not isinstance(value, str):
            raise _fail(*where, f"{field}.{key}", f"must be a string, got {type(value).__name__}")
        if len(value) > _MAX_TEXT:
            raise _fail(*where, f"{field}.{key}", f"longer than {_MAX_TEXT} characters")
        values[key] = value
    if not values["title"].strip():
        raise _fail(*where, f"{field}.title", "must be a non-empty string")
    return VariantText(values["title"], values["body"], values["url"])


def _item(row: object, taxonomy: Taxonomy, where: tuple[str, int]) -> CatalogItem:
    if not isinstance(row, dict):
        raise _fail(*where, "<line>", "must be a JSON object")
    unknown = sorted(set(row) - _FIELDS)
    if unknown:
        allowed = ", ".join(sorted(_FIELDS))
        raise _fail(*where, unknown[0], f"unknown field (allowed: {allowed})")
    item_id = row.get("id")
    if not isinstance(item_id, str) or not _ID.fullmatch(item_id):
        raise _fail(
            *where, "id", "must be 1-128 letters, digits or _ . : - (starting alphanumeric)"
        )
    categories = row.get("categories")
    if not isinstance(categories, list) or not categories:
        raise _fail(*where, "categories", "must be a non-empty list of taxonomy node ids")
    for i, node in enumerate(categories):
        if not isinstance(node, str) or node not in taxonomy.nodes:
            raise _fail(*where, f"categories[{i}]", "is not a node id of the taxonomy")
    variants = row.get("variants")
    if not isinstance(variants, dict):
        raise _fail(*where, "variants", "must be an object with 'analytical' and 'emotional'")
    parsed: dict[Variant, VariantText] = {}
    for name, raw in variants.items():
        try:
            kind = Variant(name)
        except ValueError:
            raise _fail(
                *where, f"variants.{name}", "unknown variant (analytical, emotional, generic)"
            ) from None
        parsed[kind] = _variant(raw, name, where)
    for needed in (Variant.ANALYTICAL, Variant.EMOTIONAL):
        if needed not in parsed:
            raise _fail(*where, f"variants.{needed.value}", "is required")
    popularity = row.get("popularity", 0.5)
    if (
        isinstance(popularity, bool)
        or not isinstance(popularity, int | float)
        or not (0.0 <= float(popularity) <= 1.0)
    ):
        raise _fail(*where, "popularity", "must be a number in [0, 1]")
    return CatalogItem(
        id=item_id,
        categories=tuple(dict.fromkeys(categories)),
        variants=MappingProxyType(parsed),
        sensitive=_flag(row, "sensitive", where),
        sponsored=_flag(row, "sponsored", where),
        popularity=float(popularity),
    )


def parse_catalog(
    lines: Iterable[str], *, source: str = "<string>", taxonomy: Taxonomy | None = None
) -> Catalog:
    """Parse and validate catalog lines.

    Parameters
    ----------
    lines : iterable of str
        JSON lines; blank lines and ``#`` comments are skipped.
    source : str, default ``"<string>"``
        Name used in error messages.
    taxonomy : Taxonomy, optional
        Taxonomy the categories must belong to (default: packaged).

    Returns
    -------
    Catalog
        The validated catalog.

    Raises
    ------
    CatalogError
        ``<source>:<line>: field '<field>': <problem>`` for the first invalid line.
    """
    tax = taxonomy if taxonomy is not None else load_taxonomy()
    items: list[CatalogItem] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            row = loads_json(text, source=source, limits=_LINE_LIMITS, line=number)
        except DecodeError as exc:
            raise _fail(source, number, exc.field or "<line>", exc.problem) from None
        item = _item(row, tax, (source, number))
        if item.id in seen:
            raise _fail(source, number, "id", f"duplicate of the id on line {seen[item.id]}")
        seen[item.id] = number
        items.append(item)
    return Catalog(tuple(items), source)


def load_catalog(path: str | Path, *, taxonomy: Taxonomy | None = None) -> Catalog:
    """Read and validate a catalog file (UTF-8 JSON lines).

    Parameters
    ----------
    path : str or pathlib.Path
        The file.
    taxonomy : Taxonomy, optional
        Taxonomy the categories must belong to (default: packaged).

    Returns
    -------
    Catalog
        The validated catalog.

    Raises
    ------
    CatalogError
        If the file cannot be read or a line is invalid (file, line and field named).
    """
    file = Path(path)
    try:
        text = decode_utf8(read_bounded(file, max_bytes=MAX_CATALOG_BYTES), source=str(file))
    except DecodeError as exc:
        raise CatalogError(f"cannot read catalog: {exc}") from None
    # Split on newlines only: str.splitlines() would also split at U+2028 inside a title.
    return parse_catalog(text.split("\n"), source=str(file), taxonomy=taxonomy)


def load_sample_catalog(*, taxonomy: Taxonomy | None = None) -> Catalog:
    """Load the small example catalog packaged with the client (written by this project).

    Returns
    -------
    Catalog
        About 40 items across several allowed categories, each with both variants.
    """
    path = Path(str(resources.files("edge_client") / "assets" / "samples" / "catalog.jsonl"))
    return load_catalog(path, taxonomy=taxonomy)
