"""Follow a run's ``progress.jsonl`` and show one line per round.

The ServerApp appends one JSON record per round to ``<output>/progress.jsonl``
(:mod:`fl_server.app`). :class:`ProgressFile` reads the records appended since it was
opened (a resumed run's earlier rounds are not shown again); :class:`RoundPrinter` prints
each as a plain line, or, on a terminal, redraws one progress bar. Nothing it prints
contains terminal codes unless the stream is a terminal.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

__all__ = ["ProgressFile", "RoundPrinter", "describe_round"]

_BAR = 24


class ProgressFile:
    """The records appended to a ``progress.jsonl`` after this object was made.

    Parameters
    ----------
    path
        The file (it may not exist yet).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = path.stat().st_size if path.is_file() else 0
        self._partial = b""

    def new_records(self) -> list[dict[str, Any]]:
        """Return the complete records written since the last call, oldest first."""
        try:
            with self.path.open("rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except OSError:
            return []
        self._offset += len(data)
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()  # an unfinished last line waits for the next call
        records = []
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:  # not a record of ours: skip, never stop the run for it
                continue
            if isinstance(record, dict):
                records.append(record)
        return records


def _number(record: Mapping[str, Any], key: str) -> float | None:
    value = record.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def describe_round(record: Mapping[str, Any], total: int) -> str:
    """Return one plain line for a round's record.

    Parameters
    ----------
    record
        A ``progress.jsonl`` record (``round``, ``status``, ``cohort``, ``accepted``,
        ``epsilon``, ``loss``, ``seconds``; missing fields are left out).
    total
        The run's ``num-rounds``.

    Returns
    -------
    str
        For example ``round 3/30: aggregated, cohort 301 (299 accepted), loss 0.612,
        ε 1.234, 4.1 s``.
    """
    parts = [str(record.get("status", "?")).replace("_", " ")]
    cohort, accepted = _number(record, "cohort"), _number(record, "accepted")
    if cohort is not None:
        parts.append(
            f"cohort {cohort:.0f}" + (f" ({accepted:.0f} accepted)" if accepted is not None else "")
        )
    for key, label, fmt in (
        ("loss", "loss", ".3f"),
        ("epsilon", "ε", ".3f"),
        ("seconds", "", ".1f"),
    ):
        value = _number(record, key)
        if value is not None:
            parts.append(f"{label} {value:{fmt}}".strip() + (" s" if key == "seconds" else ""))
    return f"round {record.get('round', '?')}/{total}: " + ", ".join(parts)


class RoundPrinter:
    """Print round records: plain lines, or one redrawn bar when ``stream`` is a terminal.

    Parameters
    ----------
    stream
        Where to print (the results stream, stdout).
    total
        The run's ``num-rounds``.
    terminal
        Draw a bar (default: whether ``stream`` is a terminal).
    """

    def __init__(self, stream: TextIO, total: int, *, terminal: bool | None = None) -> None:
        self.stream = stream
        self.total = max(total, 1)
        self.terminal = stream.isatty() if terminal is None else terminal
        self._drawn = False

    def show(self, record: Mapping[str, Any]) -> None:
        """Print one round."""
        line = describe_round(record, self.total)
        if not self.terminal:
            self.stream.write(line + "\n")
        else:
            done = _number(record, "round") or 0.0
            filled = min(_BAR, round(_BAR * done / self.total))
            bar = "#" * filled + "-" * (_BAR - filled)
            self.stream.write(f"\r[{bar}] {line}\x1b[K")
            self._drawn = True
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line (terminal only)."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
