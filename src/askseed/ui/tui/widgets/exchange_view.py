"""A question in the transcript, and then its answer."""

from __future__ import annotations

from textual.containers import Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from askseed.query.answer import NO_ANSWER, Answer
from askseed.ui.tui.widgets.passage_view import PassageView


class ExchangeView(Vertical):
    """A question in the transcript, then a pending note, then its answer."""

    def __init__(self, question: str, query: str, pending: str) -> None:
        super().__init__(classes="exchange")
        self.question = question
        self.query_text = query
        self.pending = pending
        self.finished = False

    def compose(self):
        yield Static(
            Content.assemble(("› ", "bold $accent"), (self.question, "bold")), classes="question"
        )
        if self.query_text != self.question:
            yield Static(Content(f"searched: {self.query_text}"), classes="rewritten")
        yield Static(Content(self.pending), classes="pending")

    def set_pending(self, text: str) -> None:
        self.pending = text
        for note in self.query(".pending").results(Static):
            note.update(Content(text))

    def show_answer(self, answer: Answer, stale_note: str = "") -> None:
        widgets: list[Widget] = []
        if stale_note:
            widgets.append(Static(Content(stale_note), classes="stale-note"))
        if answer.answered:
            widgets += [PassageView(passage) for passage in answer.passages]
        else:
            widgets.append(Static(Content(NO_ANSWER), classes="no-answer"))
            widgets += [PassageView(passage, nearest_miss=True) for passage in answer.passages[:1]]
        self._finish(widgets)

    def show_error(self, message: str) -> None:
        self._finish([Static(Content(message), classes="error")])

    def _finish(self, widgets: list[Widget]) -> None:
        self.finished = True
        self.query(".pending").remove()
        self.mount_all(widgets)
