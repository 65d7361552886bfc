import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_client.policy import (
    DowngradeError,
    ExpiredPolicyError,
    Policy,
    PolicyGuard,
    Preset,
    SignedBundle,
    TamperedPolicyError,
    TrustStore,
    TrustStoreError,
    UnknownKeyError,
    UnsignedPolicyError,
    key_id,
    load_preset,
    policy_hash,
    preset_path,
    sign_policy,
    verify_bundle,
)
from edge_client.policy.keys import public_key_base64

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)


def _bundle(
    policy: Policy, key: Ed25519PrivateKey, *, days: int = 30, start: datetime = T0
) -> bytes:
    return sign_policy(
        policy, key, issued_at=start, expires_at=start + timedelta(days=days)
    ).to_bytes()


def _versioned(make_policy: Callable[..., Policy], version: int, **changes: str) -> Policy:
    return make_policy(policy__version=str(version), **changes)


def test_sign_verify_round_trip(signing_key: Ed25519PrivateKey) -> None:
    """A signed preset verifies and yields the same policy and hash."""
    policy = load_preset(Preset.DEFAULT)
    bundle = SignedBundle.from_bytes(_bundle(policy, signing_key))
    checked = verify_bundle(
        bundle, TrustStore.from_keys(signing_key.public_key()), now=T0 + timedelta(days=1)
    )
    assert checked == policy
    assert bundle.key_id == key_id(signing_key.public_key())
    assert bundle.policy_sha256 == policy_hash(policy)
    assert bundle.version == policy.version


def test_policy_hash_ignores_comments_and_spelled_out_defaults(
    make_policy: Callable[..., Policy],
) -> None:
    """The canonical hash is the same for a preset and its minimal equivalent."""
    assert policy_hash(make_policy()) == policy_hash(make_policy(federated__min_cohort="50"))
    assert policy_hash(make_policy()) != policy_hash(make_policy(federated__min_cohort="60"))


@pytest.fixture
def guard(signing_key: Ed25519PrivateKey) -> PolicyGuard:
    """Return a guard trusting the signing key, with the clock at T0 + 1 day."""
    return PolicyGuard(
        TrustStore.from_keys(signing_key.public_key()), clock=lambda: T0 + timedelta(days=1)
    )


def test_guard_accepts_newer_versions(
    guard: PolicyGuard, signing_key: Ed25519PrivateKey, make_policy: Callable[..., Policy]
) -> None:
    """Version 1 then version 2 are both accepted; version 2 is in force."""
    guard.offer(_bundle(_versioned(make_policy, 1), signing_key))
    second = _versioned(make_policy, 2, federated__min_cohort="80")
    assert guard.offer(_bundle(second, signing_key)) == second
    assert guard.policy == second


def _refused(guard: PolicyGuard, data: bytes, error: type[Exception]) -> None:
    before = guard.policy
    with pytest.raises(error):
        guard.offer(data)
    assert guard.policy is before and before is not None
    assert isinstance(guard.last_refusal, error)


def test_unsigned_policy_is_refused(
    guard: PolicyGuard, signing_key: Ed25519PrivateKey, make_policy: Callable[..., Policy]
) -> None:
    """A bare TOML policy and a bundle without signature are refused as unsigned."""
    guard.offer(_bundle(_versioned(make_policy, 1), signing_key))
    _refused(guard, preset_path(Preset.DEFAULT).read_bytes(), UnsignedPolicyError)
    document = json.loads(_bundle(_versioned(make_policy, 2), signing_key))
    del document["signature"]
    _refused(guard, json.dumps(document).encode(), UnsignedPolicyError)


def test_tampered_policy_is_refused(
    guard: PolicyGuard, signing_key: Ed25519PrivateKey, make_policy: Callable[..., Policy]
) -> None:
    """Changing one byte of the signed policy is refused as tampered."""
    guard.offer(_bundle(_versioned(make_policy, 1), signing_key))
    document = json.loads(_bundle(_versioned(make_policy, 2), signing_key))
    document["policy"] = document["policy"].replace('"min_cohort":50', '"min_cohort":2')
    _refused(guard, json.dumps(document).encode(), TamperedPolicyError)


