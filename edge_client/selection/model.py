"""The on-device ranking model: a LiteRT file that scores and trains on feature rows.

``ranking.tflite`` (built by ``python -m models.ranking``) has four signatures: ``infer``,
``train``, ``get_weights`` and ``set_weights``. Its JSON sidecar lists the interest nodes
and dense features of the input layout and the SHA-256 of the ``.tflite`` bytes, checked on
every load like :class:`~edge_client.models.LiteModel`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from edge_client.models import default_model_dir
from edge_client.runtime import load_verified_model, read_sidecar
from edge_client.selection.errors import RankingModelError
from edge_client.selection.features import DENSE_FEATURES

__all__ = ["RANKING_WEIGHTS", "RankingModel", "RankingSpec", "load_ranking_model"]

RANKING_WEIGHTS: tuple[str, ...] = ("w", "v", "b")
"""Names of the ranking model's weights, as ``get_weights``/``set_weights`` exchange them."""
_SIGNATURES = ("infer", "train", "get_weights", "set_weights")


@dataclass(frozen=True)
class RankingSpec:
    """The ranking model's sidecar.

    Attributes
    ----------
    version : str
        Model version.
    nodes : tuple of str
        Interest nodes of the input layout, in column order.
    dense_features : tuple of str
        Dense feature names, in column order.
    sha256 : str
        SHA-256 of the ``.tflite`` bytes.
    """

    version: str
    nodes: tuple[str, ...]
    dense_features: tuple[str, ...]
    sha256: str

    @property
    def width(self) -> int:
        """Return the number of input columns, ``2N + E``."""
        return 2 * len(self.nodes) + len(self.dense_features)

    @classmethod
    def from_json(cls, path: Path) -> RankingSpec:
        """Parse and check a sidecar file.

        Raises
        ------
        RankingModelError
            Naming the file and the field that is missing or wrong.
        """
        raw = read_sidecar(path, RankingModelError)
        try:
            spec = cls(
                version=str(raw["version"]),
                nodes=tuple(str(n) for n in raw["nodes"]),
                dense_features=tuple(str(f) for f in raw["dense_features"]),
                sha256=str(raw["sha256"]),
            )
        except KeyError as exc:
            raise RankingModelError(f"{path}: missing field {exc.args[0]!r}") from None
        except TypeError as exc:
            raise RankingModelError(f"{path}: malformed field ({exc})") from None
        expected = tuple(f.value for f in DENSE_FEATURES)
        if spec.dense_features != expected:
            raise RankingModelError(
                f"{path}: field 'dense_features' is {list(spec.dense_features)}, this client "
                f"computes {list(expected)}"
            )
        return spec


class RankingModel:
    """The ranking model running in the TensorFlow Lite runtime.

    Parameters
    ----------
    path : pathlib.Path
        The ``.tflite`` file; its sidecar is the same path with ``.json``.

    Raises
    ------
    RankingModelError
        If the sidecar is invalid, the SHA-256 does not match or a signature is missing.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.spec = RankingSpec.from_json(path.with_suffix(".json"))
        interpreter = load_verified_model(
            path, sha256=self.spec.sha256, signatures=_SIGNATURES, error=RankingModelError
        )
        self._interpreter = interpreter
        self._infer = interpreter.get_signature_runner("infer")
        self._train = interpreter.get_signature_runner("train")
        self._get = interpreter.get_signature_runner("get_weights")
        self._set = interpreter.get_signature_runner("set_weights")

    def _check(self, x: npt.ArrayLike) -> npt.NDArray[np.float32]:
        arr = np.ascontiguousarray(x, np.float32)
        if arr.ndim != 2 or arr.shape[1] != self.spec.width:
            raise RankingModelError(
                f"{self.path.name}: input must have shape [rows, {self.spec.width}], "
                f"got {list(arr.shape)}"
            )
        return arr

    def logits(self, x: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Return the logit of each feature row (``[rows]``)."""
        arr = self._check(x)
        if arr.shape[0] == 0:
            return np.zeros(0, np.float32)
        return np.asarray(self._infer(x=arr)["logits"], np.float32)

    def predict(self, x: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Return the engagement probability of each feature row (``[rows]``)."""
        arr = self._check(x)
        if arr.shape[0] == 0:
            return np.zeros(0, np.float32)
        return np.asarray(self._infer(x=arr)["probs"], np.float32)

    def train_step(
        self, x: npt.ArrayLike, y: npt.ArrayLike, *, learning_rate: float, l2: float = 0.0
    ) -> float:
        """Run one SGD step of the model's own ``train`` signature.

        Parameters
        ----------
        x : array_like
            ``[rows, width]`` features.
        y : array_like
            ``[rows]`` labels, 1 for engaged and 0 for not.
        learning_rate : float
            SGD step size.
        l2 : float, default 0
            Pull towards the shipped prior weights.

        Returns
        -------
        float
            The batch loss before the step.
        """
        arr = self._check(x)
        labels = np.asarray(y, np.float32).reshape(arr.shape[0])
        out = self._train(
            x=arr, y=labels, lr=np.asarray(learning_rate, np.float32), l2=np.asarray(l2, np.float32)
        )
        return float(out["loss"])

    def get_weights(self) -> dict[str, npt.NDArray[np.float32]]:
        """Return copies of the weights ``w`` ``[N, N]``, ``v`` ``[E]``, ``b`` ``[]``."""
        out = self._get()
        return {name: np.array(out[name], np.float32, copy=True) for name in RANKING_WEIGHTS}

    def set_weights(self, weights: Mapping[str, Any]) -> None:
        """Replace the weights after checking names, shapes and finiteness.

        Raises
        ------
        RankingModelError
            If a weight is missing, has the wrong shape or non-finite values.
        """
        current = self.get_weights()
        arrays: dict[str, npt.NDArray[np.float32]] = {}
        for name in RANKING_WEIGHTS:
            if name not in weights:
                raise RankingModelError(f"{self.path.name}: weight {name!r} missing")
            arr = np.asarray(weights[name], np.float32)
            if arr.shape != current[name].shape:
                raise RankingModelError(f"{self.path.name}: weight {name!r} has shape "
                                        f"{arr.shape}, expected {current[name].shape}")
            if not np.all(np.isfinite(arr)):
                raise RankingModelError(f"{self.path.name}: weight {name!r} has non-finite values")
            arrays[name] = arr
        self._set(**arrays)


def load_ranking_model(model_dir: Path | None = None) -> RankingModel:
    """Load ``ranking.tflite`` from ``model_dir`` (default: the packaged models).

    Parameters
    ----------
    model_dir : pathlib.Path, optional
        Directory holding ``ranking.tflite`` and ``ranking.json``.

    Returns
    -------
    RankingModel
        A fresh interpreter (each selector trains its own copy).
    """
    directory = model_dir if model_dir is not None else default_model_dir()
    return RankingModel(directory / "ranking.tflite")
