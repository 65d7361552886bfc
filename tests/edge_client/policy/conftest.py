"""Shared fixtures: a small taxonomy, preset texts and signing keys."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_client.policy import Policy, Preset, parse_policy, preset_path
from edge_client.taxonomy import InterestNode, SpecialCategory, Taxonomy

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def small_taxonomy() -> Taxonomy:
    """Politics (marked) > Elections > Local Elections, Religion (marked), Sports > Baseball."""
    nodes = [
        InterestNode("pol", "Politics", None, 1, SpecialCategory.POLITICAL_OPINIONS, "opinions"),
        InterestNode("elect", "Elections", "pol", 2, None),
        InterestNode("local", "Local Elections", "elect", 3, None),
        InterestNode(
            "rel", "Religion", None, 1, SpecialCategory.RELIGIOUS_PHILOSOPHICAL_BELIEFS, "beliefs"
        ),
        InterestNode("sport", "Sports", None, 1, None),
        InterestNode("base", "Baseball", "sport", 2, None),
        InterestNode("hockey", "Hockey", "sport", 2, None),
    ]
    labels = ("politics", "religion", "baseball", "hockey")
    mapping = {"politics": "elect", "religion": "rel", "baseball": "base", "hockey": "hockey"}
    return Taxonomy(
        name="test",
        version="1",
        nodes={n.id: n for n in nodes},
        labels=labels,
        label_to_node=mapping,
    )


@pytest.fixture
def default_text() -> str:
    """Return the text of the shipped default preset."""
    return preset_path(Preset.DEFAULT).read_text(encoding="utf-8")


@pytest.fixture
def make_policy(default_text: str) -> Callable[..., Policy]:
    """Return a factory: the default preset with ``key = value`` lines replaced."""

    def make(**replacements: str) -> Policy:
        return parse_policy(edit_text(default_text, **replacements))

    return make


def edit_text(text: str, **replacements: str) -> str:
    """Replace the value of each ``section__key`` line (first match) in preset text."""
    lines = text.splitlines()
    for dotted, value in replacements.items():
        section, key = dotted.rsplit("__", 1)
        header = f"[{section.replace('__', '.')}]"
        start = next(i for i, line in enumerate(lines) if line.split("#", 1)[0].strip() == header)
        for index in range(start + 1, len(lines)):
            if lines[index].split("=", 1)[0].strip() == key:
                end = index
                if lines[index].rstrip().endswith("["):  # multi-line array
                    end = next(i for i in range(index, len(lines)) if lines[i].strip() == "]")
                lines[index : end + 1] = [f"{key} = {value}"]
                break
        else:
            raise KeyError(dotted)
    return "\n".join(lines) + "\n"


@pytest.fixture
def edit() -> Callable[..., str]:
    """Return :func:`edit_text`: replace ``section__key`` values in policy text."""
    return edit_text


@pytest.fixture
def signing_key() -> Ed25519PrivateKey:
    """Return a fresh Ed25519 signing key."""
    return Ed25519PrivateKey.generate()
