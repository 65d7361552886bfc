"""Public API entries check their arguments: the project's error, with the fix in it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest

import edge_client
from edge_client import (
    ArgumentError,
    ConsentError,
    EdgeProfiler,
    EdgeProfilerError,
    MissingExtraError,
    PolicyError,
    Purpose,
)
from edge_client.arguments import enum_member, enum_members, integer_in_range, number_in_range
from edge_client.policy import Preset, Signal, load_policy
from edge_client.selection import load_sample_catalog

TEXT = "I compared both phones on battery life and price before buying the cheaper one."


@pytest.fixture(scope="module")
def profiler() -> EdgeProfiler:
    """One profiler with profiling consent (models load once for the module)."""
    return EdgeProfiler(consent=[Purpose.PROFILING, Purpose.PERSONALIZATION])


def test_consent_accepts_purpose_names() -> None:
    """consent=["profiling"] grants Purpose.PROFILING instead of being silently ignored."""
    by_name = EdgeProfiler(consent=["profiling", "PERSONALIZATION"])
    assert by_name.consent.granted == {Purpose.PROFILING, Purpose.PERSONALIZATION}
    by_name.observe(TEXT)
    assert by_name.profile().words == 14
    assert EdgeProfiler(consent=Purpose.PROFILING).consent.granted == {Purpose.PROFILING}


@pytest.mark.parametrize(
    ("consent", "message"),
    [
        (["profilng"], "'profilng' is not a Purpose; choose one of: 'profiling'"),
        ([3], "consent)[0]: expected a Purpose or its name as a string, got int"),
        ({"profiling": True}, "expected a list of Purpose values, got dict"),
        (42, "expected a list of Purpose values, got int"),
    ],
)
def test_consent_that_is_not_purposes_is_refused(consent: object, message: str) -> None:
    """Anything but purposes (or their names) is an ArgumentError naming the choices."""
    with pytest.raises(ArgumentError) as caught:
        EdgeProfiler(consent=consent)  # type: ignore[arg-type]  # the wrong type is the test
    assert message in str(caught.value)
    assert isinstance(caught.value, EdgeProfilerError) and isinstance(caught.value, TypeError)


def test_consent_error_says_how_to_grant() -> None:
    """Profiling without the opt-in fails with the exact call that grants it."""
    with pytest.raises(ConsentError, match=r"grant it with EdgeProfiler\(consent=\[Purpose"):
        EdgeProfiler().observe(TEXT)


def test_consent_state_takes_names_and_refuses_others(profiler: EdgeProfiler) -> None:
    """grant, revoke, allows and check accept a purpose's name and refuse unknown ones."""
    state = profiler.engine.consent_state()
    state.grant("personalization")
    assert state.allows("personalization") and state.allows(Purpose.PERSONALIZATION)
    state.revoke("personalization")
    assert not state.allows(Purpose.PERSONALIZATION)
    with pytest.raises(ArgumentError, match="'ads' is not a Purpose"):
        state.grant("ads")


def test_observe_accepts_a_signal_name(profiler: EdgeProfiler) -> None:
    """observe(signal="review_text") is Signal.REVIEW_TEXT; an unknown name is refused."""
    profiler.reset()
    profiler.observe(TEXT, signal="review_text")
    profiler.observe(TEXT, signal=Signal.COMMENT_TEXT)
    assert profiler.profile().words == 28
    with pytest.raises(ArgumentError, match="observe\\(signal\\): 'tweet' is not a Signal"):
        profiler.observe(TEXT, signal="tweet")
    with pytest.raises(ArgumentError, match="use observe\\(text\\) for a single text"):
        profiler.observe_many(TEXT)


@pytest.mark.parametrize("factor", [2.0, -0.1, float("nan"), "0.5", True])
def test_decay_out_of_range_is_an_argument_error(profiler: EdgeProfiler, factor: object) -> None:
    """decay() takes a number in [0, 1] and says so."""
    with pytest.raises(ArgumentError, match=r"decay\(factor\)"):
        profiler.decay(factor)  # type: ignore[arg-type]  # the wrong type is the test


