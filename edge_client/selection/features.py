"""Features of (profile, item variant) pairs: the ranking model's input, numbers only.

A row is ``[u (N), m (N), e (E)]``: ``u`` the profile's allowed interest scores over the
``N`` taxonomy nodes the interest model predicts, ``m`` the item's membership of those nodes,
``e`` the :class:`DenseFeature` values. Rows never contain text, ids or anything from which
text could be rebuilt, so they may be stored as training examples.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from edge_client.policy.engine import PolicyEngine
from edge_client.profile import Profile
from edge_client.selection.catalog import Catalog, Variant
from edge_client.taxonomy import Taxonomy

__all__ = [
    "DENSE_FEATURES",
    "VARIANT_SIGN",
    "CompiledCatalog",
    "DenseFeature",
    "build_rows",
    "compile_catalog",
    "interest_vector",
    "label_node_order",
    "style_signal",
]

Array = npt.NDArray[np.float32]


class DenseFeature(Enum):
    """The dense features, in column order after the two interest blocks."""

    POPULARITY = "popularity_logodds"
    """Log-odds of the item's non-personalized popularity."""
    CONGRUENCE = "style_congruence"
    """(2·analytical − 1) × (+1 analytical variant, −1 emotional, 0 generic); 0 when not allowed."""
    ANALYTICAL_VARIANT = "analytical_variant"
    """1 when the row is the analytical variant."""
    EMOTIONAL_VARIANT = "emotional_variant"
    """1 when the row is the emotional variant."""
    SPONSORED = "sponsored"
    """1 for a sponsored item."""
    FATIGUE = "fatigue"
    """Impressions without engagement so far, as a share of the policy's fatigue limit."""


DENSE_FEATURES: tuple[DenseFeature, ...] = tuple(DenseFeature)
_COL = {f: i for i, f in enumerate(DENSE_FEATURES)}
VARIANT_SIGN = {Variant.ANALYTICAL: 1.0, Variant.EMOTIONAL: -1.0, Variant.GENERIC: 0.0}


def label_node_order(taxonomy: Taxonomy) -> tuple[str, ...]:
    """Return the distinct taxonomy nodes of the interest model's labels, in label order."""
    return tuple(dict.fromkeys(taxonomy.label_nodes()))


@dataclass(frozen=True)
class CompiledCatalog:
    """A catalog as arrays for fast, vectorized selection under one policy engine.

    Attributes
    ----------
    catalog : Catalog
        The source catalog.
    membership : numpy.ndarray
        ``[items, N]`` membership of the model's interest nodes.
    popularity : numpy.ndarray
        ``[items]`` popularity log-odds.
    sponsored, sensitive, allowed : numpy.ndarray
        ``[items]`` booleans; ``allowed`` is false when any category is forbidden.
    default_variant : tuple of Variant
        Per item, the variant shown when decision style may not choose.
    default_sign : numpy.ndarray
        ``[items]`` variant sign of the default variant (+1 analytical, 0 generic).
    positions : Mapping[str, int]
        Item id to position.
    primary_label : tuple of str
        Per item, the taxonomy path of its first category (for explanations).
    """

    catalog: Catalog
    membership: Array
    popularity: Array
    sponsored: npt.NDArray[np.bool_]
    sensitive: npt.NDArray[np.bool_]
    allowed: npt.NDArray[np.bool_]
    default_variant: tuple[Variant, ...]
    default_sign: Array
    positions: Mapping[str, int]
    primary_label: tuple[str, ...]


