"""A malicious server's moves, each refused by honest devices with a named reason."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace

import msgpack
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_client.secagg import DeviceSession, Refusal, RefusalError, Stage
from edge_client.secagg.wire import pack, unpack

from .conftest import CohortFactory, Tamper, identity, run_round


def _doc(payload: bytes) -> dict:  # type: ignore[type-arg]  # msgpack maps
    return dict(msgpack.unpackb(payload, raw=False))


def _at(stage: Stage, change: Callable[[dict, int], None]) -> Tamper:  # type: ignore[type-arg]  # msgpack maps
    """Return a tamper hook that edits the payloads of ``stage`` (``change(doc, node)``)."""

    def tamper(current: Stage, node: int, payload: bytes) -> bytes:
        if current is not stage:
            return payload
        doc = _doc(payload)
        change(doc, node)
        return pack(doc)

    return tamper


def _refused(reason: Refusal, cohort, **kwargs) -> None:  # type: ignore[no-untyped-def]  # harness
    with pytest.raises(RefusalError) as caught:
        run_round(cohort, **kwargs)
    assert caught.value.reason is reason, caught.value


def test_substituted_key_is_refused(cohort: CohortFactory) -> None:
    """The server swaps one device's mask key in what it forwards: signatures fail."""
    group = cohort(6)

    def change(doc: dict, node: int) -> None:  # type: ignore[type-arg]  # msgpack map
        doc["ads"][0]["mask_key"] = os.urandom(32)

    _refused(Refusal.SIGNATURE, group, tamper=_at(Stage.SHARE, change))


def test_identity_not_certified_by_the_authority_is_refused(cohort: CohortFactory) -> None:
    """A server-made identity (a Sybil) is refused: its certificate is not the authority's."""
    group = cohort(6)
    rogue = identity(Ed25519PrivateKey.generate(), "sybil")

    def change(doc: dict, node: int) -> None:  # type: ignore[type-arg]  # msgpack map
        doc["ads"][1]["certificate"] = rogue.certificate

    _refused(Refusal.IDENTITY, group, tamper=_at(Stage.SHARE, change))


def test_cloned_identity_is_refused(cohort: CohortFactory) -> None:
    """Two cohort nodes presenting one certified identity are refused as duplicates."""
    group = cohort(6)
    first, second = list(group.params.cohort)[:2]
    group.identities[second] = group.identities[first]
    params = group.params
    ads = [
        DeviceSession().advertise(
            params, node=node, identity=group.identities[node], authority=group.trust
        )
        for node in params.cohort
    ]
    device = group.devices[first]  # sees both clones in the share request
    own = device.advertise(
        params, node=first, identity=group.identities[first], authority=group.trust
    )
    ads[0] = own
    request = pack({"session": params.session, "ads": [_doc(a) for a in ads]})
    with pytest.raises(RefusalError) as caught:
        device.share(unpack(request, "share"), authority=group.trust)
    assert caught.value.reason is Refusal.DUPLICATE


def test_different_models_for_different_devices_are_caught(cohort: CohortFactory) -> None:
    """A device given another model hash has another session: its peers reject its signature."""
    group = cohort(6)
    odd = group.params.cohort[0]
    other = replace(group.params, model_hash="2" * 64)
    ads = {
        node: group.devices[node].advertise(
            other if node == odd else group.params,
            node=node,
            identity=group.identities[node],
            authority=group.trust,
        )
        for node in group.params.cohort
    }
    request = pack({"session": group.params.session, "ads": [_doc(ads[n]) for n in sorted(ads)]})
    honest = list(group.params.cohort)[1]
    with pytest.raises(RefusalError) as caught:
        group.devices[honest].share(unpack(request, "share"), authority=group.trust)
    assert caught.value.reason is Refusal.SIGNATURE


def test_replayed_advertise_is_refused(cohort: CohortFactory) -> None:
    """A second advertise request for a round already joined is a replay."""
    group = cohort(4)
    node = group.params.cohort[0]
    device = group.devices[node]
    device.advertise(
        group.params, node=node, identity=group.identities[node], authority=group.trust
    )
    with pytest.raises(RefusalError) as caught:
        device.advertise(
            group.params, node=node, identity=group.identities[node], authority=group.trust
        )
    assert caught.value.reason is Refusal.REPLAY


def test_reordered_and_replayed_stages_are_refused(cohort: CohortFactory) -> None:
    """Confirm before mask, or the share request again after masking: out of order."""
    group = cohort(4)
    run_round(group)  # a full round: every device is idle again
    node = group.params.cohort[0]
    with pytest.raises(RefusalError) as caught:
        group.devices[node].confirm(
            unpack(group.server.confirm_request(), "confirm"), identity=group.identities[node]
        )
    assert caught.value.reason is Refusal.STAGE_ORDER
    with pytest.raises(RefusalError) as caught:
        group.devices[node].share(
            unpack(group.server.share_request(), "share"), authority=group.trust
        )
    assert caught.value.reason is Refusal.STAGE_ORDER


