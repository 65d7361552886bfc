"""Round progress of a simulation: new records only, plain lines or one terminal bar."""

from __future__ import annotations

import io
import json
from pathlib import Path

from fl_server.progress import ProgressFile, RoundPrinter, describe_round

RECORD = {
    "round": 3,
    "status": "aggregated",
    "cohort": 301.0,
    "accepted": 299.0,
    "loss": 0.61234,
    "epsilon": 1.23456,
    "seconds": 4.06,
}


def test_only_records_written_after_opening_are_returned(tmp_path: Path) -> None:
    """A resumed run's earlier rounds are not shown again; a half-written line waits."""
    path = tmp_path / "progress.jsonl"
    path.write_text(json.dumps({"round": 1}) + "\n", encoding="utf-8")
    progress = ProgressFile(path)
    assert progress.new_records() == []
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"round": 2}) + "\nnot json\n" + '{"round": ')
    assert progress.new_records() == [{"round": 2}]
    with path.open("a", encoding="utf-8") as handle:
        handle.write("3}\n")
    assert progress.new_records() == [{"round": 3}]
    assert ProgressFile(tmp_path / "absent.jsonl").new_records() == []


def test_a_round_reads_as_one_plain_line() -> None:
    """The line names the round, status, cohort, loss, ε and time; missing fields are left out."""
    assert describe_round(RECORD, 30) == (
        "round 3/30: aggregated, cohort 301 (299 accepted), loss 0.612, ε 1.235, 4.1 s"
    )
    skipped = {"round": 4, "status": "skipped_cohort_under_k", "cohort": 7, "epsilon": 1.2}
    assert describe_round(skipped, 30) == "round 4/30: skipped cohort under k, cohort 7, ε 1.200"


def test_plain_lines_when_redirected_and_a_bar_on_a_terminal() -> None:
    """Redirected output has one line per round and no escape codes; a terminal gets a bar."""
    plain = io.StringIO()
    printer = RoundPrinter(plain, 30)
    printer.show(RECORD)
    printer.show({**RECORD, "round": 4})
    printer.close()
    assert plain.getvalue().splitlines() == [
        describe_round(RECORD, 30),
        describe_round({**RECORD, "round": 4}, 30),
    ]
    assert "\x1b" not in plain.getvalue() and "\r" not in plain.getvalue()
    screen = io.StringIO()
    bar = RoundPrinter(screen, 4, terminal=True)
    bar.show({**RECORD, "round": 2})
    bar.close()
    assert screen.getvalue() == (
        "\r[############------------] " + describe_round({**RECORD, "round": 2}, 4) + "\x1b[K\n"
    )
