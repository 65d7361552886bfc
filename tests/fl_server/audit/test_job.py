"""The audit job end to end on the in-process grid: report, plots, flags, resume, budget."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from edge_client.federated.app import make_client_app
from fl_server.audit.cli import audit
from fl_server.audit.job import AuditSettings, run_audit
from fl_server.errors import ServerConfigError
from fl_server.local_grid import LocalGrid


def _settings(out: Path, **extra: object) -> AuditSettings:
    config: dict[str, object] = {
        "job": "audit",
        "policy": "research",
        "audit-rounds": 2,
        "audit-simulated": True,
        "seed": 0,
        "output-dir": str(out),
    }
    config.update(extra)
    return AuditSettings.from_run_config(config)


def _grid(n: int, plant: str) -> LocalGrid:
    run: dict[str, bool | float | int | str] = {
        "policy": "research",
        "audit-plant": plant,
        "audit-rounds": 3,
        "population-seed": 0,
    }
    return LocalGrid(make_client_app(), [{"partition-id": i} for i in range(n)], run, keep=False)


def test_a_simulated_audit_writes_report_and_plots(tmp_path: Path) -> None:
    """Two rounds: audit.json with ε within budget, four PNGs, the summary on stdout."""
    result = run_audit(_grid(400, "disparity"), _settings(tmp_path))
    document = json.loads((tmp_path / "audit.json").read_text(encoding="utf-8"))
    assert [r["status"] for r in document["rounds"]] == ["aggregated", "aggregated"]
    assert 0 < document["epsilon"]["spent"] <= document["epsilon"]["budget"] == 4.0
    assert {p.name for p in result.plots} == {
        "exposure.png",
        "engagement.png",
        "fatigue.png",
        "lift.png",
    }
    assert all(p.stat().st_size > 10_000 for p in result.plots)
    out = CliRunner().invoke(audit, ["show", str(tmp_path)])
    assert out.exit_code == 0 and "(SIMULATION): 2/2 rounds aggregated" in out.stdout
    ledger = json.loads((tmp_path / "audit-ledger.json").read_text(encoding="utf-8"))
    assert len(ledger["entries"]) == 2


def test_rerunning_continues_and_stops_at_the_budget(tmp_path: Path) -> None:
    """A second run in the same folder continues the rounds until the window is full."""
    grid = _grid(200, "none")
    run_audit(grid, _settings(tmp_path, **{"audit-rounds": 3}))
    second = run_audit(grid, _settings(tmp_path, **{"audit-rounds": 2})).document
    assert [r["round"] for r in second["rounds"]] == [1, 2, 3, 4, 5]
    assert second["epsilon"]["spent"] <= 4.0


def test_flags_fail_the_ci_gate(tmp_path: Path) -> None:
    """`audit show --fail-on-flag` exits 1 when something is flagged."""
    document = {
        "format": "edgeprof-audit-report/1",
        "settings": {"policy": "default"},
        "rounds": [],
        "epsilon": {},
        "flags": [{"kind": "exposure_disparity", "round": 1, "message": "gap"}],
    }
    (tmp_path / "audit.json").write_text(json.dumps(document), encoding="utf-8")
    result = CliRunner().invoke(audit, ["show", str(tmp_path), "--fail-on-flag"])
    assert result.exit_code == 1 and "FLAG exposure_disparity (round 1): gap" in result.stdout
    (tmp_path / "audit.json").write_text("[1, 2]", encoding="utf-8")
    bad = CliRunner().invoke(audit, ["show", str(tmp_path)])
    assert bad.exit_code == 1 and "audit.json: field 'format'" in bad.stderr


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"audit-rounds": 3, "audit-simulated": False}, "one audit round per invocation"),
        ({"audit-questions": "exposure,mood"}, "audit-questions"),
        ({"audit-dropout": 1.5}, "audit-dropout"),
        ({"audit-rounds": "two"}, "'audit-rounds' must be int"),
    ],
)
def test_bad_run_config_names_the_key(
    tmp_path: Path, config: dict[str, object], message: str
) -> None:
    """Each bad run-config value is refused with the key named."""
    with pytest.raises(ServerConfigError, match=message):
        _settings(tmp_path, **config)
