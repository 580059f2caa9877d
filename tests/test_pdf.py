"""PDFs as real ones come: running headers, footers and page numbers, words hyphenated at line
ends, sentences running over a page break, and encryption (empty password, real password,
damaged encryption dictionary)."""

from __future__ import annotations

import json
import logging
from itertools import pairwise

import pytest

from askseed.ingest import pdf
from askseed.ingest.document import SkipFile
from askseed.ingest.pdf import Vocabulary, furniture_lines, read_pdf, rejoin_broken_words
from askseed.ingest.sentences import split_sentences
from documents import (
    BOOK_BODY,
    BOOK_FIRST_PAGE,
    BOOK_FOOTER,
    book_header,
    book_pdf,
    damaged_encryption_pdf,
    encrypted_pdf,
    make_pdf,
)
from test_hostile import engine_with, run_cli

# --- page furniture: the pure step ----------------------------------------------------------


def page(*lines: str) -> list[str]:
    return list(lines)


STORY = [
    "The river rose in the night.",
    "Boats were moved up the bank.",
    "Nobody was hurt.",
    "The mill wheel broke loose at dawn.",
    "Sandbags lined the market square.",
    "The bridge stayed closed for a week.",
    "Farmers lost their winter hay.",
    "The army brought fresh water in tanks.",
    "Schools reopened on the Monday.",
]


def body(n: int) -> list[str]:
    """Page n's own lines: no two pages share one."""
    return STORY[3 * n : 3 * n + 3]


@pytest.mark.parametrize(
    ("pages", "expected"),
    [
        pytest.param(
            [page(f"{n} ANNUAL REPORT", *body(n - 4)) for n in (4, 5, 6)],
            [{0}, {0}, {0}],
            id="header-with-changing-number",
        ),
        pytest.param(
            [
                page("THE SIEGE OF VICKSBURG. 52", *body(0)),
                page("53 THE SIEGE OF VICKSBUEG.", *body(1)),
            ]
            + [page("THE SIEGE OF VICKSBURC. 54", *body(2))],
            [{0}, {0}, {0}],
            id="ocr-misreads",
        ),
        pytest.param(
            [page(body(n)[0], "Confidential draft", f"Page {n} of 9") for n in range(3)],
            [{1, 2}, {1, 2}, {1, 2}],
            id="footer-and-page-x-of-y",
        ),
        pytest.param(
            [page("The first page opens the story.", "- 1 -"), page("Then it goes on.", "[ii]")],
            [{1}, {1}],
            id="bare-page-numbers-even-once",
        ),
        pytest.param(
            [
                page("Chapter one begins here.", *body(0)),
                page("A quite different opening.", *body(1)),
            ],
            [set(), set()],
            id="distinct-first-lines-stay",
        ),
        pytest.param([page("Only one page", "with two lines")], [set()], id="one-page"),
        pytest.param(
            [
                page("Function reference", *body(0)),
                page("CHAPTER 3. FUNCTION REFERENCE 21", *body(1)),
                page("22 CHAPTER 3. FUNCTION REFERENCE", *body(2)),
            ],
            [set(), {0}, {0}],
            id="chapter-title-kept-running-header-dropped",
        ),
        pytest.param(
            [page("x" * 120 + " long line", *body(n)) for n in range(3)],
            [set(), set(), set()],
            id="long-lines-are-never-headers",
        ),
        pytest.param(
            [page("Heading", *body(0), "12 apples were sold in 2019.", "Footer")],
            [set()],
            id="numbers-inside-text-stay",
        ),
    ],
)
def test_furniture_lines(pages, expected):
    assert furniture_lines(pages) == [set(e) for e in expected]


@pytest.mark.parametrize(
    ("line", "is_number"),
    [
        ("12", True),
        ("- 12 -", True),
        ("Page 3", True),
        ("page 3 of 10", True),
        ("3/10", True),
        ("[xiv]", True),
        ("12 apples", False),
        ("In 1863", False),
        ("IV", False),  # a chapter numeral, not a page number
        ("1);", False),  # the end of a code listing
        ("100.", False),
        ("\u2014 7 \u2014", True),
    ],
)
def test_bare_page_numbers(line, is_number):
    assert bool(pdf._PAGE_NUMBER.fullmatch(line)) == is_number


