"""The TensorFlow Lite runtime adapter: LiteRT first, tflite-runtime as the fallback.

``ai-edge-litert`` (LiteRT) is the maintained runtime and works with NumPy 2;
``tflite-runtime`` 2.14 is frozen, ships wheels for CPython <= 3.11 only and needs
NumPy < 2 (the ``tflite`` extra pins it). Both expose the same ``Interpreter`` with
signature runners, which is all the edge client uses. Set ``EDGEPROF_RUNTIME`` to
``litert`` or ``tflite-runtime`` to force one (the CI proves both); the default ``auto``
takes the first that imports.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Any

from edge_client.errors import EdgeProfilerError, ModelError, RuntimeUnavailableError

__all__ = [
    "Backend",
    "RuntimeInfo",
    "load_interpreter",
    "load_verified_model",
    "read_sidecar",
    "runtime_info",
]


class Backend(Enum):
    """A TensorFlow Lite runtime package."""

    LITERT = "litert"
    TFLITE_RUNTIME = "tflite-runtime"


_MODULES = {
    Backend.LITERT: "ai_edge_litert.interpreter",
    Backend.TFLITE_RUNTIME: "tflite_runtime.interpreter",
}
_DISTRIBUTIONS = {Backend.LITERT: "ai-edge-litert", Backend.TFLITE_RUNTIME: "tflite-runtime"}


@dataclass(frozen=True)
class RuntimeInfo:
    """Which runtime is in use.

    Attributes
    ----------
    backend : Backend
        The runtime package.
    version : str
        Its installed version.
    """

    backend: Backend
    version: str


def _requested() -> tuple[Backend, ...]:
    raw = os.environ.get("EDGEPROF_RUNTIME", "auto").strip().lower()
    if raw in ("", "auto"):
        return (Backend.LITERT, Backend.TFLITE_RUNTIME)
    try:
        return (Backend(raw),)
    except ValueError:
        choices = ", ".join(["auto", *(b.value for b in Backend)])
        raise RuntimeUnavailableError(
            f"EDGEPROF_RUNTIME={raw!r} is not a runtime; choose one of: {choices}"
        ) from None


@lru_cache(maxsize=4)
def _interpreter_class(backends: tuple[Backend, ...]) -> tuple[Any, RuntimeInfo]:
    from importlib.metadata import PackageNotFoundError, version

    failures: list[str] = []
    for backend in backends:
        try:
            module = importlib.import_module(_MODULES[backend])
        except ImportError as exc:
            failures.append(f"{_DISTRIBUTIONS[backend]}: {exc}")
            continue
        try:
            found = version(_DISTRIBUTIONS[backend])
        except PackageNotFoundError:  # pragma: no cover - imported, so it is installed
            found = "unknown"
        return module.Interpreter, RuntimeInfo(backend, found)
    raise RuntimeUnavailableError(
        "no TensorFlow Lite runtime could be imported ("
        + "; ".join(failures)
        + "). Install ai-edge-litert, or the 'tflite' extra for tflite-runtime."
    )


def runtime_info() -> RuntimeInfo:
    """Return the runtime the edge client will use.

    Returns
    -------
    RuntimeInfo
        Backend and version.

    Raises
    ------
    RuntimeUnavailableError
        If no runtime imports, or ``EDGEPROF_RUNTIME`` names an unknown one.
    """
    return _interpreter_class(_requested())[1]


def load_interpreter(path: Path, *, num_threads: int = 1) -> Any:
    """Load a ``.tflite`` file into an interpreter with tensors allocated.

    Parameters
    ----------
    path : pathlib.Path
        The model file.
    num_threads : int, default 1
        Interpreter threads; one is right for small models on a phone-class core.

    Returns
    -------
    Interpreter
        A LiteRT or tflite-runtime interpreter (same API).

    Raises
    ------
    ModelError
        If the file is missing or is not a valid model.
    RuntimeUnavailableError
        If no runtime imports.
    """
    cls = _interpreter_class(_requested())[0]
    if not path.is_file():
        raise ModelError(f"{path}: model file not found")
    try:
        interpreter = cls(model_path=str(path), num_threads=num_threads)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise ModelError(f"{path}: not a loadable TensorFlow Lite model ({exc})") from None
    return interpreter


def read_sidecar(path: Path, error: type[EdgeProfilerError] = ModelError) -> dict[str, Any]:
    """Read a model's JSON sidecar as a mapping.

    Parameters
    ----------
    path : pathlib.Path
        The ``.json`` sidecar.
    error : type of EdgeProfilerError, default ModelError
        The error to raise (each model family has its own).

    Returns
    -------
    dict
        The sidecar's fields.

    Raises
    ------
    EdgeProfilerError
        Of type ``error``, naming the file, if it cannot be read or is not a JSON object.
    """
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise error(f"{path}: cannot read model sidecar ({exc})") from None
    if not isinstance(raw, dict):
        raise error(f"{path}: model sidecar must be a JSON object")
    return raw


def load_verified_model(
    path: Path,
    *,
    sha256: str,
    signatures: Sequence[str],
    error: type[EdgeProfilerError] = ModelError,
) -> Any:
    """Load a ``.tflite`` file only if its bytes match ``sha256`` and it has ``signatures``.

    Parameters
    ----------
    path : pathlib.Path
        The model file.
    sha256 : str
        Expected SHA-256 (hex) of the file, from its sidecar.
    signatures : sequence of str
        Signature names the caller needs.
    error : type of EdgeProfilerError, default ModelError
        The error to raise on a mismatch.

    Returns
    -------
    Interpreter
        The loaded interpreter.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise error(f"{path}: cannot read model ({exc})") from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise error(f"{path}: SHA-256 does not match its sidecar; refusing to load")
    interpreter = load_interpreter(path)
    missing = [s for s in signatures if s not in interpreter.get_signature_list()]
    if missing:
        raise error(f"{path}: missing signatures {missing}")
    return interpreter
