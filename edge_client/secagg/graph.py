"""Who shares secrets with whom: the SecAgg+ neighbour graph and its threshold.

Bell et al. (CCS 2020) replace SecAgg's complete graph by a sparse one: each device masks
with and secret-shares to its ``d`` neighbours only, so costs grow with ``log n`` instead of
``n``. Here the graph is a ring (a Harary graph) over the devices whose signed key
advertisements the round holds, ordered by ``SHA-256(transcript || node id)``, where the
transcript hash covers every advertisement: the server cannot choose the order directly,
and every device recomputes the whole graph itself. A server that drops advertisements can
re-draw it (see ``docs/federated.md``); ``neighbours >= n - 1`` gives the complete graph.

Each device splits its secrets into ``d + 1`` Shamir shares (one per neighbour and one it
keeps), any :func:`threshold` of which recover them: a strict majority, so two disjoint
groups of share holders can never both reach it.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Mapping

__all__ = ["MIN_NEIGHBOURS", "neighbour_graph", "share_holders", "threshold", "transcript_hash"]

MIN_NEIGHBOURS = 16
"""Fewest neighbours an honest device accepts (unless the cohort is smaller: then all)."""


def transcript_hash(advertisements: Iterable[bytes]) -> bytes:
    """Return the hash of the signed advertisement bytes, in the order given (by node id)."""
    digest = hashlib.sha256(b"edgeprof secagg transcript v1\x00")
    for blob in advertisements:
        digest.update(struct.pack(">I", len(blob)))
        digest.update(blob)
    return digest.digest()


def degree(requested: int, nodes: int) -> int:
    """Return the degree used: the requested one (made even), at most ``nodes - 1``."""
    if requested >= nodes - 1 or requested <= 0:
        return nodes - 1
    return requested + (requested % 2)


def neighbour_graph(
    nodes: Iterable[int], *, transcript: bytes, neighbours: int
) -> dict[int, tuple[int, ...]]:
    """Return each node's neighbours (sorted), without itself.

    Parameters
    ----------
    nodes
        The nodes whose advertisements the round holds.
    transcript
        :func:`transcript_hash` of those advertisements.
    neighbours
        Requested degree (0 or at least ``n - 1``: complete graph).

    Returns
    -------
    dict[int, tuple[int, ...]]
        Node to its sorted neighbours.
    """
    members = sorted(set(nodes))
    count = len(members)
    used = degree(neighbours, count)
    if used >= count - 1:
        return {node: tuple(m for m in members if m != node) for node in members}
    ring = sorted(members, key=lambda n: hashlib.sha256(transcript + struct.pack(">Q", n)).digest())
    half = used // 2
    graph: dict[int, tuple[int, ...]] = {}
    for index, node in enumerate(ring):
        around = {ring[(index + offset) % count] for offset in range(-half, half + 1)}
        graph[node] = tuple(sorted(around - {node}))
    return graph


def share_holders(node: int, graph: Mapping[int, tuple[int, ...]]) -> tuple[int, ...]:
    """Return who holds ``node``'s shares, in share order: its neighbours and itself, sorted."""
    return tuple(sorted((*graph[node], node)))


def threshold(holders: int) -> int:
    """Return the shares needed to recover a secret split among ``holders``: a strict majority."""
    return holders // 2 + 1
