"""Where a device's audit answer comes from: its own store, or a SIMULATED person.

An :class:`AuditSource` gives the ClientApp's query handler (:mod:`edge_client.audit.app`)
the policy, consent, the device's clock and participation history, and the current
window's outcome counts, arm and style bucket. :class:`StoreAuditSource` reads an app's
:class:`~edge_client.device.Device` (outcomes kept by its
:class:`~edge_client.selection.PersonalizedFeed` in the selection state);
:class:`SimulatedAuditSource` is a virtual device of a Flower simulation whose outcomes are
SIMULATED (:mod:`edge_client.audit.simulation`).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from datetime import datetime, timezone
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from edge_client.audit.layout import Arm, StyleBucket
from edge_client.audit.recorder import OutcomeRecorder
from edge_client.audit.rounds import AuditKey, AuditPlan
from edge_client.audit.simulation import BuiltinPopulation, Plant, simulate_window
from edge_client.policy.consent import ConsentState
from edge_client.policy.engine import PolicyEngine
from edge_client.policy.model import Purpose, Trait
from edge_client.profile import Profile

__all__ = [
    "AuditSource",
    "SimulatedAuditSource",
    "StoreAuditSource",
    "style_bucket",
]


class AuditSource(Protocol):
    """What the query handler needs from a device."""

    @property
    def engine(self) -> PolicyEngine:
        """The device's policy."""
        ...

    @property
    def consent(self) -> ConsentState:
        """The person's consent."""
        ...

    def now(self, config: Mapping[str, object]) -> float:
        """Return the device's time (POSIX seconds)."""
        ...

    def history(self) -> Sequence[float]:
        """Return when the device answered earlier audit rounds."""
        ...

    def window(self, plan: AuditPlan) -> tuple[npt.NDArray[np.float64], Arm, StyleBucket]:
        """Return the current window's counts, arm and style bucket."""
        ...

    def contributed(self, now: float) -> None:
        """Record that the device answered a round at ``now`` (a new window starts)."""
        ...

    def noise(self) -> np.random.Generator:
        """Return the generator of the device's noise (OS entropy on real devices)."""
        ...


def style_bucket(profile: Profile) -> StyleBucket:
    """Return a profile's style bucket: its leaning when usable, else unknown."""
    if Trait.DECISION_STYLE.value not in profile.usable:
        return StyleBucket.UNKNOWN
    leaning = profile.decision_style.leaning
    return {"analytical": StyleBucket.ANALYTICAL, "emotional": StyleBucket.EMOTIONAL}.get(
        leaning, StyleBucket.UNKNOWN
    )


class StoreAuditSource:
    """An app's :class:`~edge_client.device.Device` answering audit rounds.

    Parameters
    ----------
    device : Device
        The app's device; its selection state holds the outcome counts.
    """

    def __init__(self, device: Any) -> None:
        self._device = device
        self._state: dict[str, Any] = device.selection_state()
        self._recorder = OutcomeRecorder(
            device.policy.audit.outcomes,
            self._state.setdefault("outcomes", {}),
            np.random.default_rng(),
        )

    @property
    def engine(self) -> PolicyEngine:
        """The device's policy."""
        engine: PolicyEngine = self._device.engine
        return engine

    @property
    def consent(self) -> ConsentState:
        """The person's consent."""
        consent: ConsentState = self._device.profiler.consent
        return consent

    def now(self, config: Mapping[str, object]) -> float:
        """Return the device's own clock (a round's announced time is ignored)."""
        del config
        return datetime.now(timezone.utc).timestamp()

    def history(self) -> Sequence[float]:
        """Return when the device answered earlier audit rounds."""
        return self._recorder.rounds

    def window(self, plan: AuditPlan) -> tuple[npt.NDArray[np.float64], Arm, StyleBucket]:
        """Return the window's counts and arm, and the style bucket of the profile."""
        del plan
        counts, arm = self._recorder.window()
        return counts, arm, style_bucket(self._device.profile())

    def contributed(self, now: float) -> None:
        """Close the window and save the selection state."""
        self._recorder.close_window(now)
        if self._state.get("format") is not None:
            self._device.keep_selection_state(self._state)

    def noise(self) -> np.random.Generator:
        """Return a generator seeded by the OS."""
        return np.random.default_rng()


def _int(config: Mapping[str, object], key: str, default: int) -> int:
    value = config.get(key, default)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


class SimulatedAuditSource:
    """A SIMULATED virtual device of a Flower simulation (outcomes are not real).

    Parameters
    ----------
    engine : PolicyEngine
        The device's policy.
    index : int
        The node's ``partition-id``.
    seed : int
        Population seed.
    rounds : int
        Rounds in the run.
    plant : Plant
        The planted problem.
    state : MutableMapping
        The node's persistent state (participation history).
    """

    def __init__(
        self,
        engine: PolicyEngine,
        *,
        index: int,
        seed: int,
        rounds: int,
        plant: Plant,
        state: MutableMapping[str, Any],
    ) -> None:
        self._engine = engine
        self._index, self._seed, self._rounds, self._plant = index, seed, rounds, plant
        self._state = state
        self._consent = engine.consent_state([Purpose.PERSONALIZATION])

    @classmethod
    def from_config(
        cls, engine: PolicyEngine, config: Mapping[str, object], state: MutableMapping[str, Any]
    ) -> SimulatedAuditSource:
        """Build the device of a node from its merged node and run config.

        Keys: ``partition-id``, ``population-seed``, ``audit-rounds``, ``audit-plant``.
        """
        plant = config.get("audit-plant", "none")
        try:
            chosen = Plant(plant)
        except ValueError:
            chosen = Plant.NONE
        return cls(
            engine,
            index=_int(config, "partition-id", 0),
            seed=_int(config, "population-seed", 0),
            rounds=max(1, _int(config, "audit-rounds", 1)),
            plant=chosen,
            state=state,
        )

    @property
    def engine(self) -> PolicyEngine:
        """The device's policy."""
        return self._engine

    @property
    def consent(self) -> ConsentState:
        """Virtual people consent to personalization."""
        return self._consent

    def now(self, config: Mapping[str, object]) -> float:
        """Return the round's virtual time (SIMULATION only)."""
        value = config.get(AuditKey.SIMULATED_AT.value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        return datetime.now(timezone.utc).timestamp()

    def history(self) -> Sequence[float]:
        """Return the virtual times of rounds answered before."""
        return tuple(float(t) for t in self._state.get("audit-rounds", []))

    def window(self, plan: AuditPlan) -> tuple[npt.NDArray[np.float64], Arm, StyleBucket]:
        """Return the SIMULATED window of this round."""
        person = BuiltinPopulation(self._index + 1, seed=self._seed).person(self._index)
        simulated = simulate_window(
            person,
            seed=self._seed,
            index=self._index,
            round_number=plan.round,
            rounds=self._rounds,
            control_share=self._engine.policy.audit.outcomes.control_share,
            plant=self._plant,
        )
        return simulated.counts, simulated.arm, simulated.bucket

    def contributed(self, now: float) -> None:
        """Remember the round's virtual time."""
        self._state["audit-rounds"] = [*self.history(), now]

    def noise(self) -> np.random.Generator:
        """Return the device's noise generator (seeded: SIMULATION is reproducible)."""
        return np.random.default_rng([self._seed, self._index, len(self.history()), 5])
