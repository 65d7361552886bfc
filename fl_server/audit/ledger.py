"""The audit's own privacy ledger: ε of outcome-audit rounds, charged before they are sent.

Audit rounds spend ``audit.outcomes.epsilon`` (a budget beside the federated training
one): every round is a Poisson-sampled Gaussian mechanism with the noise multiplier the
audit runs at, and ε of the rounds inside any window of ``period_days`` is computed with
``dp_accounting`` (:func:`edge_client.policy.accounting.compute_epsilon`). A round is
charged (and the ledger file written) *before* its messages go out, so a crash never
under-counts; a round that would exceed the budget, or comes sooner than the cadence, is
refused. This ledger is separate from the training ledger (:mod:`fl_server.ledger`).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from edge_client.audit.rounds import required_noise_multiplier
from edge_client.policy.accounting import compute_epsilon
from edge_client.policy.model import OutcomeAuditRules
from fl_server.errors import BudgetExhaustedError, ServerConfigError

__all__ = ["FORMAT", "AuditCharge", "AuditLedger"]

FORMAT = "edgeprof-audit-ledger/1"
_DAY = 86400.0
_SLACK = 3600.0
_MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class AuditCharge:
    """One charged audit round.

    Attributes
    ----------
    round : int
        The audit round.
    at : float
        When it was charged (POSIX seconds; virtual time in a simulation).
    cohort : int
        Devices it was sent to.
    epsilon : float
        ε of the rounds in the ``period_days`` window ending with this one.
    """

    round: int
    at: float
    cohort: int
    epsilon: float


class AuditLedger:
    """ε per window of the audit's rounds, for one policy's ``[audit.outcomes]``.

    Parameters
    ----------
    rules : OutcomeAuditRules
        The audit budget, period, cadence and sampling rate.
    noise_multiplier : float
        ``z`` the rounds run at; at least :func:`required_noise_multiplier`.
    sampling_rate : float, optional
        Rate used (at most the policy's; default the policy's).
    entries : iterable of AuditCharge
        Rounds already charged.
    path : pathlib.Path, optional
        JSON file written (atomically) on every charge.

    Raises
    ------
    ServerConfigError
        When ``z`` is below what the budget needs or the rate above the policy's.
    """

    def __init__(
        self,
        rules: OutcomeAuditRules,
        *,
        noise_multiplier: float,
        sampling_rate: float | None = None,
        entries: Iterable[AuditCharge] = (),
        path: Path | None = None,
    ) -> None:
        rate = rules.sampling_rate if sampling_rate is None else sampling_rate
        if not 0 < rate <= rules.sampling_rate:
            raise ServerConfigError(
                f"audit ledger: sampling rate {rate:g} not in (0, {rules.sampling_rate:g}]"
            )
        needed = required_noise_multiplier(rules)
        if not noise_multiplier >= needed:
            raise ServerConfigError(
                f"audit ledger: noise multiplier {noise_multiplier:g} is below the {needed:g} "
                f"the audit budget (epsilon {rules.epsilon:g}) needs"
            )
        self.rules = rules
        self.noise_multiplier = noise_multiplier
        self.sampling_rate = rate
        self.path = path
        self._entries = list(entries)

    @classmethod
    def load(
        cls,
        path: Path,
        rules: OutcomeAuditRules,
        *,
        noise_multiplier: float,
        sampling_rate: float | None = None,
    ) -> AuditLedger:
        """Return the ledger kept in ``path`` (a new one when the file does not exist).

        Raises
        ------
        ServerConfigError
            Naming the file and the field when it is malformed.
        """
        entries: list[AuditCharge] = []
        if path.exists():
            try:
                raw = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise ServerConfigError(f"{path}: cannot read the audit ledger ({exc})") from None
            if not isinstance(raw, dict) or raw.get("format") != FORMAT:
                raise ServerConfigError(f"{path}: field 'format' must be {FORMAT!r}")
            items = raw.get("entries")
            if not isinstance(items, list) or len(items) > _MAX_ENTRIES:
                raise ServerConfigError(f"{path}: field 'entries' must be a list")
            for position, item in enumerate(items):
                try:
                    charge = AuditCharge(
                        int(item["round"]),
                        float(item["at"]),
                        int(item["cohort"]),
                        float(item["epsilon"]),
                    )
                except (KeyError, TypeError, ValueError):
                    raise ServerConfigError(f"{path}: entries[{position}] is malformed") from None
                if not (math.isfinite(charge.at) and math.isfinite(charge.epsilon)):
                    raise ServerConfigError(f"{path}: entries[{position}] is not finite")
                entries.append(charge)
        return cls(
            rules,
            noise_multiplier=noise_multiplier,
            sampling_rate=sampling_rate,
            entries=entries,
            path=path,
        )

    @property
    def entries(self) -> tuple[AuditCharge, ...]:
        """Return the charged rounds, oldest first."""
        return tuple(self._entries)

    def _window(self, at: float) -> list[AuditCharge]:
        return [e for e in self._entries if at - e.at < self.rules.period_days * _DAY]

    def epsilon_for(self, rounds: int) -> float:
        """Return ε of ``rounds`` audit rounds inside one period (0 for none)."""
        if rounds <= 0:
            return 0.0
        return compute_epsilon(
            noise_multiplier=self.noise_multiplier,
            sampling_rate=self.sampling_rate,
            rounds=rounds,
            delta=self.rules.delta,
        ).epsilon

    def spent(self, at: float) -> float:
        """Return ε of the rounds in the period window ending at ``at``."""
        return self.epsilon_for(len(self._window(at)))

    def charge(self, round_number: int, *, at: float, cohort: int) -> AuditCharge:
        """Charge one round before its messages are sent (and write the ledger file).

        Raises
        ------
        BudgetExhaustedError
            When the round would exceed the budget or the rounds per period, or comes
            sooner than ``cadence_days`` after the previous one.
        """
        window = self._window(at)
        rules = self.rules
        if window and at - max(e.at for e in window) < rules.cadence_days * _DAY - _SLACK:
            raise BudgetExhaustedError(
                f"audit round {round_number}: less than audit.outcomes.cadence_days="
                f"{rules.cadence_days} after the previous round"
            )
        if len(window) + 1 > rules.rounds_per_period:
            raise BudgetExhaustedError(
                f"audit round {round_number}: {len(window)} rounds already in the last "
                f"{rules.period_days} days (at most {rules.rounds_per_period})"
            )
        epsilon = self.epsilon_for(len(window) + 1)
        if not (math.isfinite(epsilon) and epsilon <= rules.epsilon):
            raise BudgetExhaustedError(
                f"audit round {round_number}: epsilon would reach {epsilon:.3f} > {rules.epsilon:g}"
            )
        charge = AuditCharge(round_number, at, cohort, epsilon)
        self._entries.append(charge)
        self._write()
        return charge

    def _write(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "format": FORMAT,
            "noise_multiplier": self.noise_multiplier,
            "sampling_rate": self.sampling_rate,
            "budget": {
                "epsilon": self.rules.epsilon,
                "delta": self.rules.delta,
                "period_days": self.rules.period_days,
            },
            "entries": [asdict(e) for e in self._entries],
        }
        temporary = self.path.with_suffix(".tmp")
        with temporary.open("w", encoding="utf-8") as handle:
            handle.write(json.dumps(document, indent=2, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(self.path)