def test_message_of_another_session_is_refused(cohort: CohortFactory) -> None:
    """A share request carrying another session id (e.g. last round's) is refused."""
    group = cohort(4)

    def tamper(stage: Stage, node: int, payload: bytes) -> bytes:
        doc = _doc(payload)
        doc["session"] = os.urandom(32)
        return pack(doc)

    _refused(Refusal.SESSION, group, tamper=tamper)


def test_survivor_set_with_a_non_sharer_is_refused(cohort: CohortFactory) -> None:
    """A survivor set naming a device that never shared keys is inconsistent."""
    group = cohort(6)
    silent = {Stage.SHARE: {group.params.cohort[-1]}}

    def change(doc: dict, node: int) -> None:  # type: ignore[type-arg]  # msgpack map
        doc["survivors"] = sorted(group.params.cohort)  # includes the one that never shared

    _refused(Refusal.INCONSISTENT, group, silent=silent, tamper=_at(Stage.CONFIRM, change))


def test_unmask_with_another_survivor_set_is_refused(cohort: CohortFactory) -> None:
    """The unmask request must name exactly the survivor set the device confirmed."""
    group = cohort(6)

    def change(doc: dict, node: int) -> None:  # type: ignore[type-arg]  # msgpack map
        doc["survivors"] = doc["survivors"][1:]

    _refused(Refusal.INCONSISTENT, group, tamper=_at(Stage.UNMASK, change))


def test_forked_survivor_sets_lack_a_quorum(cohort: CohortFactory) -> None:
    """Telling half the devices one survivor set and half another: no quorum confirms either."""
    group = cohort(10)
    nodes = list(group.params.cohort)

    def tamper(stage: Stage, node: int, payload: bytes) -> bytes:
        if stage is Stage.CONFIRM and nodes.index(node) % 2:
            doc = _doc(payload)
            doc["survivors"] = doc["survivors"][1:]  # claims the first device dropped
            return pack(doc)
        if stage is Stage.UNMASK:  # forward only the confirmations of this device's view
            doc = _doc(payload)
            doc["confirmations"] = [c for c in doc["confirmations"] if nodes.index(c[0]) % 2 == 0]
            return pack(doc)
        return payload

    # The server itself only sees confirmations of the set it keeps; devices that saw the
    # other set signed it, so their signatures do not verify at the server (rejected),
    # and the round stops before anyone reveals a share.
    from fl_server.secagg import RoundFailedError

    with pytest.raises(RoundFailedError):
        run_round(group, tamper=tamper)
    assert group.server.rejected["bad_signature"] == 5


def test_confirmations_below_quorum_are_refused(cohort: CohortFactory) -> None:
    """An unmask request with fewer confirmations than the survivor minimum is refused."""
    group = cohort(10)

    def change(doc: dict, node: int) -> None:  # type: ignore[type-arg]  # msgpack map
        doc["confirmations"] = doc["confirmations"][:3]

    _refused(Refusal.CONFIRMATIONS, group, tamper=_at(Stage.UNMASK, change))


def test_forged_shares_are_refused(cohort: CohortFactory) -> None:
    """A forwarded ciphertext altered in transit fails authentication."""
    group = cohort(6)

    def change(doc: dict, node: int) -> None:  # type: ignore[type-arg]  # msgpack map
        source, blob = doc["shares"][0]
        doc["shares"][0] = [source, blob[:-1] + bytes([blob[-1] ^ 1])]

    _refused(Refusal.CIPHERTEXT, group, tamper=_at(Stage.MASK, change))


def test_withheld_neighbour_shares_are_refused(cohort: CohortFactory) -> None:
    """Dropping a neighbour's ciphertext (to make a device mask with fewer peers) is refused."""
    group = cohort(6)

    def change(doc: dict, node: int) -> None:  # type: ignore[type-arg]  # msgpack map
        doc["shares"] = doc["shares"][1:]

    _refused(Refusal.NEIGHBOURS, group, tamper=_at(Stage.MASK, change))


def test_too_few_advertisements_are_refused(cohort: CohortFactory) -> None:
    """A share request with fewer advertisements than the survivor minimum is refused."""
    group = cohort(10)

    def change(doc: dict, node: int) -> None:  # type: ignore[type-arg]  # msgpack map
        doc["ads"] = [a for a in doc["ads"] if a["node"] == node][:1] + [
            a for a in doc["ads"] if a["node"] != node
        ][:3]
        doc["ads"].sort(key=lambda a: a["node"])

    _refused(Refusal.UNDER_THRESHOLD, group, tamper=_at(Stage.SHARE, change))
