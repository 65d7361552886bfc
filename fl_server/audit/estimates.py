"""From the noisy sum of devices' contributions to rates, standard errors and flags.

Every rate is a ratio of two parts of a question's block (:mod:`edge_client.audit.layout`),
their weights divided out: for example the sponsored-offer share of a style bucket is
``sponsored / devices`` of its ``offers`` cell (device-weighted: each device's own share
counts once), the engagement rate at an exposure bin is ``engaged / shown`` of its
``fatigue`` cell, the lift is the personalized arm's rate minus the control group's.
Standard errors come from the known DP noise only (delta method); sampling noise is not
included. A rate is withheld when its cell rests on fewer than ``min_cohort`` (noisy)
devices, or its denominator on fewer than ``min_cohort`` devices' worth of impressions.
:func:`raise_flags` compares the estimates with the policy's alert thresholds.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from edge_client.audit.layout import (
    ARMS,
    BUCKETS,
    EXPOSURE_BINS,
    PART_WEIGHTS,
    VARIANTS,
    Arm,
    Layout,
    Part,
    Question,
    StyleBucket,
)
from edge_client.policy.model import OutcomeAuditRules
from fl_server.errors import ServerConfigError

__all__ = [
    "LIFT_RESOLUTION",
    "SIGNIFICANCE_Z",
    "AuditEstimates",
    "Estimate",
    "Flag",
    "FlagKind",
    "estimate",
    "raise_flags",
]

SIGNIFICANCE_Z = 2.576
"""A disparity or fatigue drop is flagged only when also this many standard errors from 0."""

LIFT_RESOLUTION = 0.025
"""The lift is judged against ``min_lift`` only when known to ± this (95% noise interval)."""

_P, _C = ARMS.index(Arm.PERSONALIZED), ARMS.index(Arm.CONTROL)
_A, _E = BUCKETS.index(StyleBucket.ANALYTICAL), BUCKETS.index(StyleBucket.EMOTIONAL)


@dataclass(frozen=True)
class Estimate:
    """A rate (or difference of rates) and its standard error from the DP noise.

    ``value`` is ``None`` when the cell rests on fewer devices than ``min_cohort``.
    """

    value: float | None
    se: float

    @property
    def withheld(self) -> bool:
        """Return whether the estimate is withheld (too few devices)."""
        return self.value is None

    def interval(self, z: float = 1.96) -> tuple[float, float] | None:
        """Return the ``value ± z·se`` interval (``None`` when withheld)."""
        if self.value is None:
            return None
        return (self.value - z * self.se, self.value + z * self.se)


_NONE = Estimate(None, math.inf)


@dataclass(frozen=True)
class AuditEstimates:
    """What one audit round found (each part ``None`` when its question was not asked).

    Attributes
    ----------
    devices : dict of str to float
        Noisy device counts per ``arm/bucket`` (or per arm with the lift question only).
    exposure : dict of str to Estimate
        Personalized arm: share of impressions per ``bucket/variant``.
    sponsored : dict of str to Estimate
        Personalized arm: sponsored-offer share of impressions per bucket.
    disparity : Estimate or None
        Sponsored share of the emotional bucket minus the analytical one.
    engagement, dismissal : dict of str to Estimate
        Personalized arm: rate per ``bucket/variant`` (per impression of that variant).
    fatigue : list of Estimate
        Personalized arm: engagement rate at the 1st, 2nd, 3rd and 4th-or-later exposure.
    lift : Estimate or None
        Engagement rate of the personalized arm minus the control group's.
    arm_rates : dict of str to Estimate
        Engagement rate per arm.
    """

    devices: dict[str, float]
    exposure: dict[str, Estimate] | None = None
    sponsored: dict[str, Estimate] | None = None
    disparity: Estimate | None = None
    engagement: dict[str, Estimate] | None = None
    dismissal: dict[str, Estimate] | None = None
    fatigue: list[Estimate] | None = None
    lift: Estimate | None = None
    arm_rates: dict[str, Estimate] | None = None

    def to_dict(self) -> dict[str, object]:
        """Return JSON-ready data (withheld values as ``null``)."""
        raw = asdict(self)
        return {k: _finite(v) for k, v in raw.items()}

    @classmethod
    def from_dict(cls, data: object) -> AuditEstimates:
        """Rebuild estimates from :meth:`to_dict` output (a report written earlier).

        Raises
        ------
        ServerConfigError
            When the data is malformed.
        """
        if not isinstance(data, dict) or not isinstance(data.get("devices"), dict):
            raise ServerConfigError("audit report: round estimates are malformed")
        try:
            devices = {str(k): float(v) for k, v in data["devices"].items()}
            fields: dict[str, object] = {}
            for name in ("exposure", "sponsored", "engagement", "dismissal", "arm_rates"):
                if data.get(name) is not None:
                    fields[name] = {str(k): _estimate(v) for k, v in data[name].items()}
            for name in ("disparity", "lift"):
                if data.get(name) is not None:
                    fields[name] = _estimate(data[name])
            if data.get("fatigue") is not None:
                fields["fatigue"] = [_estimate(v) for v in data["fatigue"]]
        except (TypeError, ValueError, AttributeError, KeyError):
            raise ServerConfigError("audit report: round estimates are malformed") from None
        return cls(devices=devices, **fields)  # type: ignore[arg-type]  # names match fields


def _estimate(raw: dict[str, object]) -> Estimate:
    value, se = raw["value"], raw["se"]
    return Estimate(
        None if value is None else float(value),  # type: ignore[arg-type]  # checked by caller
        math.inf if se is None else float(se),  # type: ignore[arg-type]  # idem
    )


def _finite(value: object) -> object:
    if isinstance(value, float):
        return round(value, 6) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _ratio(
    num: float, den: float, var_num: float, var_den: float, *, devices: float, k: int
) -> Estimate:
    # Withheld below k devices, and when the denominator is worth fewer than k devices'
    # impressions (a variant a bucket almost never sees): the ratio would be noise.
    if not (devices >= k and den >= k):
        return _NONE
    r = num / den
    return Estimate(float(r), math.sqrt(var_num + r * r * var_den) / den)


def _difference(a: Estimate, b: Estimate) -> Estimate:
    if a.value is None or b.value is None:
        return _NONE
    return Estimate(a.value - b.value, math.hypot(a.se, b.se))


def _parts(
    x: npt.NDArray[np.float64], layout: Layout, question: Question, variance: float
) -> dict[Part, tuple[npt.NDArray[np.float64], float]]:
    """Each part of a question's block, weights divided out, with its noise variance."""
    block = x[layout.span(question)].reshape(Layout.shape(question))
    return {
        part: (block[..., j] / weight, variance / (weight * weight))
        for j, (part, weight) in enumerate(PART_WEIGHTS[question].items())
    }


