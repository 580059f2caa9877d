"""Word (.docx) and EPUB files: what becomes a line, where a passage says it is, and files that
cannot be read."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest

from askseed.ingest import archive
from askseed.ingest.document import SkipFile
from askseed.ingest.epub import read_epub
from askseed.ingest.html import block_text
from askseed.ingest.sentences import split_sentences
from askseed.ingest.word import read_docx
from documents import make_docx, make_epub
from test_hostile import engine_with, run_cli

# --- Word -------------------------------------------------------------------------------------

MINUTES = [
    ("title", "Harbour survey 2024"),
    ("heading", "Birds"),
    ("paragraph", "The kingfisher pair fledged five young below the mill."),
    ("paragraph", ""),
    ("bullet", "Bring binoculars and a notebook."),
    ("number", "Wear boots, because the path floods at high tide."),
    ("table", [["Species", "Count", "Site"], ["Avocet", "12", "North scrape"]]),
    ("heading", "Next steps"),
    ("paragraph", "The committee agreed to move the plant sale to the church hall."),
]
MINUTES_LINES = [
    "Harbour survey 2024",
    "Birds",
    "The kingfisher pair fledged five young below the mill.",
    "",
    "• Bring binoculars and a notebook.",
    "• Wear boots, because the path floods at high tide.",
    "| Species | Count | Site |",
    "| Avocet | 12 | North scrape |",
    "Next steps",
    "The committee agreed to move the plant sale to the church hall.",
]


def test_docx_paragraphs_list_items_and_table_rows_are_lines():
    document = read_docx(make_docx(MINUTES))
    assert document.text.split("\n") == MINUTES_LINES
    assert document.page_starts is None and document.warnings == ()
    assert "internal" not in document.text  # the page header


def test_docx_sentences_keep_headings_items_and_rows_apart():
    texts = [sentence.text for sentence in split_sentences(read_docx(make_docx(MINUTES)).text)]
    assert texts == [
        "Harbour survey 2024",
        "Birds",
        "The kingfisher pair fledged five young below the mill.",
        "Bring binoculars and a notebook.",
        "Wear boots, because the path floods at high tide.",
        "| Species | Count | Site |",
        "| Avocet | 12 | North scrape |",
        "Next steps",
        "The committee agreed to move the plant sale to the church hall.",
    ]


def test_docx_merged_cells_and_line_breaks():
    import docx

    document = docx.Document()
    paragraph = document.add_paragraph("First half")
    paragraph.add_run().add_break()
    paragraph.add_run("second half\tafter a tab")
    table = document.add_table(rows=2, cols=3)
    table.cell(0, 0).merge(table.cell(0, 2)).text = "Merged heading"
    for column, value in enumerate(["a", "b", "c"]):
        table.cell(1, column).text = value
    out = io.BytesIO()
    document.save(out)
    assert read_docx(out.getvalue()).text.split("\n") == [
        "First half second half after a tab",
        "| Merged heading |",
        "| a | b | c |",
    ]


def zip_of(**members: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as bundle:
        for name, content in members.items():
            bundle.writestr(name.replace("__", "/"), content)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (make_docx(MINUTES)[:900], "unreadable Word file: not a zip container, or cut short"),
        (b"\xd0\xcf\x11\xe0 an old .doc or a password-protected file", "not a zip container"),
        (zip_of(notes__a="x"), "no word/document.xml inside"),
        (zip_of(word__document="<w:document"), "unreadable Word file"),
        (make_docx([("paragraph", "")]), "no text in the Word file"),
    ],
    ids=["truncated", "not-a-zip", "other-zip", "broken-xml", "empty"],
)
def test_docx_problems_are_one_line_skips(data, reason):
    with pytest.raises(SkipFile, match=re.escape(reason)):
        read_docx(data)


def test_a_zip_bomb_is_refused_before_it_is_unpacked(monkeypatch):
    monkeypatch.setattr(archive, "MAX_UNPACKED_BYTES", 1000)
    with pytest.raises(SkipFile, match=r"would unpack to .* MB \(the limit is 0 MB\)"):
        read_docx(make_docx(MINUTES))


# --- EPUB -------------------------------------------------------------------------------------

CHAPTERS = [
    (
        "chapter1.xhtml",
        "<h1>Chapter One</h1><p>The lighthouse keeper rowed to the island every Tuesday.</p>"
        "<p>He carried bread, lamp oil and the post in a tin box.</p>",
    ),
    (
        "text/chapter2.xhtml",
        "<h1>Chapter Two</h1><p>In winter the crossing took three hours against the tide.</p>"
        "<ul><li>Oars</li><li>A lantern</li></ul>",
    ),
]


@pytest.mark.parametrize(
    ("html", "lines"),
    [
        ("<h2>Title</h2><p>One <em>inline</em> run.</p>", ["Title", "One inline run."]),
        ("<ul><li>Oars</li><li><p>A lantern</p></li></ul>", ["- Oars", "- A lantern"]),
        (
            "<table><tr><th>Tide</th><th>Time</th></tr><tr><td>High</td><td>06:10</td></tr></table>",
            ["| Tide | Time |", "| High | 06:10 |"],
        ),
        (
            "<div>Loose text<p>In a paragraph</p>and a tail</div>",
            ["Loose text", "In a paragraph", "and a tail"],
        ),
        ("<p>Line one<br/>line two</p><script>var x;</script>", ["Line one line two"]),
        (
            "<?xml version='1.0' encoding='utf-8'?><html><body><p>Declared</p></body></html>",
            ["Declared"],
        ),
    ],
)
def test_block_text(html, lines):
    assert block_text(html).split("\n\n") == lines


def test_epub_chapters_are_pages_in_reading_order():
    document = read_epub(make_epub(CHAPTERS))
    starts = (*document.page_starts, len(document.text))
    pages = [
        document.text[start:end].strip() for start, end in zip(starts, starts[1:], strict=False)
    ]
    assert pages == [
        "",  # the navigation document: a table of contents, kept for the numbering only
        "Chapter One\n\nThe lighthouse keeper rowed to the island every Tuesday.\n\n"
        "He carried bread, lamp oil and the post in a tin box.",
        "Chapter Two\n\nIn winter the crossing took three hours against the tide.\n\n"
        "- Oars\n\n- A lantern",
    ]
    assert document.warnings == ()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (zip_of(notes="A zip of notes renamed to .epub"), "no META-INF/container.xml inside"),
        (make_epub(CHAPTERS)[:500], "not a zip container, or cut short"),
        (
            zip_of(META_INF__container="<container/>", mimetype="application/epub+zip"),
            "unreadable EPUB",
        ),
        (make_epub([("empty.xhtml", "<p></p>")]), "no text in the EPUB"),
    ],
    ids=["renamed-zip", "truncated", "no-package", "empty"],
)
def test_epub_problems_are_one_line_skips(data, reason):
    data = data.replace(b"META_INF", b"META-INF")
    with pytest.raises(SkipFile, match=re.escape(reason)):
        read_epub(data)


def with_member(book: bytes, name: str, content: bytes) -> bytes:
    """The zip `book` with the member `name` replaced by `content`."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(book)) as source, zipfile.ZipFile(out, "w") as bundle:
        for info in source.infolist():
            bundle.writestr(info, content if info.filename == name else source.read(info))
    return out.getvalue()


