"""Signed model bundles and update clipping on the device."""

from __future__ import annotations

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_client.federated import BundleError, UpdateError, clip_update, update_norm, weight_delta
from edge_client.federated.bundle import verify_model_bundle
from edge_client.policy import TrustStore, generate_private_key
from fl_server.publish import sign_model_bundle

WEIGHTS = {"w": np.arange(12, dtype=np.float32).reshape(6, 2), "b": np.ones(2, np.float32)}


def _bundle(key: Ed25519PrivateKey, **kw: object) -> bytes:
    args = {
        "model": "style",
        "version": 3,
        "weights": WEIGHTS,
        "metrics": {"epsilon": 1.5},
        "policy_hash": "a" * 64,
        **kw,
    }
    return sign_model_bundle(private_key=key, **args)  # type: ignore[arg-type]  # test overrides


def test_bundle_round_trip() -> None:
    """A bundle signed by a trusted key verifies and returns the same weights and metadata."""
    key = generate_private_key()
    bundle = verify_model_bundle(
        _bundle(key),
        TrustStore.from_keys(key.public_key()),
        policy_hash="a" * 64,
        model="style",
        min_version=3,
    )
    assert bundle.version == 3 and bundle.metrics == {"epsilon": 1.5}
    np.testing.assert_array_equal(bundle.weights["w"], WEIGHTS["w"])


@pytest.mark.parametrize("position", [40, -70, -5])
def test_any_flipped_byte_is_refused(position: int) -> None:
    """Flipping one byte anywhere (header, weights, signature) makes verification fail."""
    key = generate_private_key()
    data = bytearray(_bundle(key))
    data[position] ^= 0x20
    with pytest.raises(BundleError):
        verify_model_bundle(
            bytes(data), TrustStore.from_keys(key.public_key()), policy_hash="a" * 64
        )


def test_untrusted_key_other_policy_and_replay_are_refused() -> None:
    """Unknown signer, another policy's model and an older version are all refused."""
    key, other = generate_private_key(), generate_private_key()
    trust = TrustStore.from_keys(key.public_key())
    with pytest.raises(BundleError, match="untrusted"):
        verify_model_bundle(_bundle(other), trust, policy_hash="a" * 64)
    with pytest.raises(BundleError, match="another policy"):
        verify_model_bundle(_bundle(key, policy_hash="b" * 64), trust, policy_hash="a" * 64)
    with pytest.raises(BundleError, match="older"):
        verify_model_bundle(_bundle(key), trust, policy_hash="a" * 64, min_version=4)


def test_clip_scales_to_the_norm_and_keeps_small_updates() -> None:
    """Updates above the clip are scaled to it; smaller ones pass unchanged."""
    big = {"w": np.full((10, 1), 3.0, np.float32), "b": np.ones(1, np.float32)}
    clipped, before = clip_update(big, max_norm=1.0)
    assert before == pytest.approx(update_norm(big))
    assert update_norm(clipped) <= 1.0
    assert update_norm(clipped) == pytest.approx(1.0, rel=1e-5)
    small = {"w": np.full((10, 1), 0.01, np.float32)}
    np.testing.assert_array_equal(clip_update(small, max_norm=1.0)[0]["w"], small["w"])


def test_delta_and_clip_reject_bad_input() -> None:
    """Mismatched shapes and non-finite updates raise UpdateError."""
    with pytest.raises(UpdateError):
        weight_delta({"w": np.ones(3, np.float32)}, {"w": np.ones(4, np.float32)})
    with pytest.raises(UpdateError):
        clip_update({"w": np.array([np.nan], np.float32)}, max_norm=1.0)
