"""Shared fixtures of the selection tests: the real taxonomy, policy engine and model."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pytest

from edge_client.policy import PolicyEngine, Preset, Purpose, load_preset
from edge_client.profile import Profile
from edge_client.selection import Catalog, Selector, parse_catalog
from edge_client.taxonomy import Taxonomy, load_taxonomy
from edge_client.testing import make_profile

START = datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="session")
def taxonomy() -> Taxonomy:
    """The packaged taxonomy."""
    return load_taxonomy()


def engine_with(taxonomy: Taxonomy, **personalization: Any) -> PolicyEngine:
    """The default policy with some personalization fields changed."""
    policy = load_preset(Preset.DEFAULT)
    rules = replace(policy.personalization, **personalization)
    return PolicyEngine(replace(policy, personalization=rules), taxonomy)


@pytest.fixture
def engine(taxonomy: Taxonomy) -> PolicyEngine:
    """The default policy's engine."""
    return engine_with(taxonomy)


def profile(*, analytical: float = 0.9, words: int = 800,
            interests: dict[str, float] | None = None, usable: bool = True) -> Profile:
    """A profile whose interests (and style) count as usable evidence when ``usable``."""
    base = make_profile(analytical=analytical, words=words,
                        interests=interests if interests is not None else {"545": 0.6})
    return replace(base, usable=frozenset({"interests", "decision_style"}) if usable
                   else frozenset())


def selector(engine: PolicyEngine, taxonomy: Taxonomy, *, consent: bool = True,
             seed: int = 0) -> Selector:
    """A selector with personalization consent (or none) and a seeded RNG."""
    granted = [Purpose.PERSONALIZATION] if consent else []
    return Selector(engine, consent=engine.consent_state(granted), taxonomy=taxonomy,
                    rng=np.random.default_rng(seed))


def item(item_id: str, categories: list[str], **extra: Any) -> dict[str, Any]:
    """One catalog row with both variants (and a generic one unless told otherwise)."""
    generic = extra.pop("generic", True)
    variants: dict[str, Any] = {"analytical": {"title": f"{item_id} specs"},
                                "emotional": {"title": f"{item_id} story"}}
    if generic:
        variants["generic"] = {"title": f"{item_id}"}
    return {"id": item_id, "categories": categories, "variants": variants, **extra}


def catalog(rows: list[dict[str, Any]], taxonomy: Taxonomy) -> Catalog:
    """A catalog parsed from rows."""
    return parse_catalog([json.dumps(r) for r in rows], taxonomy=taxonomy)