@pytest.mark.parametrize(
    ("chapter", "text", "warning"),
    [
        (b"<!-- nothing -->", "", None),
        (b"   ", "", None),
        (b"\x00\x01binary" * 50, "", "could not read chapter(s) text/chapter2.xhtml (binary"),
        (b"<html><body><p>broken <b>markup</p>", "broken markup", None),
    ],
    ids=["comment-only", "blank", "binary", "broken-markup"],
)
def test_one_bad_chapter_costs_that_chapter_only(chapter, text, warning):
    book = with_member(make_epub(CHAPTERS), "EPUB/text/chapter2.xhtml", chapter)
    document = read_epub(book)
    assert "The lighthouse keeper rowed" in document.text
    assert document.text[document.page_starts[2] :].strip() == text
    if warning is None:
        assert document.warnings == ()
    else:
        [message] = document.warnings
        assert message.startswith(warning), message


def test_epub_with_encrypted_chapters_is_drm_protected():
    book = make_epub(CHAPTERS)
    with zipfile.ZipFile(io.BytesIO(book)) as source:
        members = {info.filename: source.read(info) for info in source.infolist()}
    members["META-INF/encryption.xml"] = (
        b'<encryption><EncryptedData><CipherReference URI="EPUB/chapter1.xhtml"/>'
        b"</EncryptedData></encryption>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as bundle:
        for name, content in members.items():
            bundle.writestr(name, content)
    with pytest.raises(SkipFile, match="DRM-protected EPUB"):
        read_epub(out.getvalue())


# --- where a passage says it is ---------------------------------------------------------------


@pytest.fixture
def books_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("ASKSEED_CHUNK_TOKENS", "16")  # the fake embedder counts words + 2
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "minutes.docx").write_bytes(make_docx(MINUTES))
    (docs / "keeper.epub").write_bytes(make_epub(CHAPTERS))
    return docs


