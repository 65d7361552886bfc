"""Score a pool of catalog items with the ranking model, in one or both framings.

When decision style may choose the variant, every non-sensitive item is scored twice (its
analytical and its emotional framing, as two feature rows in one model call) and keeps the
better; the other framing is kept too, so exploration can show it and the model can learn
from both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from edge_client.selection.catalog import Variant
from edge_client.selection.features import CompiledCatalog, build_rows
from edge_client.selection.model import RankingModel

__all__ = ["Scored", "score_pool", "variant_of"]

Array = npt.NDArray[np.float32]


_BY_SIGN = {1.0: Variant.ANALYTICAL, -1.0: Variant.EMOTIONAL}


@dataclass(frozen=True)
class Scored:
    """Scores of a pool: the best framing per item and, when styled, the other one.

    Attributes
    ----------
    rows : numpy.ndarray
        Feature rows scored (one per item, or two when style chooses the framing).
    best, alt : numpy.ndarray
        ``[pool]`` index into ``rows`` of each item's best and other framing (equal when
        style does not choose).
    sign : numpy.ndarray
        ``[len(rows)]`` variant sign of each row.
    score : numpy.ndarray
        ``[pool]`` logits of the best framing.
    """

    rows: Array
    best: npt.NDArray[np.intp]
    alt: npt.NDArray[np.intp]
    sign: Array
    score: Array

    @property
    def styled(self) -> bool:
        """Whether each item was scored in two framings."""
        return len(self.rows) > len(self.best)


def variant_of(compiled: CompiledCatalog, pos: int, sign: float) -> Variant:
    """Return the variant a row shows: the default one, or the framing its sign names."""
    if sign == compiled.default_sign[pos]:
        return compiled.default_variant[pos]
    return _BY_SIGN[float(sign)]


def score_pool(model: RankingModel, compiled: CompiledCatalog, pool: npt.NDArray[np.intp],
               u: Array, *, style: float, fatigue: Array,
               context: Array | None = None) -> Scored:
    """Score items ``pool`` of ``compiled`` for interest vector ``u`` and style signal ``style``.

    Parameters
    ----------
    model : RankingModel
        The ranking model.
    compiled : CompiledCatalog
        The compiled catalog.
    pool : numpy.ndarray
        Positions of the eligible items.
    u : numpy.ndarray
        ``[N]`` interest vector (zeros when not personalized).
    style : float
        Style signal; 0 means the variant is not chosen from decision style.
    fatigue : numpy.ndarray
        ``[pool]`` fatigue feature.
    context : numpy.ndarray, optional
        ``[pool, 2]`` context affinities (time of day, device class).

    Returns
    -------
    Scored
        Rows, variant signs and logits.
    """
    default = compiled.default_sign[pool]
    n = len(pool)
    if style == 0.0:
        x = build_rows(compiled, pool, default, u, style=0.0, fatigue=fatigue, context=context)
        index = np.arange(n)
        return Scored(x, index, index, default, model.logits(x))
    sensitive = compiled.sensitive[pool]
    sign = np.concatenate([np.where(sensitive, default, 1.0), np.where(sensitive, default, -1.0)])
    both = build_rows(compiled, np.concatenate([pool, pool]), sign.astype(np.float32), u,
                      style=style, fatigue=np.concatenate([fatigue, fatigue]),
                      context=None if context is None else np.concatenate([context, context]))
    logits = model.logits(both)
    take_e = logits[n:] > logits[:n]
    index = np.arange(n)
    return Scored(both, np.where(take_e, index + n, index), np.where(take_e, index, index + n),
                  sign.astype(np.float32), np.maximum(logits[:n], logits[n:]))
