import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from edge_client.policy import Preset, preset_path
from edge_client.policy.cli import policy

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[3]


def _keygen(runner: CliRunner, prefix: Path) -> str:
    result = runner.invoke(policy, ["keygen", "--out", str(prefix)])
    assert result.exit_code == 0, result.output
    return result.output.split("key id: ", 1)[1].split()[0]


def test_keygen_sign_verify(tmp_path: Path) -> None:
    """keygen, sign and verify work end to end; the private key file is owner-only."""
    runner = CliRunner()
    identifier = _keygen(runner, tmp_path / "release")
    assert (tmp_path / "release.key").stat().st_mode & 0o077 == 0
    bundle = tmp_path / "default.bundle.json"
    signed = runner.invoke(
        policy,
        [
            "sign",
            str(preset_path(Preset.DEFAULT)),
            "--key",
            str(tmp_path / "release.key"),
            "--out",
            str(bundle),
        ],
    )
    assert signed.exit_code == 0, signed.output
    assert json.loads(bundle.read_text())["header"]["key_id"] == identifier
    verified = runner.invoke(
        policy, ["verify", str(bundle), "--trust", str(tmp_path / "release.pub")]
    )
    assert verified.exit_code == 0, verified.output
    assert "ok: 'default' v1" in verified.output


def test_keygen_refuses_to_overwrite(tmp_path: Path) -> None:
    """Keygen never overwrites an existing key."""
    runner = CliRunner()
    _keygen(runner, tmp_path / "k")
    again = runner.invoke(policy, ["keygen", "--out", str(tmp_path / "k")])
    assert again.exit_code == 1 and "refusing to overwrite" in again.output


def test_verify_refuses_unknown_key_and_expiry(tmp_path: Path) -> None:
    """Verify names the refusal class for an untrusted key and for an expired bundle."""
    runner = CliRunner()
    _keygen(runner, tmp_path / "a")
    _keygen(runner, tmp_path / "b")
    bundle = tmp_path / "p.json"
    runner.invoke(
        policy,
        [
            "sign",
            str(preset_path(Preset.STRICT)),
            "--key",
            str(tmp_path / "a.key"),
            "--out",
            str(bundle),
            "--issued-at",
            "2025-01-01T00:00:00Z",
            "--expires-in-days",
            "10",
        ],
    )
    unknown = runner.invoke(
        policy,
        ["verify", str(bundle), "--trust", str(tmp_path / "b.pub"), "--at", "2025-01-02T00:00:00Z"],
    )
    assert unknown.exit_code == 1 and "UnknownKeyError" in unknown.output
    expired = runner.invoke(
        policy,
        ["verify", str(bundle), "--trust", str(tmp_path / "a.pub"), "--at", "2025-02-01T00:00:00Z"],
    )
    assert expired.exit_code == 1 and "ExpiredPolicyError" in expired.output


def test_sign_refuses_a_policy_with_errors(tmp_path: Path) -> None:
    """Sign lints first and writes nothing when the policy has errors."""
    runner = CliRunner()
    _keygen(runner, tmp_path / "k")
    bad = tmp_path / "bad.toml"
    bad.write_text(
        preset_path(Preset.DEFAULT)
        .read_text()
        .replace("target_epsilon = 3.0", "target_epsilon = 0.1")
    )
    result = runner.invoke(
        policy,
        ["sign", str(bad), "--key", str(tmp_path / "k.key"), "--out", str(tmp_path / "out.json")],
    )
    assert result.exit_code == 1
    assert "federated.target_epsilon" in result.output
    assert not (tmp_path / "out.json").exists()


def test_lint_reports_file_line_field_and_fails(tmp_path: Path) -> None:
    """Lint prints each problem as file:line: severity: field and exits 1 on errors."""
    bad = tmp_path / "bad.toml"
    bad.write_text('[policy]\nname = "x"\nversion = 1\n[federated]\nmin_cohort = 1\n')
    result = CliRunner().invoke(policy, ["lint", "--no-epsilon", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:5: error: federated.min_cohort: must be >= 2" in result.output


def test_lint_presets_pass() -> None:
    """Lint accepts all presets with exit status 0."""
    result = CliRunner().invoke(policy, ["lint", *(str(preset_path(p)) for p in Preset)])
    assert result.exit_code == 0, result.output
    assert result.output.count(": ok (0 error(s), 0 warning(s))") == 3


def test_explain_and_diff_commands(tmp_path: Path) -> None:
    """Explain lists forbidden categories; diff --fail-on-loosening exits 1 on a loosening."""
    runner = CliRunner()
    explained = runner.invoke(policy, ["explain", str(preset_path(Preset.DEFAULT))])
    assert explained.exit_code == 0 and "political opinions" in explained.output
    strict, default = str(preset_path(Preset.STRICT)), str(preset_path(Preset.DEFAULT))
    loosening = runner.invoke(policy, ["diff", "--fail-on-loosening", strict, default])
    assert loosening.exit_code == 1 and "LOOSENS PRIVACY" in loosening.output
    tightening = runner.invoke(policy, ["diff", "--fail-on-loosening", default, default])
    assert tightening.exit_code == 0 and "no changes" in tightening.output


def test_published_schema_is_up_to_date() -> None:
    """policies/schema.json equals the schema generated from the field table."""
    result = CliRunner().invoke(policy, ["schema", "--check", str(REPO / "policies/schema.json")])
    assert result.exit_code == 0, result.output


def test_presets_validate_against_the_published_schema() -> None:
    """Each preset validates against policies/schema.json; an out-of-range k does not."""
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((REPO / "policies/schema.json").read_text())
    for preset in Preset:
        jsonschema.validate(tomllib.loads(preset_path(preset).read_text()), schema)
    bad = tomllib.loads(preset_path(Preset.DEFAULT).read_text())
    bad["federated"]["min_cohort"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