def estimate(
    total: npt.ArrayLike, layout: Layout, *, sigma: float, min_cohort: int
) -> AuditEstimates:
    """Return the round's estimates from the sum of the devices' noisy contributions.

    Parameters
    ----------
    total : array_like
        ``[layout.size]`` sum of the replies.
    layout : Layout
        The questions asked.
    sigma : float
        Standard deviation of the total noise in each cell.
    min_cohort : int
        Cells resting on fewer (noisy) devices are withheld.

    Returns
    -------
    AuditEstimates
        Rates with their standard errors.
    """
    x = np.asarray(total, np.float64)
    v = sigma * sigma
    asked = set(layout.questions)
    out: dict[str, object] = {}
    devices: npt.NDArray[np.float64] | None = None  # [arm, bucket]
    if Question.OFFERS in asked:
        parts = _parts(x, layout, Question.OFFERS, v)
        (n, vn), (spo, vs) = parts[Part.DEVICE], parts[Part.SPONSORED]
        devices = n
        sponsored = {
            b.value: _ratio(spo[_P, j], n[_P, j], vs, vn, devices=n[_P, j], k=min_cohort)
            for j, b in enumerate(BUCKETS)
        }
        out["sponsored"] = sponsored
        out["disparity"] = _difference(sponsored["emotional"], sponsored["analytical"])
    if Question.EXPOSURE in asked:
        shown, vs = _parts(x, layout, Question.EXPOSURE, v)[Part.SHOWN]
        n = shown.sum(axis=2)  # each device's shares sum to 1
        devices = n if devices is None else devices
        out["exposure"] = {
            f"{b.value}/{name}": _ratio(
                shown[_P, j, k], n[_P, j], vs, len(VARIANTS) * vs, devices=n[_P, j], k=min_cohort
            )
            for j, b in enumerate(BUCKETS)
            for k, name in enumerate(VARIANTS)
        }
    if Question.ENGAGEMENT in asked:
        parts = _parts(x, layout, Question.ENGAGEMENT, v)
        shown, vs = parts[Part.SHOWN]
        n = shown.sum(axis=2) if devices is None else devices
        for name, part in (("engagement", Part.ENGAGED), ("dismissal", Part.DISMISSED)):
            num, vnum = parts[part]
            out[name] = {
                f"{b.value}/{variant}": _ratio(
                    num[_P, j, k], shown[_P, j, k], vnum, vs, devices=n[_P, j], k=min_cohort
                )
                for j, b in enumerate(BUCKETS)
                for k, variant in enumerate(VARIANTS)
            }
    if Question.FATIGUE in asked:
        parts = _parts(x, layout, Question.FATIGUE, v)
        (shown, vs), (engaged, ve) = parts[Part.SHOWN], parts[Part.ENGAGED]
        personalized = float(shown[_P].sum())
        out["fatigue"] = [
            _ratio(engaged[_P, k], shown[_P, k], ve, vs, devices=personalized, k=min_cohort)
            for k in range(EXPOSURE_BINS)
        ]
    counts: dict[str, float] = {}
    if devices is not None:
        counts = {
            f"{a.value}/{b.value}": float(devices[i, j])
            for i, a in enumerate(ARMS)
            for j, b in enumerate(BUCKETS)
        }
    if Question.LIFT in asked:
        parts = _parts(x, layout, Question.LIFT, v)
        (n, vn), (engaged, ve) = parts[Part.DEVICE], parts[Part.ENGAGED]
        counts = counts or {a.value: float(n[i]) for i, a in enumerate(ARMS)}
        rates = {
            a.value: _ratio(engaged[i], n[i], ve, vn, devices=n[i], k=min_cohort)
            for i, a in enumerate(ARMS)
        }
        out["arm_rates"] = rates
        out["lift"] = _difference(rates["personalized"], rates["control"])
    return AuditEstimates(devices=counts, **out)  # type: ignore[arg-type]  # keys match fields


