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


@dataclass(frozen=True)
class Burst:
    """Files changed together; no paths is a tick: nothing changed for TICK_MS."""

    paths: tuple[str, ...] = ()  # relative to the documents folder, posix style, sorted

    def describe(self) -> str:
        if not self.paths:
            return "changed before watching began"
        if len(self.paths) == 1:
            return f"{self.paths[0]} changed"
        return f"{count(len(self.paths), 'file')} changed"


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
        paths = {Path(path).relative_to(seeds).as_posix() for _, path in changes}
        yield Burst(tuple(sorted(paths)))


def follow_folder(
    engine: AskEngine,
    on_update: Callable[[WatchUpdate], None],
    stop: threading.Event | None = None,
    on_progress: Progress | None = None,
    on_warning: Notice | None = None,
) -> None:
    """Keep the index up to date with the folder until `stop` is set or Ctrl-C.

    Every update goes through engine.ensure_fresh, so a bad file is a warning and the update
    goes on, and an update is one commit: stopped half way, the index is the one before.
    An error (the folder emptied, the index damaged) is reported and the watch goes on.
    """
    pending = True  # catch up, at the first tick, with changes made before the watcher ran
    for burst in change_bursts(engine.settings, stop):
        if not burst.paths and not pending:
            continue
        pending = False
        try:
            freshness = engine.ensure_fresh(on_progress=on_progress, on_warning=on_warning)
        except IndexBusyError:  # another process builds the index: look again at the next tick
            pending = True
            continue
        except Exception as error:  # noqa: BLE001 - reported; the next change may fix it
            on_update(WatchUpdate(burst, error=user_line(error), at=time.time()))
            continue
        if freshness.busy:
            pending = True
        elif freshness.report is not None:
            on_update(WatchUpdate(burst, report=freshness.report, at=time.time()))
