"""Crash safety: a writer killed with SIGKILL at random moments never loses the store."""

from __future__ import annotations

import importlib.util
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

from edge_client.store import EncryptedStore

REPO_ROOT = Path(__file__).resolve().parents[3]
WRITER = Path(__file__).with_name("crash_writer.py")
KILLS = 40


def _load_writer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("store_crash_writer", WRITER)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {WRITER}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")
def test_sigkill_at_random_points_never_loses_a_saved_state(tmp_path: Path) -> None:
    """After each SIGKILL the store opens strictly with the last or the in-flight saved state."""
    writer_module = _load_writer()
    rng = random.Random(20240611)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    highest = 0
    for _ in range(KILLS):
        writer = subprocess.Popen(
            [sys.executable, str(WRITER), str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        assert writer.stdout is not None
        first = writer.stdout.readline()  # the writer has completed at least one save
        if not first:
            _, err = writer.communicate()
            raise AssertionError(f"writer died: {err.decode()}")
        time.sleep(rng.uniform(0.0, 0.06))  # lands mid-write, between renames, or after
        writer.send_signal(signal.SIGKILL)
        out, _ = writer.communicate()
        assert writer.returncode == -signal.SIGKILL
        acked = [int(line) for line in (first + out).split(b"\n") if line.strip().isdigit()]
        last_acked = acked[-1]

        store: EncryptedStore = writer_module.open_store(tmp_path)
        state = store.load()  # strict: raises on any integrity failure
        n = state["counter"]["n"]
        assert n in (last_acked, last_acked + 1)  # +1: killed after the rename, before print
        assert state == writer_module.make_state(n)
        result = writer_module.open_store(tmp_path).open_or_recover()
        assert result.discarded == ()  # a crash never produces a file that fails to verify
        assert (result.state, result.generation) == (state, n)
        assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]
        if store.previous_path.exists() and store.path.exists():
            previous = EncryptedStore(store.previous_path, key_provider=store.key_provider)
            assert previous.load() == writer_module.make_state(n - 1)
        assert n > highest
        highest = n
    assert highest >= KILLS
