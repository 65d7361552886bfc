import math
import sys
from collections.abc import Callable

import pytest

from edge_client.policy import AccountantUnavailableError, Severity, lint_text
from edge_client.policy.accounting import compute_epsilon


def _eps(**overrides: float) -> float:
    params = {"noise_multiplier": 1.0, "sampling_rate": 0.02, "rounds": 100, "delta": 1e-5}
    params.update(overrides)
    return compute_epsilon(**params).epsilon  # type: ignore[arg-type]  # test parameters


def test_epsilon_of_a_known_configuration_is_in_the_expected_range() -> None:
    """q=0.01, sigma=1.0, 1000 rounds, delta=1e-5 gives epsilon near 2 (RDP ~2.1)."""
    assert 1.8 < _eps(sampling_rate=0.01, rounds=1000) < 2.4


def test_epsilon_grows_with_rounds_and_shrinks_with_noise() -> None:
    """Epsilon is strictly monotone: more rounds cost more, more noise costs less."""
    by_rounds = [_eps(rounds=r) for r in (10, 50, 100, 400)]
    by_noise = [_eps(noise_multiplier=s) for s in (0.7, 1.0, 1.5, 3.0)]
    assert by_rounds == sorted(by_rounds) and len(set(by_rounds)) == 4
    assert by_noise == sorted(by_noise, reverse=True) and len(set(by_noise)) == 4


def test_participation_cap_can_only_lower_epsilon() -> None:
    """The reported epsilon is the smaller of the amplified and the capped bounds."""
    report = compute_epsilon(
        noise_multiplier=5.0, sampling_rate=1.0, rounds=100, delta=1e-5, max_participation=2
    )
    assert report.epsilon == report.capped_epsilon < report.amplified_epsilon


def test_no_noise_means_infinite_epsilon() -> None:
    """A noise multiplier of zero gives no differential privacy at all."""
    assert math.isinf(_eps(noise_multiplier=0.0))


def test_unmeetable_target_epsilon_is_flagged(default_text: str, edit: Callable[..., str]) -> None:
    """A target epsilon the noise, sampling and rounds cannot meet is a lint error."""
    text = edit(default_text, federated__target_epsilon="0.5")
    result = lint_text(text, source="p.toml")
    errors = [p for p in result.problems if p.is_error]
    assert [p.field for p in errors] == ["federated.target_epsilon"]
    assert "cannot be met" in errors[0].message and errors[0].line is not None


def test_epsilon_check_is_an_error_without_dp_accounting(
    default_text: str, edit: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without dp_accounting (a broken install) lint fails: the check is never skipped."""
    monkeypatch.setitem(sys.modules, "dp_accounting", None)
    with pytest.raises(AccountantUnavailableError, match="pip install dp-accounting"):
        _eps()
    result = lint_text(default_text)
    assert not result.ok
    assert [(p.severity, p.field) for p in result.problems] == [
        (Severity.ERROR, "federated.target_epsilon")
    ]
    assert "could not run" in result.problems[0].message
