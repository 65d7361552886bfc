"""The edge client's exception hierarchy.

Every error the edge client raises on purpose derives from :class:`EdgeProfilerError`,
which subclasses :class:`ValueError` so callers that only know the standard library can
still catch it. Messages name the problem (file, field, line), say how to fix it, and never
quote user text. Two errors also derive from the standard exception a caller would expect:
:class:`ArgumentError` is a :class:`TypeError` (a public function was given an argument of
the wrong kind or out of range) and :class:`MissingExtraError` is an :class:`ImportError`
(an optional part of the package needs an extra that is not installed).
"""

from __future__ import annotations

__all__ = [
    "ArgumentError",
    "EdgeProfilerError",
    "InputError",
    "MissingExtraError",
    "ModelError",
    "RuntimeUnavailableError",
    "TaxonomyError",
]


class EdgeProfilerError(ValueError):
    """Root of every error raised on purpose by :mod:`edge_client`."""


class InputError(EdgeProfilerError):
    """User input (text, file, JSON line) cannot be used; the message says why and where."""


class ArgumentError(EdgeProfilerError, TypeError):
    """A public function or constructor was called with an argument it cannot use.

    The message names the parameter, what was given (its type or value, never user text)
    and what to pass instead.
    """


class MissingExtraError(EdgeProfilerError, ImportError):
    """An optional part of edge-profiler needs a package extra that is not installed.

    Parameters
    ----------
    message : str
        What needs the extra.
    extra : str
        The extra to install (``pip install 'edge-profiler[<extra>]'``).
    module : str
        The missing top-level module.
    """

    def __init__(self, message: str, *, extra: str, module: str) -> None:
        super().__init__(
            f"{message} needs the '{extra}' extra ({module} is not installed): "
            f"pip install 'edge-profiler[{extra}]'"
        )
        self.extra = extra
        self.name = module


class ModelError(EdgeProfilerError):
    """A model file is missing, corrupt, or does not have the expected signatures."""


class RuntimeUnavailableError(EdgeProfilerError):
    """No TensorFlow Lite runtime (LiteRT or tflite-runtime) can be imported."""


class TaxonomyError(EdgeProfilerError):
    """The interest taxonomy file is malformed."""
