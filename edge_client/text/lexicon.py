"""Psycholinguistic word lists: which categories a token belongs to.

The lists live in ``edge_client/assets/lexicons/<category>.txt``, one lowercase entry per
line; ``#`` starts a comment and a trailing ``*`` makes an entry a prefix wildcard
(``realiz*`` matches ``realize``, ``realized``, ...). Their provenance (self-written,
VADER-derived) is in that folder's ``README.md``. Digit tokens (``42``, ``3.5``,
``1,000``) belong to ``number`` by rule rather than by list.

Lookups are made on every token of every text, so :class:`Lexicon` answers from a hash of
exact words, then (only if the token starts like some wildcard) probes a hash of wildcard
prefixes once per distinct prefix length (never a loop over all wildcards), and caches
answers in a bounded per-instance dict.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from edge_client.digest import sha256
from edge_client.errors import EdgeProfilerError
from edge_client.packaged import asset_path

if TYPE_CHECKING:
    import pathlib
    from importlib.resources.abc import Traversable

__all__ = ["CATEGORY_NAMES", "Lexicon", "LexiconError", "load_lexicon"]

CATEGORY_NAMES: tuple[str, ...] = (
    "article", "prep", "ppron", "ipron", "auxverb", "conj", "adverb", "negate",
    "posemo", "negemo", "cause", "insight", "certain", "tentat", "discrep", "number", "quant",
)  # fmt: skip
"""Category names, in the order of the indices :meth:`Lexicon.lookup` returns."""

_CATEGORY_INDEX = {name: i for i, name in enumerate(CATEGORY_NAMES)}
_NUMBER_INDEX = _CATEGORY_INDEX["number"]
_NUMBER_TOKEN = re.compile(r"\d+(?:[.,]\d+)*(?:st|nd|rd|th|s)?")
_EXTRA_ENTRY_CHARS = frozenset("0123456789'-.")
_DEFAULT_CACHE_SIZE = 100_000
_SUFFIX = ".txt"


class LexiconError(EdgeProfilerError):
    """A lexicon folder or list is malformed; the message names the file and line."""


# Fast path for the common well-formed entry (letters/digits, inner ' - ., optional final *);
# anything else goes through the precise checks below. Keeps lexicon loading (cold start) fast.
_WELL_FORMED = re.compile(r"[^\W_]+(?:['.\-][^\W_]*)*\*?")


def _entry_problem(entry: str) -> str | None:  # noqa: PLR0911  # one return per rule reads best
    """Say what is wrong with one list entry, or return None if it is well formed."""
    if _WELL_FORMED.fullmatch(entry) and entry == entry.lower():
        return None
    if any(ch.isspace() for ch in entry):
        return "entry contains whitespace (one entry per line, no spaces)"
    if entry != entry.lower():
        return "entry is not lowercase"
    stem = entry[:-1] if entry.endswith("*") else entry
    if not stem:
        return "wildcard '*' has an empty prefix"
    if "*" in stem:
        return "'*' is only allowed once, at the end of an entry"
    if not all(ch.isalpha() or ch in _EXTRA_ENTRY_CHARS for ch in stem):
        return "entry has a character other than letters, digits, ' - ."
    return None


def _parse_list(text: str, label: str) -> list[str]:
    """Parse one list file into entries, raising :class:`LexiconError` with file and line."""
    entries: list[str] = []
    first_seen: dict[str, int] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        entry = raw.split("#", 1)[0].strip()
        if not entry:
            continue
        problem = _entry_problem(entry)
        if problem is not None:
            raise LexiconError(f"{label}, line {lineno}: {problem}")
        if entry in first_seen:
            raise LexiconError(
                f"{label}, line {lineno}: duplicate entry (first on line {first_seen[entry]})"
            )
        first_seen[entry] = lineno
        entries.append(entry)
    return entries


class Lexicon:
    """Category membership for tokens (exact words first, then prefix wildcards).

    Parameters
    ----------
    entries : Mapping[str, Iterable[str]]
        Entries per category; the keys must be exactly :data:`CATEGORY_NAMES`. An entry
        ending in ``*`` is a prefix wildcard that also matches the bare prefix.
    cache_size : int, keyword-only
        Most lookups kept in the per-instance cache, which is cleared when full.

    Attributes
    ----------
    source_sha256 : str or None
        SHA-256 of the list files of a lexicon read from a folder (names and texts, in
        category order); ``None`` for one built from a mapping. The featurizer's shipped
        table of common words is only used with the lexicon it was computed with.

    Raises
    ------
    LexiconError
        If categories are missing or unknown, an entry is malformed, or ``cache_size < 1``.
    """

    __slots__ = (
        "_cache",
        "_cache_size",
        "_exact",
        "_heads",
        "_lengths",
        "_prefixes",
        "source_sha256",
    )

    def __init__(
        self, entries: Mapping[str, Iterable[str]], *, cache_size: int = _DEFAULT_CACHE_SIZE
    ) -> None:
        if cache_size < 1:
            raise LexiconError(f"cache_size must be >= 1, got {cache_size}")
        missing = [name for name in CATEGORY_NAMES if name not in entries]
        unknown = sorted(name for name in entries if name not in _CATEGORY_INDEX)
        if missing or unknown:
            raise LexiconError(f"lexicon categories: missing {missing}, unknown {unknown}")
        # Categories are visited in index order, so appending gives each entry its sorted
        # indices; equal index tuples are shared (most words are in one or two categories).
        exact: dict[str, tuple[int, ...]] = {}
        prefixes: dict[str, tuple[int, ...]] = {}
        shared: dict[tuple[int, ...], tuple[int, ...]] = {}
        for name in CATEGORY_NAMES:
            index = _CATEGORY_INDEX[name]
            for entry in frozenset(entries[name]):
                problem = _entry_problem(entry)
                if problem is not None:
                    raise LexiconError(f"category {name!r}: {problem}")
                if entry.endswith("*"):
                    table, key = prefixes, entry[:-1]
                else:
                    table, key = exact, entry
                indices = (*table.get(key, ()), index)
                table[key] = shared.setdefault(indices, indices)
        self._exact = exact
        self._prefixes = prefixes
        self._lengths = tuple(sorted({len(prefix) for prefix in prefixes}))
        # The shortest-length head of every wildcard: ~90% of words share none, and skip
        # the per-length probing entirely.
        shortest = self._lengths[0] if self._lengths else 0
        self._heads = frozenset(prefix[:shortest] for prefix in prefixes)
        self._cache: dict[str, tuple[int, ...]] = {}
        self._cache_size = cache_size
        self.source_sha256: str | None = None

    def lookup(self, token: str) -> tuple[int, ...]:
        """Return the categories a token belongs to.

        Parameters
        ----------
        token : str
            A normalised token: lowercase, ASCII apostrophes, contractions whole.

        Returns
        -------
        tuple of int
            Sorted indices into :data:`CATEGORY_NAMES`; the empty tuple if none match.
            Digit tokens (``42``, ``3.5``, ``1,000``, ``2nd``) are in ``number``.
        """
        cached = self._cache.get(token)
        if cached is not None:
            return cached
        result = self.match(token)
        if len(self._cache) >= self._cache_size:
            self._cache.clear()
        self._cache[token] = result
        return result

    def match(self, token: str) -> tuple[int, ...]:
        """Return :meth:`lookup` of ``token`` without the cache (for callers that keep one).

        Parameters
        ----------
        token : str
            A normalised token.

        Returns
        -------
        tuple of int
            Sorted indices into :data:`CATEGORY_NAMES`, as :meth:`lookup` gives them.
        """
        hits = self._exact.get(token, ())
        found: set[int] | None = None
        size = len(token)
        if self._lengths and token[: self._lengths[0]] in self._heads:
            for length in self._lengths:
                if length > size:
                    break
                more = self._prefixes.get(token[:length])
                if more is not None:
                    found = set(hits) if found is None else found
                    found.update(more)
        if token[:1].isdigit() and _NUMBER_TOKEN.fullmatch(token) is not None:
            found = set(hits) if found is None else found
            found.add(_NUMBER_INDEX)
        return hits if found is None else tuple(sorted(found))

    def words(self, category: str) -> frozenset[str]:
        """Return the entries of one category, wildcards included with their ``*``.

        Parameters
        ----------
        category : str
            One of :data:`CATEGORY_NAMES`.

        Returns
        -------
        frozenset of str
            The category's list entries (digit tokens are matched by rule, not listed).

        Raises
        ------
        LexiconError
            If the category is not one of :data:`CATEGORY_NAMES`.
        """
        index = _CATEGORY_INDEX.get(category)
        if index is None:
            raise LexiconError(f"unknown lexicon category {category!r}; known: {CATEGORY_NAMES}")
        # Rebuilt from the lookup tables when asked (profiling never asks): keeping the
        # lists as well would hold every entry twice.
        return frozenset(word for word, ix in self._exact.items() if index in ix) | frozenset(
            prefix + "*" for prefix, ix in self._prefixes.items() if index in ix
        )

    @classmethod
    def from_directory(cls, path: pathlib.Path) -> Lexicon:
        """Load the lists from a folder holding exactly one ``<category>.txt`` per category.

        Parameters
        ----------
        path : pathlib.Path
            The folder. Files not ending in ``.txt`` (such as ``README.md``) are ignored.

        Returns
        -------
        Lexicon
            The parsed lexicon.

        Raises
        ------
        LexiconError
            If the folder is missing, a category file is missing, an unknown ``.txt`` file
            is present, or an entry is malformed (message names the file and line).
        """
        return cls._from_traversable(path, str(path))

    @classmethod
    def _from_traversable(cls, root: Traversable, label: str) -> Lexicon:
        """Load from a :class:`pathlib.Path` or an :mod:`importlib.resources` folder."""
        if not root.is_dir():
            raise LexiconError(f"lexicon folder {label} does not exist or is not a folder")
        found = {item.name for item in root.iterdir() if item.name.endswith(_SUFFIX)}
        expected = {name + _SUFFIX for name in CATEGORY_NAMES}
        if found != expected:
            raise LexiconError(
                f"lexicon folder {label}: missing files {sorted(expected - found)}, "
                f"unknown files {sorted(found - expected)}"
            )
        entries: dict[str, list[str]] = {}
        digest = sha256()
        for name in CATEGORY_NAMES:
            file_name = name + _SUFFIX
            text = root.joinpath(file_name).read_text(encoding="utf-8")
            entries[name] = _parse_list(text, f"{label}/{file_name}")
            digest.update(f"{file_name}\0{text}\0".encode())
        lexicon = cls(entries)
        lexicon.source_sha256 = digest.hexdigest()
        return lexicon


@functools.lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    """Return the packaged lexicon (``edge_client/assets/lexicons``), loaded once.

    Returns
    -------
    Lexicon
        The lexicon shipped with the package.

    Raises
    ------
    LexiconError
        If the packaged lists are missing or malformed.
    """
    folder = asset_path("lexicons")
    return Lexicon._from_traversable(folder, "edge_client/assets/lexicons")
