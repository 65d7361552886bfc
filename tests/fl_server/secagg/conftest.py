"""A Flower-free harness: devices (DeviceSession) and the server (ServerRound) of one round."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_client.policy.keys import TrustStore
from edge_client.secagg import DeviceIdentity, DeviceSession, RoundParams, Stage, issue_certificate
from edge_client.secagg.encoding import quantize, to_ring
from edge_client.secagg.identity import raw_public_key
from edge_client.secagg.noise import discrete_gaussian
from edge_client.secagg.wire import unpack
from fl_server.secagg import SecureSum, ServerRound, plan_round

SHAPES = (("b", (1,)), ("w", (600, 1)))
METRICS = ("num_examples",)

# tamper(stage, destination node, payload) -> payload the device receives instead
Tamper = Callable[[Stage, int, bytes], bytes]


@dataclass
class Cohort:
    """Devices, their identities and the server of one secure round."""

    trust: TrustStore
    identities: dict[int, DeviceIdentity]
    params: RoundParams
    devices: dict[int, DeviceSession]
    server: ServerRound
    updates: dict[int, dict[str, npt.NDArray[np.float64]]]
    contributions: dict[int, npt.NDArray[np.int64]] = field(default_factory=dict)
    noise: bool = False

    def encoder(self, node: int) -> Callable[[RoundParams], npt.NDArray[np.uint32]]:
        """Return the device's encoder: quantized update (+ noise), then its metric."""

        def encode(params: RoundParams) -> npt.NDArray[np.uint32]:
            rng = np.random.default_rng(node)
            values = quantize(
                self.updates[node],
                params.layout,
                scale_bits=params.scale_bits,
                clipping_norm=params.clipping_norm,
                rng=rng,
            )
            if self.noise:
                values = values + discrete_gaussian(rng, params.noise_std, values.size)
            full = np.concatenate([values, np.array([node % 7 + 1], np.int64)])
            self.contributions[node] = full
            return to_ring(full)

        return encode


def identity(authority: Ed25519PrivateKey, name: str) -> DeviceIdentity:
    """Return a fresh device identity certified by ``authority``."""
    key = Ed25519PrivateKey.generate()
    certificate = issue_certificate(authority, device=name, key=raw_public_key(key.public_key()))
    return DeviceIdentity(name, key, certificate)


@pytest.fixture(scope="session")
def authority() -> Ed25519PrivateKey:
    """The identity authority of the harness."""
    return Ed25519PrivateKey.generate()


CohortFactory = Callable[..., Cohort]


@pytest.fixture
def cohort(authority: Ed25519PrivateKey) -> CohortFactory:
    """Return a factory of cohorts of ``n`` devices with small random clipped updates."""

    def make(
        n: int = 10,
        *,
        neighbours: int = 0,
        max_dropout: float = 0.3,
        min_cohort: int = 3,
        noise: bool = False,
        server_round: int = 1,
        nodes: list[int] | None = None,
    ) -> Cohort:
        ids = nodes or [1000 + 37 * i for i in range(n)]
        identities = {node: identity(authority, f"device-{node}") for node in ids}
        plan = plan_round(
            policy_hash="0" * 64,
            model="style",
            model_hash="1" * 64,
            server_round=server_round,
            nonce=os.urandom(32),
            cohort=ids,
            shapes=SHAPES,
            metrics=METRICS,
            clipping_norm=1.0,
            noise_multiplier=1.0,
            sampling_rate=0.5,
            min_cohort=min_cohort,
            max_dropout=max_dropout,
            neighbours=neighbours,
        )
        rng = np.random.default_rng(0)
        updates = {}
        for node in ids:
            values = {
                "b": rng.normal(size=(1,)),
                "w": rng.normal(size=(600, 1)) * (rng.random((600, 1)) < 0.1),
            }
            norm = float(np.sqrt(sum(float(np.sum(v**2)) for v in values.values())))
            updates[node] = {k: v * (0.999 / norm) for k, v in values.items()}
        trust = TrustStore.from_keys(authority.public_key())
        return Cohort(
            trust,
            identities,
            plan.params,
            {node: DeviceSession() for node in ids},
            ServerRound(plan.params, authority=trust),
            updates,
            noise=noise,
        )

    return make


def _answer(cohort: Cohort, stage: Stage, node: int, payload: bytes, tamper: Tamper | None) -> Any:
    blob = tamper(stage, node, payload) if tamper else payload
    device = cohort.devices[node]
    if stage is Stage.SHARE:
        return device.share(unpack(blob, stage.value), authority=cohort.trust)
    if stage is Stage.MASK:
        return device.mask(unpack(blob, stage.value), cohort.encoder(node))
    if stage is Stage.CONFIRM:
        return device.confirm(unpack(blob, stage.value), identity=cohort.identities[node])
    return device.unmask(unpack(blob, stage.value))


def run_round(
    cohort: Cohort,
    *,
    silent: Mapping[Stage, set[int]] | None = None,
    tamper: Tamper | None = None,
) -> SecureSum:
    """Run every stage; nodes in ``silent[stage]`` answer no more from that stage on."""
    gone: set[int] = set()
    quiet = silent or {}

    def alive(stage: Stage, nodes: list[int]) -> list[int]:
        gone.update(quiet.get(stage, set()))
        return [n for n in nodes if n not in gone]

    params, server = cohort.params, cohort.server
    ads = {
        node: cohort.devices[node].advertise(
            params, node=node, identity=cohort.identities[node], authority=cohort.trust
        )
        for node in alive(Stage.ADVERTISE, list(params.cohort))
    }
    server.collect_advertisements(ads)
    request = server.share_request()
    server.collect_shares(
        {
            n: _answer(cohort, Stage.SHARE, n, request, tamper)
            for n in alive(Stage.SHARE, list(server.ads))
        }
    )
    server.collect_masked(
        {
            n: _answer(cohort, Stage.MASK, n, server.mask_request(n), tamper)
            for n in alive(Stage.MASK, list(server.shared))
        }
    )
    request = server.confirm_request()
    server.collect_confirmations(
        {
            n: _answer(cohort, Stage.CONFIRM, n, request, tamper)
            for n in alive(Stage.CONFIRM, list(server.survivors))
        }
    )
    request = server.unmask_request()
    return server.collect_unmask(
        {
            n: _answer(cohort, Stage.UNMASK, n, request, tamper)
            for n in alive(Stage.UNMASK, list(server.confirmations))
        }
    )
