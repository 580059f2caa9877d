"""The context view: a passage shown inside its document, with the quoted words marked."""

from __future__ import annotations

from textual import work
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Static

from askseed.engine import AskEngine
from askseed.query.answer import Passage
from askseed.ui.tui.transcript import locate_quote, quote_with_source


class ContextScreen(Screen[None]):
    """Lines around a passage. The passage's lines get a bar beside them; the quote is lit."""

    BINDINGS = [
        Binding("escape,q", "back", "Back to chat"),
        Binding("c", "copy", "Copy quote"),
    ]

    class Loaded(Message):
        def __init__(self, lines: list[tuple[int, str]]) -> None:
            super().__init__()
            self.lines = lines

    class Failed(Message):
        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    def __init__(self, passage: Passage, engine: AskEngine) -> None:
        super().__init__()
        self.passage = passage
        self.engine = engine

    def compose(self):
        passage = self.passage
        yield Static(
            Content.assemble(
                (passage.source, "bold"),
                f"  {span_label(passage)}  {passage.confidence_label}",
            ),
            id="context-heading",
        )
        with VerticalScroll(id="context-lines"):
            yield Static(Content("Opening the document…"), classes="pending")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#context-lines").focus()
        self.read_context()

    @work(thread=True, exit_on_error=False)
    def read_context(self) -> None:
        passage = self.passage
        try:
            lines = self.engine.context(
                passage.source, passage.start_line, passage.end_line, page=passage.page
            )
        except Exception as error:  # a missing or unreadable file must not end the chat
            self.post_message(self.Failed(f"Could not open {passage.source}: {error}"))
            return
        self.post_message(self.Loaded(lines))

    def on_context_screen_loaded(self, message: Loaded) -> None:
        passage = self.passage
        quoted = locate_quote(message.lines, passage.quote)
        rows: list[Widget] = []
        for line_no, text in message.lines:
            in_passage = passage.start_line <= line_no <= passage.end_line
            body = Content(text)
            for start, end in quoted.get(line_no, []):
                body = body.stylize("bold $text-accent on $accent-muted", start, end)
            # Number and text side by side, so a long line wraps under its own text.
            row = Horizontal(
                Static(Content(str(line_no)), classes="gutter"),
                Static(body, classes="line-text"),
                classes="context-line",
            )
            row.set_class(line_no in quoted, "-quoted")
            row.set_class(in_passage, "-passage")
            rows.append(row)
        if not rows:
            rows.append(
                Static(Content("The document has no lines there any more."), classes="error")
            )
        scroll = self.query_one("#context-lines", VerticalScroll)
        scroll.remove_children()
        scroll.mount_all(rows)
        target = next((row for row in rows if row.has_class("-quoted")), None) or next(
            (row for row in rows if row.has_class("-passage")), None
        )
        if target is not None:
            self.call_after_refresh(scroll.scroll_to_center, target, animate=False)

    def on_context_screen_failed(self, message: Failed) -> None:
        scroll = self.query_one("#context-lines", VerticalScroll)
        scroll.remove_children()
        scroll.mount(Static(Content(message.error), classes="error"))

    def action_back(self) -> None:
        self.dismiss()

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(quote_with_source(self.passage))
        self.notify(f"Copied the quote from {self.passage.location}", timeout=3)


def span_label(passage: Passage) -> str:
    """Where the passage lies, for the heading: "page 3, lines 4-9". Line numbers restart on
    each page or chapter and a passage records only its first page, so one whose last line
    numbers below its first ran onto the next page: it is given by its start. (One that runs
    on to a higher line number of the next page still reads "lines a-b".)"""
    start, end = passage.start_line, passage.end_line
    if start == end:
        lines = f"line {start}"
    elif end > start:
        lines = f"lines {start}-{end}"
    else:
        lines = f"from line {start}"
    if passage.page is None:
        return lines
    unit = "chapter" if passage.source.lower().endswith(".epub") else "page"
    return f"{unit} {passage.page}, {lines}"
