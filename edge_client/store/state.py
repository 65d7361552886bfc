"""What a store state may contain, checked before anything is encrypted or written.

A state is a mapping of named sections (``{"profile": {...}, "feedback": [...]}``) whose
values are built from ``dict`` (``str`` keys), ``list``, ``str``, ``int``, ``float``,
``bytes``, ``bool`` and ``None`` only, so that msgpack gives back exactly what was saved.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from edge_client.store.errors import StoreValueError

__all__ = ["MAX_DEPTH", "State", "validate_state"]

#: A store state: section name -> msgpack-able value.
State = dict[str, Any]

#: Deepest nesting of containers accepted inside one section.
MAX_DEPTH = 64
_INT_MIN = -(2**63)
_INT_MAX = 2**64 - 1
# Keys are shown in error paths only when they look like identifiers; anything else could be
# user-derived text and is shown by position instead.
_SHOWABLE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,39}")


def _show_key(key: str, position: int) -> str:
    return repr(key) if _SHOWABLE_KEY.fullmatch(key) else f"<key #{position}>"


def validate_state(state: Mapping[str, Any]) -> None:
    """Check that ``state`` round-trips through msgpack unchanged; raise before any write.

    Parameters
    ----------
    state : Mapping[str, Any]
        Section name -> value.

    Raises
    ------
    StoreValueError
        Naming the offending section and the path inside it (keys that are not plain
        identifiers are shown by position, so no user text leaks into the message): for a
        non-mapping state, a non-``str`` or empty section name or key, an unsupported type
        (including ``tuple``, ``set``, ``bytearray``), an integer outside msgpack's 64-bit
        range, a string that is not valid Unicode, a reference cycle or nesting deeper than
        :data:`MAX_DEPTH`.
    """
    if not isinstance(state, Mapping):
        raise StoreValueError(
            f"store state must be a mapping of section names, got {type(state).__name__}"
        )
    for position, (name, value) in enumerate(state.items()):
        if not isinstance(name, str) or not name:
            kind = "an empty string" if name == "" else type(name).__name__
            raise StoreValueError(f"section #{position}: name must be a non-empty str, got {kind}")
        _check_value(value, f"section {_show_key(name, position)}", depth=0, active=set())


def _check_value(value: object, where: str, *, depth: int, active: set[int]) -> None:
    if value is None or isinstance(value, bool | float | bytes):
        return
    if isinstance(value, int):
        if not _INT_MIN <= value <= _INT_MAX:
            raise StoreValueError(f"{where}: integer outside the 64-bit range msgpack can store")
        return
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            message = f"{where}: string is not valid Unicode (lone surrogate)"
            raise StoreValueError(message) from None
        return
    if isinstance(value, tuple):
        raise StoreValueError(f"{where}: tuple cannot be stored faithfully; use a list")
    if not isinstance(value, dict | list):
        raise StoreValueError(f"{where}: values of type {type(value).__name__} cannot be stored")
    _check_container(value, where, depth=depth, active=active)


def _check_container(
    value: dict[object, object] | list[object], where: str, *, depth: int, active: set[int]
) -> None:
    if depth >= MAX_DEPTH:
        raise StoreValueError(f"{where}: nested deeper than {MAX_DEPTH} containers")
    if id(value) in active:
        raise StoreValueError(f"{where}: contains a reference cycle")
    active.add(id(value))
    if isinstance(value, dict):
        for position, (key, item) in enumerate(value.items()):
            if not isinstance(key, str):
                raise StoreValueError(
                    f"{where}: mapping key #{position} is of type {type(key).__name__}; "
                    "keys must be str"
                )
            inner = f"{where}[{_show_key(key, position)}]"
            _check_value(item, inner, depth=depth + 1, active=active)
    else:
        for position, item in enumerate(value):
            _check_value(item, f"{where}[{position}]", depth=depth + 1, active=active)
    active.discard(id(value))
