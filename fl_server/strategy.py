"""The policy-enforced strategy: Flower's own FedAvg wrapped by the policy's rules.

:class:`PolicyStrategy` samples nodes itself (Poisson, at the policy's rate, capped
participation), skips rounds whose cohort is under k, charges the privacy ledger before
sending, validates every reply (:mod:`fl_server.validation`), averages the accepted updates
with equal weights (user-level DP; FedAvg's mean, taken over the arrays validation already
decoded, because handing the replies to Flower's ``FedAvg`` decoded every update twice and
made the wrapper 1.2–1.4× a plain round), rescales that mean to the fixed denominator
``m = rate × population`` (the expected cohort; DP-FedAvg's unbiased estimator, McMahan
et al. 2018, so the number of participants, which depends on who was sampled, does not set
the noise), adds Gaussian noise ``σ = noise_multiplier × clip / m``,
applies it to the global model through the server step (:mod:`fl_server.server_opt`:
plain FedAvg, or server momentum as post-processing of the noised mean), publishes the
result as a signed bundle and checkpoints. The wrapped ``flwr.serverapp.strategy.FedAvg``
configures and aggregates federated evaluation (k-cohorts, allowed metrics only).
Clients receive the model only as that bundle and reply with clipped updates.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from flwr.app import ArrayRecord, ConfigRecord, Message, MessageType, MetricRecord, RecordDict
from flwr.serverapp import Grid
from flwr.serverapp.strategy import FedAvg, Strategy

from edge_client.federated.rounds import BUNDLE_FIELD, PlanKey, RecordName
from edge_client.federated.trainable import FederatedModel
from edge_client.policy import PolicyEngine, RoundKey
from fl_server.checkpoint import CheckpointStore, ServerState
from fl_server.errors import ServerConfigError
from fl_server.ledger import PrivacyLedger
from fl_server.publish import Publisher
from fl_server.sampling import poisson_sample
from fl_server.secagg import SecureAggregator, SecureOutcome
from fl_server.server_opt import ServerOptimizer
from fl_server.validation import Rejection, check_metrics, validate_reply

__all__ = ["WEIGHT_KEY", "PolicyStrategy", "TrainPlan", "policy_fedavg"]

_LOG = logging.getLogger("fl_server")
WEIGHT_KEY = "edgeprof-weight"  # equal weight per person, injected after validation


@dataclass(frozen=True)
class TrainPlan:
    """What every sampled device is asked to do.

    Attributes
    ----------
    model, local_epochs, batch_size, learning_rate, l2
        See :class:`edge_client.federated.rounds.PlanKey`.
    """

    model: FederatedModel = FederatedModel.STYLE
    local_epochs: int = 1
    batch_size: int = 16
    learning_rate: float = 0.5
    l2: float = 0.0


def policy_fedavg(*, fraction_evaluate: float = 0.0) -> FedAvg:
    """Return the FedAvg a :class:`PolicyStrategy` wraps (equal weights per accepted reply)."""
    return FedAvg(
        fraction_train=1.0,
        fraction_evaluate=fraction_evaluate,
        min_train_nodes=1,
        min_evaluate_nodes=1,
        min_available_nodes=1,
        weighted_by_key=WEIGHT_KEY,
        arrayrecord_key=RecordName.ARRAYS.value,
        configrecord_key=RecordName.CONFIG.value,
    )


class PolicyStrategy(Strategy):
    """Policy-enforced wrapper around Flower's FedAvg (see the module docstring).

    Parameters
    ----------
    inner
        The wrapped FedAvg (federated evaluation); made with :func:`policy_fedavg`.
    engine
        The policy in force.
    plan
        Local training plan.
    ledger
        The privacy ledger (charged rounds restored from the checkpoint).
    publisher
        Signs and writes each new global model.
    store
        Where checkpoints go.
    state
        The state to start from (fresh or loaded).
    rng
        Sampling and noise randomness (seed it from the OS in production).
    sampling_rate
        Rate used, at most the policy's (default: the policy's).
    on_round
        Called with each round's history record (progress, reports).
    secure
        Secure aggregation (:mod:`fl_server.secagg`): required when the policy asks for
        it. Devices then add the noise (distributed discrete Gaussian) and the server sees
        only the noised sum of each round.
    optimizer
        How the noised mean update is applied (default: plain FedAvg).
    """

    def __init__(
        self,
        inner: FedAvg,
        *,
        engine: PolicyEngine,
        plan: TrainPlan,
        ledger: PrivacyLedger,
        publisher: Publisher,
        store: CheckpointStore,
        state: ServerState,
        rng: np.random.Generator,
        sampling_rate: float | None = None,
        on_round: Callable[[Mapping[str, Any]], None] | None = None,
        secure: SecureAggregator | None = None,
        optimizer: ServerOptimizer | None = None,
    ) -> None:
        rules = engine.federated
        if rules.secure_aggregation and secure is None:
            raise ServerConfigError(
                "strategy: the policy requires secure aggregation (federated.secure_aggregation)"
            )
        rate = rules.sampling_rate if sampling_rate is None else sampling_rate
        if inner.weighted_by_key != WEIGHT_KEY or not 0 < rate <= rules.sampling_rate:
            raise ServerConfigError(
                "strategy: inner FedAvg must come from policy_fedavg() and the sampling rate "
                f"must be in (0, {rules.sampling_rate:g}] (federated.sampling_rate)"
            )
        self.inner, self.engine, self.plan, self.ledger = inner, engine, plan, ledger
        self.publisher, self.store, self.rng, self.rate = publisher, store, rng, rate
        self.on_round, self.secure = on_round, secure
        self.optimizer = optimizer or ServerOptimizer()
        self._outcome: SecureOutcome | None = None
        self.state = state
        self._participations = dict(state.participations)
        self._history = list(state.history)
        self._round = max([state.completed_round] + [int(h["round"]) for h in self._history])
        self._round = max([self._round] + [e.round for e in ledger.entries])
        self._pending: dict[str, Any] = {}
        self._sent: frozenset[int] = frozenset()
        self._bundle = self._publish(state.completed_round, state.weights, {})
        self._save()

    # helpers -----------------------------------------------------------------------
    @property
    def history(self) -> tuple[Mapping[str, Any], ...]:
        """Return every round's record, oldest first."""
        return tuple(self._history)

    def _publish(
        self, version: int, weights: Mapping[str, Any], metrics: Mapping[str, float]
    ) -> bytes:
        return self.publisher.publish(
            model=self.plan.model.value,
            version=version,
            weights=weights,
            metrics=metrics,
            policy_hash=self.engine.policy_hash,
        )

    def _save(self) -> None:
        self.state = replace(
            self.state,
            ledger=self.ledger.entries,
            participations=dict(self._participations),
            history=tuple(self._history),
            rng_state=json.dumps(self.rng.bit_generator.state),
        )
        self.store.save(self.state)

    def _close(self, record: dict[str, Any]) -> None:
        record.setdefault("epsilon", self.ledger.spent)
        self._history.append(record)
        self._save()
        _LOG.info("round %s: %s", record["round"], json.dumps(record, sort_keys=True))
        if self.on_round is not None:
            self.on_round(record)

    def round_config(self, server_round: int, cohort: int) -> ConfigRecord:
        """Return the configuration every device of a round checks against its policy."""
        rules = self.engine.federated
        return ConfigRecord(
            {
                RoundKey.POLICY_HASH.value: self.engine.policy_hash,
                RoundKey.COHORT_SIZE.value: cohort,
                RoundKey.SAMPLING_RATE.value: self.rate,
                RoundKey.CLIPPING_NORM.value: rules.clipping_norm,
                RoundKey.NOISE_MULTIPLIER.value: rules.noise_multiplier,
                RoundKey.SECURE_AGGREGATION.value: self.secure is not None,
                RoundKey.METRICS.value: sorted(self.engine.allowed_metric_names()),
                PlanKey.MODEL.value: self.plan.model.value,
                PlanKey.SERVER_ROUND.value: server_round,
                PlanKey.LOCAL_EPOCHS.value: self.plan.local_epochs,
                PlanKey.BATCH_SIZE.value: self.plan.batch_size,
                PlanKey.LEARNING_RATE.value: self.plan.learning_rate,
                PlanKey.L2.value: self.plan.l2,
            }
        )

    def _messages(self, nodes: list[int], server_round: int, kind: str) -> list[Message]:
        content = RecordDict(
            {
                RecordName.CONFIG.value: self.round_config(server_round, len(nodes)),
                RecordName.BUNDLE.value: ConfigRecord({BUNDLE_FIELD: self._bundle}),
            }
        )
        return [Message(content, dst_node_id=node, message_type=kind) for node in nodes]

    def _sample(self, grid: Grid, *, capped: bool) -> list[int]:
        rules = self.engine.federated
        return poisson_sample(
            grid.get_node_ids(),
            rate=self.rate,
            rng=self.rng,
            participations=self._participations if capped else None,
            max_participation=rules.max_participation_per_period if capped else None,
        )

    # training ----------------------------------------------------------------------
    def configure_train(
        self, server_round: int, arrays: ArrayRecord, config: ConfigRecord, grid: Grid
    ) -> Iterable[Message]:
        """Sample a Poisson cohort; skip it under k; charge ε; send the signed model."""
        self._round += 1
        record: dict[str, Any] = {
            "round": self._round,
            "started": time.time(),
            "sampling_rate": self.rate,
        }
        if not self.ledger.can_charge():
            self._pending = {}
            self._close({**record, "status": "budget_exhausted", "cohort": 0})
            return []
        population = list(grid.get_node_ids())
        record["expected_cohort"] = self.rate * len(population)
        nodes = self._sample(grid, capped=True)
        if len(nodes) < self.engine.federated.min_cohort:
            self._pending = {}
            self._close({**record, "status": "skipped_cohort_under_k", "cohort": len(nodes)})
            return []
        self.ledger.charge(self._round, len(nodes))
        self._sent = frozenset(nodes)
        for node in nodes:
            self._participations[node] = self._participations.get(node, 0) + 1
        self._save()
        self._pending = {**record, "cohort": len(nodes)}
        if self.secure is None:
            return self._messages(nodes, self._round, MessageType.TRAIN)
        # Secure round: every stage runs here; Strategy.start then sends nothing more.
        self._outcome = self.secure.run(
            grid,
            nodes,
            server_round=self._round,
            config=self.round_config(self._round, len(nodes)),
            bundle=self._bundle,
            shapes=tuple((k, tuple(v.shape)) for k, v in sorted(self.state.weights.items())),
        )
        return []

    def aggregate_train(
        self, server_round: int, replies: Iterable[Message]
    ) -> tuple[ArrayRecord | None, MetricRecord | None]:
        """Validate every reply; average the accepted ones with FedAvg; add noise; publish."""
        if not self._pending:
            return None, None
        record, self._pending = self._pending, {}
        if self._outcome is not None:
            outcome, self._outcome = self._outcome, None
            return self._aggregate_secure(record, outcome)
        rules = self.engine.federated
        shapes = {k: tuple(v.shape) for k, v in self.state.weights.items()}
        allowed = self.engine.allowed_metric_names()
        received = list(replies)
        waiting = set(self._sent)  # each sampled node may reply once; no one else may
        verdicts = []
        for m in received:
            verdict = validate_reply(
                m,
                shapes=shapes,
                clipping_norm=rules.clipping_norm,
                allowed_metrics=allowed,
                expected_senders=waiting,
            )
            if verdict.rejection is not Rejection.SENDER:
                waiting.discard(_sender(m))
            verdicts.append(verdict)
        rejected = Counter(v.rejection.value for v in verdicts if v.rejection is not None)
        accepted = [(m, v) for m, v in zip(received, verdicts, strict=True) if v.accepted]
        record.update(
            replies=len(received),
            missing=record["cohort"] - len(received),
            accepted=len(accepted),
            rejected=dict(sorted(rejected.items())),
        )
        if len(accepted) < rules.min_cohort:
            self._close({**record, "status": "not_aggregated_under_k"})
            return None, None
        # FedAvg's mean with equal weights (user-level DP), over the updates validation
        # already decoded: handing the replies to Flower's FedAvg decoded every update a
        # second time, which was most of the wrapper's own cost per round.
        n = len(accepted)
        mean = {
            name: np.sum([v.update[name] for _, v in accepted], axis=0, dtype=np.float64) / n
            for name in self.state.weights
        }
        names = sorted({k for _, v in accepted for k in v.metrics})
        metrics = {k: sum(v.metrics.get(k, 0.0) for _, v in accepted) / n for k in names}
        # Fixed denominator: sum of clipped updates / expected cohort, noise scaled to it.
        expected = max(float(record["expected_cohort"]), 1.0)
        scale = len(accepted) / expected
        sigma = rules.noise_multiplier * rules.clipping_norm / expected
        update = {
            name: (
                (array * scale).astype(np.float32)
                + self.rng.normal(0.0, sigma, array.shape).astype(np.float32)
            ).astype(np.float32)
            for name, array in mean.items()
        }
        reported = {k: float(v) for k, v in metrics.items()}
        return self._finish(record, update, reported, accepted=len(accepted), sigma=sigma)

    def _aggregate_secure(
        self, record: dict[str, Any], outcome: SecureOutcome
    ) -> tuple[ArrayRecord | None, MetricRecord | None]:
        """Apply a secure round's noised sum (devices added the noise), fixed denominator."""
        details = dict(outcome.record)
        record.update(
            secagg=details,
            replies=details["answered"].get("secagg_mask", 0),
            missing=record["cohort"] - details["answered"].get("secagg_advertise", 0),
            accepted=details["survivors"],
            rejected={**details["refused"], **details["rejected"]},
        )
        if outcome.total is None:
            self._close({**record, "status": outcome.status})
            return None, None
        total = outcome.total
        expected = max(float(record["expected_cohort"]), 1.0)
        update = {
            name: (total.weights[name] / np.float32(expected)).astype(np.float32)
            for name in self.state.weights
        }
        reported = {k: v / total.survivors for k, v in total.metrics.items()}  # means of sums
        noise = (
            details["device_noise_std"] * np.sqrt(total.survivors) / 2.0 ** details["scale_bits"]
        )
        return self._finish(
            record, update, reported, accepted=total.survivors, sigma=float(noise) / expected
        )

    def _finish(
        self,
        record: dict[str, Any],
        update: dict[str, npt.NDArray[np.float32]],
        reported: Mapping[str, float],
        *,
        accepted: int,
        sigma: float,
    ) -> tuple[ArrayRecord, MetricRecord]:
        """Apply the noised mean ``update``; publish, checkpoint, close the round's record."""
        weights, velocity = self.optimizer.step(self.state.weights, update, self.state.velocity)
        summary = {
            **reported,
            "epsilon": self.ledger.spent,
            "cohort": float(record["cohort"]),
            "accepted": float(accepted),
            "noise_std": sigma,
        }
        self._bundle = self._publish(self._round, weights, summary)
        self.state = replace(
            self.state, completed_round=self._round, weights=weights, velocity=velocity
        )
        self._close(
            {
                **record,
                **summary,
                "status": "aggregated",
                "seconds": time.time() - record["started"],
            }
        )
        return ArrayRecord({k: _array(a) for k, a in weights.items()}), MetricRecord(dict(summary))

    # evaluation --------------------------------------------------------------------
    def configure_evaluate(
        self, server_round: int, arrays: ArrayRecord, config: ConfigRecord, grid: Grid
    ) -> Iterable[Message]:
        """Ask a Poisson cohort (at least k) for allowed metrics of the current model.

        Never in secure mode: evaluation replies would carry per-device metrics in the clear.
        """
        if self.inner.fraction_evaluate == 0.0 or self.secure is not None:
            return []
        nodes = self._sample(grid, capped=False)
        if len(nodes) < self.engine.federated.min_cohort:
            return []
        return self._messages(nodes, self._round, MessageType.EVALUATE)

    def aggregate_evaluate(
        self, server_round: int, replies: Iterable[Message]
    ) -> MetricRecord | None:
        """Average allowed metrics of at least k valid replies with FedAvg."""
        allowed = self.engine.allowed_metric_names()
        clip = self.engine.federated.clipping_norm
        valid = []
        for m in replies:
            metrics = _reported_metrics(m, allowed, clip)
            if metrics is not None:
                content = RecordDict(
                    {RecordName.METRICS.value: MetricRecord({**metrics, WEIGHT_KEY: 1.0})}
                )
                valid.append(_relabel(m, content))
        if len(valid) < self.engine.federated.min_cohort:
            return None
        return self.inner.aggregate_evaluate(server_round, valid)

    def summary(self) -> None:
        """Log the policy boundaries and the wrapped strategy's settings."""
        rules = self.engine.federated
        _LOG.info(
            "PolicyStrategy: policy %s, k=%d, q=%g, clip=%g, z=%g, budget ε=%g at δ=%g, %s",
            self.engine.policy_hash[:12],
            rules.min_cohort,
            self.rate,
            rules.clipping_norm,
            rules.noise_multiplier,
            rules.target_epsilon,
            rules.target_delta,
            "secure aggregation (distributed noise)" if self.secure else "central noise",
        )
        self.inner.summary()


def _sender(message: Message) -> int | None:
    """Return a reply's source node id, or ``None`` when it has none readable."""
    try:
        return int(message.metadata.src_node_id)
    except Exception:  # a hostile reply must not end the round
        return None


def _reported_metrics(
    message: Message, allowed: frozenset[str], clipping_norm: float
) -> dict[str, float] | None:
    """Return an evaluate reply's metrics when allowed and in range, else ``None``."""
    try:
        if message.has_error():
            return None
        checked = check_metrics(
            message.content.get(RecordName.METRICS.value), allowed, clipping_norm=clipping_norm
        )
    except Exception:  # a hostile reply must not end the round
        return None
    return None if isinstance(checked, Rejection) else checked


def _relabel(message: Message, content: RecordDict) -> Message:
    """Return ``message`` (its metadata) carrying ``content`` instead."""
    # Flower's public overloads omit the metadata form; it keeps the reply's metadata intact.
    relabelled: Message = Message(content=content, metadata=message.metadata)  # type: ignore[call-overload]
    return relabelled


def _array(values: npt.NDArray[np.float32]) -> Any:
    from flwr.app import Array

    return Array(np.array(values, np.float32, order="C"))  # keeps 0-d shapes
