"""The privacy ledger: ε spent per round, and a stop before the policy's budget is exceeded.

Each round that sends training messages is charged *before* they go out (a crash after
sending never under-counts). ε after ``t`` charged rounds is computed with Google's
``dp_accounting`` through :func:`edge_client.policy.accounting.compute_epsilon`: ``t``
Poisson-sampled Gaussian rounds at the sampling rate (and the tighter participation-cap
bound when it is tighter). Rounds skipped before sending (cohort under k) cost nothing:
the sample does not depend on anyone's data.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from edge_client.policy import FederatedRules
from edge_client.policy.accounting import compute_epsilon
from fl_server.errors import BudgetExhaustedError, ServerConfigError

__all__ = ["LedgerEntry", "PrivacyLedger"]


@dataclass(frozen=True)
class LedgerEntry:
    """One charged round.

    Attributes
    ----------
    round
        The server round charged.
    cohort
        Nodes the round was sent to.
    epsilon
        Total ε after this round.
    """

    round: int
    cohort: int
    epsilon: float


class PrivacyLedger:
    """ε per round for one policy's federated budget.

    Parameters
    ----------
    noise_multiplier
        Noise standard deviation over the clipping norm.
    sampling_rate
        Poisson sampling rate of the rounds.
    delta
        The policy's δ.
    target_epsilon
        The policy's ε budget for the period.
    max_participation
        Most rounds a node joins per period (enforced by the sampler).
    entries
        Rounds already charged (from a checkpoint).
    """

    def __init__(
        self,
        *,
        noise_multiplier: float,
        sampling_rate: float,
        delta: float,
        target_epsilon: float,
        max_participation: int | None = None,
        entries: Iterable[LedgerEntry] = (),
    ) -> None:
        if not (noise_multiplier > 0 and 0 < sampling_rate <= 1 and 0 < delta < 1):
            raise ServerConfigError(
                "ledger: needs noise_multiplier > 0, 0 < sampling_rate <= 1, 0 < delta < 1"
            )
        if not target_epsilon > 0:
            raise ServerConfigError("ledger: target_epsilon must be positive")
        self.noise_multiplier = noise_multiplier
        self.sampling_rate = sampling_rate
        self.delta = delta
        self.target_epsilon = target_epsilon
        self.max_participation = max_participation
        self._entries = list(entries)
        self._cache: dict[int, float] = {0: 0.0}

    @classmethod
    def from_rules(
        cls,
        rules: FederatedRules,
        *,
        sampling_rate: float | None = None,
        entries: Iterable[LedgerEntry] = (),
    ) -> PrivacyLedger:
        """Return the ledger of a policy's ``[federated]`` rules.

        Parameters
        ----------
        rules
            The rules (noise, δ, ε budget, participation cap).
        sampling_rate
            The rate actually used (at most the policy's); default the policy's.
        entries
            Rounds already charged.

        Returns
        -------
        PrivacyLedger
            The ledger.
        """
        return cls(
            noise_multiplier=rules.noise_multiplier,
            sampling_rate=sampling_rate if sampling_rate is not None else rules.sampling_rate,
            delta=rules.target_delta,
            target_epsilon=rules.target_epsilon,
            max_participation=rules.max_participation_per_period,
            entries=entries,
        )

    def epsilon_for(self, rounds: int) -> float:
        """Return ε after ``rounds`` charged rounds (0 for none)."""
        if rounds not in self._cache:
            self._cache[rounds] = compute_epsilon(
                noise_multiplier=self.noise_multiplier,
                sampling_rate=self.sampling_rate,
                rounds=rounds,
                delta=self.delta,
                max_participation=self.max_participation,
            ).epsilon
        return self._cache[rounds]

    @property
    def entries(self) -> tuple[LedgerEntry, ...]:
        """Return the charged rounds, oldest first."""
        return tuple(self._entries)

    @property
    def spent(self) -> float:
        """Return ε spent so far."""
        return self.epsilon_for(len(self._entries))

    def can_charge(self) -> bool:
        """Return whether one more round stays within the budget."""
        return self.epsilon_for(len(self._entries) + 1) <= self.target_epsilon

    def affordable_rounds(self, limit: int) -> int:
        """Return how many more rounds (at most ``limit``) stay within the budget."""
        done = len(self._entries)
        count = 0
        while count < limit and self.epsilon_for(done + count + 1) <= self.target_epsilon:
            count += 1
        return count

    def charge(self, server_round: int, cohort: int) -> LedgerEntry:
        """Charge one round before its messages are sent.

        Raises
        ------
        BudgetExhaustedError
            When the round would take ε above the target.
        """
        epsilon = self.epsilon_for(len(self._entries) + 1)
        if not (math.isfinite(epsilon) and epsilon <= self.target_epsilon):
            raise BudgetExhaustedError(
                f"round {server_round}: ε would reach {epsilon:.3f} > {self.target_epsilon:g}"
            )
        entry = LedgerEntry(server_round, cohort, epsilon)
        self._entries.append(entry)
        return entry
