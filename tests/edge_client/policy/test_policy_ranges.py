"""Every policy field has a range the code can handle, enforced alike everywhere.

Lint, sign, load, PolicyGuard and the device store all validate through one function.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_client.device.codecs import decode_policy, encode_policy
from edge_client.policy import (
    PolicyError,
    PolicyGuard,
    PolicyValidationError,
    Preset,
    TamperedPolicyError,
    TrustStore,
    UnsignedPolicyError,
    lint_text,
    load_preset,
    parse_policy,
    sign_policy,
)
from edge_client.policy.cli import policy as policy_cli
from edge_client.policy.fields import FIELDS, FieldKind, FieldSpec
from edge_client.store.codec import SectionFormatError

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
Edit = Callable[..., str]


def _key_of(path: str) -> str:
    section, _, key = path.rpartition(".")
    return f"{section.replace('.', '__')}__{key}"


@pytest.mark.parametrize("spec", [f for f in FIELDS if f.maximum is not None], ids=lambda f: f.path)
def test_every_bounded_field_refuses_values_above_its_maximum(
    spec: FieldSpec, default_text: str, edit: Edit
) -> None:
    """A value just above a field's maximum is an error on that field and its line."""
    assert spec.maximum is not None
    high = spec.maximum + 1 if spec.kind is FieldKind.INT else spec.maximum * 2
    text = edit(default_text, **{_key_of(spec.path): str(high)})
    result = lint_text(text, source="p.toml", epsilon=False)
    errors = [p for p in result.problems if p.is_error and p.field == spec.path]
    assert errors and "must be" in errors[0].message and errors[0].line is not None


def test_huge_ttl_is_refused_by_lint_parse_sign_guard_and_store(
    default_text: str, edit: Edit, signing_key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    """profile_ttl_days = 1e9 (which overflowed timedelta on open) is refused everywhere."""
    text = edit(default_text, retention__profile_ttl_days="1000000000")
    assert not lint_text(text, epsilon=False).ok
    with pytest.raises(PolicyValidationError, match="profile_ttl_days"):
        parse_policy(text)
    path = tmp_path / "ttl.toml"
    path.write_text(text, encoding="utf-8")
    key = tmp_path / "k"
    CliRunner().invoke(policy_cli, ["keygen", "--out", str(key)])
    signed = CliRunner().invoke(
        policy_cli, ["sign", str(path), "--key", f"{key}.key", "--out", str(tmp_path / "b.json")]
    )
    assert signed.exit_code == 1 and "not signed" in signed.output
    # A bundle signed around lint (a careless tool) is still refused by the device.
    base = load_preset(Preset.DEFAULT)
    bad = replace(base, retention=replace(base.retention, profile_ttl_days=10**9))
    bundle = sign_policy(bad, signing_key, issued_at=T0, expires_at=T0 + timedelta(days=9))
    guard = PolicyGuard(TrustStore.from_keys(signing_key.public_key()), clock=lambda: T0)
    with pytest.raises(PolicyValidationError, match="profile_ttl_days"):
        guard.offer(bundle.to_bytes())
    assert guard.policy is None
    with pytest.raises(SectionFormatError, match="not a valid policy"):
        decode_policy(encode_policy(bad, None))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1e-300", "the accountant cannot evaluate these parameters"),
        ("1.7e308", "must be >= 0 and <= 1,000"),
        ("inf", "must be a finite number"),
        ("nan", "must be a finite number"),
    ],
)
def test_noise_multiplier_extremes_are_policy_errors(
    default_text: str, edit: Edit, value: str, message: str
) -> None:
    """Near 0, near the float limit, inf and nan: lint errors, never dp-accounting's own."""
    result = lint_text(edit(default_text, federated__noise_multiplier=value))
    errors = [p for p in result.problems if p.field == "federated.noise_multiplier"]
    assert errors and message in errors[0].message


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("policy__name", '"' + "x" * 201 + '"', "longer than 200 characters"),
        ("policy__description", '"a\\u0007b"', "control character"),
        ("inference__forbidden_nodes", '["' + "n" * 129 + '"]', "longer than 128 characters"),
        ("policy__version", "9223372036854775808", "integer out of range"),
    ],
)
def test_text_and_integer_fields_are_bounded(
    default_text: str, edit: Edit, field: str, value: str, message: str
) -> None:
    """Strings have lengths and no control characters; integers stay within 64 bits."""
    result = lint_text(edit(default_text, **{field: value}), epsilon=False)
    assert not result.ok
    assert any(message in p.message for p in result.problems)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--issued-at", "9999-12-31T00:00:00"], "past the year 9999"),
        (["--issued-at", "0001-01-01"], "must lie between 1970-01-01"),
        (["--issued-at", "not a time"], "not an ISO 8601 time"),
        (["--expires-in-days", "99999999999"], "is not in the range 1<=x<=3650"),
    ],
)
def test_sign_refuses_absurd_times(tmp_path: Path, args: list[str], message: str) -> None:
    """Absurd --issued-at / --expires-in-days are clean errors, not OverflowError."""
    key = tmp_path / "k"
    CliRunner().invoke(policy_cli, ["keygen", "--out", str(key)])
    src = str(Path(__file__).resolve().parents[3] / "policies" / "default.toml")
    result = CliRunner().invoke(
        policy_cli,
        ["sign", src, "--key", f"{key}.key", "--out", str(tmp_path / "b.json"), *args],
    )
    assert result.exit_code in (1, 2)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert message in result.output


