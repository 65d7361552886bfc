"""The models federated rounds may train: the two profiler models and the ranking model.

:class:`FederatedModel` names them in a round's plan (``model = "style" | "interests" |
"ranking"``). The profiler's :class:`~edge_client.models.ModelName` keeps its meaning (the
text models only); :attr:`FederatedModel.lite_name` maps onto it. Every trainable model
exchanges its weights as a mapping of names to float32 arrays, which is all the update,
clipping, bundle and validation code needs.
"""

from __future__ import annotations

import enum
from pathlib import Path

import numpy as np
import numpy.typing as npt

from edge_client.models import LiteModel, ModelName, load_model
from edge_client.selection.model import RankingModel, load_ranking_model

__all__ = ["FederatedModel", "initial_weights", "load_trainable"]


class FederatedModel(enum.Enum):
    """A model that federated rounds train."""

    STYLE = "style"
    """Decision style (``style.tflite``), from a person's texts."""
    INTERESTS = "interests"
    """Interests (``interests.tflite``: its small head), from labelled posts."""
    RANKING = "ranking"
    """The selection ranking model (``ranking.tflite``), from feature rows and engagement."""

    @property
    def lite_name(self) -> ModelName | None:
        """Return the profiler's model name (``None`` for the ranking model)."""
        return None if self is FederatedModel.RANKING else ModelName(self.value)

    @classmethod
    def of(cls, name: ModelName | FederatedModel) -> FederatedModel:
        """Return the federated model of a profiler model name (identity on members)."""
        return name if isinstance(name, FederatedModel) else cls(name.value)


def load_trainable(
    model: FederatedModel, model_dir: Path | None = None
) -> LiteModel | RankingModel:
    """Load a fresh interpreter of the shipped ``model``.

    Parameters
    ----------
    model
        Which model.
    model_dir
        Directory holding ``<model>.tflite`` and its sidecar instead of the packaged
        models (a device whose installed model differs from the packaged one).

    Returns
    -------
    LiteModel | RankingModel
        The text model or the ranking model, with the weights of its file.
    """
    name = model.lite_name
    return load_ranking_model(model_dir) if name is None else load_model(name, model_dir)


def initial_weights(
    model: FederatedModel, *, zero: bool = False, model_dir: Path | None = None
) -> dict[str, npt.NDArray[np.float32]]:
    """Return the shipped weights of ``model`` (or zeros of the same shapes).

    Parameters
    ----------
    model
        Which model.
    zero
        Return zeros instead of the shipped weights.
    model_dir
        Read an installed variant of the model from this folder instead of the packaged
        one (verified like the packaged one).

    Returns
    -------
    dict[str, numpy.ndarray]
        Weight name to float32 array.
    """
    weights = load_trainable(model, model_dir).get_weights()
    if zero:
        return {k: np.zeros_like(v, dtype=np.float32) for k, v in weights.items()}
    return {k: np.asarray(v, np.float32) for k, v in weights.items()}
