"""The chat's widgets: the status line, the question input, and the transcript entries."""

from __future__ import annotations

import time

from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, ProgressBar, Static

from askseed.answer import Answer, Passage
from askseed.engine import IndexStatus
from askseed.tui.transcript import NO_ANSWER, count, quote_span, quote_with_source


def describe_status(status: IndexStatus) -> Content:
    """One line about the index: size, freshness, age."""
    if not status.exists:
        return Content.styled("no index yet", "$warning")
    parts: list[Content | str | tuple[str, str]] = [
        f"{count(status.documents, 'document')} · {count(status.chunks, 'chunk')} · "
    ]
    if status.fresh:
        parts.append(("fresh", "$success"))
    else:
        changed = (
            f" ({count(status.changed_files, 'file')} changed)" if status.changed_files else ""
        )
        parts.append((f"stale{changed}", "bold $warning"))
    if status.built_at is not None:
        built = time.strftime("%Y-%m-%d %H:%M", time.localtime(status.built_at))
        parts.append(f" · built {built}")
    return Content.assemble(*parts)


class StatusBar(Horizontal):
    """The header line: what the index holds and whether it is fresh, and what is running."""

    def compose(self):
        yield Static(id="status-text")
        yield Static(id="activity")
        yield ProgressBar(id="progress", show_eta=False)

    def on_mount(self) -> None:
        self._show(Content(""))

    def show_status(self, status: IndexStatus) -> None:
        self._show(describe_status(status))

    def show_error(self, message: str) -> None:
        self._show(Content.styled(message, "bold $text-error"))

    def start_activity(self, text: str) -> None:
        """Show `text` and a moving bar; `show_progress` turns it into a measured one."""
        self.query_one("#activity", Static).update(Content(text))
        self.query_one(ProgressBar).update(total=None, progress=0)
        self.add_class("-busy")

    def show_progress(self, done: int, total: int) -> None:
        if done >= total:
            # Every file is read; what is left (embedding, writing) has no count, so the
            # bar goes back to moving rather than sitting at 100%.
            self.start_activity("finishing…")
        else:
            self.query_one(ProgressBar).update(total=total, progress=done)

    def end_activity(self) -> None:
        self.remove_class("-busy")

    def _show(self, text: Content) -> None:
        line = Content.assemble(("askseed", "bold $accent"), "  ", text)
        self.query_one("#status-text", Static).update(line)


class HistoryInput(Input):
    """The question box: up and down recall earlier questions, like a shell."""

    BINDINGS = [
        Binding("up", "history_previous", "Previous question", show=False),
        Binding("down", "history_next", "Next question", show=False),
        Binding("tab", "app.focus_latest_answer", "Go to the answer", show=False),
    ]

    def __init__(self, **kwargs) -> None:
        # Keep a half-typed question when focus comes back: never select it for overwriting.
        super().__init__(select_on_focus=False, **kwargs)
        self.history: list[str] = []
        self._position: int | None = None  # index into history while browsing it
        self._draft = ""  # what was typed before browsing started

    def remember(self, question: str) -> None:
        if not self.history or self.history[-1] != question:
            self.history.append(question)
        self._position = None

    def action_history_previous(self) -> None:
        if not self.history:
            return
        if self._position is None:
            self._draft = self.value
            self._position = len(self.history) - 1
        else:
            self._position = max(0, self._position - 1)
        self._show(self.history[self._position])

    def action_history_next(self) -> None:
        if self._position is None:
            return
        if self._position + 1 < len(self.history):
            self._position += 1
            self._show(self.history[self._position])
        else:
            self._position = None
            self._show(self._draft)

    def _show(self, text: str) -> None:
        self.value = text
        self.cursor_position = len(text)


class PassageView(Widget, can_focus=True):
    """One quoted passage. Focus it and press enter (or click it) to read it in its document."""

    BINDINGS = [
        Binding("enter", "open", "Open in document"),
        Binding("c", "copy", "Copy quote"),
        Binding("escape", "app.focus_question", "Ask"),
        Binding("up", "app.focus_previous", "Previous passage", show=False),
        Binding("down", "app.focus_next", "Next passage", show=False),
    ]

    class Selected(Message):
        """The user wants to see this passage in its document."""

        def __init__(self, passage: Passage) -> None:
            super().__init__()
            self.passage = passage

    def __init__(self, passage: Passage, *, nearest_miss: bool = False) -> None:
        super().__init__(classes="-miss" if nearest_miss else "")
        self.passage = passage
        self.nearest_miss = nearest_miss

    def render(self) -> Content:
        passage = self.passage
        if self.nearest_miss:
            heading = Content.assemble(
                ("Nearest miss, not an answer", "bold $warning"),
                f"  {passage.location}  score {passage.score:.2f}",
            )
            quote_style = "underline"
        else:
            heading = Content.assemble(
                (f"{passage.rank}", "bold $accent"),
                "  ",
                (passage.location, "bold"),
                (f"  score {passage.score:.2f}", "$text-muted"),
            )
            quote_style = "bold $text-accent on $accent-muted"
        body = Content(passage.text)
        span = quote_span(passage)
        if span is not None:
            body = body.stylize(quote_style, *span)
        return Content.assemble(heading, "\n", body)

    def action_open(self) -> None:
        self.post_message(self.Selected(self.passage))

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(quote_with_source(self.passage))
        self.notify(f"Copied the quote from {self.passage.location}", timeout=3)

    def on_click(self) -> None:
        self.focus()
        self.action_open()


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
