"""The question box, with shell-like history."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import Input


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