class FlagKind(enum.Enum):
    """What an audit flag is about."""

    DISPARITY = "exposure_disparity"
    FATIGUE = "fatigue"
    DIMINISHING_RETURNS = "diminishing_returns"
    IMPRECISE = "imprecise"
    """Not a finding: the noise is too large for a threshold to be judged."""


@dataclass(frozen=True)
class Flag:
    """One finding of an audit, in plain words, with the round it comes from."""

    kind: FlagKind
    round: int
    message: str

    def to_dict(self) -> dict[str, object]:
        """Return JSON-ready data."""
        return {"kind": self.kind.value, "round": self.round, "message": self.message}


def _fatigue_drop(curve: Sequence[Estimate], limit: int) -> Estimate:
    first, last = curve[0], curve[min(limit, EXPOSURE_BINS) - 1]
    if first.value is None or last.value is None or first.value <= 0:
        return _NONE
    ratio = last.value / first.value
    se = math.hypot(last.se / first.value, ratio * first.se / first.value)  # delta method
    return Estimate(1.0 - ratio, se)


def _disparity_flags(number: int, est: AuditEstimates, rules: OutcomeAuditRules) -> list[Flag]:
    d, spo = est.disparity, est.sponsored or {}
    if d is None or d.value is None:
        return []
    gap, margin, limit = d.value * 100, 1.96 * d.se * 100, rules.disparity_threshold * 100
    if abs(d.value) > rules.disparity_threshold and abs(d.value) > SIGNIFICANCE_Z * d.se:
        side = "emotional" if d.value > 0 else "analytical"
        return [
            Flag(
                FlagKind.DISPARITY,
                number,
                (
                    f"{side}-leaning people see more sponsored offers: "
                    f"{_pct(spo['emotional'])} of impressions (emotional) against "
                    f"{_pct(spo['analytical'])} (analytical), a gap of {gap:+.1f} points "
                    f"(± {margin:.1f}); threshold {limit:.1f} points"
                ),
            )
        ]
    if 1.96 * d.se > rules.disparity_threshold:
        return [
            Flag(
                FlagKind.IMPRECISE,
                number,
                (
                    f"the exposure disparity is known only to ± {margin:.1f} points, wider "
                    f"than the {limit:.1f}-point threshold: more devices (or a larger audit "
                    "budget) are needed to judge it"
                ),
            )
        ]
    return []


