"""The chat's transcript: pure functions, no Textual."""

from __future__ import annotations

import pytest

from askseed.query.answer import NO_ANSWER, Answer, Passage
from askseed.ui.tui.transcript import (
    STALE_NOTE,
    Exchange,
    locate_quote,
    quote_span,
    quote_with_source,
    to_markdown,
    transcript_path,
)

SAVED_AT = 1_700_000_000.0  # 2023-11-14 22:13 UTC


PASSAGE = Passage(
    1,
    "First. Five out of six did. Last.",
    "Five out of six did.",
    7,
    "a.txt",
    3,
    4,
    0.71,
    confidence=0.83,
)


@pytest.mark.parametrize(
    ("passage", "expected"),
    [
        (PASSAGE, (7, 27)),
        (
            Passage(1, "First. Five out of six did.", "Five out of six did.", 0, "a", 1, 1, 0.5),
            (7, 27),
        ),
        (Passage(1, "First.", "Missing.", 0, "a", 1, 1, 0.5), None),
        (Passage(1, "First.", "", 0, "a", 1, 1, 0.5), None),
    ],
)
def test_quote_span(passage, expected):
    assert quote_span(passage) == expected


@pytest.mark.parametrize(
    ("lines", "quote", "expected"),
    [
        ([(3, "saw five out of six")], "five out of six", {3: [(4, 19)]}),
        (
            [(4, "saw five out of"), (5, "six patients.")],
            "five out of six",
            {4: [(4, 15)], 5: [(0, 3)]},
        ),
        ([(1, "Five  Out of six")], "five out of six", {1: [(0, 16)]}),
        ([(1, "nothing here")], "five out of six", {}),
        ([(1, "a (b) c?")], "(b) c?", {1: [(2, 8)]}),
        ([], "five", {}),
        ([(1, "text")], "  ", {}),
    ],
)
def test_locate_quote(lines, quote, expected):
    assert locate_quote(lines, quote) == expected


def test_quote_with_source():
    assert quote_with_source(PASSAGE) == "\u201cFive out of six did.\u201d (a.txt:3)"


def test_to_markdown(utc):
    answered = Answer("Who did?", "q Who did?", True, [PASSAGE])
    unanswered = Answer("Capital?", "Capital?", False, [PASSAGE])
    markdown = to_markdown(
        [
            Exchange("Who did?", "q Who did?", answered),
            Exchange("Capital?", "Capital?", unanswered),
        ],
        "docs",
        SAVED_AT,
    )
    assert markdown == (
        "# askseed transcript\n\n"
        "Questions asked of `docs`, saved 2023-11-14 22:13. "
        "Every answer is quoted from the documents.\n\n"
        "## Who did?\n\n"
        "*Searched as a follow-up:* q Who did?\n\n"
        "1. `a.txt:3` (83% confident)\n\n"
        "   > Five out of six did.\n\n"
        "## Capital?\n\n"
        f"**{NO_ANSWER}**\n\n"
        "Nearest miss, not an answer: `a.txt:3` (83% confident)\n\n"
        "> Five out of six did.\n"
    )


def test_an_answer_from_an_index_being_updated_says_so(utc):
    answer = Answer("Who did?", "Who did?", True, [PASSAGE]).from_stale_index()
    markdown = to_markdown([Exchange("Who did?", "Who did?", answer)], "docs", SAVED_AT)
    assert f"## Who did?\n\n*{STALE_NOTE}*\n\n1. `a.txt:3`" in markdown


def test_transcript_path_never_overwrites(tmp_path, utc):
    first = transcript_path(tmp_path, SAVED_AT)
    assert first.name == "askseed-transcript-20231114-221320.md"
    first.write_text("x")
    assert transcript_path(tmp_path, SAVED_AT).name == "askseed-transcript-20231114-221320-2.md"
