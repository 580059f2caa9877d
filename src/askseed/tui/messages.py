"""The chat's engine jobs, and the messages its worker threads post back to the app."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from askseed.answer import Answer
from askseed.engine import IndexReport, IndexStatus
from askseed.tui.widgets import ExchangeView


@dataclass
class QuestionJob:
    question: str
    query: str  # what to search: the question, or the question joined to the one it follows
    view: ExchangeView


@dataclass
class ReindexJob:
    rebuild: bool = False


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
    report: IndexReport


@dataclass
class ReindexFailed(Message):
    error: str


@dataclass
class Answered(Message):
    job: QuestionJob
    answer: Answer
    stale_note: str


@dataclass
class AnswerFailed(Message):
    job: QuestionJob
    error: str
