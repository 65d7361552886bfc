"""On-device content selection: catalog, ranking model, policy-bound selector, feedback.

A catalog (:func:`load_catalog`) lists offers, each in an analytical and an emotional
framing. :class:`Selector` ranks them on the device with the LiteRT ranking model under the
policy (forbidden categories, caps, fatigue, suppression, exploration, fallback, variants),
explains every choice, and learns from :meth:`Selector.feedback` with the model's own
``train`` signature. :class:`PersonalizedFeed` wraps an
:class:`~edge_client.profiler.EdgeProfiler`. See ``docs/selection.md``.
"""

from __future__ import annotations

from edge_client.selection.catalog import (
    Catalog,
    CatalogItem,
    Variant,
    VariantText,
    load_catalog,
    load_sample_catalog,
    parse_catalog,
)
from edge_client.selection.errors import (
    CatalogError,
    FeedbackError,
    RankingModelError,
    SelectionStateError,
)
from edge_client.selection.explain import Basis, Fallback, FallbackCause
from edge_client.selection.feed import PersonalizedFeed
from edge_client.selection.model import RankingModel, RankingSpec, load_ranking_model
from edge_client.selection.result import Choice, Selection
from edge_client.selection.selector import Selector
from edge_client.selection.state import SelectionState, TrainingExample
from edge_client.selection.training import TrainingReport

__all__ = [
    "Basis",
    "Catalog",
    "CatalogError",
    "CatalogItem",
    "Choice",
    "Fallback",
    "FallbackCause",
    "FeedbackError",
    "PersonalizedFeed",
    "RankingModel",
    "RankingModelError",
    "RankingSpec",
    "Selection",
    "SelectionState",
    "SelectionStateError",
    "Selector",
    "TrainingExample",
    "TrainingReport",
    "Variant",
    "VariantText",
    "load_catalog",
    "load_ranking_model",
    "load_sample_catalog",
    "parse_catalog",
]
