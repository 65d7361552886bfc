"""Secure aggregation on Flower's real engines: the simulation engine and the deployment one."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from edge_client.policy.presets import Preset, preset_path
from fl_server.cli import simulate
from fl_server.deploy import DeploySettings, LaunchError, LocalDeployment, flower_executable

REPO = Path(__file__).resolve().parents[3]


def _flower() -> bool:
    try:
        for name in ("flower-superlink", "flower-supernode", "flwr"):
            flower_executable(name)
    except LaunchError:
        return False
    return True


needs_flower = pytest.mark.skipif(not _flower(), reason="Flower's programs are not installed")


@needs_flower
@pytest.mark.slow
@pytest.mark.timeout(420)
def test_deployment_with_tls_node_auth_and_secure_aggregation(tmp_path: Path) -> None:
    """Strict preset over TLS + SuperNode auth: secure rounds complete; identities are private."""
    settings = DeploySettings(
        app_dir=REPO,
        work_dir=tmp_path / "deploy",
        nodes=3,
        num_rounds=1,
        min_cohort=3,
        run_config={"seed": 5},
        run_timeout=300.0,
        secure_aggregation=True,
    )
    with LocalDeployment(settings) as deployment:
        assert deployment.credentials is not None  # TLS and node authentication are on
        report = deployment.run()
        identities = deployment.identities
    assert report.completed, report.status
    (record,) = report.rounds
    assert record["status"] == "aggregated" and record["secagg"]["survivors"] == 3
    assert record["secagg"]["refused"] == {} and record["secagg"]["rejected"] == {}
    assert identities is not None and len(identities.files) == 3
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in identities.files.values())
    policy = (tmp_path / "deploy" / "policy.toml").read_text()
    assert "secure_aggregation = true" in policy
    assert deployment.supervisor.survivors() == []


@needs_flower
@pytest.mark.slow
@pytest.mark.timeout(420)
def test_simulation_engine_runs_secure_rounds(tmp_path: Path) -> None:
    """`edgeprof simulate` with a policy requiring secure aggregation aggregates its rounds."""
    text = preset_path(Preset.STRICT).read_text()
    for key, value in {"min_cohort": "4", "sampling_rate": "0.5", "target_epsilon": "50.0"}.items():
        text = re.sub(rf"(?m)^{key} = .*$", f"{key} = {value}", text, count=1)
    policy = tmp_path / "small-strict.toml"
    policy.write_text(text, encoding="utf-8")
    out = tmp_path / "sim"
    args = [
        "--model",
        "style",
        "--policy",
        str(policy),
        "--devices",
        "16",
        "--rounds",
        "2",
        "--output",
        str(out),
    ]
    done = CliRunner().invoke(simulate, args)
    assert done.exit_code == 0, done.output
    assert "secure aggregation with distributed noise" in done.output
    rounds = json.loads((out / "metrics.json").read_text())["rounds"]
    assert [r["status"] for r in rounds] == ["aggregated", "aggregated"]
    assert all(r["secagg"]["survivors"] == r["cohort"] for r in rounds)
