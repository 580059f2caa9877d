"""One quoted passage in the transcript."""

from __future__ import annotations

from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widget import Widget

from askseed.query.answer import Passage
from askseed.ui.tui.transcript import quote_span, quote_with_source


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
                f"  {passage.location}  {passage.confidence_label}",
            )
            quote_style = "underline"
        else:
            heading = Content.assemble(
                (f"{passage.rank}", "bold $accent"),
                "  ",
                (passage.location, "bold"),
                (f"  {passage.confidence_label}", "$text-muted"),
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
