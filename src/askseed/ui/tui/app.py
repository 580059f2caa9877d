"""askseed chat: ask in a terminal, read quoted answers, open them in their documents.

The engine is slow to load and to search, so the app never calls it from the event loop.
Engine work runs one job at a time in a thread worker (workers.py), and the workers report
back with messages. Questions asked while the engine loads or is busy wait in a queue, in
order. Once the engine is ready the documents folder is watched (watching.py): a change
queues an update of the index, as ctrl+r would, and the status line says when it was made.
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from textual import events, on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from askseed.config import Settings, load_settings
from askseed.engine import AskEngine, Engine
from askseed.query.followup import is_follow_up, rewrite
from askseed.reports import IndexReport, IndexStatus, count
from askseed.ui.tui.commands import AskseedCommands
from askseed.ui.tui.context import ContextScreen
from askseed.ui.tui.jobs import JobQueue, QuestionJob, ReindexJob
from askseed.ui.tui.messages import (
    Activity,
    Answered,
    AnswerFailed,
    EngineFailed,
    EngineReady,
    FolderChanged,
    IndexProgress,
    IndexUpdated,
    Reindexed,
    ReindexFailed,
    StatusChecked,
    WatchFailed,
)
from askseed.ui.tui.transcript import Exchange, to_markdown, transcript_path
from askseed.ui.tui.watching import FolderWatch
from askseed.ui.tui.widgets import ExchangeView, HistoryInput, PassageView, StatusBar
from askseed.ui.tui.workers import EngineWorkers


class AskseedApp(EngineWorkers):
    """The chat: a status line, the transcript, the question box and the key bindings."""

    CSS_PATH = "app.tcss"
    TITLE = "askseed"
    COMMANDS = App.COMMANDS | {AskseedCommands}
    BINDINGS = [
        Binding("ctrl+r", "reindex", "Re-index"),
        Binding("ctrl+s", "save_transcript", "Save"),
        Binding("ctrl+l", "clear_transcript", "Clear"),
        Binding("escape", "focus_question", "Back to question", show=False),
        Binding("pageup", "scroll_transcript(-1)", "Scroll up", show=False),
        Binding("pagedown", "scroll_transcript(1)", "Scroll down", show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(
        self, engine: AskEngine, settings: Settings, status: IndexStatus | None = None
    ) -> None:
        super().__init__()
        self.engine = engine
        self.settings = settings
        self._first_status = status
        self.exchanges: list[Exchange] = []
        # The transcript's exchanges by number: a job names its view, messages carry no widget.
        self.views: dict[int, ExchangeView] = {}
        self._numbers = itertools.count()
        self._jobs = JobQueue()
        self._engine_state = "loading"  # then "ready", or "failed" until a re-index fixes it
        # Follow-ups are searched with the last standalone question, so a chain of
        # follow-ups stays on its topic without the query growing with every turn.
        self._topic_query = ""
        self._stale = False
        self.folder = FolderWatch(engine)  # from when the engine is first ready

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with VerticalScroll(id="transcript", can_focus=False):
            yield Static(self._welcome(), id="welcome")
        yield HistoryInput(placeholder=self._placeholder(), id="question")
        yield Footer()

    def _welcome(self) -> Content:
        return Content.assemble(
            f"Ask about the documents in {self.settings.seeds}: answers are quoted from them, "
            "with their sources, or askseed says they hold none.\n",
            ("tab", "bold"),
            " to the passages · ",
            ("enter", "bold"),
            " or click: open one in its document · ",
            ("c", "bold"),
            " copy its quote · ",
            ("↑ ↓", "bold"),
            " earlier questions",
        )

    def _placeholder(self) -> str:
        if self._engine_state == "loading":
            return "Ask a question (the model is loading; questions wait their turn)"
        if self._engine_state == "failed":
            return "Questions cannot be answered until the engine loads: ctrl+r tries again"
        return f"Ask a question about the documents in {self.settings.seeds}"

    def _set_engine_state(self, state: str) -> None:
        self._engine_state = state
        self.query_one(HistoryInput).placeholder = self._placeholder()

    @property
    def status_bar(self) -> StatusBar:
        return self.query_one(StatusBar)

    @property
    def transcript(self) -> VerticalScroll:
        return self.query_one("#transcript", VerticalScroll)

    def on_mount(self) -> None:
        self.query_one(HistoryInput).focus()
        if self._first_status is not None:
            self.status_bar.show_status(self._first_status)
        self.status_bar.start_activity("loading model…")
        self.load_engine()

    # Asking.

    @on(Input.Submitted, "#question")
    async def submit_question(self, event: Input.Submitted) -> None:
        question = " ".join(event.value.split())
        if not question:
            return
        box = self.query_one(HistoryInput)
        box.remember(question)
        box.clear()
        if self._topic_query and is_follow_up(question):
            query = rewrite(question, self._topic_query)
        else:
            query = self._topic_query = question
        if self._engine_state == "loading":
            pending = "Waiting for the model and index to load; the question is queued."
        elif self._jobs.busy:
            pending = "Queued behind the current job…"
        else:
            pending = "Searching…"
        view = ExchangeView(question, query, pending)
        number = next(self._numbers)
        self.views[number] = view
        await self.transcript.mount(view)
        self.transcript.scroll_end(animate=False)
        if self._engine_state == "failed":
            view.show_error("Cannot answer: the engine did not load (see the status line).")
            return
        self._jobs.add(QuestionJob(question, query, number))
        self._run_next_job()

    def _run_next_job(self) -> None:
        if self._engine_state != "ready" or (job := self._jobs.start_next()) is None:
            return
        if isinstance(job, ReindexJob):
            self.status_bar.start_activity(f"updating: {job.why}…" if job.why else "re-indexing…")
            self.reindex(job.rebuild, job.why)
        else:
            self.views[job.number].set_pending("Searching…")
            self.answer_question(job)

    def on_answered(self, message: Answered) -> None:
        job = message.job
        view = self.views[job.number]
        self.exchanges.append(Exchange(job.question, job.query, message.answer))
        view.show_answer(message.answer, message.note)
        self.call_after_refresh(self.transcript.scroll_to_widget, view, top=True)
        self._job_finished()

    def on_answer_failed(self, message: AnswerFailed) -> None:
        self.views[message.job.number].show_error(message.error)
        self._job_finished()

    def _job_finished(self) -> None:
        self._jobs.finish()
        self._run_next_job()

    # Loading and re-indexing.

    def on_activity(self, message: Activity) -> None:
        self.status_bar.start_activity(message.text)

    def on_index_progress(self, message: IndexProgress) -> None:
        self.status_bar.show_progress(message.done, message.total)

    def on_status_checked(self, message: StatusChecked) -> None:
        status = message.status
        self.status_bar.show_status(status)
        stale = status.exists and not status.fresh
        if stale and not self._stale:
            self.notify(
                "The documents changed since the index was built: ctrl+r re-indexes.",
                title="Index is stale",
                severity="warning",
            )
        self._stale = stale

    def on_engine_ready(self, message: EngineReady) -> None:
        self._set_engine_state("ready")
        self.status_bar.end_activity()
        self.folder.start(self)
        self._run_next_job()

    def on_folder_changed(self, message: FolderChanged) -> None:
        # A re-index already waiting will see this change too.
        if self._engine_state != "failed" and not self._jobs.reindex_waiting():
            self._jobs.add(ReindexJob(why=message.what))
            self._run_next_job()

    def on_watch_failed(self, message: WatchFailed) -> None:
        self.notify(
            f"{message.error}\nctrl+r re-indexes.",
            title="Not watching the folder",
            severity="warning",
        )

    def on_unmount(self) -> None:
        self.folder.stop()

    def on_engine_failed(self, message: EngineFailed) -> None:
        self._set_engine_state("failed")
        self.status_bar.end_activity()
        self.status_bar.show_error(f"could not load: {message.error}")
        self.notify(
            f"{message.error}\nctrl+r rebuilds the index and tries again.",
            title="The engine did not load",
            severity="error",
            timeout=30,
        )
        for job in self._jobs.drop_waiting():
            if isinstance(job, QuestionJob):
                self.views[job.number].show_error("Cannot answer: the engine did not load.")

    def on_reindexed(self, message: Reindexed) -> None:
        if not message.why:
            self._show_report(message.report)
        elif message.report is None:  # the change was to nothing the index holds
            self.status_bar.end_activity()
        else:
            self._show_report(message.report, quietly=True)
            self.status_bar.show_note(f"updated {time.strftime('%H:%M')}: {message.why}")
        self._job_finished()

    def on_index_updated(self, message: IndexUpdated) -> None:
        self._show_report(message.report)

    def _show_report(self, report: IndexReport, quietly: bool = False) -> None:
        """The summary as a notification, unless `quietly`; the warnings always."""
        self.status_bar.end_activity()
        if not quietly:
            self.notify(report.summary(), title="Re-indexed")
        if report.warnings:
            shown = "\n".join(report.warnings[:3])
            more = len(report.warnings) - 3
            self.notify(
                shown + (f"\n… and {more} more" if more > 0 else ""),
                title=f"{count(len(report.warnings), 'warning')} while indexing",
                severity="warning",
            )

    def on_reindex_failed(self, message: ReindexFailed) -> None:
        self.status_bar.end_activity()
        self.notify(message.error, title="Re-indexing failed", severity="error")
        self._job_finished()

    # Passages.

    def on_passage_view_selected(self, message: PassageView.Selected) -> None:
        self.push_screen(ContextScreen(message.passage, self.engine))

    def on_key(self, event: events.Key) -> None:
        """Typing while a passage has focus goes to the question box, not nowhere."""
        if isinstance(self.focused, PassageView) and event.is_printable and event.character:
            box = self.query_one(HistoryInput)
            box.focus()
            box.insert_text_at_cursor(event.character)
            event.stop()

    # Actions, for the key bindings and the command palette.

    def action_reindex(self, rebuild: bool = False) -> None:
        if self._engine_state == "failed":
            self._set_engine_state("loading")
            self.status_bar.start_activity("rebuilding index…")
            self.load_engine(build_first=True)
            return
        if self._jobs.reindexing():
            self.notify("Already re-indexing.")
            return
        self._jobs.add(ReindexJob(rebuild))
        self._run_next_job()
        if not isinstance(self._jobs.running, ReindexJob):
            self.notify("Re-indexing once the current work is done.")

    def action_save_transcript(self) -> None:
        if not self.exchanges:
            self.notify("Nothing to save yet: ask a question first.", severity="warning")
            return
        now = time.time()
        path = transcript_path(Path.cwd(), now)
        markdown = to_markdown(self.exchanges, str(self.settings.seeds), now)
        try:
            path.write_text(markdown, encoding="utf-8")
        except OSError as error:
            self.notify(f"Could not save {path}: {error.strerror}", severity="error")
            return
        questions = count(len(self.exchanges), "question")
        self.notify(f"Saved {questions} to {path}", title="Transcript saved")

    def action_clear_transcript(self) -> None:
        """Remove answered questions; ones still waiting for an answer stay."""
        self.exchanges.clear()
        for number, view in list(self.views.items()):
            if view.finished:
                del self.views[number]
                view.remove()

    def action_focus_question(self) -> None:
        self.query_one(HistoryInput).focus()

    def action_focus_latest_answer(self) -> None:
        """Tab from the question box lands on the newest answer, not the oldest."""
        answered = [view for view in self.transcript.query(ExchangeView) if view.query(PassageView)]
        if answered:
            answered[-1].query(PassageView).first().focus()
        else:
            self.action_focus_next()

    def action_scroll_transcript(self, pages: int) -> None:
        if pages < 0:
            self.transcript.scroll_page_up()
        else:
            self.transcript.scroll_page_down()

    async def run_async(self, *, headless: bool = False, **kwargs: Any) -> Any:
        result = await super().run_async(headless=headless, **kwargs)
        if not headless and (self._engine_state == "loading" or self._jobs.running is not None):
            # An engine call cannot be interrupted, and Python waits for its thread before
            # exiting: quitting while the model loads would hang for seconds after the screen
            # closed. Leaving at once is safe: reads change nothing, and an index update
            # only takes effect at its final SQLite commit.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(self.return_code or 0)
        return result

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # AskseedCommands has its own Quit; one is enough.
        for command in super().get_system_commands(screen):
            if command.title != "Quit":
                yield command


def make_app(settings: Settings | None = None, engine: AskEngine | None = None) -> AskseedApp:
    """The chat app, for the CLI and the tests. Without `engine`, the real one is built.

    The index status is read here, before the screen opens: it is cheap, it fills the header
    at once, and a bad --seeds or --index fails as the one-line error the CLI prints.
    """
    settings = settings or load_settings()
    if engine is None:
        engine = Engine(settings)
    return AskseedApp(engine, settings, engine.status())
