"""Nesting depth of JSON or TOML source, measured on the raw text before any parser runs.

Strings (and TOML comments) are blanked first, so brackets inside them do not count; what
remains is reduced to its brackets and the running depth is computed with NumPy, linear in
the input and without recursion.
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["bracket_depth"]

_BRACKETS = b"[]{}"
_DROP = bytes(b for b in range(256) if b not in _BRACKETS)
_STEP = np.zeros(256, dtype=np.int64)
_STEP[list(b"[{")] = 1
_STEP[list(b"]}")] = -1


def bracket_depth(code: bytes, skip: re.Pattern[bytes]) -> int:
    """Return the deepest bracket nesting of ``code`` outside what ``skip`` matches.

    Parameters
    ----------
    code : bytes
        JSON or TOML source.
    skip : re.Pattern[bytes]
        Matches strings (and comments) whose brackets must not count.

    Returns
    -------
    int
        The largest number of ``[``/``{`` open at once (0 without brackets). Unbalanced or
        unterminated input can only raise the figure, never lower it.
    """
    if b"[" not in code and b"{" not in code:
        return 0
    brackets = skip.sub(b"", code).translate(None, _DROP)
    if not brackets:
        return 0
    steps = _STEP[np.frombuffer(brackets, dtype=np.uint8)]
    return int(np.cumsum(steps).max(initial=0))
