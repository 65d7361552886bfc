"""edge_client: on-device profiling of decision style and interests with LiteRT models.

The public API is re-exported here; everything else is an implementation module. Names are
imported on first use, so ``import edge_client`` loads almost nothing; the TensorFlow Lite
runtime is imported only when a model is first loaded. Every error raised
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

from typing import TYPE_CHECKING, Any

from edge_client.errors import (
    ArgumentError,
    EdgeProfilerError,
    InputError,
    MissingExtraError,
    ModelError,
    RuntimeUnavailableError,
    TaxonomyError,
)

if TYPE_CHECKING:
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


# The public names live in modules that import NumPy, the policy engine and the models'
# code: each is imported on first access (PEP 562), so ``import edge_client`` stays light.
_LAZY = {
    "ConsentError": "edge_client.policy.errors",
    "DecisionStyle": "edge_client.profile",
    "EdgeProfiler": "edge_client.profiler",
    "Evidence": "edge_client.profile",
    "Explanation": "edge_client.explain",
    "Interest": "edge_client.profile",
    "PolicyError": "edge_client.policy.errors",
    "Profile": "edge_client.profile",
    "Purpose": "edge_client.policy.model",
    "Signal": "edge_client.explain",
}


def __getattr__(name: str) -> Any:
    """Import a public name on first use; compute ``__version__`` only when asked."""
    if name == "__version__":
        value: Any = _version()
    elif name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
    else:
        raise AttributeError(f"module 'edge_client' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """Public names, including those not imported yet."""
    return sorted(set(globals()) | set(__all__))
