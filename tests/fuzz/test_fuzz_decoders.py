"""Fuzz every decoder of outside input: it returns, or raises the project's own error.

Inputs are valid seeds mutated by ``scripts/_hostile_inputs.py`` (byte flips, truncation,
nasty tokens, huge numbers, deep nesting, lone surrogates, structural replacements), random
bytes, the named cases of the hardening issue, and special files (a FIFO, a link to
``/dev/zero``, a directory, a sparse 10 GB file) in place of each input. A traceback is any
exception that is not an :class:`~edge_client.errors.EdgeProfilerError`; a hang is caught
by pytest-timeout. Budget: ``EDGEPROF_FUZZ_EXAMPLES`` examples per test (default 20, a few
seconds in CI); docs/hardening.md gives the longer run.
"""

from __future__ import annotations

import contextlib
import os
import random
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge_client.errors import EdgeProfilerError

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

import _hostile_inputs as hostile
import _hostile_targets as targets

BUDGET = int(os.environ.get("EDGEPROF_FUZZ_EXAMPLES", "20"))
FUZZ = settings(max_examples=BUDGET, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DECODABLE = [k for k in targets.KINDS if k.decode is not None]


@pytest.fixture(scope="module")
def fixture(tmp_path_factory: pytest.TempPathFactory) -> targets.Fixture:
    """Valid companion files (keys, trust store, policy, store, profile)."""
    return targets.Fixture.build(tmp_path_factory.mktemp("fixture"))


def _decode(kind: targets.Kind, fixture: targets.Fixture, data: bytes) -> None:
    assert kind.decode is not None
    with tempfile.TemporaryDirectory() as folder:
        path = kind.place(fixture, data, Path(folder))
        with contextlib.suppress(EdgeProfilerError):  # a clean, located refusal is a pass
            kind.decode(fixture, path)


@pytest.mark.parametrize("kind", DECODABLE, ids=lambda k: k.name)
@FUZZ
@given(rng=st.randoms(use_true_random=False))
def test_mutated_inputs_are_decoded_or_refused_cleanly(
    kind: targets.Kind, fixture: targets.Fixture, rng: random.Random
) -> None:
    """Hostile variants of valid inputs: a value or an EdgeProfilerError, nothing else."""
    seed = rng.choice(kind.seeds(fixture))
    _decode(kind, fixture, hostile.mutate(kind.format, seed, rng))


@pytest.mark.parametrize("kind", DECODABLE, ids=lambda k: k.name)
@FUZZ
@given(data=st.binary(max_size=4096))
def test_random_bytes_are_refused_cleanly(
    kind: targets.Kind, fixture: targets.Fixture, data: bytes
) -> None:
    """Arbitrary bytes in place of any input: a value or an EdgeProfilerError."""
    _decode(kind, fixture, data)


@pytest.mark.parametrize(
    ("kind", "name"),
    [(k, name) for k in DECODABLE for name in targets.named_cases(k)],
    ids=lambda value: value if isinstance(value, str) else value.name,
)
def test_named_cases_of_the_issue_are_refused_cleanly(
    kind: targets.Kind, name: str, fixture: targets.Fixture
) -> None:
    """Each input class the hardening issue named: no traceback."""
    _decode(kind, fixture, targets.named_cases(kind)[name])


@pytest.mark.parametrize("special", targets.SPECIAL_FILES)
@pytest.mark.parametrize("kind", [k for k in DECODABLE if k.from_file], ids=lambda k: k.name)
def test_special_files_are_refused_without_hanging(
    kind: targets.Kind, special: str, fixture: targets.Fixture, tmp_path: Path
) -> None:
    """A FIFO, /dev/zero, a directory or 10 GB in place of an input: refused, never read."""
    assert kind.decode is not None
    path = targets.place_special(kind, special, fixture, tmp_path)
    with contextlib.suppress(EdgeProfilerError):
        kind.decode(fixture, path)
