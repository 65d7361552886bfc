"""The server side of one secure round, without Flower: collect, forward, sum, unmask.

:class:`ServerRound` follows the stages of :mod:`edge_client.secagg.session`. At each
stage it is given the replies that arrived (node id → payload; a node that did not answer
in time is simply absent), drops and counts every reply that does not check out (by
:class:`~edge_client.secagg.errors.Refusal` value), and stops the round — nothing is
published — when fewer than ``min_survivors`` devices remain. It never holds a single
device's unmasked update: it adds the masked vectors, then removes the masks it
reconstructs from shares (self masks of survivors, pairwise masks of devices that dropped
after sharing keys). Every reconstructed secret is checked against what its owner signed
(the self-mask commitment; the advertised mask key), and bad shares are routed around.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import msgpack
import numpy as np
import numpy.typing as npt

from edge_client.policy.keys import TrustStore
from edge_client.secagg.crypto import (
    combine_secret,
    mask_vector,
    pair_mask_key,
    seed_commitment,
    self_mask_key,
    x25519_from_seed,
)
from edge_client.secagg.encoding import decode_sum
from edge_client.secagg.errors import Refusal, RefusalError
from edge_client.secagg.graph import neighbour_graph, share_holders, threshold, transcript_hash
from edge_client.secagg.params import RoundParams
from edge_client.secagg.session import SHARE_BYTES, pair_sign
from edge_client.secagg.statements import (
    Advertisement,
    confirmation_message,
    verify_advertisement,
    verify_confirmation,
)
from edge_client.secagg.wire import pack, unpack

__all__ = ["RoundFailedError", "SecureSum", "ServerRound"]

_RECONSTRUCTION_TRIES = 8


class RoundFailedError(Exception):
    """The round cannot complete (too few devices left at ``stage``); nothing is published.

    Parameters
    ----------
    stage
        The stage at which it stopped.
    detail
        Why.
    """

    def __init__(self, stage: str, detail: str) -> None:
        super().__init__(f"{stage}: {detail}")
        self.stage = stage
        self.detail = detail


@dataclass(frozen=True)
class SecureSum:
    """What the server learns: the noised sum, and counts.

    Attributes
    ----------
    weights
        Sum of the survivors' noised updates, per weight (float32).
    metrics
        Sums of the allowed metrics over the survivors.
    survivors
        Devices whose inputs the sum holds.
    dropped
        Devices that shared keys but whose input is not in the sum.
    total
        The unmasked sum modulo 2³² (what was decoded).
    """

    weights: Mapping[str, npt.NDArray[np.float32]]
    metrics: Mapping[str, float]
    survivors: int
    dropped: int
    total: npt.NDArray[np.uint32] = field(repr=False)


class ServerRound:
    """One secure round's server state (see the module docstring).

    Parameters
    ----------
    params
        The round's parameters (sent to every device).
    authority
        The identity authorities devices are certified by.
    """

    def __init__(self, params: RoundParams, *, authority: TrustStore) -> None:
        self.params = params
        self.session = params.session
        self.authority = authority
        self.rejected: Counter[str] = Counter()
        self.ads: dict[int, Advertisement] = {}
        self.graph: dict[int, tuple[int, ...]] = {}
        self.forward: dict[int, list[list[object]]] = {}
        self.shared: tuple[int, ...] = ()
        self.survivors: tuple[int, ...] = ()
        self.confirmations: dict[int, bytes] = {}
        self._sum: npt.NDArray[np.uint32] = np.zeros(params.layout.dim, np.uint32)

    def _reject(self, reason: Refusal) -> None:
        self.rejected[reason.value] += 1

    def _enough(self, stage: str, count: int) -> None:
        if count < self.params.min_survivors:
            raise RoundFailedError(
                stage, f"{count} devices left, fewer than {self.params.min_survivors}"
            )

    # stage 1 ------------------------------------------------------------------------
    def collect_advertisements(self, replies: Mapping[int, bytes]) -> None:
        """Verify advertisements like a device would; keep the valid, distinct ones."""
        valid: dict[int, Advertisement] = {}
        for node, blob in replies.items():
            try:
                if node not in self.params.cohort:
                    raise RefusalError(Refusal.INCONSISTENT, "reply from outside the cohort")
                ad = verify_advertisement(
                    unpack(blob, "advertisement"), session=self.session, authority=self.authority
                )
                if ad.node != node:
                    raise RefusalError(Refusal.SIGNATURE, "advertisement names another node")
            except RefusalError as refusal:
                self._reject(refusal.reason)
                continue
            valid[node] = ad
        for attribute in ("device", "key"):
            seen = Counter(getattr(ad.certificate, attribute) for ad in valid.values())
            for node in [
                n for n, ad in valid.items() if seen[getattr(ad.certificate, attribute)] > 1
            ]:
                del valid[node]
                self._reject(Refusal.DUPLICATE)
        keys = Counter(k for ad in valid.values() for k in (ad.share_key, ad.mask_key))
        for node in [n for n, ad in valid.items() if keys[ad.share_key] + keys[ad.mask_key] > 2]:
            del valid[node]
            self._reject(Refusal.DUPLICATE)
        self._enough("advertise", len(valid))
        self.ads = dict(sorted(valid.items()))
        transcript = transcript_hash(ad.blob for ad in self.ads.values())
        self.graph = neighbour_graph(
            self.ads, transcript=transcript, neighbours=self.params.neighbours
        )

    def share_request(self) -> bytes:
        """Return the share-stage payload: every valid advertisement (same for all)."""
        ads = [msgpack.unpackb(ad.blob, raw=False) for ad in self.ads.values()]
        return pack({"session": self.session, "ads": ads})

    # stage 2 ------------------------------------------------------------------------
    def collect_shares(self, replies: Mapping[int, bytes]) -> None:
        """Check each device encrypted shares to exactly its neighbours; queue them."""
        forward: dict[int, list[list[object]]] = {node: [] for node in self.ads}
        shared = []
        for node, blob in sorted(replies.items()):
            try:
                if node not in self.ads:
                    raise RefusalError(Refusal.INCONSISTENT, "reply from a node without an ad")
                pairs = unpack(blob, "shares").pairs("shares", most=512)
                if sorted(dst for dst, _ in pairs) != list(self.graph[node]):
                    raise RefusalError(Refusal.NEIGHBOURS, "shares not for exactly the neighbours")
            except RefusalError as refusal:
                self._reject(refusal.reason)
                continue
            shared.append(node)
            for destination, ciphertext in pairs:
                forward[destination].append([node, ciphertext])
        self._enough("share", len(shared))
        self.shared = tuple(shared)
        members = set(shared)
        self.forward = {
            node: [pair for pair in pairs if pair[0] in members] for node, pairs in forward.items()
        }

    def mask_request(self, node: int) -> bytes:
        """Return the mask-stage payload of ``node``: who shared, and its neighbours' shares."""
        return pack(
            {"session": self.session, "shared": list(self.shared), "shares": self.forward[node]}
        )

    # stage 3 ------------------------------------------------------------------------
    def collect_masked(self, replies: Mapping[int, npt.NDArray[np.uint32]]) -> None:
        """Add up the masked vectors of devices that shared keys."""
        members, dim = set(self.shared), self.params.layout.dim
        survivors = []
        for node, vector in sorted(replies.items()):
            if node not in members or vector.dtype != np.uint32 or vector.shape != (dim,):
                self._reject(Refusal.MALFORMED)
                continue
            np.add(self._sum, vector, out=self._sum)  # modulo 2^32
            survivors.append(node)
        self._enough("mask", len(survivors))
        self.survivors = tuple(survivors)

    def confirm_request(self) -> bytes:
        """Return the confirm-stage payload: the survivor set (same for all survivors)."""
        return pack({"session": self.session, "survivors": list(self.survivors)})

    # stage 4 ------------------------------------------------------------------------
    def collect_confirmations(self, replies: Mapping[int, bytes]) -> None:
        """Keep the survivors' valid signatures of the survivor set."""
        message = confirmation_message(self.session, self.survivors)
        members = set(self.survivors)
        for node, blob in sorted(replies.items()):
            try:
                signature = unpack(blob, "confirmation").bytes_("signature", size=64)
            except RefusalError as refusal:
                self._reject(refusal.reason)
                continue
            if node not in members or not verify_confirmation(
                self.ads[node].certificate.public_key, signature, message
            ):
                self._reject(Refusal.SIGNATURE)
                continue
            self.confirmations[node] = signature
        self._enough("confirm", len(self.confirmations))

    def unmask_request(self) -> bytes:
        """Return the unmask-stage payload: the survivors and the quorum's signatures."""
        return pack(
            {
                "session": self.session,
                "survivors": list(self.survivors),
                "confirmations": [[n, s] for n, s in sorted(self.confirmations.items())],
            }
        )

    # stage 5 ------------------------------------------------------------------------
    def _collect_shares(
        self, replies: Mapping[int, bytes]
    ) -> tuple[dict[int, list[bytes]], dict[int, list[bytes]]]:
        alive, shared = set(self.survivors), set(self.shared)
        b_shares: dict[int, list[bytes]] = {n: [] for n in alive}
        s_shares: dict[int, list[bytes]] = {n: [] for n in shared - alive}
        for node, blob in sorted(replies.items()):
            try:
                if node not in self.confirmations:
                    raise RefusalError(Refusal.INCONSISTENT, "unmask reply from a non-confirmer")
                fields = unpack(blob, "unmask")
                kinds = (
                    (fields.pairs("b", most=64), b_shares),
                    (fields.pairs("s", most=64), s_shares),
                )
                for pairs, into in kinds:
                    for owner, share in pairs:
                        holders = share_holders(owner, self.graph) if owner in into else ()
                        if (
                            node not in holders
                            or len(share) != SHARE_BYTES
                            or int.from_bytes(share[:4], "little") != holders.index(node) + 1
                        ):
                            raise RefusalError(Refusal.INCONSISTENT, "share of the wrong kind")
            except RefusalError as refusal:
                self._reject(refusal.reason)
                continue
            for pairs, into in kinds:
                for owner, share in pairs:
                    into[owner].append(share)
        return b_shares, s_shares

    def _recover(self, owner: int, shares: list[bytes], check: bytes, *, dropped: bool) -> bytes:
        needed = threshold(len(share_holders(owner, self.graph)))
        if len(shares) < needed:
            raise RoundFailedError("unmask", f"{len(shares)} shares of node {owner}, need {needed}")
        rng = random.Random(owner)  # which subsets to try; no secret depends on it
        for attempt in range(_RECONSTRUCTION_TRIES):
            subset = shares[:needed] if attempt == 0 else rng.sample(shares, needed)
            try:
                seed = combine_secret(subset)
            except RefusalError:
                self._reject(Refusal.CIPHERTEXT)
                continue
            if dropped:
                derived = x25519_from_seed(seed).public_key().public_bytes_raw()
            else:
                derived = seed_commitment(seed, session=self.session)
            if derived == check:
                return seed
            self._reject(Refusal.CIPHERTEXT)
        raise RoundFailedError("unmask", f"no consistent shares of node {owner}")

    def collect_unmask(self, replies: Mapping[int, bytes]) -> SecureSum:
        """Reconstruct the masks from the revealed shares and return the unmasked sum.

        Raises
        ------
        RoundFailedError
            When some secret cannot be recovered (too few or inconsistent shares).
        """
        b_shares, s_shares = self._collect_shares(replies)
        total = np.array(self._sum, copy=True)
        alive = set(self.survivors)
        dim = total.size
        for owner in sorted(b_shares):
            seed = self._recover(owner, b_shares[owner], self.ads[owner].commitment, dropped=False)
            np.subtract(
                total, mask_vector(self_mask_key(seed, session=self.session), dim), out=total
            )
        for owner in sorted(s_shares):
            seed = self._recover(owner, s_shares[owner], self.ads[owner].mask_key, dropped=True)
            private = x25519_from_seed(seed)
            for other in sorted(alive & set(self.graph[owner])):
                key = pair_mask_key(
                    private, self.ads[other].mask_key, session=self.session, node=owner, other=other
                )
                mask = mask_vector(key, dim)
                # ``other`` applied its sign towards ``owner``; take that contribution out.
                if pair_sign(other, owner) > 0:
                    np.subtract(total, mask, out=total)
                else:
                    np.add(total, mask, out=total)
        weights, metrics = decode_sum(total, self.params.layout, scale_bits=self.params.scale_bits)
        return SecureSum(
            weights, metrics, len(self.survivors), len(self.shared) - len(self.survivors), total
        )
