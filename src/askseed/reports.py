"""What the index holds and what an update did, and the words askseed uses for them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


def count(number: int, noun: str) -> str:
    """ "1 file", "3 files": the one pluralizer, for every message askseed prints."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


# The check before a question reads a file whose dates moved but whose size did not, to
# compare its content with the index; it says so first when that is this much to read (a
# second or more on a laptop's disk), as after a checkout or a copy that kept no dates.
HASHING_NOTICE_BYTES = 200 * 1024 * 1024


def hashing_notice(files: int, size: int) -> str:
    """What the check before a question says when it must read `files` files (`size` bytes)."""
    verb = "has" if files == 1 else "have"
    return (
        f"{count(files, 'file')} ({size / 1024**2:,.0f} MB) {verb} new dates but the same "
        "sizes; reading them to see whether they changed (only changed files are re-embedded)"
    )


def hashing_notices(on_notice: Callable[[str], None] | None) -> Callable[[int, int], None] | None:
    """An `on_hashing` for freshness.plan_update that tells `on_notice` the hashing_notice
    when what must be read reaches HASHING_NOTICE_BYTES (None without `on_notice`)."""
    if on_notice is None:
        return None

    def on_hashing(files: int, size: int) -> None:
        if size >= HASHING_NOTICE_BYTES:
            on_notice(hashing_notice(files, size))

    return on_hashing


@dataclass(frozen=True)
class IndexStatus:
    documents: int
    chunks: int
    fresh: bool  # False when files were added, changed or removed since the last build
    exists: bool
    built_at: float | None  # unix time of the last build
    changed_files: int = 0
    # Files whose stat data changed but whose content did not (touched, copied back): they
    # are hashed at every check until an index update records their new stat data.
    touched_files: int = 0

    def update_notice(self, index: Path) -> str:
        """Why the index is about to be built or updated, before a question is answered."""
        if not self.exists:
            return f"no index in {index} yet; building it"
        return f"index is stale ({count(self.changed_files, 'file')} changed); updating it first"


@dataclass(frozen=True)
class IndexReport:
    files: int
    chunks: int
    embedded_files: int  # files (re-)embedded in this run: 0 when nothing changed
    embedded_chunks: int
    removed_files: int
    duplicates_dropped: int
    skipped_files: int
    seconds: float
    warnings: tuple[str, ...] = ()

    def summary(self) -> str:
        if self.embedded_files == 0 and self.removed_files == 0:
            return (
                f"index up to date: {count(self.files, 'file')}, {count(self.chunks, 'chunk')}, "
                f"nothing re-embedded ({self.skipped_files} skipped, {self.seconds:.1f}s)"
            )
        return (
            f"indexed {count(self.files, 'file')}, {count(self.chunks, 'chunk')} "
            f"({count(self.embedded_files, 'file')} re-embedded, {self.removed_files} removed), "
            f"{count(self.duplicates_dropped, 'duplicate')} dropped, "
            f"{self.skipped_files} skipped, {self.seconds:.1f}s"
        )


# Said when the index is stale but another process is updating it.
BUSY_NOTICE = "another process is updating the index; answering from the current one"


@dataclass(frozen=True)
class Freshness:
    """What engine.ensure_fresh did before a question."""

    refreshed: bool  # the index was built or updated
    report: IndexReport | None = None  # the update, when there was one
    busy: bool = False  # stale, but another process holds the lock: the old snapshot answers
