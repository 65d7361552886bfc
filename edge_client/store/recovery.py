"""What :meth:`EncryptedStore.open_or_recover` found, kept and set aside."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edge_client.store.state import State

__all__ = ["DiscardedFile", "RecoveryResult"]


@dataclass(frozen=True)
class DiscardedFile:
    """A store file that failed verification and was moved aside (never deleted).

    Attributes
    ----------
    path : pathlib.Path
        Where the file was (the current or the previous generation).
    moved_to : pathlib.Path or None
        Where it is now, next to the store (``<name>.corrupt-<UTC time>-<random>``);
        :meth:`EncryptedStore.forget` removes it. ``None`` when the store was opened
        read-only: the file was left where it is.
    reason : str
        What failed, in plain words (never the contents).
    """

    path: Path
    moved_to: Path | None
    reason: str


@dataclass(frozen=True)
class RecoveryResult:
    """The newest state that verifies, and a report of everything else.

    Attributes
    ----------
    state : dict[str, Any]
        The sections of the newest verified generation, or ``{}`` when none verifies.
    generation : int
        That generation's counter, 0 for an empty state.
    source : pathlib.Path or None
        The file the state came from, ``None`` for an empty state.
    discarded : tuple of DiscardedFile
        Files that failed verification, already moved aside.
    removed_temp_files : tuple of pathlib.Path
        Temporary files of writes that never completed (a crash before the rename); they
        never held a committed state and were deleted.
    """

    state: State
    generation: int
    source: Path | None
    discarded: tuple[DiscardedFile, ...] = ()
    removed_temp_files: tuple[Path, ...] = ()

    @property
    def recovered(self) -> bool:
        """Whether anything failed verification (the app may want to tell the user)."""
        return bool(self.discarded)
