"""Progress on stderr: a bar for indexing, shown only on a terminal and only for long runs, and
the evaluation's count of queries."""

from __future__ import annotations

import sys
import time

SHOW_AFTER_SECONDS = 0.5
WIDTH = 30


class ProgressLine:
    def __init__(self, label: str, stream=None):
        self.label = label
        self.stream = stream or sys.stderr
        self.is_terminal = self.stream.isatty()
        self._started = time.monotonic()
        self._drawn = False

    def update(self, done: int, total: int) -> None:
        if not self.is_terminal or time.monotonic() - self._started < SHOW_AFTER_SECONDS:
            return
        filled = WIDTH * done // max(total, 1)
        bar = "#" * filled + "-" * (WIDTH - filled)
        self.stream.write(f"\r{self.label} [{bar}] {done}/{total} files")
        self.stream.flush()
        self._drawn = True

    def warn(self, message: str) -> None:
        self._clear()
        print(f"askseed: warning: {message}", file=self.stream)

    def note(self, message: str) -> None:
        self._clear()
        print(f"askseed: {message}", file=self.stream, flush=True)

    def _clear(self) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[2K")
            self._drawn = False

    def __enter__(self) -> ProgressLine:
        return self

    def __exit__(self, *exc_info) -> None:
        self._clear()


class QueryProgress:
    """`evaluating 120/300 queries` redrawn on a terminal, a line every 10% elsewhere."""

    def __init__(self, stream, label: str = "evaluating"):
        self.stream = stream
        self.label = label
        self.is_terminal = stream.isatty()
        self._last_tenth = 0

    def __call__(self, done: int, total: int) -> None:
        if self.is_terminal:
            end = "\n" if done == total else ""
            self.stream.write(f"\r{self.label} {done}/{total} queries{end}")
            self.stream.flush()
            return
        tenth = 10 * done // max(total, 1)
        if tenth > self._last_tenth:
            self._last_tenth = tenth
            print(f"{self.label} {done}/{total} queries", file=self.stream, flush=True)
