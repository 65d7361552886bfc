"""Public names of a package, each imported on first use (PEP 562).

A package's ``__init__`` lists its names and the module of each; :func:`lazy_names` gives
the module-level ``__getattr__`` and ``__dir__`` that import a name's module when the name
is first read, so importing the package loads only what is used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(
    package: str, names: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return ``__getattr__`` and ``__dir__`` for a package whose names load lazily.

    Parameters
    ----------
    package : str
        The package's ``__name__`` (for the error message).
    names : mapping of str to str
        Each public name and the module that defines it.
    namespace : dict
        The package's ``globals()``: a name is stored there once imported.

    Returns
    -------
    (__getattr__, __dir__)
        Assign them to the package's module-level ``__getattr__`` and ``__dir__``.
    """

    def __getattr__(name: str) -> Any:  # noqa: N807 - the module hook's own name
        """Import ``name``'s module on first use and keep the value."""
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:  # noqa: N807 - the module hook's own name
        """Public names, including those not imported yet."""
        return sorted(set(namespace) | set(namespace.get("__all__", ())))

    return __getattr__, __dir__
