"""The TensorFlow Lite runtime adapter: LiteRT first, tflite-runtime as the fallback.

``ai-edge-litert`` (LiteRT) is the maintained runtime and works with NumPy 2;
``tflite-runtime`` 2.14 is frozen, ships wheels for CPython <= 3.11 only and needs
NumPy < 2 (the ``tflite`` extra pins it). Both expose the same ``Interpreter`` with
signature runners, which is all the edge client uses. Set ``EDGEPROF_RUNTIME`` to
``litert`` or ``tflite-runtime`` to force one (the CI proves both); the default ``auto``
takes the first that imports.

Both runtimes print ``INFO: Created TensorFlow Lite XNNPACK delegate for CPU.`` from C++
straight to file descriptor 2 when the first interpreter allocates its tensors, and offer no
option to silence it: the only switch, the op resolver without default delegates, turns
XNNPACK off, which makes the ranking model twice as slow and changes the interest model's
outputs in the last bits. :func:`load_interpreter` therefore points descriptor 2 at a
temporary file while it creates the interpreter, and hands what was captured to the
``edge_client.runtime`` logger at INFO level (``edgeprof -v`` shows it); if loading fails,
the captured lines go into the error message.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt

from edge_client import digest
from edge_client.errors import EdgeProfilerError, ModelError, RuntimeUnavailableError

__all__ = [
    "Backend",
    "ReusedRunner",
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
_LOGGER_NAME = "edge_client.runtime"
_STDERR_LOCK = threading.Lock()  # descriptor 2 is process-wide: one redirection at a time
_CAPTURE_LIMIT = 64 * 1024
_HASH_CHUNK = 256 * 1024


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
def _interpreter_class(backends: tuple[Backend, ...]) -> tuple[Any, Backend]:
    failures: list[str] = []
    for backend in backends:
        try:
            module = importlib.import_module(_MODULES[backend])
        except ImportError as exc:
            failures.append(f"{_DISTRIBUTIONS[backend]}: {exc}")
            continue
        return module.Interpreter, backend
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
    return _runtime_info(_interpreter_class(_requested())[1])


@lru_cache(maxsize=4)
def _runtime_info(backend: Backend) -> RuntimeInfo:
    """The backend with its installed version.

    Read only when asked: ``importlib.metadata`` costs tens of milliseconds to import
    (it pulls in the ``email`` package), which loading a model does not need.
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version(_DISTRIBUTIONS[backend])
    except PackageNotFoundError:  # pragma: no cover - imported, so it is installed
        found = "unknown"
    return RuntimeInfo(backend, found)


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
    captured: list[str] = []
    try:
        with _native_stderr_captured(captured):
            interpreter = cls(model_path=str(path), num_threads=num_threads)
            interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        said = "; ".join(captured[-5:])
        raise ModelError(
            f"{path}: not a loadable TensorFlow Lite model ({exc})"
            + (f"; the runtime said: {said}" if said else "")
        ) from None
    return interpreter


@contextlib.contextmanager
def _native_stderr_captured(lines: list[str]) -> Iterator[None]:
    """Send what native code writes to descriptor 2 into ``lines`` (and INFO logs).

    Python's own ``sys.stderr`` is flushed first and written to as usual afterwards. If
    descriptor 2 cannot be duplicated (closed, or no temporary file), nothing is redirected.
    """
    with _STDERR_LOCK:
        with contextlib.suppress(AttributeError, OSError, ValueError):  # no usable stderr
            sys.stderr.flush()
        try:
            sink = _capture_file()
        except OSError:  # no temporary folder: leave descriptor 2 alone
            yield
            return
        with sink:
            try:
                saved = os.dup(2)
            except OSError:  # descriptor 2 is closed: nothing to protect
                yield
                return
            try:
                os.dup2(sink.fileno(), 2)
                yield
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                sink.seek(0)
                text = sink.read(_CAPTURE_LIMIT).decode("utf-8", errors="replace")
                for line in filter(None, (raw.strip() for raw in text.splitlines())):
                    lines.append(line)
                    _log_info(line)


