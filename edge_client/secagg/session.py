"""The device side of one secure round: a five-stage state machine (no Flower here).

Stages (Bonawitz et al. 2017 with SecAgg+'s sparse graph, Bell et al. 2020):

1. **advertise** — check the round (:func:`~edge_client.secagg.params.check_params`), make
   two X25519 keys (share encryption; pairwise masks, derived from a seed that is
   Shamir-shared) and a self-mask seed, and sign the advertisement with the identity key.
2. **share** — verify *every* advertisement of the round (certificate, signature over
   this session, distinct identities and keys, own advertisement unaltered, at least
   ``min_survivors``), derive the neighbour graph from their transcript, split both seeds
   among the neighbours and encrypt each neighbour's shares to it.
3. **mask** — check the forwarded ciphertexts come from exactly the neighbours that
   shared, decrypt and authenticate them, then train (the caller's ``encode``), and send
   the encoded, noised update plus the self mask plus ± one pairwise mask per neighbour.
4. **confirm** — check the survivor set is a subset of those that shared, holds this
   device and at least ``min_survivors``, and sign it.
5. **unmask** — check a quorum (``min_survivors``) of survivors confirmed the *same* set;
   reveal self-mask shares of surviving neighbours and mask-key shares of dropped ones,
   never both for one device, and only for survivors with a majority of their share
   holders surviving (so at least one honest pairwise mask hides each survivor's input).

A message out of order, of another session, or of a round not newer than the last one is
refused (``stage_order``, ``session_mismatch``, ``replay``). State between stages is kept
as bytes (:meth:`DeviceSession.dump`) in the node's Flower context.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise

import msgpack
import numpy as np
import numpy.typing as npt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from edge_client.policy.keys import TrustStore
from edge_client.secagg.crypto import (
    decrypt_shares,
    encrypt_shares,
    mask_vector,
    new_seed,
    pair_mask_key,
    seed_commitment,
    self_mask_key,
    share_key,
    split_secret,
    x25519_from_seed,
)
from edge_client.secagg.errors import Refusal, RefusalError, SecAggError
from edge_client.secagg.graph import (
    MIN_NEIGHBOURS,
    degree,
    neighbour_graph,
    share_holders,
    threshold,
    transcript_hash,
)
from edge_client.secagg.identity import DeviceIdentity, verify_certificate
from edge_client.secagg.params import RoundParams
from edge_client.secagg.statements import (
    Advertisement,
    confirmation_message,
    make_advertisement,
    verify_advertisement,
    verify_confirmation,
)
from edge_client.secagg.wire import Fields, pack, unpack

__all__ = ["SHARE_BYTES", "DeviceSession", "Stage", "add_masks", "pair_sign", "share_plaintext"]

SHARE_BYTES = 36
"""Bytes of one Shamir share of a 16-byte seed (4-byte index + two 16-byte chunks)."""


class Stage(enum.Enum):
    """The protocol's stages; the values are the Flower ``train`` action names."""

    ADVERTISE = "secagg_advertise"
    SHARE = "secagg_share"
    MASK = "secagg_mask"
    CONFIRM = "secagg_confirm"
    UNMASK = "secagg_unmask"


_ORDER = {
    Stage.SHARE: Stage.ADVERTISE,
    Stage.MASK: Stage.SHARE,
    Stage.CONFIRM: Stage.MASK,
    Stage.UNMASK: Stage.CONFIRM,
}


def pair_sign(node: int, other: int) -> int:
    """Return +1 when ``node`` adds the pairwise mask with ``other``, −1 when it subtracts it."""
    return 1 if node < other else -1


def add_masks(
    vector: npt.NDArray[np.uint32], masks: list[tuple[int, bytes]]
) -> npt.NDArray[np.uint32]:
    """Return ``vector`` plus (sign +1) or minus (sign −1) each key's mask, modulo 2³²."""
    out = np.array(vector, dtype=np.uint32, copy=True)
    for sign, key in masks:
        mask = mask_vector(key, out.size)
        if sign > 0:
            np.add(out, mask, out=out)  # uint32 arithmetic wraps: modulo 2^32
        else:
            np.subtract(out, mask, out=out)
    return out


def share_plaintext(source: int, destination: int, b_share: bytes, s_share: bytes) -> bytes:
    """Return the plaintext of the shares ``source`` sends ``destination``."""
    return pack({"src": source, "dst": destination, "b": b_share, "s": s_share})