@pytest.mark.parametrize(
    ("question", "source", "page", "line", "where"),
    [
        (
            "The committee agreed to move the plant sale to the church hall.",
            "minutes.docx",
            None,
            10,
            "minutes.docx:10",
        ),
        ("Wear boots, because the path floods at high tide.", "minutes.docx", None, 6, None),
        ("| Avocet | 12 | North scrape |", "minutes.docx", None, 8, None),
        (
            "In winter the crossing took three hours against the tide.",
            "keeper.epub",
            3,
            3,
            "keeper.epub:ch3:3",
        ),
        ("He carried bread, lamp oil and the post in a tin box.", "keeper.epub", 2, 5, None),
    ],
)
def test_word_paragraph_and_epub_chapter_locations(
    books_folder, fake_embedder, question, source, page, line, where
):
    location = ["--seeds", books_folder, "--index", books_folder.parent / "index"]
    with engine_with(fake_embedder):
        code, out, err = run_cli("ask", question, "--json", *location)
        assert code == 0, err
        # The passage that holds the question's own words: which passage goes first is the
        # calibrator's call, and with the fake embedder it means nothing.
        hit = next(p for p in json.loads(out)["passages"] if question in p["text"])
        assert (hit["source"], hit.get("page"), hit["start_line"]) == (source, page, line)
        if where:
            code, out, _ = run_cli("ask", question, *location)
            assert re.match(rf"1\. \S*docs/{re.escape(where)}  \(\S+ confident\)", out), out


def test_context_of_an_epub_passage_reads_its_chapter(books_folder):
    from askseed.config import Settings
    from askseed.engine import Engine

    engine = Engine(Settings(seeds=books_folder, index=books_folder.parent / "index"))
    lines = dict(engine.context("keeper.epub", 3, 3, margin=0, page=3))
    assert lines == {3: "In winter the crossing took three hours against the tide."}
    lines = dict(engine.context("minutes.docx", 10, 10, margin=1))
    assert lines == {9: "Next steps", 10: MINUTES_LINES[9]}


@pytest.mark.model
def test_word_and_epub_with_the_real_model(books_folder, monkeypatch):
    # Passages of a sentence or two (model tokens), so that a location pins the quote down.
    monkeypatch.setenv("ASKSEED_CHUNK_TOKENS", "32")
    location = ["--seeds", books_folder, "--index", books_folder.parent / "index"]
    for question, quote, source, page, line in [
        (
            "Where will the plant sale be held?",
            "The committee agreed to move the plant sale to the church hall.",
            "minutes.docx",
            None,
            10,
        ),
        (
            "How long did the winter crossing take?",
            "In winter the crossing took three hours against the tide.",
            "keeper.epub",
            3,
            3,
        ),
    ]:
        code, out, err = run_cli("ask", question, "--json", *location)
        assert code == 0, err
        answer = json.loads(out)
        top = answer["passages"][0]
        assert answer["answered"], answer
        assert top["quote"] == quote
        assert (top["source"], top.get("page")) == (source, page)
        assert top["start_line"] <= line <= top["end_line"], top


def test_docx_paragraphs_inside_content_controls_are_read():
    import copy

    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = docx.Document()
    document.add_paragraph("Before the control.")
    inside = document.add_paragraph("Inside a content control.")
    control = parse_xml(f"<w:sdt {nsdecls('w')}><w:sdtPr/><w:sdtContent/></w:sdt>")
    control[1].append(copy.deepcopy(inside._p))
    inside._p.addnext(control)
    inside._p.getparent().remove(inside._p)
    document.add_paragraph("After it.")
    out = io.BytesIO()
    document.save(out)
    assert read_docx(out.getvalue()).text.split("\n") == [
        "Before the control.",
        "Inside a content control.",
        "After it.",
    ]


def test_changed_word_and_epub_files_are_re_read_like_any_other(books_folder):
    from conftest import FakeEmbedder

    location = ["--seeds", books_folder, "--index", books_folder.parent / "index"]
    with engine_with(FakeEmbedder()):
        assert run_cli("index", *location)[0] == 0
    changed = [*MINUTES[:-1], ("paragraph", "The plant sale moves to the village green.")]
    (books_folder / "minutes.docx").write_bytes(make_docx(changed))
    embedder = FakeEmbedder()
    with engine_with(embedder):
        code, _, err = run_cli("index", *location)
        assert code == 0, err
        assert "1 file re-embedded" in err
        code, out, err = run_cli(
            "ask", "The plant sale moves to the village green.", "--json", *location
        )
    assert code == 0, err
    top = json.loads(out)["passages"][0]
    assert top["quote"] == "The plant sale moves to the village green."
    assert top["start_line"] <= 10 == top["end_line"]
    assert not any("keeper" in text for text in embedder.encoded)  # the book was not re-read