def test_select_refuses_a_list_and_bad_k_and_naive_time(profiler: EdgeProfiler) -> None:
    """select() says how to make a Catalog; k must be a positive int; now must be aware."""
    catalog = load_sample_catalog()
    with pytest.raises(ArgumentError, match="expected a Catalog, got list; load one with"):
        profiler.select(list(catalog.items), k=3)  # type: ignore[arg-type]  # the test
    for k in (0, 2.5, "3"):
        with pytest.raises(ArgumentError, match=r"select\(k\)"):
            profiler.select(catalog, k=k)  # type: ignore[arg-type]  # the wrong type is the test
    with pytest.raises(ArgumentError, match="timezone-aware"):
        profiler.select(catalog, k=2, now=datetime(2026, 1, 1))
    picks = profiler.select(catalog, k=2, now=datetime.now(timezone.utc))
    assert len(picks.choices) == 2


def test_feedback_and_explain_check_their_arguments(profiler: EdgeProfiler) -> None:
    """feedback() wants a str id and bools; explain() a positive top."""
    with pytest.raises(ArgumentError, match=r"feedback\(item_id\)"):
        profiler.feedback(7, engaged=True)  # type: ignore[arg-type]  # the wrong type is the test
    with pytest.raises(ArgumentError, match=r"feedback\(engaged\): expected True or False"):
        profiler.feedback("x", engaged="yes")  # type: ignore[arg-type]  # idem
    with pytest.raises(ArgumentError, match=r"explain\(top\)"):
        profiler.explain(top=0)


def test_policy_presets_by_name() -> None:
    """load_policy and EdgeProfiler(policy=) take preset names, as the CLI does."""
    assert load_policy("strict") == load_policy(Preset.STRICT)
    assert load_policy("Research").policy.name == "research"
    assert EdgeProfiler(policy="strict").policy.policy.name == "strict"
    with pytest.raises(PolicyError, match="not a preset name: 'default', 'strict', 'research'"):
        load_policy("stricter")
    with pytest.raises(ArgumentError, match="expected a Policy, a preset name"):
        EdgeProfiler(policy=3)  # type: ignore[arg-type]  # the wrong type is the test


def test_helpers_refuse_bools_and_out_of_range() -> None:
    """The shared checks refuse bools as numbers and name the bounds."""
    assert number_in_range(1, name="x", low=0, high=1) == 1.0
    assert integer_in_range(5, name="n", low=1) == 5
    with pytest.raises(ArgumentError, match=r"n: must be an integer in \[1, 3\], got 4"):
        integer_in_range(4, name="n", low=1, high=3)
    with pytest.raises(ArgumentError, match="expected an integer >= 1, got bool"):
        integer_in_range(True, name="n", low=1)
    assert enum_member(Purpose, " Profiling ", name="p") is Purpose.PROFILING
    assert enum_members(Purpose, ["profiling", Purpose.PROFILING], name="p") == (Purpose.PROFILING,)


def test_package_exports_purpose_and_version() -> None:
    """Purpose and __version__ come from the package itself."""
    from importlib.metadata import version

    assert edge_client.Purpose is Purpose
    assert edge_client.__version__ == version("edge-profiler")
    assert "__version__" in edge_client.__all__


def test_every_exported_error_derives_from_the_root() -> None:
    """Each exception the package exports is an EdgeProfilerError."""
    errors = [
        getattr(edge_client, name)
        for name in edge_client.__all__
        if name.endswith("Error") and name != "EdgeProfilerError"
    ]
    assert len(errors) >= 7
    assert all(issubclass(error, EdgeProfilerError) for error in errors)


def test_flower_apps_without_the_extra_name_the_extra(tmp_path: Path) -> None:
    """Importing a Flower app without flwr raises MissingExtraError naming the extra."""
    script = textwrap.dedent(
        """
        import importlib.abc, sys

        class NoFlower(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "flwr" or name.startswith("flwr."):
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)
                return None

        sys.meta_path.insert(0, NoFlower())
        from edge_client import MissingExtraError
        for module in ("edge_client.federated.app", "fl_server.app"):
            try:
                __import__(module)
            except MissingExtraError as exc:
                assert isinstance(exc, ImportError) and exc.extra == "federated", exc
                print(exc)
            else:
                raise SystemExit(f"{module} imported without flwr")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2
    assert all("pip install 'edge-profiler[federated]'" in line for line in lines)
    assert lines[0].startswith("edge_client.federated.app (the Flower ClientApp) needs")
    assert issubclass(MissingExtraError, ImportError)
