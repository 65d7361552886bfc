"""The privacy ledger: what each round spent, and a stop before the policy's budget.

Each round that sends training messages is charged *before* they go out (a crash after
sending never under-counts), and the charge records what the round actually spent: its
Poisson sampling rate q, the noise multiplier σ (for distributed noise, the conservative
effective multiplier) and the number of sampled Gaussian steps. ε is always recomputed
from those records with Google's ``dp_accounting``
(:func:`edge_client.policy.accounting.compose_epsilon`), never from the run's current
settings, so resuming with another sampling rate (or noise) neither re-prices past rounds
nor lets training run past an exhausted budget. Rounds skipped before sending (cohort
under k) cost nothing: the sample does not depend on anyone's data.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from edge_client.policy import FederatedRules, PolicyError
from edge_client.policy.accounting import RoundCharge, compose_epsilon
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
        Total ε after this round (as computed when it was charged).
    sampling_rate
        Poisson sampling rate the round's cohort was drawn at.
    noise_multiplier
        Noise multiplier the round's aggregate gets (σ over the clipping norm).
    steps
        Sampled Gaussian steps the round took (1 for a DP-FedAvg round).
    """

    round: int
    cohort: int
    epsilon: float
    sampling_rate: float
    noise_multiplier: float
    steps: int = 1

    @property
    def charge(self) -> RoundCharge:
        """Return what the round spent, for the accountant."""
        return RoundCharge(self.sampling_rate, self.noise_multiplier, self.steps)


class PrivacyLedger:
    """ε per user for one policy's federated budget, from what each round spent.

    Parameters
    ----------
    noise_multiplier
        Noise multiplier of the rounds charged from now on (unless a charge says another).
    sampling_rate
        Poisson sampling rate of the rounds charged from now on (idem).
    delta
        The policy's δ.
    target_epsilon
        The policy's ε budget for the period.
    max_participation
        Most rounds a node joins per period (enforced by the sampler).
    entries
        Rounds already charged (from a checkpoint), each with its own rate and noise.
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
        if not (0 < noise_multiplier < math.inf and 0 < sampling_rate <= 1 and 0 < delta < 1):
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
        self._cache: dict[tuple[tuple[RoundCharge, int], ...], float] = {}

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
            The rate the next rounds use (at most the policy's); default the policy's.
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

    def _next(self, sampling_rate: float | None, noise_multiplier: float | None) -> RoundCharge:
        return RoundCharge(
            self.sampling_rate if sampling_rate is None else sampling_rate,
            self.noise_multiplier if noise_multiplier is None else noise_multiplier,
        )

    def _epsilon(self, charges: Iterable[RoundCharge]) -> float:
        grouped: Counter[RoundCharge] = Counter()
        for charge in charges:
            grouped[RoundCharge(charge.sampling_rate, charge.noise_multiplier)] += charge.steps
        key = tuple(
            sorted(
                grouped.items(), key=lambda item: (item[0].sampling_rate, item[0].noise_multiplier)
            )
        )
        if key not in self._cache:
            try:
                self._cache[key] = compose_epsilon(
                    [RoundCharge(c.sampling_rate, c.noise_multiplier, n) for c, n in key],
                    delta=self.delta,
                    max_participation=self.max_participation,
                ).epsilon
            except PolicyError as exc:  # dp-accounting cannot price it: never under-count
                raise BudgetExhaustedError(f"ledger: {exc}") from None
        return self._cache[key]

    def epsilon_for(self, rounds: int) -> float:
        """Return ε after ``rounds`` rounds (0 for none).

        The first ``rounds`` charged rounds count as they were charged; rounds beyond
        them count at the ledger's current rate and noise.
        """
        charged = [e.charge for e in self._entries[:rounds]]
        more = max(rounds - len(self._entries), 0)
        extra = RoundCharge(self.sampling_rate, self.noise_multiplier, more)
        return self._epsilon(charged + ([extra] if more else []))

    @property
    def entries(self) -> tuple[LedgerEntry, ...]:
        """Return the charged rounds, oldest first."""
        return tuple(self._entries)

    @property
    def spent(self) -> float:
        """Return ε spent so far, from what every charged round spent."""
        return self._epsilon(e.charge for e in self._entries)

    def epsilon_after(
        self, *, sampling_rate: float | None = None, noise_multiplier: float | None = None
    ) -> float:
        """Return ε once one more round at ``(q, σ)`` (default: the ledger's) is charged."""
        nxt = self._next(sampling_rate, noise_multiplier)
        return self._epsilon([*(e.charge for e in self._entries), nxt])

    def can_charge(
        self, *, sampling_rate: float | None = None, noise_multiplier: float | None = None
    ) -> bool:
        """Return whether one more round (default: at the ledger's rate and noise) fits."""
        try:
            epsilon = self.epsilon_after(
                sampling_rate=sampling_rate, noise_multiplier=noise_multiplier
            )
        except BudgetExhaustedError:
            return False
        return math.isfinite(epsilon) and epsilon <= self.target_epsilon

    def affordable_rounds(self, limit: int) -> int:
        """Return how many more rounds at the current rate and noise (at most ``limit``) fit."""
        done = len(self._entries)
        count = 0
        while count < limit and self.epsilon_for(done + count + 1) <= self.target_epsilon:
            count += 1
        return count

    def charge(
        self,
        server_round: int,
        cohort: int,
        *,
        sampling_rate: float | None = None,
        noise_multiplier: float | None = None,
        steps: int = 1,
    ) -> LedgerEntry:
        """Charge one round before its messages are sent.

        Parameters
        ----------
        server_round, cohort
            The round and how many nodes it is sent to.
        sampling_rate, noise_multiplier
            What this round spends (default: the ledger's); a secure-aggregation round
            passes the conservative effective noise multiplier of its worst case.
        steps
            Sampled Gaussian steps the round takes.

        Returns
        -------
        LedgerEntry
            The record kept (and checkpointed) for the round.

        Raises
        ------
        BudgetExhaustedError
            When the round would take ε above the target, or cannot be priced.
        """
        nxt = self._next(sampling_rate, noise_multiplier)
        entry = LedgerEntry(
            server_round, cohort, 0.0, nxt.sampling_rate, nxt.noise_multiplier, steps
        )
        epsilon = self._epsilon([*(e.charge for e in self._entries), entry.charge])
        if not (math.isfinite(epsilon) and epsilon <= self.target_epsilon):
            raise BudgetExhaustedError(
                f"round {server_round}: ε would reach {epsilon:.3f} > {self.target_epsilon:g}"
            )
        entry = LedgerEntry(
            server_round, cohort, epsilon, nxt.sampling_rate, nxt.noise_multiplier, steps
        )
        self._entries.append(entry)
        return entry
