"""The messages the chat's worker threads post back to the app."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from askseed.query.answer import Answer
from askseed.reports import IndexReport, IndexStatus
from askseed.ui.tui.jobs import QuestionJob


@dataclass
class Activity(Message):
    text: str


@dataclass
class EngineReady(Message):
    pass


@dataclass
class EngineFailed(Message):
    error: str


@dataclass
class StatusChecked(Message):
    status: IndexStatus


@dataclass
class IndexProgress(Message):
    done: int
    total: int


@dataclass
class Reindexed(Message):
    report: IndexReport | None  # None: a change the index does not care about (ReindexJob.why)
    why: str = ""  # what set it off, when the folder changing did


@dataclass
class FolderChanged(Message):
    """Files changed in the documents folder (askseed.watch)."""

    what: str  # in a few words: "notes.md added"


@dataclass
class WatchFailed(Message):
    error: str


@dataclass
class IndexUpdated(Message):
    """The index was brought up to date before a question (engine.ensure_fresh)."""

    report: IndexReport


@dataclass
class ReindexFailed(Message):
    error: str


@dataclass
class Answered(Message):
    job: QuestionJob
    answer: Answer
    note: str  # said above the answer: why it comes from an index that may be stale


@dataclass
class AnswerFailed(Message):
    job: QuestionJob
    error: str