# --- words broken at line ends ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "tail", "document", "joins"),
    [
        pytest.param("mova", "ble", "", True, id="fragments-no-evidence"),
        pytest.param("well", "known", "", False, id="compound-head"),
        pytest.param("self", "evident", "", False, id="self-compound"),
        pytest.param("cross", "section", "a cross in the section", False, id="both-halves-words"),
        pytest.param("some", "thing", "something else", True, id="joined-word-seen"),
        pytest.param("co", "operate", "they co-operate", False, id="compound-seen"),
        pytest.param("in", "formation", "information", True, id="joined-beats-halves"),
    ],
)
def test_vocabulary_decides_between_word_and_compound(head, tail, document, joins):
    # The broken word itself is in the text, as it is in a real page.
    assert Vocabulary(f"{document}\n{head}-\n{tail}").joins(head, tail) == joins


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["a mova-", "ble stove"], ["a movable", "stove"]),
        (["a mova-", "ble."], ["a", "movable."]),  # the tail was the whole line: moves down
        (["a well-", "known man"], ["a well-known", "man"]),
        (["soft\u00ad", "hyphen here"], ["softhyphen", "here"]),
        (["ends in a dash -", "next line"], ["ends in a dash -", "next line"]),
        (["COVID-", "19 cases"], ["COVID-", "19 cases"]),
        (["Anglo-", "Saxon kings"], ["Anglo-", "Saxon kings"]),
        (["mova-", "ble"], ["movable", ""]),
    ],
)
def test_rejoin_broken_words_keeps_the_line_count(lines, expected):
    assert rejoin_broken_words(lines, Vocabulary("\n".join(lines))) == expected


# --- the book: a built PDF -------------------------------------------------------------------


@pytest.fixture(scope="module")
def book():
    return read_pdf(book_pdf())


def test_book_text_has_no_headers_footers_or_page_numbers(book):
    assert "SIEGE" not in book.text and "CAMPAIGN" not in book.text
    assert BOOK_FOOTER not in book.text
    for offset in range(len(BOOK_BODY)):
        assert f"- {BOOK_FIRST_PAGE + offset} -" not in book.text
    assert book.warnings == ()


def test_book_lines_stay_where_they_were_on_the_page(book):
    starts = (*book.page_starts, len(book.text))
    pages = [book.text[start:end].split("\n") for start, end in pairwise(starts)]
    # Each page: the blanked header, the body, the blanked footer and page number, then the
    # page break; the hyphenated words are whole on one of their two lines.
    body = [list(lines) for lines in BOOK_BODY]
    body[1][2:4] = ["movable", "stove and a few chairs until the city surrendered."]
    body[2][1:3] = [
        "Grant paroled the garrison rather than sending it north, a well-known",
        "decision that saved his army weeks of work. The news reached the",
    ]
    for number, lines in enumerate(body):
        expected = ["", *lines, "", ""]
        assert pages[number][: len(expected)] == expected, number


def test_book_sentences(book):
    texts = [sentence.text for sentence in split_sentences(book.text)]
    assert (
        "The townspeople dug caves into the clay hills, where whole families lived with a "
        "movable stove and a few chairs until the city surrendered." in texts
    )
    assert any("a well-known decision" in text for text in texts)
    # A sentence running over the page break is one sentence, without the header between.
    assert (
        "The news reached the capital by telegraph three days later, on the same evening as "
        "the news of the victory at Gettysburg." in texts
    )
    assert not any(book_header(BOOK_FIRST_PAGE + 2)[3:] in text for text in texts)


@pytest.fixture
def book_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("ASKSEED_CHUNK_TOKENS", "16")  # the fake embedder counts words + 2
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "siege.pdf").write_bytes(book_pdf())
    return docs


@pytest.mark.parametrize(
    ("question", "page", "line"),
    [
        ("A shell fell near the church and buried itself in the earth without bursting.", 2, 2),
        ("The siege of Vicksburg began in May, when the Union army reached the city.", 1, 2),
        ("The surrender came on the fourth of July, after forty-seven days of siege.", 3, 2),
    ],
)
def test_book_passages_point_at_the_original_page_line(
    book_folder, fake_embedder, question, page, line
):
    location = ["--seeds", book_folder, "--index", book_folder.parent / "index", "-k", "5"]
    with engine_with(fake_embedder):
        code, out, err = run_cli("ask", question, "--json", *location)
    assert code == 0, err
    answer = json.loads(out)
    top = answer["passages"][0]
    assert (top["page"], top["start_line"]) == (page, line)
    for passage in answer["passages"]:
        assert "SIEGE" not in passage["text"] and BOOK_FOOTER not in passage["text"]


