"""One writer at a time, enforced: no acknowledged write is lost with 2 or 8 writers.

Writers are real processes (the ``edgeprof store observe`` command, and Device objects in
helper processes) and Device objects sharing one directory in one process; reads never
write, and a store that is in use past the wait is a clear error.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from edge_client.device import DataSection, Device, DeviceError
from edge_client.policy import Purpose
from edge_client.store import EncryptedStore
from edge_client.store.lock import StoreLock, StoreLockedError

HERE = Path(__file__).resolve().parent
EDGEPROF = Path(sys.executable).with_name("edgeprof")
WORDS = "one two three four five six seven eight nine ten"


def _ids(device: Device) -> list[str]:
    return [str(r["item"]) for r in device.data(DataSection.FEEDBACK)]


@pytest.mark.slow
@pytest.mark.parametrize("writers", [2, 8])
def test_parallel_store_observe_commands_lose_no_acknowledged_write(
    tmp_path: Path, writers: int
) -> None:
    """N `edgeprof store observe` at once: every one that exits 0 is in the profile."""
    text = tmp_path / "words.txt"
    text.write_text(WORDS, encoding="utf-8")
    data = tmp_path / "data"
    runs = [
        subprocess.Popen(
            [str(EDGEPROF), "store", "--dir", str(data), "observe", str(text)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(writers)
    ]
    codes = [run.wait(timeout=300) for run in runs]
    acknowledged = codes.count(0)
    assert acknowledged == writers, [run.stderr.read() for run in runs if run.stderr]
    words = Device(data, read_only=True).profiler.counts.words
    assert words == pytest.approx(10 * acknowledged, rel=1e-3)  # decay over seconds only


@pytest.mark.slow
@pytest.mark.parametrize("writers", [2, 8])
def test_parallel_device_processes_lose_no_acknowledged_write(tmp_path: Path, writers: int) -> None:
    """N processes each appending events one change at a time: all acknowledged ones stay."""
    data = tmp_path / "data"
    runs = [
        subprocess.Popen(
            [sys.executable, str(HERE / "concurrent_writer.py"), str(data), str(w), "6"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(writers)
    ]
    acknowledged: list[str] = []
    for run in runs:
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        acknowledged.extend(out.split())
    assert len(acknowledged) == 6 * writers
    assert sorted(_ids(Device(data, read_only=True))) == sorted(acknowledged)


def test_two_device_objects_on_one_directory_keep_both_writes(tmp_path: Path) -> None:
    """Two Devices on one directory interleave changes; each sees and keeps the other's."""
    first, second = Device(tmp_path), Device(tmp_path)
    for i in range(3):
        first.append_records(DataSection.FEEDBACK, [{"item": f"a{i}"}])
        second.append_records(DataSection.FEEDBACK, [{"item": f"b{i}"}])
    first.grant(Purpose.PROFILING)
    second.observe(WORDS)
    first.observe(WORDS)
    expected = ["a0", "b0", "a1", "b1", "a2", "b2"]
    assert _ids(first) == _ids(second) == _ids(Device(tmp_path)) == expected
    assert Device(tmp_path).profiler.counts.words == pytest.approx(20, rel=1e-3)
    assert Purpose.PROFILING in second.consent


def test_a_held_store_is_a_clear_in_use_error_after_a_bounded_wait(tmp_path: Path) -> None:
    """While one holder changes the store, another gives up after its timeout and says why."""
    Device(tmp_path).append_records(DataSection.FEEDBACK, [{"item": "x"}])
    holder = EncryptedStore(tmp_path / "store.bin")
    with holder.transaction():
        for read_only in (False, True):  # readers wait too: they never show a half state
            with pytest.raises(StoreLockedError, match="is in use by another process"):
                Device(tmp_path, lock_timeout=0.2, read_only=read_only)
    assert _ids(Device(tmp_path, read_only=True, lock_timeout=0.2)) == ["x"]


def test_reads_never_write(tmp_path: Path) -> None:
    """A read-only device changes no file (names, sizes, times) and refuses every change."""
    device = Device(tmp_path)
    device.grant(Purpose.PROFILING)
    device.observe(WORDS)

    def snapshot() -> dict[str, tuple[int, int, int]]:
        return {
            p.name: (p.stat().st_ino, p.stat().st_size, p.stat().st_mtime_ns)
            for p in tmp_path.iterdir()
        }

    before = snapshot()
    reader = Device(tmp_path, read_only=True)
    reader.export()
    reader.profile()
    for change in (
        lambda: reader.observe(WORDS),
        lambda: reader.grant(Purpose.PERSONALIZATION),
        reader.pause,
        reader.forget,
        reader.save,
    ):
        with pytest.raises(DeviceError, match="opened read-only"):
            change()
    assert snapshot() == before


