"""edge_client: on-device profiling of decision style and interests with LiteRT models.

The public API is re-exported here; everything else is an implementation module. The
TensorFlow Lite runtime is imported only when a model is first loaded. Every error raised
on purpose derives from :class:`EdgeProfilerError`.

Examples
--------
>>> from edge_client import EdgeProfiler, Purpose
>>> profiler = EdgeProfiler(consent=[Purpose.PROFILING])
>>> profiler.observe("We compared both options on cost and reliability before deciding.")
>>> profiler.profile().words
10
"""

from __future__ import annotations

from typing import Any

from edge_client.errors import (
    ArgumentError,
    EdgeProfilerError,
    InputError,
    MissingExtraError,
    ModelError,
    RuntimeUnavailableError,
    TaxonomyError,
)
from edge_client.explain import Explanation, Signal
from edge_client.policy.errors import ConsentError, PolicyError
from edge_client.policy.model import Purpose
from edge_client.profile import DecisionStyle, Evidence, Interest, Profile
from edge_client.profiler import EdgeProfiler

__all__ = [
    "ArgumentError",
    "ConsentError",
    "DecisionStyle",
    "EdgeProfiler",
    "EdgeProfilerError",
    "Evidence",
    "Explanation",
    "InputError",
    "Interest",
    "MissingExtraError",
    "ModelError",
    "PolicyError",
    "Profile",
    "Purpose",
    "RuntimeUnavailableError",
    "Signal",
    "TaxonomyError",
    "__version__",
]

_DISTRIBUTION = "edge-profiler"
_UNKNOWN_VERSION = "0+unknown"


def _version() -> str:
    """Return the installed distribution's version, or ``0+unknown`` when not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(_DISTRIBUTION)
    except PackageNotFoundError:  # running from a source tree that was never installed
        return _UNKNOWN_VERSION


def __getattr__(name: str) -> Any:
    """Compute ``__version__`` on first use (package metadata is read only when asked)."""
    if name == "__version__":
        value = _version()
        globals()[name] = value
        return value
    raise AttributeError(f"module 'edge_client' has no attribute {name!r}")
