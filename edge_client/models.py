"""The shipped on-device models: loading, inference, on-device training, weight exchange.

Each model is a ``.tflite`` file with five signatures and a JSON sidecar describing its
architecture, input (hash dimension, n-gram orders), output labels, version and the SHA-256
of the ``.tflite`` bytes, which is checked on every load. Two architectures ship
(:class:`Architecture`): the decision-style model is a frozen int8 linear layer with a
trainable hashed residual (``infer``, ``train``, ``get_weights``, ``set_weights``,
``constants``: its IDF, ``explain``: per-word terms); the interest model is a frozen int8
embedding bag with a small trainable head and a calibration temperature (``infer``,
``train``, ``get_weights``, ``set_weights``, ``explain``). Sparse linear files (every
bucket's weight trainable, the style model before version 2) still load.
``models/build.py`` builds them; ``edge_client/assets/models/*.md`` are their model cards.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from edge_client.errors import ModelError
from edge_client.packaged import asset_path
from edge_client.runtime import ReusedRunner, load_verified_model, read_sidecar
from edge_client.text.features import TextCounts
from edge_client.text.hashing import (
    HashedInput,
    PaddedRow,
    fold_counts,
    sparse_batch,
    sparse_input,
)

__all__ = [
    "Architecture",
    "Head",
    "LiteModel",
    "ModelName",
    "ModelSpec",
    "default_model_dir",
    "load_model",
]

WEIGHT_NAMES: tuple[str, ...] = ("w", "b")


class ModelName(Enum):
    """The models the edge client ships."""

    STYLE = "style"
    INTERESTS = "interests"


class Architecture(Enum):
    """How a model turns hashed words into outputs."""

    SPARSE_LINEAR = "sparse_linear"
    """One weight per bucket and output: ``w`` ``[hash_dim, outputs]`` is trainable."""
    EMBEDDING_BAG = "embedding_bag"
    """A frozen int8 embedding bag and a small trainable head ``w`` ``[dim, outputs]``."""
    HASHED_RESIDUAL = "hashed_residual"
    """Frozen int8 weight per bucket plus a trainable residual ``w`` ``[R, outputs]`` on the
    hash folded to ``R`` buckets (``R`` divides ``hash_dim``)."""

    @property
    def signatures(self) -> tuple[str, ...]:
        """The signatures a file of this architecture must have."""
        extra = {
            Architecture.SPARSE_LINEAR: ("constants",),
            Architecture.EMBEDDING_BAG: ("explain",),
            Architecture.HASHED_RESIDUAL: ("constants", "explain"),
        }[self]
        return ("infer", "train", "get_weights", "set_weights", *extra)


class Head(Enum):
    """Output activation."""

    SIGMOID = "sigmoid"
    SOFTMAX = "softmax"


@dataclass(frozen=True)
class ModelSpec:
    """What a model file expects and returns (parsed from its JSON sidecar).

    Attributes
    ----------
    name : str
        Model name (``style`` or ``interests``).
    version : str
        Model version.
    hash_dim : int
        Buckets of the hashed n-gram input (a power of two).
    bigrams : bool
        Whether hashed bigrams are part of the input (unigrams always are).
    head : Head
        Output activation.
    labels : tuple of str
        Output names, one per output column.
    sha256 : str
        SHA-256 of the ``.tflite`` bytes.
    category_reference : mapping of str to float
        Mean word-category shares of the training data (for explanations; may be empty).
    architecture : Architecture
        Sparse linear (the default of older sidecars) or embedding bag.
    temperature : float
        The calibration temperature folded into the model's logits (1.0: none).
    """

    name: str
    version: str
    hash_dim: int
    bigrams: bool
    head: Head
    labels: tuple[str, ...]
    sha256: str
    category_reference: Mapping[str, float] = field(default_factory=dict)
    architecture: Architecture = Architecture.SPARSE_LINEAR
    temperature: float = 1.0

    @classmethod
    def from_json(cls, path: Path) -> ModelSpec:
        """Parse and check a sidecar file.

        Raises
        ------
        ModelError
            Naming the file and the field that is missing or wrong.
        """
        raw = read_sidecar(path, ModelError)
        try:
            spec = cls(
                name=str(raw["name"]),
                version=str(raw["version"]),
                hash_dim=int(raw["hash_dim"]),
                bigrams=bool(raw["bigrams"]),
                head=Head(raw["head"]),
                labels=tuple(str(label) for label in raw["labels"]),
                sha256=str(raw["sha256"]),
                category_reference={
                    str(k): float(v) for k, v in dict(raw.get("category_reference", {})).items()
                },
                architecture=Architecture(raw.get("architecture", "sparse_linear")),
                temperature=float(raw.get("temperature", 1.0)),
            )
        except KeyError as exc:
            raise ModelError(f"{path}: missing field {exc.args[0]!r}") from None
        except (TypeError, ValueError) as exc:
            raise ModelError(f"{path}: malformed field ({exc})") from None
        if spec.hash_dim <= 0 or spec.hash_dim & (spec.hash_dim - 1):
            raise ModelError(f"{path}: hash_dim must be a power of two, got {spec.hash_dim}")
        if not (math.isfinite(spec.temperature) and spec.temperature > 0):
            raise ModelError(f"{path}: temperature must be a positive number")
        return spec

    def bags(self, counts: TextCounts) -> tuple[dict[int, float], ...]:
        """The hashed counts the model reads: unigrams, and bigrams if it uses them."""
        return (counts.unigrams, counts.bigrams) if self.bigrams else (counts.unigrams,)

    def row(self, counts: TextCounts) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]:
        """Sparse input ``(idx, val)`` of one set of counts."""
        return sparse_input(self.bags(counts), self.hash_dim)

    def inputs(
        self, counts: Sequence[TextCounts]
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]:
        """Padded model inputs ``(idx, val)`` for a batch of counts."""
        return sparse_batch([self.row(c) for c in counts])


def default_model_dir() -> Path:
    """Directory of the models packaged with :mod:`edge_client`."""
    return asset_path("models")


class LiteModel:
    """One shipped model running in the TensorFlow Lite runtime.

    Parameters
    ----------
    path : pathlib.Path
        The ``.tflite`` file; its sidecar is the same path with ``.json``.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.spec = ModelSpec.from_json(path.with_suffix(".json"))
        signatures = self.spec.architecture.signatures
        self._interpreter = load_verified_model(
            path, sha256=self.spec.sha256, signatures=signatures, error=ModelError
        )
        self._infer = ReusedRunner(self._interpreter, "infer")
        self._row = PaddedRow(self.spec.hash_dim)
        self._train = self._interpreter.get_signature_runner("train")
        self._get = self._interpreter.get_signature_runner("get_weights")
        self._set = self._interpreter.get_signature_runner("set_weights")
        self._extra = {
            name: self._interpreter.get_signature_runner(name) for name in signatures[4:]
        }

    def predict(self, counts: Sequence[TextCounts]) -> npt.NDArray[np.float32]:
        """Output probabilities ``[len(counts), len(labels)]``."""
        if not counts:
            return np.zeros((0, len(self.spec.labels)), np.float32)
        idx, val = self.spec.inputs(counts)
        return np.asarray(self._infer("probs", idx=idx, val=val), np.float32)

    def predict_hashed(
        self, keys: npt.NDArray[np.int64], counts: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.float32]:
        """Output probabilities ``[1, len(labels)]`` of one set of prepared counts.

        Parameters
        ----------
        keys, counts : numpy.ndarray
            :func:`~edge_client.text.hashing.hashed_counts` of ``spec.bags(text_counts)``;
            two models reading the same bags share them, so a profile converts the hashed
            counts once. The result equals ``predict([text_counts])``.
        """
        idx, val = sparse_batch([fold_counts(keys, counts, self.spec.hash_dim)])
        return np.asarray(self._infer("probs", idx=idx, val=val), np.float32)

    def predict_input(self, prepared: HashedInput) -> npt.NDArray[np.float32]:
        """Output probabilities ``[1, len(labels)]`` of one :class:`HashedInput`.

        The fast form of :meth:`predict_hashed` that a profile uses: the input row is
        folded into arrays the model reuses (:class:`~edge_client.text.hashing.PaddedRow`),
        so the result equals ``predict_hashed(prepared.keys, prepared.counts)`` bit for bit.

        Parameters
        ----------
        prepared : HashedInput
            :func:`~edge_client.text.hashing.hashed_input` of ``spec.bags(text_counts)``;
            two models reading the same bags share it.
        """
        idx, val = self._row.fill(prepared)
        return np.asarray(self._infer("probs", idx=idx, val=val), np.float32)

    def logits(self, counts: Sequence[TextCounts]) -> npt.NDArray[np.float32]:
        """Output logits ``[len(counts), len(labels)]``."""
        idx, val = self.spec.inputs(counts)
        return np.asarray(self._infer("logits", idx=idx, val=val), np.float32)

    def train_step(
        self,
        counts: Sequence[TextCounts],
        targets: npt.ArrayLike,
        *,
        learning_rate: float,
        l2: float = 0.0,
    ) -> float:
        """Run one SGD step of the model's own ``train`` signature on a batch.

        Parameters
        ----------
        counts : sequence of TextCounts
            The batch's inputs.
        targets : array_like
            ``[batch, len(labels)]`` targets (0/1 for sigmoid, a distribution for softmax).
        learning_rate : float
            SGD step size.
        l2 : float, default 0
            L2 penalty on the weights.

        Returns
        -------
        float
            The batch loss before the step.
        """
        y = np.asarray(targets, np.float32).reshape(len(counts), len(self.spec.labels))
        idx, val = self.spec.inputs(counts)
        out = self._train(
            idx=idx,
            val=val,
            y=y,
            lr=np.asarray(learning_rate, np.float32),
            l2=np.asarray(l2, np.float32),
        )
        return float(out["loss"])

    def get_weights(self) -> dict[str, npt.NDArray[np.float32]]:
        """Current weights by name (``w`` ``[D, C]``, ``b`` ``[C]``), as copies."""
        out = self._get()
        return {name: np.array(out[name], np.float32, copy=True) for name in WEIGHT_NAMES}

    def idf(self) -> npt.NDArray[np.float32]:
        """The model's fixed inverse document frequencies ``[D]`` (a copy).

        Raises
        ------
        ModelError
            For an embedding-bag model (its IDF is inside the encoder; use :meth:`terms`).
        """
        if "constants" not in self._extra:
            raise ModelError(f"{self.path.name}: only hashed linear models expose their IDF")
        return np.array(self._extra["constants"]()["idf"], np.float32, copy=True)

    def terms(self, counts: TextCounts) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float64]]:
        """Each input bucket's additive share of each output logit, biases left out.

        Parameters
        ----------
        counts : TextCounts
            One text's (or profile's) counts.

        Returns
        -------
        idx, terms : numpy.ndarray
            The ``K`` buckets of the input and ``[K, outputs]`` contributions; their sum
            over ``K`` plus the bias is the logit the model computes.
        """
        idx, val = self.spec.row(counts)
        if len(idx) == 0:
            return idx, np.zeros((0, len(self.spec.labels)))
        if "explain" not in self._extra:  # sparse linear: every bucket's weight is in ``w``
            v = val.astype(np.float64) * self.idf().astype(np.float64)[idx]
            v /= np.sqrt((v * v).sum()) + 1e-12
            w = self.get_weights()["w"].astype(np.float64)
            return idx, v[:, None] * w[idx]
        batch_idx, batch_val = sparse_batch([(idx, val)])
        out = self._extra["explain"](idx=batch_idx, val=batch_val)["terms"]
        return idx, np.asarray(out, np.float64)[0, : len(idx)]

    def set_weights(self, weights: Mapping[str, Any]) -> None:
        """Replace the weights; shapes and dtypes are checked first.

        Raises
        ------
        ModelError
            If a weight is missing or has the wrong shape, or values are not finite.
        """
        current = self.get_weights()
        arrays: dict[str, npt.NDArray[np.float32]] = {}
        for name in WEIGHT_NAMES:
            if name not in weights:
                raise ModelError(f"{self.path.name}: weight {name!r} missing")
            arr = np.asarray(weights[name], np.float32)
            if arr.shape != current[name].shape:
                raise ModelError(
                    f"{self.path.name}: weight {name!r} has shape {arr.shape}, "
                    f"expected {current[name].shape}"
                )
            if not np.all(np.isfinite(arr)):
                raise ModelError(f"{self.path.name}: weight {name!r} has non-finite values")
            arrays[name] = arr
        self._set(**arrays)


def load_model(name: ModelName, model_dir: Path | None = None) -> LiteModel:
    """Load one of the shipped models.

    Parameters
    ----------
    name : ModelName
        Which model.
    model_dir : pathlib.Path, optional
        Directory holding ``<name>.tflite`` and ``<name>.json`` (default: packaged).

    Returns
    -------
    LiteModel
        The loaded model.
    """
    directory = model_dir if model_dir is not None else default_model_dir()
    return LiteModel(directory / f"{name.value}.tflite")
