"""The chat's engine work, in thread workers: the engine is slow to load and to search, so
the app never calls it from the event loop. Each worker reports back with messages
(messages.py), and the app runs them one at a time (jobs.py)."""

from __future__ import annotations

from textual import work
from textual.app import App

from askseed.config import Settings
from askseed.engine import AskEngine
from askseed.errors import user_line
from askseed.reports import BUSY_NOTICE
from askseed.ui.tui.jobs import QuestionJob
from askseed.ui.tui.messages import (
    Activity,
    Answered,
    AnswerFailed,
    EngineFailed,
    EngineReady,
    IndexProgress,
    IndexUpdated,
    Reindexed,
    ReindexFailed,
    StatusChecked,
)


class EngineWorkers(App[None]):
    """The workers of AskseedApp, which holds `engine` and `settings`."""

    engine: AskEngine
    settings: Settings

    @work(thread=True, group="engine", exit_on_error=False)
    def answer_question(self, job: QuestionJob) -> None:
        """As `askseed "question"` does: a stale index is brought up to date first."""
        try:
            freshness = self.engine.ensure_fresh(
                on_notice=lambda text: self.post_message(Activity(text)),
                on_progress=self._report_progress,
            )
            if freshness.refreshed:
                self.post_message(IndexUpdated(freshness.report))
            query = job.query if job.query != job.question else None
            answer = self.engine.ask(
                job.question, k=self.settings.top_k, query=query, refreshed=freshness.refreshed
            )
            self.post_message(StatusChecked(self.engine.status()))
        except Exception as error:  # any engine failure becomes a line in the transcript
            self.post_message(AnswerFailed(job, f"Could not answer: {user_line(error)}"))
            return
        note = ""
        if freshness.busy:
            answer = answer.from_stale_index()  # as `askseed "question"` marks it
            note = f"{BUSY_NOTICE[0].upper()}{BUSY_NOTICE[1:]}."
        self.post_message(Answered(job, answer, note))

    @work(thread=True, group="engine", exit_on_error=False)
    def load_engine(self, build_first: bool = False) -> None:
        try:
            status = self.engine.status()
            self.post_message(StatusChecked(status))
            if build_first or not status.exists:
                self.post_message(Activity("building index…"))
                self.engine.refresh(on_progress=self._report_progress, rebuild=build_first)
                self.post_message(StatusChecked(self.engine.status()))
                self.post_message(Activity("loading model…"))
            self.engine.load()
        except Exception as error:  # shown in the status line; a re-index may fix it
            self.post_message(EngineFailed(user_line(error)))
            return
        self.post_message(EngineReady())

    @work(thread=True, group="engine", exit_on_error=False)
    def reindex(self, rebuild: bool, why: str = "") -> None:
        """ctrl+r, or with `why` the folder changing: then only a stale index is updated."""
        try:
            if why:
                report = self.engine.ensure_fresh(on_progress=self._report_progress).report
            else:
                report = self.engine.refresh(on_progress=self._report_progress, rebuild=rebuild)
            self.post_message(StatusChecked(self.engine.status()))
        except Exception as error:
            self.post_message(ReindexFailed(user_line(error)))
            return
        self.post_message(Reindexed(report, why))

    def _report_progress(self, done: int, total: int) -> None:
        """Called by the engine from the worker thread."""
        self.post_message(IndexProgress(done, total))
