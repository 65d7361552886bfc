"""Identities, round parameters, the neighbour graph, the primitives and the wire format."""

from __future__ import annotations

import contextlib
import os
import stat
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_client.policy.keys import TrustStore
from edge_client.secagg import (
    IdentityError,
    Refusal,
    RefusalError,
    RoundParams,
    check_params,
    issue_certificate,
    load_identity,
    verify_certificate,
    write_identities,
)
from edge_client.secagg.crypto import (
    combine_secret,
    decrypt_shares,
    encrypt_shares,
    mask_vector,
    new_seed,
    split_secret,
)
from edge_client.secagg.graph import neighbour_graph, threshold
from edge_client.secagg.identity import raw_public_key
from edge_client.secagg.wire import pack, unpack

AUTHORITY = Ed25519PrivateKey.generate()
TRUST = TrustStore.from_keys(AUTHORITY.public_key())
SHAPES = (("b", (1,)), ("w", (100, 1)))


def _params(**changes: object) -> RoundParams:
    base = RoundParams(
        policy_hash="p" * 64,
        model="style",
        model_hash="h" * 64,
        server_round=3,
        nonce=bytes(32),
        cohort=tuple(range(10, 20)),
        min_survivors=9,
        neighbours=0,
        scale_bits=20,
        noise_std=1e7,
        clipping_norm=1.0,
        shapes=SHAPES,
        metrics=("num_examples",),
    )
    return replace(base, **changes)  # type: ignore[arg-type]  # test overrides


def _check(params: RoundParams, **changes: object) -> None:
    kwargs: dict[str, object] = dict(
        node=10,
        policy_hash="p" * 64,
        model="style",
        server_round=3,
        bundle_hash="h" * 64,
        shapes=SHAPES,
        allowed_metrics=frozenset({"num_examples", "loss"}),
        min_cohort=5,
        noise_multiplier=1.0,
        clipping_norm=1.0,
    )
    kwargs.update(changes)
    check_params(params, **kwargs)  # type: ignore[arg-type]  # test overrides


def test_certificate_binds_name_and_key_to_the_authority(tmp_path: Path) -> None:
    """A certificate verifies under its authority only, and not once altered."""
    key = Ed25519PrivateKey.generate()
    cert = issue_certificate(AUTHORITY, device="phone-1", key=raw_public_key(key.public_key()))
    assert verify_certificate(cert, TRUST).device == "phone-1"
    other = TrustStore.from_keys(Ed25519PrivateKey.generate().public_key())
    with pytest.raises(IdentityError, match="untrusted authority"):
        verify_certificate(cert, other)
    with pytest.raises(IdentityError):
        verify_certificate(cert.replace(b"phone-1", b"phone-2"), TRUST)
    with pytest.raises(IdentityError):
        verify_certificate(b"\x00" * 10, TRUST)


def test_identity_file_is_private_never_overwritten_and_checked(tmp_path: Path) -> None:
    """The identity file is 0600, not overwritten, and an entry for another key is refused."""
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    cert = issue_certificate(AUTHORITY, device="d", key=raw_public_key(key.public_key()))
    path = write_identities(
        tmp_path / "ids",
        {"d": (key.private_bytes_raw(), cert), "x": (other.private_bytes_raw(), cert)},
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_identity(path, "d", TRUST).name == "d"
    with pytest.raises(IdentityError, match="another device or key"):
        load_identity(path, "x", TRUST)
    with pytest.raises(IdentityError, match="no identity"):
        load_identity(path, "missing", TRUST)
    with pytest.raises(IdentityError, match="exists already"):
        write_identities(path, {})


def test_params_round_trip_and_session_covers_every_field() -> None:
    """Parameters parse back identically; changing any field changes the session id."""
    params = _params()
    assert RoundParams.from_bytes(params.to_bytes()) == params
    assert _params(model_hash="g" * 64).session != params.session
    assert _params(cohort=tuple(range(11, 21))).session != params.session
    with pytest.raises(RefusalError) as caught:
        RoundParams.from_bytes(b"\x81\xa1x\x01")
    assert caught.value.reason is Refusal.MALFORMED


@pytest.mark.parametrize(
    ("params", "changes", "reason"),
    [
        (_params(), {"bundle_hash": "x" * 64}, Refusal.MODEL_HASH),
        (_params(), {"node": 99}, Refusal.COHORT_UNDER_K),
        (_params(cohort=(10, 11, 12), min_survivors=3), {}, Refusal.COHORT_UNDER_K),
        (_params(min_survivors=6), {}, Refusal.PARAMETERS),  # not above 2n/3
        (_params(noise_std=1e3), {}, Refusal.NOISE),
        (_params(scale_bits=30), {}, Refusal.PARAMETERS),  # the sum could wrap
        (
            _params(metrics=("update_norm",)),
            {"allowed_metrics": frozenset({"loss"})},
            Refusal.PARAMETERS,
        ),
        (_params(server_round=2), {}, Refusal.SESSION),
    ],
)
def test_devices_refuse_unsafe_round_parameters(
    params: RoundParams, changes: dict[str, object], reason: Refusal
) -> None:
    """Each unsafe parameter is refused with its own reason; a sound set is accepted."""
    _check(_params())
    with pytest.raises(RefusalError) as caught:
        _check(params, **changes)
    assert caught.value.reason is reason


def test_neighbour_graph_is_symmetric_regular_and_transcript_bound() -> None:
    """Every device has the same degree, edges go both ways, the transcript picks the ring."""
    nodes = list(range(100, 160))
    graph = neighbour_graph(nodes, transcript=b"a" * 32, neighbours=16)
    assert all(len(v) == 16 and n not in v for n, v in graph.items())
    assert all(n in graph[m] for n, v in graph.items() for m in v)
    assert neighbour_graph(nodes, transcript=b"b" * 32, neighbours=16) != graph
    complete = neighbour_graph(nodes[:5], transcript=b"a" * 32, neighbours=16)
    assert all(len(v) == 4 for v in complete.values())
    assert threshold(17) == 9 and threshold(10) == 6


def test_primitives_mask_encrypt_and_share() -> None:
    """Masks are per key; ciphertexts bind session and nodes; too few shares do not combine."""
    key = os.urandom(32)
    assert (mask_vector(key, 50) == mask_vector(key, 50)).all()
    assert not (mask_vector(key, 50) == mask_vector(os.urandom(32), 50)).all()
    blob = encrypt_shares(key, b"secret", session=b"s" * 32, source=1, destination=2)
    assert decrypt_shares(key, blob, session=b"s" * 32, source=1, destination=2) == b"secret"
    with pytest.raises(RefusalError):
        decrypt_shares(key, blob, session=b"s" * 32, source=2, destination=1)
    seed = new_seed()
    shares = split_secret(seed, threshold=4, count=7)
    assert combine_secret(shares[2:6]) == seed
    with contextlib.suppress(RefusalError):  # three shares may fail the padding check
        assert combine_secret(shares[:3]) != seed


def test_wire_bounds_and_types() -> None:
    """Payloads that are not bytes, not maps, or have mistyped fields are refused."""
    for blob in (b"not msgpack \xc1", pack({"x": 1})[:-1], 5, b"\x91\x01"):
        with pytest.raises(RefusalError) as caught:
            unpack(blob, "stage")
        assert caught.value.reason is Refusal.MALFORMED
    fields = unpack(pack({"nodes": [3, 2], "n": True}), "stage")
    with pytest.raises(RefusalError, match="strictly increasing"):
        fields.nodes("nodes")
    with pytest.raises(RefusalError, match="integer"):
        fields.integer("n")
