"""A device as the ClientApp sees it: policy, consent, trusted model keys, local examples.

:func:`device_from_context` builds the device of a Flower node from its configuration:
the node config (set per SuperNode with ``--node-config``) wins over the run config
(``[tool.flwr.app.config]`` / ``--run-config``). Keys are the :class:`DeviceKey` values.
In simulation a node's ``partition-id`` picks its person, and the run's ``model`` which
examples the device holds:

* ``style``: from the built-in seeded population (:mod:`edge_client.federated.population`)
  or, with ``data`` set, one MBTI user of ``<data>/mbti/users.jsonl`` (the users held out
  by the user-level split never train);
* ``interests``: a training device of the built-in reddit-top2013 population
  (:mod:`edge_client.federated.reddit_population`) or, with ``data`` set, one 20 Newsgroups
  author of the train split who never posts in the test split
  (:mod:`edge_client.federated.news`);
* ``ranking``: the SIMULATED selection training examples of a virtual person
  (:mod:`edge_client.federated.engagement`; no public engagement log exists).
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from edge_client.federated.engagement import simulated_ranking_examples
from edge_client.federated.errors import FederatedError
from edge_client.federated.examples import (
    LocalExamples,
    RankingExamples,
    interest_examples,
    style_examples,
)
from edge_client.federated.news import news_author_posts
from edge_client.federated.population import virtual_person
from edge_client.federated.reddit_population import load_population
from edge_client.federated.trainable import FederatedModel
from edge_client.models import ModelName
from edge_client.policy import (
    ConsentState,
    PolicyEngine,
    Preset,
    Purpose,
    TrustStore,
    load_policy,
    load_preset,
)
from edge_client.taxonomy import load_taxonomy

__all__ = [
    "DeviceKey",
    "FederatedDevice",
    "device_from_config",
    "engine_for",
    "mbti_split",
]


class DeviceKey(enum.Enum):
    """Configuration keys a device reads (node config first, then run config)."""

    POLICY = "policy"
    MODEL_TRUST = "model-trust"
    DATA = "data"
    POPULATION_SEED = "population-seed"
    REVOKED_SHARE = "revoked-share"
    PARTITION_ID = "partition-id"
    MODEL = "model"
    MODEL_DIR = "model-dir"


@dataclass(frozen=True)
class FederatedDevice:
    """One device taking part in federated training.

    Attributes
    ----------
    engine
        The policy in force on the device.
    consent
        The person's consent state.
    trust
        Keys trusted to sign global models.
    examples
        Local text examples per profiler model (models without examples cannot be
        trained here).
    seed
        FederatedDevice-specific seed for shuffling.
    ranking
        The selector's training examples for the ranking model (empty: none kept).
    model_dir
        Directory of the device's installed models (empty: the packaged ones).
    """

    engine: PolicyEngine
    consent: ConsentState
    trust: TrustStore
    examples: Mapping[ModelName, LocalExamples]
    seed: int = 0
    ranking: RankingExamples | None = None
    model_dir: str = ""

    def examples_for(self, model: FederatedModel) -> LocalExamples | RankingExamples | None:
        """Return the device's examples of ``model`` (``None`` when it has none)."""
        name = model.lite_name
        return self.ranking if name is None else self.examples.get(name)


@lru_cache(maxsize=8)
def engine_for(policy: str) -> PolicyEngine:
    """Return the policy engine of a preset name or a policy TOML path (cached).

    Parameters
    ----------
    policy
        ``default``, ``strict``, ``research`` or a file path.

    Returns
    -------
    PolicyEngine
        The engine over the packaged taxonomy.
    """
    presets = {p.value: p for p in Preset}
    loaded = load_preset(presets[policy]) if policy in presets else load_policy(Path(policy))
    return PolicyEngine(loaded, load_taxonomy())


@lru_cache(maxsize=4)
def _trust(path: str) -> TrustStore:
    return TrustStore.load(path)


def mbti_split(user_id: str, *, eval_share: int = 5) -> bool:
    """Return whether an MBTI user is held out (same rule as ``models.data.split_mbti``)."""
    digest = hashlib.sha256(user_id.encode("utf-8")).digest()[:4]
    return int.from_bytes(digest, "big") % eval_share == 0


