"""Printing an answer for people: source, confidence, and the passage with its quote marked;
and, for `--explain`, the features behind the decision."""

from __future__ import annotations

import contextlib
import os
import shutil
import textwrap
from pathlib import Path

from askseed.query.answer import NO_ANSWER, Answer, Passage, location, percent

# Placeholders from Unicode's private use area mark the quote while the text is wrapped,
# then become ANSI bold on a terminal or »…« elsewhere.
_OPEN, _CLOSE = "\ue000", "\ue001"
BOLD_YELLOW, DIM, RESET = "\x1b[1;33m", "\x1b[2m", "\x1b[0m"


def render_answer(
    answer: Answer,
    seeds: Path,
    color: bool = False,
    width: int | None = None,
    links: bool = False,
) -> str:
    """The answer as text; `links` makes each `path:line` an OSC 8 hyperlink to its file, as
    ripgrep does on a terminal (terminals without them show the plain text)."""
    width = width or min(shutil.get_terminal_size((100, 24)).columns, 100)
    lines: list[str] = []
    if not answer.answered:
        lines.append(NO_ANSWER)
        if answer.passages:
            lines.append("")
            lines.append("Nearest miss (not an answer):")
            passage = answer.passages[0]
            lines.extend(_render_passage(passage, seeds, color, width, "~", links))
        return "\n".join(lines)
    for passage in answer.passages:
        if lines:
            lines.append("")
        lines.extend(_render_passage(passage, seeds, color, width, f"{passage.rank}.", links))
    return "\n".join(lines)


def file_url(path: Path) -> str:
    """A file:// URL with the host name, as ripgrep writes them: a terminal on another
    machine (over ssh) can tell the file is not its own."""
    url = Path(os.path.abspath(path)).as_uri()  # file:///... percent-encoded
    host = os.uname().nodename if hasattr(os, "uname") else ""
    return url.replace("file://", f"file://{host}", 1)


def hyperlink(text: str, url: str) -> str:
    """OSC 8: `text`, shown as is, opening `url` when clicked."""
    return f"\x1b]8;;{url}\x1b\\{text}\x1b]8;;\x1b\\"


def _display_path(seeds: Path, passage: Passage) -> str:
    path = seeds / passage.source
    with contextlib.suppress(ValueError):  # another drive, on Windows
        path = Path(os.path.relpath(path))
    return location(path.as_posix(), passage.start_line, passage.page)


def _render_passage(
    passage: Passage, seeds: Path, color: bool, width: int, label: str, links: bool
) -> list[str]:
    where = _display_path(seeds, passage)
    if links:
        where = hyperlink(where, file_url(seeds / passage.source))
    header = f"{label} {where}  ({passage.confidence_label})"
    end = passage.quote_start + len(passage.quote)
    marked = (
        passage.text[: passage.quote_start] + _OPEN + passage.quote + _CLOSE + passage.text[end:]
    )
    body = textwrap.fill(marked, width=width - 3, initial_indent="   ", subsequent_indent="   ")
    opening, closing = (BOLD_YELLOW, RESET) if color else ("»", "«")
    body = body.replace(_OPEN, opening).replace(_CLOSE, closing)
    if color:
        header = f"{DIM}{header}{RESET}"
    return [header, body]


def render_explanation(answer: Answer) -> str:
    """Why askseed answered or refused: the confidence against the line, the two figures it
    is made of, and each feature with what it added, largest effect first."""
    evidence = answer.evidence
    if evidence is None:
        return "No sentence to judge: nothing in the index matched the question."
    verdict = "answered" if answer.answered else "refused"
    lines = [
        f"Confidence {percent(evidence.confidence)} against the line {percent(evidence.line)}: "
        f"{verdict}.",
        f"  = P(the documents answer) {percent(evidence.answerable)}"
        f" x P(this sentence is the answer) {percent(evidence.share)}, calibrated",
        f"Best sentence ({evidence.source}): {evidence.quote}",
    ]
    blocks = [
        (
            "Whether the documents answer (log-odds):",
            evidence.question_features
            | {"best_share": round(evidence.share, 4)}
            | evidence.quote_features,
            evidence.effects["answerable_log_odds"],
        ),
        (
            "Why this sentence (its score against the others'):",
            evidence.sentence_features,
            evidence.effects["sentence_score"],
        ),
    ]
    if "rerank_score" in evidence.effects:
        blocks.append(
            (
                "Among the top sentences, read word piece by word piece (its second score):",
                evidence.sentence_features | evidence.quote_features,
                evidence.effects["rerank_score"],
            )
        )
    for title, features, effects in blocks:
        lines += ["", title, f"  {'feature':<24}{'value':>8}{'effect':>9}"]
        for name in sorted(features, key=lambda name: -abs(effects.get(name, 0.0))):
            lines.append(f"  {name:<24}{features[name]:>8.3f}{effects.get(name, 0.0):>+9.3f}")
        if "constant" in effects:
            lines.append(f"  {'constant':<24}{'':>8}{effects['constant']:>+9.3f}")
    return "\n".join(lines)