@dataclass
class _State:
    stage: str = ""
    last_round: int = -1
    params: bytes = b""
    node: int = 0
    share_private: bytes = b""
    mask_seed: bytes = b""
    self_seed: bytes = b""
    own: bytes = b""
    peers: dict[int, list[bytes]] = field(default_factory=dict)  # node -> [share, mask, identity]
    transcript: bytes = b""
    held: dict[int, list[bytes]] = field(default_factory=dict)  # owner -> [b share, s share]
    shared: list[int] = field(default_factory=list)  # U2: nodes that sent shares
    survivors: list[int] = field(default_factory=list)
    kept: bytes = b""  # the caller's round data (config and signed bundle) until training


class DeviceSession:
    """One device's secure-aggregation state (see the module docstring).

    Parameters
    ----------
    blob
        State saved by :meth:`dump` (``None``: a device that never joined a secure round).
    """

    def __init__(self, blob: bytes | None = None) -> None:
        self._state = _State()
        if blob:
            try:
                raw = msgpack.unpackb(blob, raw=False, strict_map_key=False)
                self._state = _State(**raw)
            except (ValueError, TypeError, msgpack.ExtraData, msgpack.FormatError):
                raise SecAggError("device secagg state is corrupt") from None

    def dump(self) -> bytes:
        """Return the state as bytes (secret keys included: keep it on the device)."""
        return bytes(msgpack.packb(self._state.__dict__, use_bin_type=True))

    # helpers ------------------------------------------------------------------------
    @property
    def stage(self) -> Stage | None:
        """Return the last stage completed in the current session (``None``: idle)."""
        return Stage(self._state.stage) if self._state.stage else None

    @property
    def params(self) -> RoundParams:
        """Return the current round's parameters."""
        return RoundParams.from_bytes(self._state.params)

    @property
    def kept(self) -> bytes:
        """Return what the caller kept at :meth:`advertise` (dropped after training)."""
        return self._state.kept

    def reset(self) -> None:
        """Forget the current session (secrets included); keep the replay guard."""
        self._state = _State(last_round=self._state.last_round)

    def _expect(self, stage: Stage, fields: Fields) -> RoundParams:
        current = self.stage
        if current is not _ORDER[stage]:
            raise RefusalError(
                Refusal.STAGE_ORDER,
                f"{stage.value} arrived after {current.value if current else 'no session'}",
            )
        params = self.params
        if fields.bytes_("session", size=32) != params.session:
            raise RefusalError(Refusal.SESSION, f"{stage.value} is for another session")
        return params

    def _advance(self, stage: Stage) -> None:
        self._state.stage = stage.value

    # stage 1 ------------------------------------------------------------------------
    def advertise(
        self,
        params: RoundParams,
        *,
        node: int,
        identity: DeviceIdentity,
        authority: TrustStore,
        keep: bytes = b"",
    ) -> bytes:
        """Start a session (params already checked by :func:`check_params`); return the ad.

        ``keep`` is stored until the mask stage (the round's config and signed bundle).

        Raises
        ------
        RefusalError
            ``replay`` when the round is not newer than the last one joined.
        """
        if params.server_round <= self._state.last_round:
            raise RefusalError(
                Refusal.REPLAY,
                f"round {params.server_round} is not newer than round {self._state.last_round}",
            )
        share_private = X25519PrivateKey.generate()
        mask_seed, self_seed = new_seed(), new_seed()
        certificate = verify_certificate(identity.certificate, authority)
        own = make_advertisement(
            identity,
            certificate,
            session=params.session,
            node=node,
            share_key=share_private.public_key().public_bytes_raw(),
            mask_key=x25519_from_seed(mask_seed).public_key().public_bytes_raw(),
            commitment=seed_commitment(self_seed, session=params.session),
        )
        self._state = _State(
            stage=Stage.ADVERTISE.value,
            last_round=params.server_round,
            params=params.to_bytes(),
            node=node,
            share_private=share_private.private_bytes_raw(),
            mask_seed=mask_seed,
            self_seed=self_seed,
            own=own.blob,
            kept=keep,
        )
        return own.blob

    # stage 2 ------------------------------------------------------------------------
    def share(self, fields: Fields, *, authority: TrustStore) -> bytes:
        """Verify every advertisement; return the encrypted shares for the neighbours."""
        params = self._expect(Stage.SHARE, fields)
        state, session = self._state, params.session
        ads = [
            verify_advertisement(f, session=session, authority=authority)
            for f in fields.maps("ads")
        ]
        _check_distinct(ads, params)
        by_node = {ad.node: ad for ad in ads}
        if by_node.get(state.node) is None or by_node[state.node].blob != state.own:
            raise RefusalError(
                Refusal.OWN_KEYS, "this device's advertisement is missing or altered"
            )
        if len(ads) < params.min_survivors:
            raise RefusalError(
                Refusal.UNDER_THRESHOLD,
                f"{len(ads)} advertisements, fewer than {params.min_survivors} survivors needed",
            )
        used = degree(params.neighbours, len(ads))
        if used < min(len(ads) - 1, MIN_NEIGHBOURS):
            raise RefusalError(
                Refusal.PARAMETERS, f"neighbour graph of degree {used} is too sparse"
            )
        nodes = sorted(by_node)
        state.transcript = transcript_hash(by_node[n].blob for n in nodes)
        graph = neighbour_graph(nodes, transcript=state.transcript, neighbours=params.neighbours)
        holders = share_holders(state.node, graph)
        count = threshold(len(holders))
        b_shares = split_secret(state.self_seed, threshold=count, count=len(holders))
        s_shares = split_secret(state.mask_seed, threshold=count, count=len(holders))
        private = X25519PrivateKey.from_private_bytes(state.share_private)
        out = []
        for index, holder in enumerate(holders):
            if holder == state.node:
                state.held[holder] = [b_shares[index], s_shares[index]]
                continue
            key = share_key(
                private, by_node[holder].share_key, session=session, node=state.node, other=holder
            )
            plaintext = share_plaintext(state.node, holder, b_shares[index], s_shares[index])
            out.append(
                [
                    holder,
                    encrypt_shares(
                        key, plaintext, session=session, source=state.node, destination=holder
                    ),
                ]
            )
        state.peers = {ad.node: [ad.share_key, ad.mask_key, ad.certificate.key] for ad in ads}
        self._advance(Stage.SHARE)
        return pack({"shares": out})

    def _graph(self, params: RoundParams) -> dict[int, tuple[int, ...]]:
        return neighbour_graph(
            self._state.peers, transcript=self._state.transcript, neighbours=params.neighbours
        )

    # stage 3 ------------------------------------------------------------------------
    def mask(
        self, fields: Fields, encode: Callable[[RoundParams], npt.NDArray[np.uint32]]
    ) -> npt.NDArray[np.uint32]:
        """Check and store the neighbours' shares; return the masked, encoded update.

        ``encode`` trains and encodes (it runs only after every check passed).
        """
        params = self._expect(Stage.MASK, fields)
        state, session = self._state, params.session
        shared = fields.nodes("shared")
        if state.node not in shared or not set(shared) <= set(state.peers):
            raise RefusalError(
                Refusal.INCONSISTENT, "the sharing set omits this device or names unknown nodes"
            )
        if len(shared) < params.min_survivors:
            raise RefusalError(
                Refusal.UNDER_THRESHOLD, f"only {len(shared)} devices shared their keys"
            )
        graph = self._graph(params)
        mine = set(graph[state.node]) & set(shared)
        received = fields.pairs("shares")
        sources = [src for src, _ in received]
        if sorted(sources) != sorted(mine) or len(set(sources)) != len(sources):
            raise RefusalError(
                Refusal.NEIGHBOURS, "forwarded shares do not come from exactly the neighbours"
            )
        private = X25519PrivateKey.from_private_bytes(state.share_private)
        for source, blob in received:
            key = share_key(
                private, state.peers[source][0], session=session, node=state.node, other=source
            )
            plain = decrypt_shares(
                key, blob, session=session, source=source, destination=state.node
            )
            parsed = unpack(plain, f"shares from node {source}")
            position = share_holders(source, graph).index(state.node) + 1
            b_share = parsed.bytes_("b", size=SHARE_BYTES)
            s_share = parsed.bytes_("s", size=SHARE_BYTES)
            if (
                parsed.integer("src") != source
                or parsed.integer("dst") != state.node
                or struct.unpack("<I", b_share[:4])[0] != position
                or struct.unpack("<I", s_share[:4])[0] != position
            ):
                raise RefusalError(
                    Refusal.CIPHERTEXT, f"shares from node {source} are for another holder"
                )
            state.held[source] = [b_share, s_share]
        vector = encode(params)
        if vector.shape != (params.layout.dim,) or vector.dtype != np.uint32:
            raise SecAggError("mask: the encoded update does not match the layout")
        mask_private = x25519_from_seed(state.mask_seed)
        masks = [(1, self_mask_key(state.self_seed, session=session))]
        for other in sorted(mine):
            key = pair_mask_key(
                mask_private, state.peers[other][1], session=session, node=state.node, other=other
            )
            masks.append((pair_sign(state.node, other), key))
        state.shared = list(shared)
        state.kept = b""
        self._advance(Stage.MASK)
        return add_masks(vector, masks)

    # stage 4 ------------------------------------------------------------------------
    def confirm(self, fields: Fields, *, identity: DeviceIdentity) -> bytes:
        """Check the survivor set; return this device's signed confirmation of it."""
        params = self._expect(Stage.CONFIRM, fields)
        survivors = fields.nodes("survivors")
        if self._state.node not in survivors or not set(survivors) <= set(self._state.shared):
            raise RefusalError(
                Refusal.INCONSISTENT,
                "the survivor set omits this device or names devices that never shared keys",
            )
        if len(survivors) < params.min_survivors:
            raise RefusalError(
                Refusal.UNDER_THRESHOLD,
                f"{len(survivors)} survivors, fewer than {params.min_survivors}",
            )
        self._state.survivors = list(survivors)
        self._advance(Stage.CONFIRM)
        return pack({"signature": identity.sign(confirmation_message(params.session, survivors))})

    # stage 5 ------------------------------------------------------------------------
    def unmask(self, fields: Fields) -> bytes:
        """Check a quorum confirmed the same survivors; return the shares to reveal."""
        params = self._expect(Stage.UNMASK, fields)
        state = self._state
        survivors = fields.nodes("survivors")
        if list(survivors) != state.survivors:
            raise RefusalError(
                Refusal.INCONSISTENT, "the survivor set differs from the one this device confirmed"
            )
        message = confirmation_message(params.session, survivors)
        signers: set[int] = set()
        listed: set[int] = set()
        for node, signature in fields.pairs("confirmations", most=64):
            if node not in survivors or node in listed:
                raise RefusalError(
                    Refusal.INCONSISTENT, f"confirmation of node {node} is not a survivor's"
                )
            listed.add(node)
            if len(signers) >= params.min_survivors:
                continue  # a quorum is verified; the rest cannot change the outcome
            key = Ed25519PublicKey.from_public_bytes(state.peers[node][2])
            if not verify_confirmation(key, signature, message):
                raise RefusalError(
                    Refusal.SIGNATURE, f"confirmation of node {node} does not verify"
                )
            signers.add(node)
        if len(signers) < params.min_survivors:
            raise RefusalError(
                Refusal.CONFIRMATIONS,
                f"{len(signers)} survivors confirmed the set, fewer than {params.min_survivors}",
            )
        graph, alive, shared = self._graph(params), set(survivors), set(state.shared)
        reveal_b, reveal_s = [], []
        for owner in sorted(state.held):
            if owner not in shared:
                continue  # it never shared keys: nobody masked with it
            b_share, s_share = state.held[owner]
            if owner in alive:
                holders = share_holders(owner, graph)
                if len(alive & set(graph[owner])) < threshold(len(holders)):
                    raise RefusalError(
                        Refusal.UNDER_THRESHOLD,
                        f"survivor {owner} has too few surviving neighbours to stay hidden",
                    )
                reveal_b.append([owner, b_share])
            else:
                reveal_s.append([owner, s_share])
        self.reset()
        return pack({"b": reveal_b, "s": reveal_s})


def _check_distinct(ads: list[Advertisement], params: RoundParams) -> None:
    nodes = [ad.node for ad in ads]
    if any(a >= b for a, b in pairwise(nodes)):
        raise RefusalError(Refusal.MALFORMED, "advertisements are not ordered by node id")
    if not set(nodes) <= set(params.cohort):
        raise RefusalError(Refusal.INCONSISTENT, "an advertisement comes from outside the cohort")
    names = {ad.certificate.device for ad in ads}
    identities = {ad.certificate.key for ad in ads}
    keys: set[bytes] = set()
    for ad in ads:
        keys.update((ad.share_key, ad.mask_key))
    if len(names) != len(ads) or len(identities) != len(ads) or len(keys) != 2 * len(ads):
        raise RefusalError(Refusal.DUPLICATE, "two advertisements share a device identity or a key")