@pytest.mark.model
def test_book_with_the_real_model(book_folder, monkeypatch):
    # Passages of a sentence or two (model tokens), so that a location pins the quote down.
    monkeypatch.setenv("ASKSEED_CHUNK_TOKENS", "40")
    location = ["--seeds", book_folder, "--index", book_folder.parent / "index", "-k", "5"]
    code, out, err = run_cli("ask", "What happened at the siege of Vicksburg?", "--json", *location)
    assert code == 0, err
    answer = json.loads(out)
    assert answer["answered"]
    # The bug: the running header "52 THE SIEGE OF VICKSBURG." was the quote.
    top = answer["passages"][0]
    assert top["quote"].startswith("The siege of Vicksburg began in May")
    assert (top["page"], top["start_line"]) == (1, 2)
    for passage in answer["passages"]:
        assert "SIEGE" not in passage["text"] and "CAMPAIGN" not in passage["text"]
        assert BOOK_FOOTER not in passage["text"]
    code, out, err = run_cli("ask", "Where did the townspeople live?", "--json", *location)
    assert code == 0, err
    top = json.loads(out)["passages"][0]
    assert "dug caves into the clay hills" in top["quote"] and "movable stove" in top["quote"]
    # The quote's sentence starts on page 2, line 3 (line 1 was the header).
    assert (top["source"], top["page"]) == ("siege.pdf", 2)
    assert top["start_line"] <= 3 <= top["end_line"], top


# --- encryption ------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-128", "AES-256"])
def test_encrypted_pdf_with_an_empty_password_is_read(algorithm):
    assert read_pdf(encrypted_pdf("", algorithm)).text.strip() == "Locked words."


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-256"])
def test_pdf_that_needs_a_password_says_so(algorithm):
    with pytest.raises(SkipFile, match="^password-protected PDF: it needs a password to open$"):
        read_pdf(encrypted_pdf("secret", algorithm))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"/V 4\n/R 4", b"/V 9\n/R 9"),
        (b"/Filter /Standard", b"/Filter /Standerd"),
        (b"/O <", b"/X <"),
        (b"/CFM /AESV2", b"/CFM /AESV9"),
        (b"/Encrypt 7 0 R", b"/Encrypt 9 0 R"),
    ],
    ids=["unknown-version", "unknown-handler", "no-owner-key", "unknown-cipher", "dangling"],
)
def test_damaged_encryption_dictionary_is_one_clear_skip(old, new, caplog):
    caplog.set_level(logging.DEBUG)
    data = encrypted_pdf("", "AES-128")
    assert old in data
    with pytest.raises(SkipFile, match="encrypt"):
        read_pdf(data.replace(old, new))
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_missing_crypto_library_is_named_as_such(monkeypatch):
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    def no_crypto(self, password):
        raise DependencyError("cryptography>=3.1 is required for AES algorithm")

    monkeypatch.setattr(PdfReader, "decrypt", no_crypto)
    with pytest.raises(SkipFile, match=r"needs the `cryptography` package: pip install"):
        read_pdf(encrypted_pdf("", "AES-128"))


def test_damaged_encryption_helper_is_damaged():
    with pytest.raises(SkipFile, match="damaged or unsupported encryption dictionary"):
        read_pdf(damaged_encryption_pdf())


def test_plain_pdf_without_furniture_is_unchanged():
    pages = ["First page (intro).", "Second page line one\nSecond page line two"]
    document = read_pdf(make_pdf(pages))
    assert document.text == pdf.PAGE_SEPARATOR.join(pages)


def test_context_of_a_passage_running_over_a_page_break(book_folder):
    from askseed.config import Settings
    from askseed.engine import Engine

    engine = Engine(Settings(seeds=book_folder, index=book_folder.parent / "index"))
    # "The news reached the capital …" starts on page 3, line 4, and ends on page 4, line 2.
    lines = dict(engine.context("siege.pdf", 4, 2, margin=1, page=3))
    assert list(lines) == [3, 4]  # to the last line of text on page 3
    assert lines[4].endswith("The news reached the")
    assert "\f" not in "".join(lines.values())
