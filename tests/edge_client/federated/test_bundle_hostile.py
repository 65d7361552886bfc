"""Model bundles signed by a trusted key but malformed inside: BundleError, nothing else.

A trusted signature says who made the payload, not that it is well formed (a buggy or
compromised publisher); every field is checked before any weight is loaded.
"""

from __future__ import annotations

import contextlib
from typing import Any

import msgpack
import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from edge_client.federated import BundleError
from edge_client.federated.bundle import BUNDLE_FORMAT, DOMAIN, verify_model_bundle
from edge_client.policy import TrustStore, generate_private_key, key_id

KEY = generate_private_key()
TRUST = TrustStore.from_keys(KEY.public_key())
HASH = "a" * 64
GOOD_W = [["w", "<f4", [2], np.ones(2, np.float32).tobytes()]]


def _signed(payload: bytes, key: Ed25519PrivateKey = KEY) -> bytes:
    return bytes(
        msgpack.packb(
            {
                "payload": payload,
                "key_id": key_id(key.public_key()),
                "signature": key.sign(DOMAIN + payload),
            }
        )
    )


def _doc(**changes: Any) -> bytes:
    doc: dict[str, Any] = {
        "format": BUNDLE_FORMAT,
        "model": "style",
        "version": 1,
        "policy_hash": HASH,
        "metrics": [["loss", 0.5]],
        "weights": GOOD_W,
    }
    doc.update(changes)
    for name in [k for k, v in changes.items() if v is None]:
        del doc[name]
    return bytes(msgpack.packb(doc, use_bin_type=True))


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        (_doc(model=None), "'model' must be a model name"),
        (_doc(model=["style"]), "'model' must be a model name"),
        (_doc(version=True), "'version' must be an integer"),
        (_doc(version="3"), "'version' must be an integer"),
        (_doc(metrics=[[1, 2, 3]]), "'metrics' has a malformed entry"),
        (_doc(metrics=[["loss", "x"]]), "'metrics' has a malformed entry"),
        (_doc(metrics=[["loss", float("inf")]]), "not finite"),
        (_doc(metrics={"loss": 1.0}), "'metrics' must be a list"),
        (_doc(weights=[["w", "<f4", ["a"], b"\0" * 4]]), "malformed shape"),
        (_doc(weights=[["w", "<f4", [-1, -4], b"\0" * 16]]), "malformed shape"),
        (_doc(weights=[["w", "<f4", [2], b"\0" * 7]]), "size does not match its shape"),
        (_doc(weights=[["w", "<f4", [1], np.float32("nan").tobytes()]]), "not finite"),
        (_doc(weights=GOOD_W + GOOD_W), "malformed entry"),
        (_doc(weights=[["w", "<f8", [1], b"\0" * 8]]), "malformed entry"),
        (bytes(msgpack.packb([1, 2])), "payload format"),
        (b"\x91" * 5000 + b"\x00", "not valid msgpack"),
        (b"\xc7\x01\x05a", "extension type 5 is not accepted"),
    ],
)
def test_malformed_payloads_signed_by_a_trusted_key_are_bundle_errors(
    payload: bytes, words: str
) -> None:
    """Missing fields, wrong types, bad shapes, NaN, duplicates: BundleError (no KeyError)."""
    with pytest.raises(BundleError, match=words):
        verify_model_bundle(_signed(payload), TRUST, policy_hash=HASH)


def test_a_well_formed_payload_still_verifies() -> None:
    """The checks accept what the server publishes."""
    bundle = verify_model_bundle(_signed(_doc()), TRUST, policy_hash=HASH, model="style")
    assert bundle.metrics == {"loss": 0.5} and bundle.weights["w"].tolist() == [1.0, 1.0]


_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.binary(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            ["format", "model", "version", "policy_hash", "metrics", "weights", "extra"]
        ),
        _values,
    )
)
def test_any_signed_payload_is_accepted_or_a_bundle_error(doc: dict[str, Any]) -> None:
    """Fuzz: whatever a trusted key signs, verification returns a model or BundleError."""
    doc.setdefault("format", BUNDLE_FORMAT)
    doc.setdefault("policy_hash", HASH)
    try:
        payload = bytes(msgpack.packb(doc, use_bin_type=True))
    except (OverflowError, ValueError, TypeError):
        return  # not representable in msgpack: nothing to sign
    with contextlib.suppress(BundleError):
        verify_model_bundle(_signed(payload), TRUST, policy_hash=HASH)
