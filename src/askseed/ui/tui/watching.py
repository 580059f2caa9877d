"""The chat's eye on the documents folder: each burst of changes becomes a message to the app,
which updates the index in its engine worker, in turn with the questions."""

from __future__ import annotations

import threading
from functools import partial

from textual.app import App

from askseed.engine import AskEngine
from askseed.errors import user_line
from askseed.ui.tui.messages import FolderChanged, WatchFailed
from askseed.watch import change_bursts


class FolderWatch:
    """A thread worker following the documents folder, from start() until stop()."""

    def __init__(self, engine: AskEngine) -> None:
        self.engine = engine
        self.settings = engine.settings
        self._stop = threading.Event()
        self.started = False
        self.watching = threading.Event()  # set once no change can go unseen

    def start(self, app: App) -> None:
        """Start watching, once; a folder that is not there (yet) is not watched."""
        if self.started or not self.settings.seeds.is_dir():
            return
        self.started = True
        work = partial(self._post_changes, app)
        app.run_worker(work, thread=True, group="watch", exit_on_error=False)

    def stop(self) -> None:
        self._stop.set()  # watchfiles looks at it several times a second

    def _post_changes(self, app: App) -> None:
        try:
            for burst in change_bursts(self.settings, self._stop):
                if burst.changes or (not self.watching.is_set() and self._changed_meanwhile()):
                    app.post_message(FolderChanged(burst.describe()))
                self.watching.set()
        except Exception as error:  # noqa: BLE001 - e.g. the system's limit on watched folders
            app.post_message(WatchFailed(user_line(error)))

    def _changed_meanwhile(self) -> bool:
        """At the first tick: whether the folder changed between the index's last check and
        the watcher's start, which no event reported."""
        try:
            return not self.engine.status().fresh
        except Exception:  # noqa: BLE001 - the question's own check will say what is wrong
            return False
