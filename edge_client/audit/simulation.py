"""SIMULATION of selection outcomes per audit window, with planted problems.

Nothing here is measured behaviour: it is a simulation for outcome-audit benchmarks, tests
and ``edgeprof audit run``, calibrated like :mod:`edge_client.selection.simulation`: the
click probability of an impression is ``0.02 + 0.08 · match + 0.02 · popularity``, times
``1 + CONGRUENCE_LIFT`` (+40%, Matz et al. 2017) when the framing fits the person's true
decision style, times ``fatigue ** (exposure − 1)``. Personalized picks match one of the
person's interests (score 0.3–0.8) unless they explore; the control group's generic picks
match by chance. What a device knows of itself is its *estimated* style bucket (right side
with :attr:`OutcomeModel.style_accuracy`, unknown for :attr:`OutcomeModel.unknown_share`).

People come from a :class:`Population` (anything giving a person's true style and
interests by index); :class:`BuiltinPopulation` adapts today's built-in virtual devices.
Planted problems (:class:`Plant`): ``disparity`` shows emotional-bucket people more
sponsored offers than analytical ones (``+disparity/2`` and ``−disparity/2``), ``fatigue``
makes engagement fall much faster with repeated exposure, ``plateau`` lets personalization
stop helping (the interest match fades to nothing by the last round).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

import numpy as np
import numpy.typing as npt

from edge_client.audit.layout import BUCKETS, EXPOSURE_BINS, Arm, StyleBucket
from edge_client.audit.outcomes import COUNT_SHAPE

__all__ = [
    "CONGRUENCE_LIFT",
    "BuiltinPopulation",
    "OutcomeModel",
    "Person",
    "Plant",
    "Population",
    "SimulatedWindow",
    "simulate_window",
    "simulate_windows",
]

Floats = npt.NDArray[np.float64]

CONGRUENCE_LIFT = 0.40
"""SIMULATION calibration: relative click lift of a congruent framing (Matz et al. 2017);
the same value as :data:`edge_client.selection.simulation.CONGRUENCE_LIFT` (kept here so
that the audit package does not import the selection package, which imports it)."""


@dataclass(frozen=True)
class Person:
    """A SIMULATED person: true decision style and interests (node → score in [0, 1])."""

    analytical: bool
    interests: Mapping[str, float] = field(default_factory=dict)


class Population(Protocol):
    """Anything that gives SIMULATED people by index (a built-in or derived population)."""

    def __len__(self) -> int:
        """Return the number of people."""
        ...

    def person(self, index: int) -> Person:
        """Return person ``index`` (the same person every time)."""
        ...


class BuiltinPopulation:
    """Today's built-in virtual devices as a :class:`Population`.

    Style comes from :func:`edge_client.federated.virtual_person`; one or two interests
    (scores 0.3–0.8) are drawn, seeded by the person's index, among ``nodes``.
    """

    def __init__(
        self,
        size: int,
        *,
        seed: int = 0,
        nodes: Sequence[str] = ("1", "27", "473", "545", "515", "472"),
    ) -> None:
        self._size, self._seed, self._nodes = size, seed, tuple(nodes)

    def __len__(self) -> int:
        """Return the number of people."""
        return self._size

    def person(self, index: int) -> Person:
        """Return person ``index``."""
        return _builtin_person(self._seed, index, self._nodes)


@lru_cache(maxsize=65536)
def _builtin_person(seed: int, index: int, nodes: tuple[str, ...]) -> Person:
    from edge_client.federated.population import virtual_person  # phrase banks: only here

    analytical = virtual_person(seed, index, texts=0).analytical
    rng = np.random.default_rng([seed, index, 97])
    chosen = rng.choice(len(nodes), size=int(rng.integers(1, 3)), replace=False)
    return Person(analytical, {nodes[int(i)]: float(rng.uniform(0.3, 0.8)) for i in chosen})


class Plant(enum.Enum):
    """A problem planted in the simulation, for the audit to find."""

    NONE = "none"
    DISPARITY = "disparity"
    FATIGUE = "fatigue"
    PLATEAU = "plateau"


@dataclass(frozen=True)
class OutcomeModel:
    """SIMULATION parameters (defaults calibrated as described in the module docstring)."""

    impressions_per_window: float = 21.0
    style_accuracy: float = 0.77
    unknown_share: float = 0.2
    sponsored_share: float = 0.3
    disparity: float = 0.10
    exposure_mix: tuple[float, ...] = (0.45, 0.25, 0.15, 0.15)
    fatigue: float = 0.85
    planted_fatigue: float = 0.55
    exploration: float = 0.1
    chance_match: float = 0.15
    popularity: float = 0.5


@dataclass(frozen=True)
class SimulatedWindow:
    """One device's SIMULATED window: what it counts, and the expectations behind it.

    Attributes
    ----------
    counts : numpy.ndarray
        :data:`~edge_client.audit.outcomes.COUNT_SHAPE` counts (engagements drawn).
    expected : numpy.ndarray
        The same with engagements and dismissals replaced by their probabilities (the
        simulation's truth, for benchmarks).
    arm : Arm
        Personalized or control.
    bucket : StyleBucket
        The device's estimated style bucket.
    """

    counts: npt.NDArray[np.float64]
    expected: npt.NDArray[np.float64]
    arm: Arm
    bucket: StyleBucket


@lru_cache(maxsize=131072)
def _bucket(
    analytical: bool, seed: int, index: int, accuracy: float, unknown: float
) -> StyleBucket:
    """The device's estimated style bucket: fixed for a device across rounds."""
    rng = np.random.default_rng([seed, index])
    if rng.random() < unknown:
        return StyleBucket.UNKNOWN
    right = rng.random() < accuracy
    return StyleBucket.ANALYTICAL if analytical == right else StyleBucket.EMOTIONAL


def _simulate(
    people: Sequence[Person],
    buckets: npt.NDArray[np.intp],
    control: npt.NDArray[np.bool_],
    rng: np.random.Generator,
    *,
    m: OutcomeModel,
    plant: Plant,
    fade: float,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Counts and expectations of many devices' windows (one draw per impression)."""
    n = len(people)
    shown = np.maximum(1, rng.poisson(m.impressions_per_window, size=n))
    device = np.repeat(np.arange(n), shown)
    total = int(shown.sum())
    mix = np.cumsum(m.exposure_mix)
    bins = np.minimum(
        np.searchsorted(mix / mix[-1], rng.random(total), side="right"), EXPOSURE_BINS - 1
    )
    analytical = np.array([p.analytical for p in people], bool)
    scores = np.zeros((n, 2))
    owned = np.zeros(n, np.intp)
    for i, person in enumerate(people):
        values = list(person.interests.values())[:2] or [0.0]
        scores[i, : len(values)] = values
        owned[i] = len(values)
    explore = rng.random(total) < m.exploration
    ctrl = control[device]
    own = np.array([0, 1, 2], np.intp)[buckets][device]  # bucket index = framing index
    variant = np.where(ctrl | (own == 2), 2, np.where(explore, 1 - own, own))
    chance = rng.random(total) < m.chance_match
    matched = np.where(ctrl, chance, ~explore | chance)
    pick = (rng.random(total) * owned[device]).astype(np.intp)
    match = np.where(matched, scores[device, pick], 0.0)
    match = np.where(ctrl, match, match * fade)
    rate = np.full(total, m.sponsored_share)
    if plant is Plant.DISPARITY:
        gap = np.array([-0.5, 0.5, 0.0])[buckets][device] * m.disparity
        rate = np.where(ctrl, rate, rate + gap)
    sponsored = (rng.random(total) < rate).astype(np.intp)
    true_style = analytical[device]
    congruent = np.where(true_style, variant == 0, variant == 1)
    decay = m.planted_fatigue if plant is Plant.FATIGUE else m.fatigue
    p = (
        (0.02 + 0.08 * match + 0.02 * m.popularity)
        * np.where(congruent, 1.0 + CONGRUENCE_LIFT, 1.0)
        * decay**bins
    )
    engaged = rng.random(total) < p
    q = (0.01 + 0.01 * bins) * (1.0 - p)  # dismissal, only when not engaged
    dismissed = ~engaged & (rng.random(total) < q / np.maximum(1.0 - p, 1e-9))
    cells = COUNT_SHAPE[0] * COUNT_SHAPE[1] * COUNT_SHAPE[2]
    size = n * cells

    def tally(flag: npt.NDArray[np.intp], values: tuple[npt.ArrayLike, ...]) -> Floats:
        flat = device * cells + (variant * COUNT_SHAPE[1] + flag) * COUNT_SHAPE[2] + bins
        columns = [np.bincount(flat, np.asarray(v, np.float64), size) for v in values]
        stacked: Floats = np.stack(columns, axis=-1).astype(np.float64)
        return stacked.reshape(n, *COUNT_SHAPE)

    counts = tally(sponsored, (np.ones(total), engaged * 1.0, dismissed * 1.0))
    expected = tally(np.zeros(total, np.intp), ((1 - rate), p * (1 - rate), q * (1 - rate)))
    expected += tally(np.ones(total, np.intp), (rate, p * rate, q * rate))
    return counts, expected


def _fade(plant: Plant, round_number: int, rounds: int) -> float:
    if plant is not Plant.PLATEAU or rounds <= 1:
        return 1.0
    return max(0.0, 1.0 - round_number / (rounds - 1))


def simulate_window(
    person: Person,
    *,
    seed: int,
    index: int,
    round_number: int,
    rounds: int,
    control_share: float,
    plant: Plant = Plant.NONE,
    model: OutcomeModel | None = None,
) -> SimulatedWindow:
    """Return device ``index``'s SIMULATED outcomes in audit round ``round_number``.

    Parameters
    ----------
    person : Person
        The device's person.
    seed, index, round_number : int
        Seed the draws (the same arguments always give the same window).
    rounds : int
        Rounds in the run (a ``plateau`` fades over them).
    control_share : float
        Probability the device is in the control group this window.
    plant : Plant, default Plant.NONE
        The planted problem.
    model : OutcomeModel, optional
        SIMULATION parameters.

    Returns
    -------
    SimulatedWindow
        Counts, their expectations, arm and estimated bucket.
    """
    m = model if model is not None else OutcomeModel()
    bucket = _bucket(person.analytical, seed, index, m.style_accuracy, m.unknown_share)
    rng = np.random.default_rng([seed, index, round_number, 1])
    control = np.array([rng.random() < control_share])
    counts, expected = _simulate(
        [person],
        np.array([BUCKETS.index(bucket)]),
        control,
        rng,
        m=m,
        plant=plant,
        fade=_fade(plant, round_number, rounds),
    )
    arm = Arm.CONTROL if bool(control[0]) else Arm.PERSONALIZED
    return SimulatedWindow(counts[0], expected[0], arm, bucket)


@dataclass(frozen=True)
class SimulatedWindows:
    """Many devices' windows as arrays (see :func:`simulate_windows`)."""

    counts: npt.NDArray[np.float64]
    expected: npt.NDArray[np.float64]
    arms: npt.NDArray[np.intp]
    buckets: npt.NDArray[np.intp]


def simulate_windows(
    population: Population,
    indices: Sequence[int],
    *,
    seed: int,
    round_number: int,
    rounds: int,
    control_share: float,
    plant: Plant = Plant.NONE,
    model: OutcomeModel | None = None,
) -> SimulatedWindows:
    """Return many devices' SIMULATED windows at once (same model as :func:`simulate_window`).

    A device's style bucket is the one :func:`simulate_window` gives it; the other draws
    come from one stream per ``(seed, round_number)``, so a batch is fast but not equal,
    draw for draw, to the same devices simulated one by one.
    """
    m = model if model is not None else OutcomeModel()
    people = [population.person(i) for i in indices]
    buckets = np.array(
        [
            BUCKETS.index(_bucket(p.analytical, seed, i, m.style_accuracy, m.unknown_share))
            for p, i in zip(people, indices, strict=True)
        ],
        np.intp,
    )
    rng = np.random.default_rng([seed, round_number, 2])
    control = rng.random(len(people)) < control_share
    counts, expected = _simulate(
        people, buckets, control, rng, m=m, plant=plant, fade=_fade(plant, round_number, rounds)
    )
    return SimulatedWindows(counts, expected, control.astype(np.intp), buckets)