def _fatigue_flags(
    number: int, est: AuditEstimates, rules: OutcomeAuditRules, limit: int
) -> list[Flag]:
    drop = _fatigue_drop(est.fatigue or [], limit)
    if drop.value is None:
        return []
    if 1.96 * drop.se > rules.fatigue_max_drop:
        return [
            Flag(
                FlagKind.IMPRECISE,
                number,
                (
                    f"the fatigue drop is known only to ± {1.96 * drop.se:.0%}, wider than the "
                    f"{rules.fatigue_max_drop:.0%} the policy allows: more devices are needed"
                ),
            )
        ]
    if drop.value <= rules.fatigue_max_drop or drop.value <= SIGNIFICANCE_Z * drop.se:
        return []
    return [
        Flag(
            FlagKind.FATIGUE,
            number,
            (
                f"engagement at exposure {min(limit, EXPOSURE_BINS)} is {drop.value:.0%} below the "
                f"first exposure (± {1.96 * drop.se:.0%}); the policy expects at most "
                f"{rules.fatigue_max_drop:.0%}"
            ),
        )
    ]


def _lift_flags(number: int, est: AuditEstimates, rules: OutcomeAuditRules) -> list[Flag]:
    lift = est.lift
    if lift is None or lift.value is None:
        return []
    if 1.96 * lift.se > LIFT_RESOLUTION:
        return [
            Flag(
                FlagKind.IMPRECISE,
                number,
                (
                    f"the lift is known only to ± {1.96 * lift.se * 100:.1f} points, too wide "
                    f"to judge it against {rules.min_lift * 100:.1f}: more devices (or a larger "
                    "control group) are needed"
                ),
            )
        ]
    if lift.value >= rules.min_lift:
        return []
    return [
        Flag(
            FlagKind.DIMINISHING_RETURNS,
            number,
            (
                f"personalization beats the generic control by {lift.value * 100:+.2f} "
                f"engagement points (± {1.96 * lift.se * 100:.2f}), below the policy's "
                f"{rules.min_lift * 100:.2f}"
            ),
        )
    ]


def raise_flags(
    rounds: Sequence[tuple[int, AuditEstimates]],
    rules: OutcomeAuditRules,
    *,
    fatigue_limit: int,
) -> list[Flag]:
    """Return the flags of an audit: findings against the policy's thresholds.

    Parameters
    ----------
    rounds : sequence of (int, AuditEstimates)
        Each aggregated round and its estimates, oldest first.
    rules : OutcomeAuditRules
        The thresholds (``disparity_threshold``, ``fatigue_max_drop``, ``min_lift``).
    fatigue_limit : int
        The policy's ``personalization.fatigue_after_impressions`` (the exposure compared
        with the first one; at most 4).

    Returns
    -------
    list of Flag
        Findings of the latest round that answered each question (disparity, fatigue,
        lift), and an ``imprecise`` note where the noise is too large to judge a threshold.
    """

    def latest(name: str) -> tuple[int, AuditEstimates] | None:
        return next(((r, e) for r, e in reversed(rounds) if getattr(e, name) is not None), None)

    flags: list[Flag] = []
    found = latest("disparity")
    if found is not None:
        flags += _disparity_flags(*found, rules)
    found = latest("fatigue")
    if found is not None:
        flags += _fatigue_flags(*found, rules, fatigue_limit)
    found = latest("lift")
    if found is not None:
        flags += _lift_flags(*found, rules)
    return flags


def _pct(value: Estimate) -> str:
    return "withheld" if value.value is None else f"{value.value:.1%}"
