"""What a device found when it opened its store, in a form an app can show to people."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from edge_client.device.retention import RetentionReport
from edge_client.store.recovery import DiscardedFile

__all__ = ["OpenReport"]


@dataclass(frozen=True)
class OpenReport:
    """The outcome of opening a device's store.

    Attributes
    ----------
    path : pathlib.Path
        The store file.
    generation : int
        The generation loaded (0: nothing was loaded, the device starts empty).
    source : pathlib.Path or None
        The file the state came from (the current or the previous generation).
    discarded : tuple of DiscardedFile
        Store files that failed verification and were moved aside.
    problems : tuple of str
        Everything else that went wrong (wrong key, unreadable sections), in plain words.
    persistent : bool
        Whether changes are saved. ``False`` when the store could not be read (wrong or
        unusable key, file system error, a newer layout): the device then works in memory
        only and never overwrites what it could not read.
    retention : RetentionReport
        What retention and decay changed.
    """

    path: Path
    generation: int = 0
    source: Path | None = None
    discarded: tuple[DiscardedFile, ...] = ()
    problems: tuple[str, ...] = ()
    persistent: bool = True
    retention: RetentionReport = field(default_factory=RetentionReport)

    @property
    def ok(self) -> bool:
        """Whether the store opened cleanly (nothing discarded, no problem, persistent)."""
        return not self.discarded and not self.problems and self.persistent

    def describe(self) -> str:
        """Return a plain-words, multi-line account for the person or a log."""
        lines: list[str] = []
        if self.generation:
            lines.append(f"Store {self.path}: generation {self.generation} loaded.")
        else:
            lines.append(f"Store {self.path}: nothing loaded, starting empty.")
        lines.extend(
            f"A damaged store file was set aside ({d.reason}): {d.moved_to}"
            for d in self.discarded
        )
        if self.discarded and self.generation:
            lines.append("The last good state was recovered.")
        lines.extend(self.problems)
        if not self.persistent:
            lines.append(
                "Changes are NOT being saved, so that nothing unreadable is overwritten. Fix "
                "the problem above (e.g. restore the right key), or erase the store with "
                "'edgeprof store forget' to start over."
            )
        lines.extend(self.retention.describe())
        return "\n".join(lines)
