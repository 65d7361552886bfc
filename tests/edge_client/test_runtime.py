"""Tests of the runtime adapter's selection and errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from edge_client.errors import ModelError, RuntimeUnavailableError
from edge_client.runtime import load_interpreter, runtime_info


def test_unknown_runtime_name_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """EDGEPROF_RUNTIME with an unknown value names the valid choices."""
    monkeypatch.setenv("EDGEPROF_RUNTIME", "onnx")
    with pytest.raises(RuntimeUnavailableError, match="litert"):
        runtime_info()


def test_garbage_model_file_is_a_model_error(tmp_path: Path) -> None:
    """A file that is not a flatbuffer gives ModelError naming it, not a crash."""
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a model at all" * 10)
    with pytest.raises(ModelError, match=r"bad\.tflite"):
        load_interpreter(bad)


def test_missing_model_file(tmp_path: Path) -> None:
    """A missing file is reported as such."""
    with pytest.raises(ModelError, match="not found"):
        load_interpreter(tmp_path / "nope.tflite")


def test_forced_runtime_is_the_one_in_use() -> None:
    """With EDGEPROF_RUNTIME set (as CI's second environment does), that backend is used."""
    import os

    forced = os.environ.get("EDGEPROF_RUNTIME", "auto")
    info = runtime_info()
    if forced == "auto":
        assert info.backend.value == "litert"  # LiteRT is a core dependency and preferred
    else:
        assert info.backend.value == forced


def _python(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (descriptor 2 is process-wide)."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_loading_models_prints_nothing_on_stderr() -> None:
    """The runtime's C++ 'Created ... XNNPACK delegate' line no longer reaches stderr."""
    done = _python(
        """
        import sys
        from edge_client import EdgeProfiler
        EdgeProfiler(consent=["profiling"]).observe("We compared the prices.")
        print("after", file=sys.stderr)  # Python's stderr still works afterwards
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == "after\n"


def test_runtime_lines_are_logged_when_asked() -> None:
    """With INFO logging on, the captured runtime line is logged by edge_client.runtime."""
    done = _python(
        """
        import logging
        logging.basicConfig(level=logging.INFO, format="%(name)s|%(message)s")
        from edge_client import EdgeProfiler
        EdgeProfiler()
        """
    )
    assert done.returncode == 0, done.stderr
    logged = [line for line in done.stderr.splitlines() if line.startswith("edge_client.runtime|")]
    if runtime_info().backend.value == "litert":  # tflite-runtime 2.14 prints it too, if at all
        assert any("XNNPACK" in line for line in logged), done.stderr
    assert "XNNPACK" not in "".join(
        line for line in done.stderr.splitlines() if not line.startswith("edge_client.runtime|")
    )
