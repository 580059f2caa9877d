"""The header line: what the index holds, whether it is fresh, and what is running."""

from __future__ import annotations

import time

from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import ProgressBar, Static

from askseed.reports import IndexStatus, count


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
        self._note = ""
        self._shown = Content("")
        self._show(self._shown)

    def show_status(self, status: IndexStatus) -> None:
        self._show(describe_status(status))

    def show_note(self, note: str) -> None:
        """A last word after the status, such as when the folder's changes were indexed."""
        self._note = note
        self._show(self._shown)

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
        self._shown = text
        note = ("  " + self._note, "$text-muted") if self._note else ""
        line = Content.assemble(("askseed", "bold $accent"), "  ", text, note)
        self.query_one("#status-text", Static).update(line)
