"""Checks for the arguments of public functions: the project's error, with the fix.

Public entry points call these before doing any work, so a wrong argument fails at once
with an :class:`~edge_client.errors.ArgumentError` that names the parameter, says what was
given (its type, or a short value for enums and numbers, never user text) and what to pass
instead. Where an enum is expected its value string is accepted too (``"profiling"`` for
``Purpose.PROFILING``); anything else is refused, never silently ignored.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from typing import TypeVar

from edge_client.errors import ArgumentError

__all__ = ["enum_member", "enum_members", "integer_in_range", "number_in_range"]

E = TypeVar("E", bound=enum.Enum)
_SHOWN = 40


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def _choices(kind: type[enum.Enum]) -> str:
    return ", ".join(repr(m.value) for m in kind)


def enum_member(kind: type[E], value: object, *, name: str) -> E:
    """Return ``value`` as a member of ``kind``, accepting the member or its value string.

    Parameters
    ----------
    kind : type of Enum
        The enum expected.
    value : object
        A member of ``kind`` or the string of a member's value (or name), any case.
    name : str
        The parameter, for the error message.

    Returns
    -------
    Enum
        The member.

    Raises
    ------
    ArgumentError
        When ``value`` is neither, listing the accepted values.
    """
    if isinstance(value, kind):
        return value
    if isinstance(value, str):
        wanted = value.strip().lower()
        for member in kind:
            if wanted in (str(member.value).lower(), member.name.lower()):
                return member
        raise ArgumentError(
            f"{name}: {_shown(value)} is not a {kind.__name__}; choose one of: {_choices(kind)}"
        )
    raise ArgumentError(
        f"{name}: expected a {kind.__name__} or its name as a string, got "
        f"{type(value).__name__}; choose one of: {_choices(kind)}"
    )


def enum_members(kind: type[E], values: object, *, name: str) -> tuple[E, ...]:
    """Return ``values`` (one member, one string, or an iterable of them) as members.

    Parameters
    ----------
    kind : type of Enum
        The enum expected.
    values : object
        A member, a value string, or a list/tuple/set of members or value strings.
    name : str
        The parameter, for the error message.

    Returns
    -------
    tuple of Enum
        The members in the order given, without repeats.

    Raises
    ------
    ArgumentError
        When ``values`` is not iterable, is a mapping or bytes, or holds anything else.
    """
    if isinstance(values, kind | str):
        return (enum_member(kind, values, name=name),)
    if isinstance(values, bytes | bytearray | Mapping) or not isinstance(values, Iterable):
        raise ArgumentError(
            f"{name}: expected a list of {kind.__name__} values, got {type(values).__name__} "
            f"(e.g. {name}=[{kind.__name__}.{next(iter(kind)).name}])"
        )
    members: list[E] = []
    for position, value in enumerate(values):
        member = enum_member(kind, value, name=f"{name}[{position}]")
        if member not in members:
            members.append(member)
    return tuple(members)


def number_in_range(value: object, *, name: str, low: float, high: float, hint: str = "") -> float:
    """Return ``value`` as a float if it is a finite real number in ``[low, high]``.

    Parameters
    ----------
    value : object
        The argument (``bool`` is refused: it is not a quantity).
    name : str
        The parameter, for the error message.
    low, high : float
        Inclusive bounds.
    hint : str, optional
        What the number means, appended to the message.

    Returns
    -------
    float
        The number.

    Raises
    ------
    ArgumentError
        When ``value`` is not a real number, not finite, or outside the bounds.
    """
    suffix = f" ({hint})" if hint else ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ArgumentError(
            f"{name}: expected a number in [{low:g}, {high:g}], got {type(value).__name__}" + suffix
        )
    number = float(value)
    if not math.isfinite(number) or not low <= number <= high:
        raise ArgumentError(f"{name}: must be in [{low:g}, {high:g}], got {_shown(value)}" + suffix)
    return number


def integer_in_range(value: object, *, name: str, low: int, high: int | None = None) -> int:
    """Return ``value`` if it is an ``int`` (not a ``bool``) in ``[low, high]``.

    Parameters
    ----------
    value : object
        The argument.
    name : str
        The parameter, for the error message.
    low : int
        Inclusive lower bound.
    high : int, optional
        Inclusive upper bound (none by default).

    Returns
    -------
    int
        The integer.

    Raises
    ------
    ArgumentError
        When ``value`` is not an integer or is out of range.
    """
    bounds = f">= {low}" if high is None else f"in [{low}, {high}]"
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArgumentError(f"{name}: expected an integer {bounds}, got {type(value).__name__}")
    if value < low or (high is not None and value > high):
        raise ArgumentError(f"{name}: must be an integer {bounds}, got {_shown(value)}")
    return value
