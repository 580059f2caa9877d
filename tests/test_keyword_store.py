"""The keyword index keeps no copy of the texts: it reads them from the chunk_search view, so
every update must leave the two agreeing (FTS5's integrity check compares them)."""

from __future__ import annotations

import sqlite3

import pytest

from askseed.ingest.indexer import update_index
from askseed.store.keyword import Fts5Index
from askseed.store.reader import IndexReader
from old_index import as_version_5

# Small chunks, so that most chunks of a document are searched after its heading.
HEADED = (
    "Harbour timetable\n\n"
    "The island ferry leaves the harbour at nine every morning. Tickets are sold on board. "
    "Bicycles travel free of charge. Dogs must stay on a lead.\n"
)


def check(index) -> tuple[int, int]:
    """FTS5's own check, and how many rows the table and FTS5 copy of the text hold."""
    conn = sqlite3.connect(index / "meta.sqlite")
    try:
        Fts5Index(conn, content="chunk_search").check()
        (headed,) = conn.execute("SELECT count(*) FROM chunks WHERE headed").fetchone()
        (copies,) = conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE name = 'lexical_fts_content'"
        ).fetchone()
    finally:
        conn.close()
    return headed, copies


def search(settings, word: str) -> list[str]:
    with IndexReader(settings.index) as reader:
        ids = [chunk_id for chunk_id, _ in reader.keyword_search(word, 10)]
        return sorted(chunk.source for chunk in reader.chunks_by_id(ids).values())


@pytest.fixture
def settings(make_settings):
    settings = make_settings(chunk_tokens=14)
    (settings.seeds / "ferry.txt").write_text(HEADED, encoding="utf-8")
    (settings.seeds / "plain.txt").write_text("Rye bread on Sundays only.\n", encoding="utf-8")
    return settings


def test_updates_keep_the_keyword_index_and_its_texts_in_step(settings, fake_embedder):
    update_index(settings, fake_embedder)
    headed, copies = check(settings.index)
    assert headed >= 2 and copies == 0
    # A later chunk of the ferry file is found by a word only its heading has.
    assert search(settings, "timetable").count("ferry.txt") >= 2

    (settings.seeds / "ferry.txt").write_text(
        HEADED.replace("Harbour timetable", "Ferry schedule"), encoding="utf-8"
    )
    (settings.seeds / "plain.txt").unlink()
    (settings.seeds / "new.txt").write_text("Honey cake at the market.\n", encoding="utf-8")
    update_index(settings, fake_embedder)
    check(settings.index)
    assert search(settings, "timetable") == []
    assert "ferry.txt" in search(settings, "schedule")
    assert search(settings, "rye") == [] and search(settings, "honey") == ["new.txt"]

    update_index(settings, fake_embedder, rebuild=True)
    check(settings.index)
    assert "ferry.txt" in search(settings, "schedule")


def headings(index) -> list[tuple]:
    with sqlite3.connect(index / "meta.sqlite") as conn:
        return conn.execute(
            "SELECT path, heading, heading_chars FROM files ORDER BY path"
        ).fetchall()


def test_a_heading_is_stored_once_as_a_length(settings, fake_embedder):
    # The heading begins the file's first chunk: the view takes it from there.
    update_index(settings, fake_embedder)
    assert headings(settings.index) == [
        ("ferry.txt", None, len("Harbour timetable")),
        ("plain.txt", None, None),
    ]
    assert search(settings, "timetable").count("ferry.txt") >= 2


def test_a_version_5_index_with_copied_headings_stays_in_step(settings, fake_embedder):
    # Version 5 copied each heading into its file's row, and its view read only that copy.
    # Its next writer replaces the view; the copies still serve until their files change.
    (settings.seeds / "harbour.txt").write_text(
        "Bay crossings\n\nWater taxis cross the bay every hour from dawn. Fares are paid "
        "at the kiosk. Children under five ride free. Luggage goes in the bow.\n",
        encoding="utf-8",
    )
    update_index(settings, fake_embedder)
    as_version_5(settings.index)
    check(settings.index)

    (settings.seeds / "ferry.txt").write_text(
        HEADED.replace("Harbour timetable", "Ferry schedule"), encoding="utf-8"
    )
    update_index(settings, fake_embedder)

    check(settings.index)
    assert headings(settings.index) == [
        ("ferry.txt", None, len("Ferry schedule")),
        ("harbour.txt", "Bay crossings", None),
        ("plain.txt", None, None),
    ]
    assert search(settings, "schedule").count("ferry.txt") >= 2
    assert search(settings, "crossings").count("harbour.txt") >= 2
    (settings.seeds / "harbour.txt").unlink()
    update_index(settings, fake_embedder)
    check(settings.index)
    assert search(settings, "crossings") == []
