"""Readers: bytes to text (decoding, binary sniffing), and the text, HTML and PDF readers.
PDF furniture, encryption, Word and EPUB have their own files: test_pdf.py, test_books.py."""

from __future__ import annotations

import codecs
import logging
import os

import pytest

from askseed.ingest import readers
from askseed.ingest.readers import (
    READERS,
    Document,
    SkipFile,
    decode_text,
    read_bytes,
    read_html,
    read_pdf,
    read_text,
    text_from_bytes,
)
from documents import encrypted_pdf, make_pdf
from hostile import ARTICLE_BOILERPLATE, ARTICLE_HTML

SMART = "\u201cQuoted\u201d \u2013 it\u2019s \u20ac5"  # cp1252's favourite characters


@pytest.mark.parametrize(
    "data, text, warning",
    [
        pytest.param(b"plain ascii", "plain ascii", None, id="ascii"),
        pytest.param(
            "Gr\u00fc\u00dfe, na\u00efve caf\u00e9 \u2603".encode(),
            "Gr\u00fc\u00dfe, na\u00efve caf\u00e9 \u2603",
            None,
            id="utf-8",
        ),
        pytest.param("caf\u00e9".encode("utf-8-sig"), "caf\u00e9", None, id="utf-8-sig"),
        pytest.param("caf\u00e9 \u2603".encode("utf-16"), "caf\u00e9 \u2603", None, id="utf-16-le"),
        pytest.param(
            codecs.BOM_UTF16_BE + "caf\u00e9".encode("utf-16-be"), "caf\u00e9", None, id="utf-16-be"
        ),
        pytest.param("caf\u00e9".encode("utf-32"), "caf\u00e9", None, id="utf-32"),
        pytest.param(SMART.encode("cp1252"), SMART, "decoded as cp1252", id="cp1252-smart-quotes"),
        pytest.param(b"Carn D\xfa \x81", "Carn D\u00fa \x81", "decoded as latin-1", id="latin-1"),
        pytest.param(
            "caf\u00e9 ".encode() + b"\x93hi\x94",
            "caf\u00e9 \u201chi\u201d",
            "mixed encodings",
            id="mixed-utf8-and-cp1252",
        ),
        pytest.param(
            "caf\u00e9 ".encode() + b"\xff\x81",
            "caf\u00e9 \u00ff\x81",
            "mixed encodings",
            id="mixed-invalid-bytes",
        ),
        pytest.param("x".encode("utf-16") + b"\x00", "x\ufffd", "UTF-16", id="utf-16-truncated"),
    ],
)
def test_decode_text(data, text, warning):
    decoded, warnings = decode_text(data)
    assert decoded == text
    if warning is None:
        assert warnings == ()
    else:
        assert len(warnings) == 1 and warning in warnings[0]


@pytest.mark.parametrize(
    "data, declared, text",
    [
        (
            "\u041f\u0440\u0438\u0432\u0435\u0442".encode("koi8-r"),
            "koi8_r",
            "\u041f\u0440\u0438\u0432\u0435\u0442",
        ),
        ("\u65e5\u672c\u8a9e".encode("shift_jis"), "shift_jis", "\u65e5\u672c\u8a9e"),
        # A page that says latin-1 but is really UTF-8: the UTF-8 reading wins.
        ("caf\u00e9".encode(), "latin_1", "caf\u00e9"),
        (b"caf\xe9", "no-such-codec", "caf\u00e9"),
        (b"caf\xe9", "base64", "caf\u00e9"),  # a codec, but not a text encoding
    ],
)
def test_decode_text_uses_the_declared_encoding_after_utf8(data, declared, text):
    assert decode_text(data, declared)[0] == text


@pytest.mark.parametrize(
    "head, codec",
    [
        (b'<meta charset="windows-1251">', "cp1251"),
        (b"<META HTTP-EQUIV='Content-Type' CONTENT='text/html; charset=ISO-8859-1'>", "iso8859-1"),
        (b"<meta charset=utf-8 />", "utf-8"),
        (b'<meta charset="klingon">', None),
        (b'<meta charset="utf-16">', None),
        (b"<p>no meta at all</p>", None),
    ],
)
def test_declared_charset(head, codec):
    assert readers.declared_charset(head) == codec


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "NUL"),
        (bytes(range(1, 9)) * 50 + b"text", "control characters"),
        (b"", "empty"),
        (b" \n\t\r\n  ", "empty"),
        ("\ufeff  \n".encode(), "empty"),
    ],
)
def test_text_from_bytes_rejects(data, reason):
    with pytest.raises(SkipFile, match=reason):
        text_from_bytes(data)


@pytest.mark.parametrize(
    "data",
    [
        "UTF-16 has NUL bytes in every other byte".encode("utf-16"),
        b"\x1b[32mINFO\x1b[0m started\n\x1b[31mERROR\x1b[0m disk full\n",  # a coloured log
        b"page one\fpage two\n",
    ],
)
def test_text_from_bytes_accepts_text_that_looks_odd(data):
    assert text_from_bytes(data)[0].strip()


def test_line_endings_become_newlines():
    assert text_from_bytes(b"one\r\ntwo\rthree\n")[0] == "one\ntwo\nthree\n"


def test_read_bytes_refuses_files_over_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_FILE_BYTES", 10)
    path = tmp_path / "big.txt"
    path.write_text("x" * 11)
    with pytest.raises(SkipFile, match="too large"):
        read_bytes(path)


