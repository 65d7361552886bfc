"""edge_client: on-device profiling of decision style and interests with LiteRT models.

The public API is re-exported here; everything else is an implementation module. The
TensorFlow Lite runtime is imported only when a model is first loaded.

Examples
--------
>>> from edge_client import EdgeProfiler
>>> profiler = EdgeProfiler()
>>> profiler.observe("We compared both options on cost and reliability before deciding.")
>>> profiler.profile().words
10
"""

from __future__ import annotations

from edge_client.errors import (
    EdgeProfilerError,
    InputError,
    ModelError,
    RuntimeUnavailableError,
    TaxonomyError,
)
from edge_client.explain import Explanation, Signal
from edge_client.profile import DecisionStyle, Evidence, Interest, Profile
from edge_client.profiler import EdgeProfiler

__all__ = [
    "DecisionStyle",
    "EdgeProfiler",
    "EdgeProfilerError",
    "Evidence",
    "Explanation",
    "InputError",
    "Interest",
    "ModelError",
    "Profile",
    "RuntimeUnavailableError",
    "Signal",
    "TaxonomyError",
]
