"""Server-side evaluation on held-out people, for simulations and benchmarks only.

A deployed server has no one's data. In a simulation it may score the global model on
people who never train. Decision style: the phrase-bank persons from index 1,000,000 on, or
the MBTI users the user-level split holds out; the score is ROC AUC over people (a person's
probability is the mean over their examples) plus mean loss. Interests: the held-out devices
of the built-in reddit-top2013 population; the score is top-1 accuracy over their posts plus
mean cross-entropy (:func:`score_interests`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from edge_client.federated.device import mbti_split
from edge_client.federated.examples import LocalExamples, style_examples
from edge_client.federated.population import virtual_person
from edge_client.federated.reddit_population import load_population
from edge_client.models import LiteModel

__all__ = [
    "HELDOUT_OFFSET",
    "heldout_devices",
    "heldout_people",
    "roc_auc",
    "score_interests",
    "score_people",
]

HELDOUT_OFFSET = 1_000_000


def roc_auc(labels: npt.ArrayLike, scores: npt.ArrayLike) -> float:
    """Return the ROC AUC of ``scores`` for binary ``labels`` (ties count one half).

    Raises
    ------
    ValueError
        When only one class is present.
    """
    y = np.asarray(labels, bool)
    s = np.asarray(scores, np.float64)
    pos, neg = s[y], s[~y]
    if not len(pos) or not len(neg):
        raise ValueError("roc_auc: both classes are needed")
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    ranks = np.empty(len(order), np.float64)
    merged = np.concatenate([pos, neg])[order]
    i = 0
    while i < len(merged):
        j = i
        while j + 1 < len(merged) and merged[j + 1] == merged[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


@lru_cache(maxsize=4)
def heldout_people(data: str, population_seed: int, count: int = 200) -> tuple[LocalExamples, ...]:
    """Return the held-out people's examples (MBTI held-out users, or virtual people).

    Parameters
    ----------
    data
        The shared data directory, or ``""`` for the built-in population.
    population_seed
        The built-in population's seed.
    count
        Virtual people to hold out (ignored for MBTI).

    Returns
    -------
    tuple[LocalExamples, ...]
        One entry per person.
    """
    if not data:
        people = (virtual_person(population_seed, HELDOUT_OFFSET + i) for i in range(count))
        return tuple(
            style_examples(p.texts, analytical=p.analytical, words_per_example=60) for p in people
        )
    out = []
    path = Path(data) / "mbti" / "users.jsonl"
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            if mbti_split(str(row["user_id"])):
                out.append(style_examples(row["posts"], analytical=str(row["type"])[2:3] == "T"))
    return tuple(out)


def score_people(model: LiteModel, people: Sequence[LocalExamples]) -> dict[str, float]:
    """Return ``auc`` (by person) and ``loss`` (by example) of ``model`` on ``people``."""
    labels: list[bool] = []
    scores: list[float] = []
    losses: list[float] = []
    for person in people:
        probs = np.clip(model.predict(list(person.counts))[:, 0].astype(np.float64), 1e-7, 1 - 1e-7)
        y = float(person.targets[0, 0])
        labels.append(y >= 0.5)
        scores.append(float(probs.mean()))
        losses.extend(-(y * np.log(probs) + (1 - y) * np.log(1 - probs)))
    return {"auc": roc_auc(labels, scores), "loss": float(np.mean(losses))}


def heldout_devices() -> tuple[LocalExamples, ...]:
    """Return the held-out devices of the built-in population (interest examples)."""
    return load_population().heldout()


def score_interests(model: LiteModel, devices: Sequence[LocalExamples]) -> dict[str, float]:
    """Return top-1 ``accuracy`` and mean cross-entropy ``loss`` over the devices' posts.

    Parameters
    ----------
    model
        The interest model with the weights to score.
    devices
        Held-out devices' examples (one-hot targets).

    Returns
    -------
    dict[str, float]
        ``accuracy`` and ``loss`` over all posts (every post counts once).
    """
    counts = [c for device in devices for c in device.counts]
    if not counts:
        raise ValueError("score_interests: no held-out posts")
    targets = np.concatenate([device.targets for device in devices]).argmax(axis=1)
    probs = np.concatenate(
        [model.predict(counts[start : start + 256]) for start in range(0, len(counts), 256)]
    ).astype(np.float64)
    picked = np.clip(probs[np.arange(len(counts)), targets], 1e-7, 1.0)
    return {
        "accuracy": float(np.mean(probs.argmax(axis=1) == targets)),
        "loss": float(-np.mean(np.log(picked))),
    }