def _log_info(line: str) -> None:
    """Log a captured line at INFO on ``edge_client.runtime``, if logging is in use.

    A process that never imported :mod:`logging` has configured no handler, and a record
    at INFO would be dropped (the last-resort handler shows warnings and worse), so the
    module is not imported for it (about 3 ms at start). ``edgeprof -v`` and any app that
    configured logging before loading a model see the line.
    """
    logging = sys.modules.get("logging")
    if logging is not None:
        logging.getLogger(_LOGGER_NAME).info("%s", line)


def _capture_file() -> BinaryIO:
    """An anonymous file for the captured lines: in memory on Linux, else a temporary file.

    ``memfd_create`` needs no folder and no ``tempfile`` import (about 5 ms and 0.9 MB at
    start, with ``shutil``, ``random`` and the compression modules it pulls in).

    Raises
    ------
    OSError
        If neither can be created.
    """
    create = getattr(os, "memfd_create", None)
    if create is not None:
        with contextlib.suppress(OSError):  # an old kernel: fall back to a temporary file
            return os.fdopen(create("edgeprof-stderr", os.MFD_CLOEXEC), "w+b")
    import tempfile

    return tempfile.TemporaryFile()


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
        # Hashed in chunks: the whole file is never held in memory next to the runtime's
        # own mapping of it (the peak RSS of a start is lower by the model's size).
        with path.open("rb") as handle:
            hasher = digest.sha256()
            for chunk in iter(lambda: handle.read(_HASH_CHUNK), b""):
                hasher.update(chunk)
        found = hasher.hexdigest()
    except OSError as exc:
        raise error(f"{path}: cannot read model ({exc})") from None
    if found != sha256:
        raise error(f"{path}: SHA-256 does not match its sidecar; refusing to load")
    interpreter = load_interpreter(path)
    missing = [s for s in signatures if s not in interpreter.get_signature_list()]
    if missing:
        raise error(f"{path}: missing signatures {missing}")
    return interpreter


class ReusedRunner:
    """A signature runner that prepares its input tensors only when their shapes change.

    The runtimes' ``SignatureRunner.__call__`` resizes every input tensor, re-plans the
    subgraph and copies every output on each call. Profiling calls ``infer`` with the same
    padded shapes again and again, so this runner remembers the shapes it last set, resizes
    only when they differ, and copies out only the output asked for. It drives the same
    interpreter through the same calls as the runtime's own runner (LiteRT and
    tflite-runtime share them), so outputs are identical; if a runtime's runner lacks those
    internals, every call goes through the runtime's runner instead.

    Parameters
    ----------
    interpreter : Interpreter
        A loaded interpreter (:func:`load_interpreter`).
    signature : str
        The signature to run.
    """

    __slots__ = ("_inputs", "_outputs", "_runner", "_shapes", "_subgraph", "_wrapper")

    def __init__(self, interpreter: Any, signature: str) -> None:
        self._runner = interpreter.get_signature_runner(signature)
        try:
            self._wrapper = self._runner._interpreter_wrapper
            self._inputs: dict[str, int] = dict(self._runner._inputs)
            self._outputs: dict[str, int] = dict(self._runner._outputs)
            self._subgraph: int = int(self._runner._subgraph_index)
        except (AttributeError, TypeError, ValueError):  # another runtime's internals
            self._wrapper = None
            self._inputs, self._outputs, self._subgraph = {}, {}, 0
        self._shapes: dict[str, tuple[int, ...]] = {}

    def __call__(self, output: str, **inputs: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """Run the signature on ``inputs`` and return the output named ``output``."""
        wrapper = self._wrapper
        if wrapper is None or inputs.keys() != self._inputs.keys() or output not in self._outputs:
            return np.asarray(self._runner(**inputs)[output])
        subgraph = self._subgraph
        shapes = self._shapes
        for name, value in inputs.items():
            if shapes.get(name) != value.shape:
                wrapper.ResizeInputTensor(
                    self._inputs[name], np.array(value.shape, np.int32), False, subgraph
                )
                shapes[name] = value.shape
        wrapper.AllocateTensors(subgraph)  # returns at once when nothing was resized
        for name, value in inputs.items():
            wrapper.SetTensor(self._inputs[name], value, subgraph)
        wrapper.Invoke(subgraph)
        return np.asarray(wrapper.GetTensor(self._outputs[output], subgraph))