def test_same_version_with_other_content_is_tampering(
    guard: PolicyGuard, signing_key: Ed25519PrivateKey, make_policy: Callable[..., Policy]
) -> None:
    """A validly signed bundle re-using the version in force with new content is refused."""
    guard.offer(_bundle(_versioned(make_policy, 1), signing_key))
    other = _versioned(make_policy, 1, federated__min_cohort="80")
    _refused(guard, _bundle(other, signing_key), TamperedPolicyError)


def test_expired_policy_is_refused(
    guard: PolicyGuard, signing_key: Ed25519PrivateKey, make_policy: Callable[..., Policy]
) -> None:
    """A bundle past its expiry is refused as expired."""
    guard.offer(_bundle(_versioned(make_policy, 1), signing_key))
    stale = _bundle(_versioned(make_policy, 2), signing_key, days=1, start=T0 - timedelta(days=5))
    _refused(guard, stale, ExpiredPolicyError)


def test_unknown_key_is_refused(
    guard: PolicyGuard, signing_key: Ed25519PrivateKey, make_policy: Callable[..., Policy]
) -> None:
    """A bundle signed by an untrusted key is refused as unknown key."""
    guard.offer(_bundle(_versioned(make_policy, 1), signing_key))
    _refused(
        guard, _bundle(_versioned(make_policy, 2), Ed25519PrivateKey.generate()), UnknownKeyError
    )


def test_downgrade_is_refused(
    guard: PolicyGuard, signing_key: Ed25519PrivateKey, make_policy: Callable[..., Policy]
) -> None:
    """A lower version than the one in force is refused as a downgrade."""
    guard.offer(_bundle(_versioned(make_policy, 3), signing_key))
    _refused(guard, _bundle(_versioned(make_policy, 2), signing_key), DowngradeError)


def test_state_file_keeps_the_last_good_policy_across_restarts(
    tmp_path: Path, signing_key: Ed25519PrivateKey, make_policy: Callable[..., Policy]
) -> None:
    """The last good policy is persisted, reloaded, and survives a later refusal."""
    trust = TrustStore.from_keys(signing_key.public_key())
    state = tmp_path / "policy-state.json"
    first = PolicyGuard(trust, state_path=state, clock=lambda: T0)
    good = _versioned(make_policy, 2)
    first.offer(_bundle(good, signing_key))
    with pytest.raises(DowngradeError):
        first.offer(_bundle(_versioned(make_policy, 1), signing_key))
    # Long after expiry, a restarted device still enforces the last good policy.
    later = PolicyGuard(trust, state_path=state, clock=lambda: T0 + timedelta(days=400))
    assert later.policy == good


def test_tampered_state_file_is_rejected(
    tmp_path: Path, signing_key: Ed25519PrivateKey, make_policy: Callable[..., Policy]
) -> None:
    """A state file edited on disk no longer verifies and is refused at start."""
    trust = TrustStore.from_keys(signing_key.public_key())
    state = tmp_path / "state.json"
    PolicyGuard(trust, state_path=state, clock=lambda: T0).offer(
        _bundle(_versioned(make_policy, 1), signing_key)
    )
    state.write_text(state.read_text().replace('min_cohort\\":50', 'min_cohort\\":3'))
    with pytest.raises(TamperedPolicyError):
        PolicyGuard(trust, state_path=state)


def test_trust_store_reads_pem_and_base64_lines(
    tmp_path: Path, signing_key: Ed25519PrivateKey
) -> None:
    """A trust store directory accepts PEM files and 'key_id base64' lines."""
    other = Ed25519PrivateKey.generate().public_key()
    (tmp_path / "a.pub").write_bytes(
        signing_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    (tmp_path / "keys.txt").write_text(
        f"# server keys\n{key_id(other)} {public_key_base64(other)}\n"
    )
    store = TrustStore.load(tmp_path)
    assert set(store.keys) == {key_id(signing_key.public_key()), key_id(other)}


def test_trust_store_rejects_a_wrong_key_id_and_private_keys(
    tmp_path: Path, signing_key: Ed25519PrivateKey
) -> None:
    """A line whose id does not match its key, or a private key, is refused."""
    bad = tmp_path / "bad.txt"
    bad.write_text(f"0000000000000000 {public_key_base64(signing_key.public_key())}\n")
    with pytest.raises(TrustStoreError, match="does not match"):
        TrustStore.load(bad)
    private = tmp_path / "k.pem"
    private.write_bytes(
        signing_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(TrustStoreError, match="private key"):
        TrustStore.load(private)
