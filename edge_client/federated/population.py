"""A built-in, seeded population of virtual devices for simulations and tests.

Each virtual person leans analytical or emotional and writes a few short texts made of
sentences generated here from small phrase banks written for this project (no corpus
text). A person's own style dominates their sentences by a per-person share drawn in
[0.55, 0.9], so the labels are learnable but noisy, as real ones are. FederatedDevice ``i`` of
seed ``s`` is always the same person.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["VirtualPerson", "virtual_person"]

_ANALYTICAL = (
    (
        "The data show that",
        "According to the specifications,",
        "Compared with the old model,",
        "In my measurements,",
        "On average,",
        "The test results indicate that",
        "Based on the numbers,",
    ),
    (
        "the battery lasts 9.5 hours",
        "the price per unit is 12 percent lower",
        "the second option is more efficient",
        "the warranty covers three years",
        "the error rate fell by 4 percent",
        "the monthly cost is lower",
        "the review lists 16 GB of memory",
        "the weight is 1.2 kg",
    ),
    (
        "therefore it is the better choice.",
        "so the evidence favours it.",
        "which is consistent with the benchmark.",
        "because the method is reproducible.",
        "although the sample is small.",
        "per the published figures.",
    ),
)
_EMOTIONAL = (
    (
        "I honestly love",
        "Oh wow, I adore",
        "I feel so happy about",
        "I cried when I saw",
        "My heart melts for",
        "I'm so excited about",
        "I really miss",
    ),
    (
        "this gift from my grandmother",
        "the way my friends smiled",
        "our weekend together",
        "my little dog",
        "the memories of home",
        "that beautiful song",
        "my sister's wedding",
    ),
    (
        "and it makes me so happy!",
        "❤️",
        "I can't even describe it!!",
        "it means everything to me.",
        "so much, truly!",
        "and I never want it to end!",
    ),
)


@dataclass(frozen=True)
class VirtualPerson:
    """One virtual device's owner.

    Attributes
    ----------
    index
        FederatedDevice index in the population.
    analytical
        The person's decision-style label.
    texts
        What the person wrote (generated).
    """

    index: int
    analytical: bool
    texts: tuple[str, ...]


def _sentence(rng: np.random.Generator, bank: tuple[tuple[str, ...], ...]) -> str:
    return " ".join(part[int(rng.integers(len(part)))] for part in bank)


def virtual_person(seed: int, index: int, *, texts: int = 8) -> VirtualPerson:
    """Return virtual person ``index`` of the population with ``seed``.

    Parameters
    ----------
    seed
        Population seed.
    index
        FederatedDevice index, at least 0.
    texts
        Texts the person wrote.

    Returns
    -------
    VirtualPerson
        The same person for the same ``(seed, index)``.
    """
    rng = np.random.default_rng([seed, index])
    analytical = bool(rng.random() < 0.5)
    own, other = (_ANALYTICAL, _EMOTIONAL) if analytical else (_EMOTIONAL, _ANALYTICAL)
    purity = float(rng.uniform(0.55, 0.9))
    written = []
    for _ in range(texts):
        sentences = [
            _sentence(rng, own if rng.random() < purity else other)
            for _ in range(int(rng.integers(3, 7)))
        ]
        written.append(" ".join(sentences))
    return VirtualPerson(index, analytical, tuple(written))