def test_read_bytes_does_not_block_on_a_named_pipe(tmp_path):
    os.mkfifo(tmp_path / "pipe.txt")
    with pytest.raises(SkipFile, match="not a regular file"):
        read_bytes(tmp_path / "pipe.txt")


def test_read_text_skips_generated_data_with_an_endless_line(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_LINE_CHARS", 100)
    path = tmp_path / "minified.txt"
    path.write_text("short line\n" + "x" * 101)
    with pytest.raises(SkipFile, match="101 characters"):
        read_text(path.read_bytes())


def test_read_text_returns_text_and_encoding_warning(tmp_path):
    path = tmp_path / "legacy.txt"
    path.write_bytes(SMART.encode("cp1252"))
    assert read_text(path.read_bytes()) == Document(
        SMART, warnings=("not valid UTF-8; decoded as cp1252",)
    )


# --- HTML ----------------------------------------------------------------------------------


def html_file(tmp_path, content: str | bytes):
    path = tmp_path / "page.html"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path.read_bytes()


def test_html_keeps_the_article_and_drops_navigation_and_banners(tmp_path):
    sentence = "The ferry leaves from pier nine at noon."
    text = read_html(html_file(tmp_path, ARTICLE_HTML % sentence)).text
    assert sentence in text
    assert "twelve cycle spaces" in text
    for boilerplate in ARTICLE_BOILERPLATE:
        assert boilerplate not in text


def test_html_blocks_are_separated_by_blank_lines(tmp_path):
    page = "<html><body><h1>Heading</h1><p>First paragraph here.</p></body></html>"
    assert read_html(html_file(tmp_path, page)).text == "Heading\n\nFirst paragraph here."


@pytest.mark.parametrize(
    "page, sentence",
    [
        (
            "<p>The gate code is 4471 and the wifi password is on the fridge.</p>",
            "gate code is 4471",
        ),
        (
            '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml">'
            "<body><p>The XHTML page names the ferry.</p></body></html>",
            "XHTML page",
        ),
        ("<html><body>Bare body text without any paragraph tags.</body></html>", "Bare body"),
    ],
    ids=["fragment", "xhtml", "bare-body"],
)
def test_html_odd_but_valid_pages(tmp_path, page, sentence):
    assert sentence in read_html(html_file(tmp_path, page)).text


def test_html_in_a_declared_legacy_encoding(tmp_path):
    word = "\u041f\u0440\u0438\u0432\u0435\u0442"
    page = f'<html><head><meta charset="koi8-r"></head><body><p>{word}, world.</p></body></html>'
    document = read_html(html_file(tmp_path, page.encode("koi8-r")))
    assert document.text == f"{word}, world." and document.warnings == ()


def test_html_without_main_text_is_skipped_quietly(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    page = "<html><body><script>var x = 1;</script></body></html>"
    with pytest.raises(SkipFile, match="no main text"):
        read_html(html_file(tmp_path, page))
    # trafilatura logs this at ERROR level; it must not reach the user's terminal.
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


# --- PDF ------------------------------------------------------------------------------------


def pdf_file(tmp_path, data: bytes):
    """The bytes a reader gets, after a round trip through a file."""
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    return path.read_bytes()


def test_pdf_text_per_page_with_page_starts(tmp_path):
    pages = ["First page (intro).", "Second page line one\nSecond page line two", "Third."]
    document = read_pdf(pdf_file(tmp_path, make_pdf(pages)))
    assert document.warnings == ()
    assert len(document.page_starts) == 3 and document.page_starts[0] == 0
    for start, text in zip(document.page_starts, pages, strict=True):
        assert document.text[start:].startswith(text)


def test_pdf_with_an_image_only_page_keeps_page_numbers(tmp_path):
    document = read_pdf(pdf_file(tmp_path, make_pdf([None, "Text on page two."])))
    assert document.text[document.page_starts[1] :].startswith("Text on page two.")


@pytest.mark.parametrize(
    "data, reason",
    [
        (make_pdf([None, None]), r"no text layer \(scanned PDF\?\)"),
        (make_pdf(["cut short"])[:80], "unreadable PDF"),
        (b"%PDF-1.4\n" + bytes(range(1, 256)) * 4, "unreadable PDF"),
        (b"Just text with a .pdf name.", "not a PDF"),
    ],
    ids=["scanned", "truncated", "garbage", "not-a-pdf"],
)
def test_pdf_problems_are_skipped(tmp_path, data, reason, caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SkipFile, match=reason):
        read_pdf(pdf_file(tmp_path, data))
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_pdf_encrypted_with_a_password_is_skipped(tmp_path):
    with pytest.raises(SkipFile, match="password-protected PDF"):
        read_pdf(pdf_file(tmp_path, encrypted_pdf("secret")))


def test_pdf_encrypted_without_a_user_password_is_read(tmp_path):
    assert "Locked words." in read_pdf(pdf_file(tmp_path, encrypted_pdf(""))).text


def test_every_reader_is_keyed_by_a_lowercase_suffix():
    assert set(READERS) == {".txt", ".md", ".html", ".htm", ".pdf", ".docx", ".epub"}


def test_skip_reasons_are_one_line():
    assert str(SkipFile("first line\n  second\tline ")) == "first line second line"
