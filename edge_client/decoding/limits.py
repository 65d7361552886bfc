"""How much of each input kind is read at most: size, depth and numeric range.

Every reader passes one :class:`Limits` to its decoder; the bounds are checked on the raw
bytes (size, nesting depth, length of dotted keys) before a parser recurses or allocates,
and on the decoded values (integers, floats, strings) before any code uses them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["INT64_MAX", "Limits"]

INT64_MAX = 2**63 - 1
"""Largest integer magnitude any decoder accepts (what msgpack and the store can hold)."""


@dataclass(frozen=True)
class Limits:
    """Bounds for one input kind.

    Parameters
    ----------
    max_bytes : int
        Largest input (a file, a JSON line, a payload) in bytes.
    max_depth : int
        Deepest nesting of arrays/tables/maps (a top-level object is depth 1).
    max_int : int
        Largest integer magnitude; anything beyond is refused, not converted.
    allow_non_finite : bool
        Whether ``inf``/``nan`` floats pass (TOML and msgpack can hold them; JSON cannot).
    max_key_segments : int
        Most parts of one dotted TOML key (``a.b.c`` has three).
    """

    max_bytes: int
    max_depth: int = 32
    max_int: int = INT64_MAX
    allow_non_finite: bool = False
    max_key_segments: int = 8

    def __post_init__(self) -> None:
        """Check that every bound is positive (a misconfigured bound is a programming error)."""
        if min(self.max_bytes, self.max_depth, self.max_int, self.max_key_segments) < 1:
            raise ValueError("Limits: every bound must be >= 1")

    @property
    def max_int_digits(self) -> int:
        """Most decimal digits an integer literal may have before it is even converted."""
        return len(str(self.max_int))

    def with_bytes(self, max_bytes: int) -> Limits:
        """Return a copy with another size bound.

        Parameters
        ----------
        max_bytes : int
            The new bound.

        Returns
        -------
        Limits
            The same limits otherwise.
        """
        return replace(self, max_bytes=max_bytes)
