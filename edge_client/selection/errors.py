"""Errors of content selection: a bad catalog, a bad ranking model, a misused selector."""

from __future__ import annotations

from edge_client.errors import InputError, ModelError

__all__ = ["CatalogError", "FeedbackError", "RankingModelError", "SelectionStateError"]


class CatalogError(InputError):
    """A catalog file or line is invalid; the message names the file, the line and the field."""


class FeedbackError(InputError):
    """Feedback refers to an item that was not shown (or whose impression has expired)."""


class RankingModelError(ModelError):
    """The ranking model file, its sidecar or its weights are missing or inconsistent."""


class SelectionStateError(InputError):
    """A saved selection state (caps, impressions, examples) is malformed."""