def test_sign_into_a_missing_folder_is_a_clean_error(tmp_path: Path) -> None:
    """--out in a folder that does not exist says so (no FileNotFoundError)."""
    key = tmp_path / "k"
    CliRunner().invoke(policy_cli, ["keygen", "--out", str(key)])
    src = str(Path(__file__).resolve().parents[3] / "policies" / "default.toml")
    out = tmp_path / "missing" / "b.json"
    result = CliRunner().invoke(policy_cli, ["sign", src, "--key", f"{key}.key", "--out", str(out)])
    assert result.exit_code == 1
    assert "does not exist" in result.output
    assert not isinstance(result.exception, FileNotFoundError)


def test_non_utf8_and_non_regular_policy_files_are_lint_errors(tmp_path: Path) -> None:
    """Lint reports an unreadable file as a finding and goes on with the next file."""
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b'[policy]\nname = "caf\xe9"\n')
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    good = Path(__file__).resolve().parents[3] / "policies" / "default.toml"
    result = CliRunner().invoke(policy_cli, ["lint", str(latin), str(fifo), str(good)])
    assert result.exit_code == 1
    assert "latin.toml:2: not valid UTF-8" in result.output
    assert "is a FIFO" in result.output
    assert f"{good}: ok" in result.output


@pytest.mark.parametrize(
    "document",
    [
        b"[" * 100_000,
        b'{"format": "edgeprof-policy-bundle/1", "signature": "x", "header": '
        b'{"expires_at": 1, "issued_at": 1, "key_id": [1], "name": "n", "policy_sha256": "s",'
        b' "version": 1}, "policy": "{}"}',
        b'{"format": "edgeprof-policy-bundle/1", "signature": "x", "header": '
        b'{"expires_at": "x", "issued_at": "x", "key_id": "k", "name": "n",'
        b' "policy_sha256": "s", "version": 1e400}, "policy": "{}"}',
        "\ud800".encode("utf-8", "surrogatepass"),
        12345,
    ],
)
def test_guard_lets_only_policy_errors_escape(
    signing_key: Ed25519PrivateKey, document: object
) -> None:
    """Malformed bundles are refusals (PolicyError), never TypeError/KeyError/RecursionError."""
    guard = PolicyGuard(TrustStore.from_keys(signing_key.public_key()), clock=lambda: T0)
    with pytest.raises(PolicyError) as caught:
        guard.offer(document)  # type: ignore[arg-type]  # hostile callers pass anything
    assert isinstance(caught.value, UnsignedPolicyError | TamperedPolicyError)
    assert guard.last_refusal is caught.value
