"""The chat's record of questions and answers, and how it is written out as Markdown.

Pure functions: nothing here imports Textual, so the tests can check the text directly.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from askseed.query.answer import NO_ANSWER, Answer, Passage

# Above an answer read from the index as last committed, while another process updated it
# for a change in the folder: the quote may be out of date.
STALE_NOTE = "Answered from the index as last committed: another askseed was updating it."


@dataclass(frozen=True)
class Exchange:
    """One question and what the documents said about it."""

    question: str
    query: str  # what was searched: the question, or the rewritten follow-up
    answer: Answer

    @property
    def rewritten(self) -> bool:
        return self.query != self.question


def quote_with_source(passage: Passage) -> str:
    """What the copy binding puts on the clipboard."""
    return f"\u201c{passage.quote}\u201d ({passage.location})"


def quote_span(passage: Passage) -> tuple[int, int] | None:
    """Where the quote sits inside the passage text, or None when it cannot be found."""
    start = passage.quote_start
    if passage.quote and passage.text[start : start + len(passage.quote)] == passage.quote:
        return start, start + len(passage.quote)
    found = passage.text.find(passage.quote) if passage.quote else -1
    return (found, found + len(passage.quote)) if found >= 0 else None


def to_markdown(exchanges: list[Exchange], documents: str, saved_at: float) -> str:
    """The transcript as Markdown: every question, its quotes and their sources."""
    stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(saved_at))
    lines = [
        "# askseed transcript",
        "",
        f"Questions asked of `{documents}`, saved {stamp}. "
        "Every answer is quoted from the documents.",
    ]
    for exchange in exchanges:
        answer = exchange.answer
        lines += ["", f"## {exchange.question}", ""]
        if exchange.rewritten:
            lines += [f"*Searched as a follow-up:* {exchange.query}", ""]
        if answer.index.stale:
            lines += [f"*{STALE_NOTE}*", ""]
        if not answer.answered:
            lines.append(f"**{NO_ANSWER}**")
            for passage in answer.passages:
                lines += [
                    "",
                    f"Nearest miss, not an answer: `{passage.location}` "
                    f"({passage.confidence_label})",
                    "",
                    _blockquote(passage.quote),
                ]
            continue
        for passage in answer.passages:
            lines += [
                f"{passage.rank}. `{passage.location}` ({passage.confidence_label})",
                "",
                _blockquote(passage.quote, indent="   "),
                "",
            ]
        lines.pop()  # the blank line after the last passage
    return "\n".join(lines) + "\n"


def _blockquote(text: str, indent: str = "") -> str:
    return f"{indent}> {' '.join(text.split())}"


def transcript_path(directory: Path, now: float) -> Path:
    """askseed-transcript-<timestamp>.md in `directory`, never overwriting an earlier save."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    path = directory / f"askseed-transcript-{stamp}.md"
    suffix = 2
    while path.exists():
        path = directory / f"askseed-transcript-{stamp}-{suffix}.md"
        suffix += 1
    return path


def locate_quote(lines: list[tuple[int, str]], quote: str) -> dict[int, list[tuple[int, int]]]:
    """Where `quote` appears in numbered lines: {line_no: [(start, end), ...]}.

    Spaces and line breaks may differ between the indexed text and the file, so any run of
    whitespace in the quote matches any run in the file. Empty when the quote is not found.
    """
    words = quote.split()
    if not words or not lines:
        return {}
    pattern = re.compile(r"\s+".join(re.escape(word) for word in words))
    joined = "\n".join(text for _, text in lines)
    match = pattern.search(joined) or re.search(pattern.pattern, joined, re.IGNORECASE)
    if match is None:
        return {}
    spans: dict[int, list[tuple[int, int]]] = {}
    line_start = 0
    for line_no, text in lines:
        line_end = line_start + len(text)
        start, end = max(match.start(), line_start), min(match.end(), line_end)
        if start < end:
            spans.setdefault(line_no, []).append((start - line_start, end - line_start))
        line_start = line_end + 1  # the "\n" joining the lines
    return spans
