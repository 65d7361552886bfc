"""Find the source line of a dotted TOML key (``tomllib`` reports none).

The index understands ``[table]`` and ``[a.b]`` headers, bare, quoted and dotted keys,
and skips comments, so a validation message can point at the line to fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["line_of", "toml_line_index"]

_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(?:#.*)?$")
_KEY = re.compile(
    r"^\s*((?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')"
    r"(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'))*)\s*="
)


def _split_key(key: str) -> list[str]:
    parts = re.findall(r"\"([^\"]*)\"|'([^']*)'|([A-Za-z0-9_-]+)", key)
    return [next(p for p in groups if p) if any(groups) else "" for groups in parts]


def toml_line_index(text: str) -> dict[str, int]:
    """Map every table and key path in TOML ``text`` to its 1-based line.

    Parameters
    ----------
    text
        TOML source.

    Returns
    -------
    dict[str, int]
        Dotted path (tables and keys) to the line it first appears on.
    """
    index: dict[str, int] = {}
    table: list[str] = []
    for number, line in enumerate(text.split("\n"), start=1):  # TOML lines end at \n
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        header = _HEADER.match(line)
        if header is not None:
            table = _split_key(header.group(1))
            index.setdefault(".".join(table), number)
            continue
        key = _KEY.match(line)
        if key is not None:
            path = [*table, *_split_key(key.group(1))]
            for depth in range(len(table) + 1, len(path) + 1):
                index.setdefault(".".join(path[:depth]), number)
    return index


def line_of(index: Mapping[str, int], path: str) -> int | None:
    """Return the line of ``path`` or of its nearest enclosing table.

    Parameters
    ----------
    index
        From :func:`toml_line_index` (empty when the source has no lines).
    path
        Dotted key.

    Returns
    -------
    int or None
        The line, or ``None`` when neither the key nor any enclosing table appears.
    """
    parts = path.split(".")
    while parts:
        found = index.get(".".join(parts))
        if found is not None:
            return found
        parts.pop()
    return None
