"""Is the index up to date with the documents? Stat data first; hash only what looks changed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from askseed.checksum import file_sha256
from askseed.ingest.listing import SourceFile, iter_source_files
from askseed.store.schema import FileRecord, SkippedFile


@dataclass
class UpdatePlan:
    new: list[SourceFile] = field(default_factory=list)
    changed: list[SourceFile] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    # Same content under new stat data (touched, copied back): no re-embedding needed.
    touched: list[tuple[SourceFile, str]] = field(default_factory=list)
    # Files that failed to read before and are gone now: their skip records can go.
    forgotten_skips: list[str] = field(default_factory=list)
    walk_skips: list[tuple[str, str]] = field(default_factory=list)

    @property
    def stale(self) -> bool:
        return bool(self.new or self.changed or self.removed)

    @property
    def changed_files(self) -> int:
        return len(self.new) + len(self.changed) + len(self.removed)


def plan_update(
    root: Path,
    known: dict[str, FileRecord],
    skipped: dict[str, SkippedFile],
    follow_links: bool = False,
    hashed: Mapping[SourceFile, str] | None = None,
    on_hashing: Callable[[int, int], None] | None = None,
) -> UpdatePlan:
    """Compare the documents folder with what the index holds. `hashed` holds digests already
    taken (by an earlier plan): one is used for a file listed with exactly the same stat data,
    change time included, so the file cannot have been written since.

    A file of the same size under new stat data is read to compare its digest: once the walk
    is done, `on_hashing(files, bytes)` is told how much that is, before any of it is read
    (a folder touched as a whole, by a checkout or a copy without its dates, is read whole)."""
    hashed = hashed or {}
    plan = UpdatePlan()
    walked: dict[str, int] = {}  # rel -> place in the walk, to keep plan.changed in its order
    to_compare: list[tuple[SourceFile, FileRecord]] = []

    def on_skip(rel: str, reason: str) -> None:
        plan.walk_skips.append((rel, reason))

    for source in iter_source_files(root, follow_links=follow_links, on_skip=on_skip):
        walked[source.rel] = len(walked)
        record = known.get(source.rel)
        if record is None:
            previous = skipped.get(source.rel)
            # A file that failed before is retried only once it changes on disk.
            if previous is None or not _same_stat_data(previous, source):
                plan.new.append(source)
        elif _same_stat_data(record, source):
            continue
        elif record.size != source.size:
            plan.changed.append(source)  # no need to hash: the content cannot be the same
        else:
            to_compare.append((source, record))
    unread = [source for source, _ in to_compare if source not in hashed]
    if unread and on_hashing is not None:
        on_hashing(len(unread), sum(source.size for source in unread))
    for source, record in to_compare:
        try:
            digest = hashed.get(source) or file_sha256(source.path)
        except OSError:
            plan.changed.append(source)
            continue
        if digest == record.sha256:
            plan.touched.append((source, digest))
        else:
            plan.changed.append(source)
    plan.changed.sort(key=lambda source: walked[source.rel])
    plan.removed = sorted(set(known) - walked.keys())
    plan.forgotten_skips = sorted(set(skipped) - walked.keys())
    return plan


def _same_stat_data(record: FileRecord | SkippedFile, source: SourceFile) -> bool:
    """Size, mtime and change time as when the file was indexed or skipped. A record without
    a change time (from an index made before it was kept) never matches: an indexed file is
    hashed once, a skipped one tried again."""
    return (record.size, record.mtime_ns, record.ctime_ns) == (
        source.size,
        source.mtime_ns,
        source.ctime_ns,
    )
