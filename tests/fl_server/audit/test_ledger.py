import json
from dataclasses import replace
from pathlib import Path

import pytest

from edge_client.audit import required_noise_multiplier
from edge_client.policy import OutcomeAuditRules, Preset, load_preset
from edge_client.policy.accounting import compute_epsilon
from fl_server.audit.ledger import AuditLedger
from fl_server.errors import BudgetExhaustedError, ServerConfigError

DAY = 86400.0


@pytest.fixture(scope="module")
def rules() -> OutcomeAuditRules:
    """The default policy's audit rules (epsilon 1 per 28 days, weekly)."""
    return load_preset(Preset.DEFAULT).audit.outcomes


def test_rounds_are_charged_with_the_accountant_and_stop_at_the_budget(
    rules: OutcomeAuditRules, tmp_path: Path
) -> None:
    """Four weekly rounds fit in epsilon 1; a fifth inside the same 28 days is refused."""
    z = required_noise_multiplier(rules)
    ledger = AuditLedger(rules, noise_multiplier=z, path=tmp_path / "ledger.json")
    for k in range(4):
        charge = ledger.charge(k, at=k * 7 * DAY, cohort=500)
        expected = compute_epsilon(
            noise_multiplier=z, sampling_rate=1.0, rounds=k + 1, delta=rules.delta
        ).epsilon
        assert charge.epsilon == pytest.approx(expected)
    assert ledger.entries[-1].epsilon <= rules.epsilon
    with pytest.raises(BudgetExhaustedError, match="4 rounds already"):
        ledger.charge(4, at=28 * DAY - 1800, cohort=500)  # within the clock slack
    assert len(ledger.entries) == 4
    ledger.charge(4, at=28 * DAY, cohort=500)  # the first round left the window
    saved = json.loads((tmp_path / "ledger.json").read_text(encoding="utf-8"))
    assert len(saved["entries"]) == 5


def test_cadence_and_noise_are_enforced(rules: OutcomeAuditRules, tmp_path: Path) -> None:
    """A round sooner than the cadence is refused; too little noise cannot be configured."""
    z = required_noise_multiplier(rules)
    ledger = AuditLedger(rules, noise_multiplier=z)
    ledger.charge(1, at=0.0, cohort=200)
    with pytest.raises(BudgetExhaustedError, match="cadence_days"):
        ledger.charge(2, at=3 * DAY, cohort=200)
    with pytest.raises(ServerConfigError, match="below"):
        AuditLedger(rules, noise_multiplier=z * 0.9)
    with pytest.raises(ServerConfigError, match="sampling rate"):
        AuditLedger(replace(rules, sampling_rate=0.5), noise_multiplier=50.0, sampling_rate=0.9)


def test_the_ledger_file_survives_a_restart_and_bad_files_are_named(
    rules: OutcomeAuditRules, tmp_path: Path
) -> None:
    """A reloaded ledger keeps its charges; a malformed file is an error naming it."""
    z = required_noise_multiplier(rules)
    path = tmp_path / "ledger.json"
    AuditLedger(rules, noise_multiplier=z, path=path).charge(1, at=0.0, cohort=300)
    reloaded = AuditLedger.load(path, rules, noise_multiplier=z)
    assert len(reloaded.entries) == 1 and reloaded.spent(DAY) > 0
    path.write_text(
        '{"format": "edgeprof-audit-ledger/1", "entries": [{"round": 1}]}', encoding="utf-8"
    )
    with pytest.raises(ServerConfigError, match=r"entries\[0\]"):
        AuditLedger.load(path, rules, noise_multiplier=z)
    path.write_text("not json", encoding="utf-8")
    with pytest.raises(ServerConfigError, match=r"ledger\.json"):
        AuditLedger.load(path, rules, noise_multiplier=z)
