"""Secure aggregation over Flower's Message API: the stages of a round, on any ``Grid``.

:class:`SecureAggregator` runs one secure round for the policy strategy: it plans the
round (:func:`~fl_server.secagg.planning.plan_round`), then for each stage sends one
``train.secagg_<stage>`` message per remaining device, waits at most the configured
timeout (``grid.send_and_receive``), and hands the replies to the Flower-free
:class:`~fl_server.secagg.protocol.ServerRound`. Devices that refuse (error replies, counted
by the reason they name), time out, or send something that does not check out (counted by
reason) drop out. The outcome is the unmasked noised sum, or the stage at which fewer than
``min_survivors`` were left (nothing is published then). The round record holds every
count: devices per stage, refusals and rejections by reason, survivors, degree, threshold,
scale, noise and the effective noise multiplier the ledger may charge.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from flwr.app import ArrayRecord, ConfigRecord, Message, RecordDict
from flwr.serverapp import Grid

from edge_client.federated.rounds import BUNDLE_FIELD, RecordName
from edge_client.policy import PolicyEngine, TrustStore
from edge_client.secagg.clientapp import MASKED, PARAMS_FIELD, PAYLOAD, refusal_reason
from edge_client.secagg.encoding import METRIC_SCALE
from edge_client.secagg.session import Stage
from fl_server.errors import ServerConfigError
from fl_server.secagg.planning import RoundPlan, plan_round
from fl_server.secagg.protocol import RoundFailedError, SecureSum, ServerRound
from fl_server.secagg.settings import SecAggSettings

__all__ = ["SecureAggregator", "SecureOutcome"]


@dataclass(frozen=True)
class SecureOutcome:
    """The result of one secure round.

    Attributes
    ----------
    total
        The unmasked noised sum, or ``None`` when the round stopped.
    status
        ``aggregated``, or ``secagg_stopped_at_<stage>``.
    record
        Counts for the round's report (see the module docstring).
    """

    total: SecureSum | None
    status: str
    record: Mapping[str, Any]


class SecureAggregator:
    """Runs secure rounds for a policy (see the module docstring).

    Parameters
    ----------
    engine
        The policy in force.
    settings
        Timeouts, dropout allowance, graph degree, identity authorities.
    sampling_rate
        The Poisson rate the rounds are sampled at (for the noise calibration).

    Raises
    ------
    ServerConfigError
        When no identity authority is configured or it cannot be read.
    """

    def __init__(
        self, engine: PolicyEngine, settings: SecAggSettings, *, sampling_rate: float
    ) -> None:
        if settings.authority is None:
            raise ServerConfigError(
                "the policy requires secure aggregation: set 'secagg-authority' (the identity "
                "authorities' public keys) in the run config"
            )
        try:
            self.authority = TrustStore.load(settings.authority)
        except Exception as exc:  # TrustStoreError from the policy package
            raise ServerConfigError(f"secagg-authority: {exc}") from None
        self.engine, self.settings, self.sampling_rate = engine, settings, sampling_rate

    def plan(
        self,
        cohort: Sequence[int],
        *,
        server_round: int,
        config: ConfigRecord,
        bundle: bytes,
        shapes: Sequence[tuple[str, tuple[int, ...]]],
    ) -> RoundPlan:
        """Return the round's parameters for ``cohort``."""
        rules = self.engine.federated
        return plan_round(
            policy_hash=self.engine.policy_hash,
            model=str(config["model"]),
            model_hash=hashlib.sha256(bundle).hexdigest(),
            server_round=server_round,
            nonce=os.urandom(32),
            cohort=cohort,
            shapes=shapes,
            # The metrics a training reply carries (the policy may also allow evaluation ones).
            metrics=sorted(self.engine.allowed_metric_names() & METRIC_SCALE.keys()),
            clipping_norm=rules.clipping_norm,
            noise_multiplier=rules.noise_multiplier,
            sampling_rate=self.sampling_rate,
            min_cohort=rules.min_cohort,
            max_dropout=self.settings.max_dropout,
            neighbours=self.settings.neighbours,
        )

    def _exchange(
        self, grid: Grid, stage: Stage, contents: Mapping[int, RecordDict], counts: dict[str, Any]
    ) -> dict[int, Message]:
        messages = [
            Message(content, dst_node_id=node, message_type=f"train.{stage.value}")
            for node, content in contents.items()
        ]
        replies: dict[int, Message] = {}
        for reply in grid.send_and_receive(messages, timeout=self.settings.timeout):
            node = reply.metadata.src_node_id
            if node in contents and node not in replies:
                replies[node] = reply
        refused = Counter(refusal_reason(m) for m in replies.values() if m.has_error())
        counts["sent"][stage.value] = len(contents)
        counts["answered"][stage.value] = len(replies) - sum(refused.values())
        counts["refused"].update(refused)
        return {node: m for node, m in replies.items() if not m.has_error()}

    @staticmethod
    def _payloads(replies: Mapping[int, Message], rejected: Counter[str]) -> dict[int, bytes]:
        out = {}
        for node, message in replies.items():
            record = message.content.get(PAYLOAD)
            blob = record.get("data") if isinstance(record, ConfigRecord) else None
            if isinstance(blob, bytes) and set(message.content.keys()) == {PAYLOAD}:
                out[node] = blob
            else:
                rejected["malformed"] += 1
        return out

    @staticmethod
    def _vectors(
        replies: Mapping[int, Message], rejected: Counter[str]
    ) -> dict[int, npt.NDArray[np.uint32]]:
        out = {}
        for node, message in replies.items():
            record = message.content.get(MASKED)
            if set(message.content.keys()) != {MASKED} or not isinstance(record, ArrayRecord):
                rejected["malformed"] += 1
                continue
            array = record.get(MASKED)
            if set(record.keys()) != {MASKED} or array is None or array.dtype != "uint32":
                rejected["malformed"] += 1
                continue
            out[node] = array.numpy()
        return out

    def run(
        self,
        grid: Grid,
        cohort: Iterable[int],
        *,
        server_round: int,
        config: ConfigRecord,
        bundle: bytes,
        shapes: Sequence[tuple[str, tuple[int, ...]]],
    ) -> SecureOutcome:
        """Run one secure round with ``cohort``.

        Parameters
        ----------
        grid
            Where the devices are.
        cohort
            The sampled node ids (at least the policy's k).
        server_round
            The round number.
        config
            The round's config record (policy fields and training plan).
        bundle
            The signed model bundle.
        shapes
            The model's weight shapes in name order.

        Returns
        -------
        SecureOutcome
            The sum or where the round stopped, and its counts.
        """
        started = time.perf_counter()
        nodes = sorted(set(cohort))
        plan = self.plan(
            nodes, server_round=server_round, config=config, bundle=bundle, shapes=shapes
        )
        params = plan.params
        server = ServerRound(params, authority=self.authority)
        counts: dict[str, Any] = {"sent": {}, "answered": {}, "refused": Counter()}
        record: dict[str, Any] = {
            "min_survivors": params.min_survivors,
            "neighbours": plan.degree,
            "threshold": plan.threshold,
            "scale_bits": params.scale_bits,
            "device_noise_std": params.noise_std,
            "noise_calibration_factor": plan.noise.factor,
            "effective_noise_multiplier": plan.noise.effective_noise_multiplier,
        }
        first = RecordDict(
            {
                RecordName.CONFIG.value: ConfigRecord({**config, PARAMS_FIELD: params.to_bytes()}),
                RecordName.BUNDLE.value: ConfigRecord({BUNDLE_FIELD: bundle}),
            }
        )

        def payload(blob: bytes) -> RecordDict:
            return RecordDict({PAYLOAD: ConfigRecord({"data": blob})})

        status, total = "aggregated", None
        try:
            replies = self._exchange(grid, Stage.ADVERTISE, dict.fromkeys(nodes, first), counts)
            server.collect_advertisements(self._payloads(replies, server.rejected))
            share = payload(server.share_request())
            replies = self._exchange(grid, Stage.SHARE, dict.fromkeys(server.ads, share), counts)
            server.collect_shares(self._payloads(replies, server.rejected))
            contents = {node: payload(server.mask_request(node)) for node in server.shared}
            replies = self._exchange(grid, Stage.MASK, contents, counts)
            server.collect_masked(self._vectors(replies, server.rejected))
            confirm = payload(server.confirm_request())
            replies = self._exchange(
                grid, Stage.CONFIRM, dict.fromkeys(server.survivors, confirm), counts
            )
            server.collect_confirmations(self._payloads(replies, server.rejected))
            unmask = payload(server.unmask_request())
            replies = self._exchange(
                grid, Stage.UNMASK, dict.fromkeys(server.confirmations, unmask), counts
            )
            total = server.collect_unmask(self._payloads(replies, server.rejected))
        except RoundFailedError as failure:
            status = f"secagg_stopped_at_{failure.stage}"
            record["stop_reason"] = failure.detail
        record.update(
            sent=counts["sent"],
            answered=counts["answered"],
            refused=dict(sorted(counts["refused"].items())),
            rejected=dict(sorted(server.rejected.items())),
            survivors=len(server.survivors) if total is not None else 0,
            dropped_after_sharing=total.dropped if total is not None else 0,
            seconds=time.perf_counter() - started,
        )
        return SecureOutcome(total, status, record)