def compile_catalog(
    catalog: Catalog, nodes: tuple[str, ...], engine: PolicyEngine, taxonomy: Taxonomy
) -> CompiledCatalog:
    """Precompute the arrays the selector needs for ``catalog``.

    Parameters
    ----------
    catalog : Catalog
        A validated catalog.
    nodes : tuple of str
        The ranking model's interest nodes.
    engine : PolicyEngine
        Decides which categories are forbidden (with their descendants).
    taxonomy : Taxonomy
        The taxonomy the categories belong to.

    Returns
    -------
    CompiledCatalog
        Arrays aligned with ``catalog.items``.
    """
    n_items = len(catalog.items)
    membership = np.zeros((n_items, len(nodes)), np.float32)
    column = {node: j for j, node in enumerate(nodes)}
    for i, item in enumerate(catalog.items):
        for category in item.categories:
            for node in (category, *taxonomy.ancestors(category)):
                if node in column:
                    membership[i, column[node]] = 1.0
            for node in taxonomy.descendants(category):
                j = column.get(node)
                if j is not None and membership[i, j] == 0.0:
                    membership[i, j] = 0.5
    pop = np.clip(np.array([it.popularity for it in catalog.items], np.float64), 0.01, 0.99)
    return CompiledCatalog(
        catalog=catalog,
        membership=membership,
        popularity=np.log(pop / (1.0 - pop)).astype(np.float32),
        sponsored=np.array([it.sponsored for it in catalog.items], bool),
        sensitive=np.array([it.sensitive for it in catalog.items], bool),
        allowed=np.array(
            [all(engine.is_interest_allowed(c) for c in it.categories) for it in catalog.items],
            bool,
        ),
        default_variant=tuple(it.default_variant() for it in catalog.items),
        default_sign=np.array([VARIANT_SIGN[it.default_variant()] for it in catalog.items],
                              np.float32),
        positions=MappingProxyType({it.id: i for i, it in enumerate(catalog.items)}),
        primary_label=tuple(taxonomy.path(it.categories[0]) for it in catalog.items),
    )


def interest_vector(profile: Profile, nodes: tuple[str, ...], engine: PolicyEngine) -> Array:
    """Return the profile's allowed interest scores over ``nodes`` (forbidden ones are 0).

    Parameters
    ----------
    profile : Profile
        The person's profile.
    nodes : tuple of str
        The ranking model's interest nodes.
    engine : PolicyEngine
        Re-checks every interest, so a profile from elsewhere cannot carry a forbidden one.

    Returns
    -------
    numpy.ndarray
        ``[N]`` scores in [0, 1].
    """
    column = {node: j for j, node in enumerate(nodes)}
    u = np.zeros(len(nodes), np.float32)
    for interest in profile.interests:
        j = column.get(interest.id)
        if j is not None and engine.is_interest_allowed(interest.id) and math.isfinite(
            interest.score
        ):
            u[j] = max(0.0, min(1.0, interest.score))
    return u


def style_signal(profile: Profile) -> float:
    """Return ``2·analytical − 1`` in [−1, 1] (0 when decision style is unknown)."""
    analytical = profile.decision_style.analytical
    if analytical is None or not math.isfinite(analytical):
        return 0.0
    return float(max(-1.0, min(1.0, 2.0 * analytical - 1.0)))


def build_rows(
    compiled: CompiledCatalog,
    rows: npt.NDArray[np.intp],
    sign: Array,
    u: Array,
    *,
    style: float,
    fatigue: Array,
) -> Array:
    """Return the feature matrix for items ``rows`` shown as ``variants``.

    Parameters
    ----------
    compiled : CompiledCatalog
        The compiled catalog.
    rows : numpy.ndarray
        Item positions, one per output row.
    sign : numpy.ndarray
        ``[len(rows)]`` variant sign of each row (+1 analytical, -1 emotional, 0 generic).
    u : numpy.ndarray
        ``[N]`` interest vector (all zeros when not personalized).
    style : float
        Style signal (0 when decision style may not choose the variant).
    fatigue : numpy.ndarray
        ``[len(rows)]`` fatigue feature per row.

    Returns
    -------
    numpy.ndarray
        ``[len(rows), 2N + E]`` float32 features.
    """
    n = u.shape[0]
    x = np.zeros((len(rows), 2 * n + len(DENSE_FEATURES)), np.float32)
    x[:, :n] = u
    x[:, n : 2 * n] = compiled.membership[rows]
    sensitive = compiled.sensitive[rows]
    x[sensitive, :n] = 0.0  # sensitive items are never personalized
    base = 2 * n
    x[:, base + _COL[DenseFeature.POPULARITY]] = compiled.popularity[rows]
    x[:, base + _COL[DenseFeature.CONGRUENCE]] = np.where(sensitive, 0.0, style * sign)
    x[:, base + _COL[DenseFeature.ANALYTICAL_VARIANT]] = sign > 0
    x[:, base + _COL[DenseFeature.EMOTIONAL_VARIANT]] = sign < 0
    x[:, base + _COL[DenseFeature.SPONSORED]] = compiled.sponsored[rows]
    x[:, base + _COL[DenseFeature.FATIGUE]] = fatigue
    return x
