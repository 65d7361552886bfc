"""The error every bounded decoder raises: what is wrong, and where (file, line, field).

:class:`DecodeError` is an :class:`~edge_client.errors.InputError`, so callers that already
handle bad input handle it too; packages with their own error root (policy, store, bundles)
re-raise it as theirs, keeping the message. Messages never quote the input: a field is
named by its path only when every key on it looks like an identifier, else by position.
"""

from __future__ import annotations

import re

from edge_client.errors import InputError

__all__ = ["DecodeError", "show_key"]

# Keys are shown in field paths only when they look like identifiers; anything else could be
# user text and is shown by position instead.
_SHOWABLE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,39}")


def show_key(key: object, position: int) -> str:
    """Return how a mapping key appears in a field path (never free text).

    Parameters
    ----------
    key : object
        The key as decoded.
    position : int
        Its position in the mapping, used when the key is not shown.

    Returns
    -------
    str
        The key itself when it is a short identifier, else ``<key #position>``.
    """
    return key if isinstance(key, str) and _SHOWABLE_KEY.fullmatch(key) else f"<key #{position}>"


class DecodeError(InputError):
    """An input was refused before or while decoding it.

    Parameters
    ----------
    source : str
        The file (or ``<stdin>``, ``<string>``) the input came from.
    problem : str
        What is wrong, in plain words (never the input's text).
    line : int, optional
        1-based line of the input, when known.
    field : str, optional
        Dotted path of the field at fault, when known.

    Attributes
    ----------
    source, problem, line, field
        As given.
    """

    def __init__(
        self, source: str, problem: str, *, line: int | None = None, field: str | None = None
    ) -> None:
        self.source, self.problem, self.line, self.field = source, problem, line, field
        where = source if line is None else f"{source}:{line}"
        what = f"field {field!r}: " if field else ""
        super().__init__(f"{where}: {what}{problem}")