def _as_other_user(args: list[str]) -> list[str] | None:
    """Run as an unprivileged user when we are root (root ignores file modes)."""
    if os.geteuid() != 0:
        return args
    setpriv = shutil.which("setpriv")
    return (
        None
        if setpriv is None
        else [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", *args]
    )


@pytest.mark.slow
def test_show_and_export_work_in_a_read_only_directory(tmp_path: Path) -> None:
    """Without write access show and export succeed; observe fails with a clear error."""
    probe = _as_other_user([str(EDGEPROF), "--help"])
    if probe is None:
        pytest.skip("running as root without setpriv: cannot drop write access")
    if subprocess.run(probe, capture_output=True, timeout=120, check=False).returncode != 0:
        pytest.skip("the unprivileged user cannot run this virtual environment's edgeprof")
    if os.geteuid() == 0:  # the other user must be able to reach the directory
        tmp_path = Path(tempfile.mkdtemp(prefix="edgeprof-ro-", dir="/tmp"))
        tmp_path.chmod(0o755)
    data = tmp_path / "data"
    device = Device(data)
    device.grant(Purpose.PROFILING)
    device.observe(WORDS)
    text = tmp_path / "words.txt"
    text.write_text(WORDS, encoding="utf-8")
    if os.geteuid() == 0:
        for path in (data, *data.iterdir(), text):
            os.chown(path, 65534, 65534)
    for path in data.iterdir():
        path.chmod(0o400)
    data.chmod(0o500)
    try:
        for command, expected in (("show", 0), ("export", 0), ("observe", 2)):
            args = _as_other_user(
                [str(EDGEPROF), "store", "--dir", str(data), command]
                + ([str(text)] if command == "observe" else [])
            )
            if args is None:
                pytest.skip("running as root without setpriv: cannot drop write access")
            run = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
            assert run.returncode == expected, run.stderr
            assert "Traceback" not in run.stderr
        assert "is the directory read-only?" in run.stderr
    finally:
        data.chmod(0o700)
        if os.geteuid() == 0:
            shutil.rmtree(tmp_path)


@pytest.mark.parametrize("victim", ["store.bin", "store.bin.key"])
@pytest.mark.parametrize("kind", ["fifo", "dev_zero", "big"])
def test_fifo_device_or_huge_file_in_place_of_store_or_key_is_refused(
    tmp_path: Path, victim: str, kind: str
) -> None:
    """A FIFO, a /dev/zero link or an oversized file never hangs, never is read whole."""
    device = Device(tmp_path)
    device.append_records(DataSection.FEEDBACK, [{"item": "x"}])
    target = tmp_path / victim
    target.unlink()
    if kind == "fifo":
        os.mkfifo(target, 0o600)
    elif kind == "dev_zero":
        target.symlink_to("/dev/zero")
    else:
        with target.open("wb") as handle:
            handle.truncate(10**10)  # sparse 10 GB: reading it whole would never end
        target.chmod(0o600)
    reopened = Device(tmp_path)  # the store's default bound is 256 MiB, a key's 4 kB
    assert not reopened.persistent
    problems = " ".join(reopened.report.problems)
    assert any(
        words in problems
        for words in ("not a regular file", "symbolic link", "larger than", "bytes; a key file")
    ), problems
    assert reopened.append_records(DataSection.FEEDBACK, [{"item": "y"}]) == 1
    assert not reopened.save()  # nothing written over what could not be read


def test_erasing_while_others_wait_keeps_them_exclusive(tmp_path: Path) -> None:
    """forget() removes the lock file; a waiter re-locks the new file, still one at a time."""
    store = EncryptedStore(tmp_path / "store.bin")
    store.save({"a": 1})
    waiter = StoreLock(tmp_path / "store.bin.lock", timeout=10)
    acquired = threading.Event()
    release = threading.Event()

    def wait_for_it() -> None:
        with waiter.hold(exclusive=True):
            acquired.set()
            release.wait(10)

    with store.lock.hold(exclusive=True):
        thread = threading.Thread(target=wait_for_it)
        thread.start()
        store.forget()
    assert acquired.wait(10)
    third = StoreLock(tmp_path / "store.bin.lock", timeout=0.2)
    with pytest.raises(StoreLockedError), third.hold(exclusive=True):
        pass
    release.set()
    thread.join(10)


def test_a_store_larger_than_the_configured_bound_is_refused_unread(tmp_path: Path) -> None:
    """max_store_bytes bounds what is read: a bigger store is reported, kept and not read."""
    device = Device(tmp_path)
    device.append_records(DataSection.FEEDBACK, [{"item": "x"}])
    size = (tmp_path / "store.bin").stat().st_size
    small = Device(tmp_path, max_store_bytes=size - 1)
    assert not small.persistent
    assert f"larger than the {size - 1:,}-byte limit" in " ".join(small.report.problems)
    assert _ids(Device(tmp_path, read_only=True)) == ["x"]  # nothing was overwritten
