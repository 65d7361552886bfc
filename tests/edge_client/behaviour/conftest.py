"""Shared fixtures of the behaviour tests: policies that allow every behaviour signal."""

from __future__ import annotations

import pytest

from edge_client.policy import Policy, Preset, parse_policy, preset_path

ALL_SIGNALS = (
    'allowed = ["review_text", "comment_text", "post_text", "content_categories_viewed", '
    '"engagement_time", "purchases", "device", "context"]\n'
    'forbidden = ["message_text"]'
)


def policy_with(*edits: tuple[str, str]) -> Policy:
    """Return the default preset with text replacements applied (each must match)."""
    text = preset_path(Preset.DEFAULT).read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    return parse_policy(text)


@pytest.fixture(scope="session")
def open_policy() -> Policy:
    return policy_with(
        (
            'allowed = ["review_text", "comment_text", "post_text", '
            '"content_categories_viewed", "engagement_time"]\n'
            'forbidden = ["message_text", "purchases", "device", "context"]',
            ALL_SIGNALS,
        )
    )
