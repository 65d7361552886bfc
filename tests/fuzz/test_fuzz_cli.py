"""Fuzz every ``edgeprof`` command that reads outside input: a result or a clean error.

Each command runs in-process (click's runner) on hostile variants of its input, the named
cases of the hardening issue, special files in place of the input, and the absurd
``policy sign`` options the issue named. A traceback is an exception other than the exit
click raises; the exit status must be 0, 1 or 2 and the output must hold no traceback.
Budget: ``EDGEPROF_FUZZ_EXAMPLES`` examples per command (default 6 here, 20 for decoders).
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge_client.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

import _hostile_inputs as hostile
import _hostile_targets as targets

BUDGET = max(1, int(os.environ.get("EDGEPROF_FUZZ_EXAMPLES", "20")) * 3 // 10)
FUZZ = settings(max_examples=BUDGET, deadline=None, suppress_health_check=[HealthCheck.too_slow])
COMMANDS = [(kind, index) for kind in targets.KINDS for index in range(len(kind.commands))]


def _ids(value: object) -> str:
    return value.name if isinstance(value, targets.Kind) else str(value)


@pytest.fixture(scope="module")
def fixture(tmp_path_factory: pytest.TempPathFactory) -> targets.Fixture:
    """Valid companion files (keys, trust store, policy, store, profile)."""
    return targets.Fixture.build(tmp_path_factory.mktemp("fixture"))


def _run(argv: list[str]) -> None:
    result = CliRunner().invoke(main, argv)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"edgeprof {argv[:2]} raised {result.exception!r}") from (
            result.exception
        )
    assert result.exit_code in (0, 1, 2), result.exit_code
    assert "Traceback" not in result.output


def _run_on(kind: targets.Kind, index: int, fixture: targets.Fixture, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = kind.place(fixture, data, Path(folder))
        _run(kind.commands[index](fixture, path))


@pytest.mark.parametrize(("kind", "index"), COMMANDS, ids=_ids)
@FUZZ
@given(rng=st.randoms(use_true_random=False))
def test_commands_on_mutated_inputs_end_cleanly(
    kind: targets.Kind, index: int, fixture: targets.Fixture, rng: random.Random
) -> None:
    """Hostile variants of each command's input: exit 0/1/2, never a traceback."""
    seed = rng.choice(kind.seeds(fixture))
    _run_on(kind, index, fixture, hostile.mutate(kind.format, seed, rng))


@pytest.mark.parametrize(
    ("kind", "index", "name"),
    [(k, i, name) for k, i in COMMANDS for name in targets.named_cases(k)],
    ids=_ids,
)
def test_commands_on_the_named_cases_end_cleanly(
    kind: targets.Kind, index: int, name: str, fixture: targets.Fixture
) -> None:
    """Each input class the issue named, through each command that reads it."""
    _run_on(kind, index, fixture, targets.named_cases(kind)[name])


@pytest.mark.parametrize("special", targets.SPECIAL_FILES)
@pytest.mark.parametrize(("kind", "index"), COMMANDS, ids=_ids)
def test_commands_refuse_special_files_without_hanging(
    kind: targets.Kind, index: int, special: str, fixture: targets.Fixture, tmp_path: Path
) -> None:
    """A FIFO, /dev/zero, a directory or 10 GB in place of the input: no hang, no traceback."""
    path = targets.place_special(kind, special, fixture, tmp_path)
    _run(kind.commands[index](fixture, path))


@pytest.mark.parametrize(("name", "options"), targets.SIGN_OPTIONS, ids=_ids)
def test_policy_sign_refuses_absurd_options_cleanly(
    name: str, options: tuple[str, ...], fixture: targets.Fixture, tmp_path: Path
) -> None:
    """--issued-at far away, --expires-in-days huge, --out in a missing folder: clean."""
    argv = ["policy", "sign", str(fixture.root / "policy.toml"), "--key"]
    argv += [str(fixture.root / "signing.key"), "--out", str(tmp_path / "b.json"), *options]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code in (1, 2), name
    assert result.exception is None or isinstance(result.exception, SystemExit)
