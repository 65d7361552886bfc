"""What a cold start imports.

``import edge_client`` is light, and profiling never needs the modules that only errors,
explanations, policy reading or runtime reports use.
"""

from __future__ import annotations

import json
import subprocess
import sys

import edge_client


def imported_after(code: str) -> set[str]:
    """Modules loaded in a fresh interpreter after running ``code``."""
    done = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_import_edge_client_loads_no_numpy_policy_or_runtime() -> None:
    """``import edge_client`` imports neither NumPy nor the policy engine nor a runtime."""
    loaded = imported_after("import edge_client")
    heavy = {"numpy", "edge_client.policy", "edge_client.profiler", "ai_edge_litert"}
    assert not heavy & loaded


def test_a_profile_loads_no_explanation_or_report_modules() -> None:
    """A first profile imports only what profiling needs (no explainers, events, OpenSSL)."""
    loaded = imported_after(
        "from edge_client import EdgeProfiler, Purpose\n"
        "p = EdgeProfiler(consent=[Purpose.PROFILING])\n"
        "p.observe('We compared the cost of both options in detail before deciding.')\n"
        "p.profile()"
    )
    assert "edge_client.models" in loaded  # the models did load
    # What NumPy and the runtime import themselves is not the edge client's doing (NumPy 1.x,
    # which tflite-runtime needs, imports numpy.random and with it hashlib's OpenSSL).
    theirs = imported_after(
        "import numpy\n"
        "try:\n    import ai_edge_litert.interpreter\n"
        "except ImportError:\n    import tflite_runtime.interpreter"
    )
    for name in (
        "edge_client.explain",
        "edge_client.policy.explain",
        "edge_client.behaviour.events",
        "edge_client.behaviour.recorder",
        "edge_client.behaviour.context",
        "dp_accounting",
        "_hashlib",  # OpenSSL: 3.6 MB resident (edge_client.digest)
        "zipfile",  # importlib.resources (edge_client.packaged)
        "tempfile",  # the runtime's stderr capture uses a memfd on Linux
        "logging",  # only used to log the runtime's line where an app configured logging
        "msgpack",  # the store's and bundles' decoder
        "scipy",
        "difflib",
        "email",
    ):
        assert name not in loaded or name in theirs, name
    assert not any(m.startswith("importlib.metadata") for m in loaded)


def test_public_names_resolve_lazily() -> None:
    """Every name in ``__all__`` resolves, and ``dir()`` lists names not imported yet."""
    for name in edge_client.__all__:
        assert getattr(edge_client, name) is not None
    assert set(edge_client.__all__) <= set(dir(edge_client))