@lru_cache(maxsize=2)
def _mbti_train_users(root: str) -> tuple[tuple[str, bool, tuple[str, ...]], ...]:
    path = Path(root) / "mbti" / "users.jsonl"
    users = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise FederatedError(f"{path}: cannot read ({type(exc).__name__})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            user, kind, posts = str(row["user_id"]), str(row["type"]), row["posts"]
        except (ValueError, KeyError, TypeError):
            raise FederatedError(f"{path}:{number}: malformed user record") from None
        if not mbti_split(user):
            users.append((user, kind[2:3] == "T", tuple(str(p) for p in posts)))
    return tuple(users)


@lru_cache(maxsize=8192)
def _interest_examples(data: str, index: int) -> LocalExamples:
    if not data:
        population = load_population()
        if not 0 <= index < population.train_devices:
            raise FederatedError(
                f"device: partition-id {index} outside the {population.train_devices} "
                "training devices of the built-in population"
            )
        return population.examples(index)
    authors = news_author_posts(data)
    if not 0 <= index < len(authors):
        raise FederatedError(f"device: partition-id {index} outside the {len(authors)} authors")
    return interest_examples(authors[index], labels=load_taxonomy().labels)


@lru_cache(maxsize=8192)
def _ranking_examples(policy: str, seed: int, index: int) -> RankingExamples:
    return simulated_ranking_examples(engine_for(policy), seed, index)


@lru_cache(maxsize=4096)
def _examples(data: str, seed: int, index: int) -> LocalExamples:
    if data:
        users = _mbti_train_users(data)
        if not 0 <= index < len(users):
            raise FederatedError(f"device: partition-id {index} outside the {len(users)} users")
        _, analytical, posts = users[index]
        return style_examples(posts, analytical=analytical)
    person = virtual_person(seed, index)
    return style_examples(person.texts, analytical=person.analytical, words_per_example=60)


def _get(config: Mapping[str, object], key: DeviceKey, default: object) -> object:
    return config.get(key.value, default)


def device_from_config(
    node_config: Mapping[str, object], run_config: Mapping[str, object]
) -> FederatedDevice:
    """Build the device of a node from its node and run configuration.

    Parameters
    ----------
    node_config
        The node's configuration (``partition-id`` in simulation).
    run_config
        The run's configuration.

    Returns
    -------
    FederatedDevice
        Its policy, consent, trusted keys and the local examples of the run's ``model``.

    Raises
    ------
    FederatedError
        When a key has the wrong type or the trust store or data cannot be read.
    """
    merged = {**run_config, **node_config}
    index, seed = (
        _get(merged, DeviceKey.PARTITION_ID, 0),
        _get(merged, DeviceKey.POPULATION_SEED, 0),
    )
    data, trust = _get(merged, DeviceKey.DATA, ""), _get(merged, DeviceKey.MODEL_TRUST, "")
    model_dir = _get(merged, DeviceKey.MODEL_DIR, "")
    policy, revoked = (
        _get(merged, DeviceKey.POLICY, "default"),
        _get(merged, DeviceKey.REVOKED_SHARE, 0.0),
    )
    if not (isinstance(index, int) and isinstance(seed, int)):
        raise FederatedError("device config: partition-id and population-seed must be integers")
    if not (isinstance(data, str) and isinstance(trust, str) and isinstance(policy, str)):
        raise FederatedError("device config: data, model-trust and policy must be strings")
    if not isinstance(model_dir, str):
        raise FederatedError("device config: model-dir must be a string")
    if isinstance(revoked, bool) or not isinstance(revoked, int | float):
        raise FederatedError("device config: revoked-share must be a number")
    try:
        model = FederatedModel(_get(merged, DeviceKey.MODEL, FederatedModel.STYLE.value))
    except ValueError:
        raise FederatedError("device config: model names no federated model") from None
    if not trust:
        raise FederatedError("device config: model-trust (trusted model-signing keys) is not set")
    engine = engine_for(policy)
    # A seeded share of virtual people never opted in to federated training.
    opted_in = (index * 2654435761 + seed) % 10_000 >= float(revoked) * 10_000
    # An opted-in virtual person also opted in to personalization (ranking examples exist).
    purposes = [Purpose.FEDERATED_TRAINING, Purpose.PERSONALIZATION] if opted_in else []
    consent = engine.consent_state(purposes)
    examples: dict[ModelName, LocalExamples] = {}
    ranking = None
    if model is FederatedModel.STYLE:
        examples[ModelName.STYLE] = _examples(data, seed, index)
    elif model is FederatedModel.INTERESTS:
        examples[ModelName.INTERESTS] = _interest_examples(data, index)
    else:
        ranking = _ranking_examples(policy, seed, index) if opted_in else None
    return FederatedDevice(
        engine,
        consent,
        _trust(trust),
        examples,
        seed=seed * 100_003 + index,
        ranking=ranking,
        model_dir=model_dir,
    )
