"""Following the documents folder: bursts of file changes, and the index updated after each.

`askseed index --watch` and the chat share this. watchfiles (inotify, FSEvents, ...) reports
the changes; a burst ends once the folder has been quiet for STEP_MS, so that saving a file
(often several writes and a rename) or copying fifty files makes one update, not fifty.

Whether a burst needs an update is decided by the index's own freshness check, not by the
events: a change to a file askseed does not read costs a look at the folder and nothing
more, and a change the events missed (the folder changed before the watcher ran) is caught
at the first quiet moment.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from askseed.config import Settings
from askseed.engine import AskEngine, Notice, Progress
from askseed.errors import user_line
from askseed.reports import IndexReport, count
from askseed.store.schema import IndexBusyError

# A burst ends after this long without a change...
STEP_MS = 400
# ...or after this long in all, so that a folder that never stops changing still gets updates.
DEBOUNCE_MS = 3_000
# How often the watcher wakes when nothing changes: to catch up at start, to retry an update
# another process held up, and to notice `stop`.
TICK_MS = 1_000


class Changed(NamedTuple):
    path: str  # relative to the documents folder, posix style
    kind: str  # "added", "changed" or "removed": what the burst did to it, all told


@dataclass(frozen=True)
class Burst:
    """Files changed together; none is a tick: nothing changed for TICK_MS."""

    changes: tuple[Changed, ...] = ()  # sorted by path

    def describe(self) -> str:
        """What happened, in a few words: "notes.md added", "a.txt renamed to b.txt"."""
        changes = self.changes
        if not changes:
            return "changed before watching began"
        if len(changes) == 1:
            return f"{changes[0].path} {changes[0].kind}"
        kinds = sorted(change.kind for change in changes)
        if kinds == ["added", "removed"]:
            old = next(change.path for change in changes if change.kind == "removed")
            new = next(change.path for change in changes if change.kind == "added")
            return f"{old} renamed to {new}"
        return f"{count(len(changes), 'file')} changed"


def what_changed(events: dict[str, set[str]], exists: Callable[[str], bool]) -> Burst:
    """A burst from watchfiles' events (path -> event names: added, modified, deleted): a
    file may be written, renamed over and deleted in one burst; what counts is the end."""
    changes = []
    for path, names in sorted(events.items()):
        if not exists(path):
            kind = "removed"
        elif names == {"added"}:
            kind = "added"
        else:
            kind = "changed"
        changes.append(Changed(path, kind))
    return Burst(tuple(changes))


@dataclass(frozen=True)
class WatchUpdate:
    """What one burst led to: an update of the index, or the one-line reason it failed."""

    burst: Burst
    report: IndexReport | None = None
    error: str | None = None
    at: float = 0.0  # unix time

    def summary(self) -> str:
        clock = time.strftime("%H:%M:%S", time.localtime(self.at))
        outcome = self.report.summary() if self.report is not None else f"error: {self.error}"
        return f"{clock} {self.burst.describe()}: {outcome}"


def is_watched(path: Path, seeds: Path, index: Path) -> bool:
    """Whether a change at `path` can matter to the index. Paths are absolute and resolved.

    Indexing leaves out hidden files and folders, and the index's own writes (when the index
    lies inside the documents folder) must not set off another update, forever.
    """
    if path == index or index in path.parents:
        return False
    try:
        relative = path.relative_to(seeds)
    except ValueError:  # a path outside the folder: watchfiles reports none, but be sure
        return False
    return not any(part.startswith(".") for part in relative.parts)


def change_bursts(settings: Settings, stop: threading.Event | None = None) -> Iterator[Burst]:
    """Bursts of changes in the documents folder, and a tick (an empty Burst) after every
    TICK_MS without one, until `stop` is set. Ctrl-C raises KeyboardInterrupt."""
    from watchfiles import watch

    seeds = Path(settings.seeds).expanduser().resolve()
    index = Path(settings.index).expanduser().resolve()

    def keep(change: object, path: str) -> bool:
        return is_watched(Path(path), seeds, index)

    for changes in watch(
        seeds,
        watch_filter=keep,
        debounce=DEBOUNCE_MS,
        step=STEP_MS,
        stop_event=stop,
        rust_timeout=TICK_MS,
        yield_on_timeout=True,
        raise_interrupt=True,
    ):
        events: dict[str, set[str]] = {}
        for change, path in changes:
            events.setdefault(Path(path).relative_to(seeds).as_posix(), set()).add(change.name)
        yield what_changed(events, lambda path: (seeds / path).exists())


def follow_folder(
    engine: AskEngine,
    on_update: Callable[[WatchUpdate], None],
    stop: threading.Event | None = None,
    on_progress: Progress | None = None,
    on_warning: Notice | None = None,
    on_watching: Callable[[], None] | None = None,
) -> None:
    """Keep the index up to date with the folder until `stop` is set or Ctrl-C.

    `on_watching` is called once the watcher runs and has caught up with the folder: from
    then on, no change goes unseen.

    Every update goes through engine.ensure_fresh, so a bad file is a warning and the update
    goes on, and an update is one commit: stopped half way, the index is the one before.
    An error (the folder emptied, the index damaged) is reported and the watch goes on.
    """
    pending = True  # catch up, at the first tick, with changes made before the watcher ran
    watching = False
    for burst in change_bursts(engine.settings, stop):
        if burst.changes or pending:
            pending = _update(engine, burst, on_update, on_progress, on_warning)
        if not watching:
            watching = True
            if on_watching:
                on_watching()


def _update(
    engine: AskEngine,
    burst: Burst,
    on_update: Callable[[WatchUpdate], None],
    on_progress: Progress | None,
    on_warning: Notice | None,
) -> bool:
    """Bring the index up to date after `burst`; True when it must be tried again later."""
    try:
        freshness = engine.ensure_fresh(on_progress=on_progress, on_warning=on_warning)
    except IndexBusyError:  # another process builds the index: look again at the next tick
        return True
    except Exception as error:  # noqa: BLE001 - reported; the next change may fix it
        on_update(WatchUpdate(burst, error=user_line(error), at=time.time()))
        return False
    if freshness.report is not None:
        on_update(WatchUpdate(burst, report=freshness.report, at=time.time()))
    return freshness.busy
