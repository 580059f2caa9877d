"""A damaged index: one line naming the remedy for a question, a fresh build for `askseed index`.

Each case builds a small index through the command line, damages it the way a disk, a crash
or a careless hand would, and checks both sides: `askseed "question"` stops with exit code 2
and one line on stderr (never a traceback), and the remedy that line names does repair it.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from askseed.ui import cli

QUESTION = "How far does the Io lava fountain reach?"
DOCUMENTS = {
    "io.txt": "Volcanoes on Io erupt with lava fountains. The fountains reach three hundred "
    "kilometres.\nIo orbits Jupiter every forty two hours.\n",
    "europa.md": "Europa hides a salty ocean under its ice. The ice shell is about twenty "
    "kilometres thick.\n",
    "notes/ganymede.txt": "Ganymede is the largest moon in the solar system. It has its own "
    "magnetic field.\n",
}


@pytest.fixture
def built(tmp_path, monkeypatch, fake_embedder):
    """A documents folder and its index, built by `askseed index`; returns the index folder."""
    from askseed.engine import Engine

    for rel, text in DOCUMENTS.items():
        path = tmp_path / "seeds" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(
        cli, "_make_engine", lambda settings: Engine(settings, embedder=fake_embedder)
    )
    assert cli.main(["index"]) == 0
    return tmp_path / "index"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def vectors_file(index: Path) -> Path:
    [path] = index.glob("vectors-*.faiss")
    return path


def overwrite(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def flip_a_byte_in_the_middle(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def truncate_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def set_manifest(index: Path, key: str, value: str) -> None:
    conn = sqlite3.connect(index / "meta.sqlite")
    with conn:
        conn.execute("UPDATE manifest SET value = ? WHERE key = ?", (value, key))
    conn.close()


def name_segment(index: Path, name: str) -> None:
    conn = sqlite3.connect(index / "meta.sqlite")
    with conn:
        conn.execute("UPDATE vector_segments SET name = ?", (name,))
    conn.close()


def checkpoint(index: Path) -> None:
    """Move everything from the write-ahead log into meta.sqlite, so damaging it bites."""
    conn = sqlite3.connect(index / "meta.sqlite")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def damage_database(index: Path, how) -> None:
    checkpoint(index)
    for name in ("meta.sqlite-wal", "meta.sqlite-shm"):
        (index / name).unlink(missing_ok=True)
    how(index / "meta.sqlite")


DAMAGE = {
    "vectors: random bytes": lambda index: overwrite(
        vectors_file(index), os.urandom(vectors_file(index).stat().st_size)
    ),
    "vectors: truncated": lambda index: truncate_half(vectors_file(index)),
    "vectors: empty": lambda index: overwrite(vectors_file(index), b""),
    "vectors: one byte changed": lambda index: flip_a_byte_in_the_middle(vectors_file(index)),
    "vectors: missing": lambda index: vectors_file(index).unlink(),
    "segments: name a missing file": lambda index: name_segment(index, "vectors-99.1.faiss"),
    "manifest: another version": lambda index: set_manifest(index, "schema_version", "999"),
    "sqlite: random bytes": lambda index: damage_database(
        index, lambda path: overwrite(path, os.urandom(path.stat().st_size))
    ),
    "sqlite: truncated": lambda index: damage_database(index, truncate_half),
    "sqlite: header only": lambda index: damage_database(
        index, lambda path: overwrite(path, path.read_bytes()[:100])
    ),
}


# A question checks the vectors file's size, not its full checksum (that would read every
# page of the memory map); a changed byte is caught by the next `askseed index` instead.
FOUND_BY_A_QUESTION = {
    name: damage for name, damage in DAMAGE.items() if name != "vectors: one byte changed"
}


@pytest.mark.parametrize("damage", FOUND_BY_A_QUESTION.values(), ids=FOUND_BY_A_QUESTION.keys())
def test_a_question_gets_one_line_with_the_remedy(built, capsys, damage):
    damage(built)

    code, out, err = run(capsys, QUESTION)

    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("askseed: error: the index in index ")
    assert "damaged" in err or "another version" in err
    assert "run `askseed index --rebuild --index index`" in err


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_askseed_index_replaces_it_with_a_fresh_build(built, capsys, damage):
    damage(built)

    code, _, err = run(capsys, "index")

    assert code == 0, err
    [warning, summary] = err.splitlines()
    assert warning.startswith("askseed: warning: the index in index could not be used (")
    assert warning.endswith("); rebuilding it from the documents")
    assert summary.startswith("indexed 3 files")
    assert run(capsys, QUESTION)[0] == 0
    assert len(list(built.glob("vectors-*"))) == 1


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_the_named_remedy_works(built, capsys, damage):
    damage(built)

    code, _, err = run(capsys, "index", "--rebuild", "--index", "index")

    assert code == 0, err
    code, out, _ = run(capsys, QUESTION)
    assert code == 0 and "three hundred kilometres" in out


def test_damage_sqlite_only_finds_by_reading_every_page(built, capsys):
    """Zeroed pages inside the file pass the open; SQLite's own check finds them."""

    def zero_the_middle(path: Path) -> None:
        data = bytearray(path.read_bytes())
        page = 4096
        middle = (len(data) // page // 2) * page
        data[middle : middle + 4 * page] = bytes(4 * page)
        path.write_bytes(bytes(data))

    damage_database(built, zero_the_middle)

    code, _, err = run(capsys, "index")

    assert code == 0, err
    assert "could not be used" in err.splitlines()[0]
    assert run(capsys, QUESTION)[0] == 0


@pytest.mark.parametrize(
    "damage_row",
    [
        "UPDATE chunks SET sentences = '{not json'",
        # sentence vectors that do not fit the sentences: cut short, or not a blob at all
        "UPDATE chunks SET sentence_vectors = substr(sentence_vectors, 1, 100)",
        "UPDATE chunks SET sentence_vectors = 'text'",
    ],
)
def test_a_damaged_row_is_reported_and_rebuild_repairs_it(built, capsys, damage_row):
    conn = sqlite3.connect(built / "meta.sqlite")
    with conn:
        conn.execute(damage_row)
    conn.close()

    code, _, err = run(capsys, QUESTION)

    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "damaged" in err and "askseed index --rebuild" in err
    assert run(capsys, "index", "--rebuild")[0] == 0
    assert run(capsys, QUESTION)[0] == 0


def test_an_interrupted_first_build_is_no_index_not_a_damaged_one(built, capsys):
    for path in built.iterdir():
        path.unlink()
    sqlite3.connect(built / "meta.sqlite").close()  # created, then killed before any table

    code, _, err = run(capsys, QUESTION)

    assert code == 0
    assert "no index in index yet; building it" in err


def test_a_busy_database_is_not_mistaken_for_damage(built, capsys, monkeypatch):
    from askseed.store.reader import IndexReader

    error = sqlite3.OperationalError("database is locked")
    error.sqlite_errorname = "SQLITE_BUSY"

    def locked(self, path):
        raise error

    monkeypatch.setattr(IndexReader, "_open", locked)

    code, _, err = run(capsys, QUESTION)

    assert code == 2
    assert err == "askseed: error: cannot use the index in index: database is locked\n"
    assert {path.name for path in built.iterdir()} >= {"meta.sqlite", vectors_file(built).name}


@pytest.mark.parametrize(
    "cut", [lambda data: data[:10], lambda data: data[: len(data) // 2], lambda data: data[:-8]]
)
def test_faiss_refuses_a_truncated_file_even_without_a_checksum(tmp_path, cut):
    import numpy as np

    from askseed.store.vectors import (
        Segment,
        VectorFileError,
        VectorSet,
        check_file,
        read_mapped,
        write_flat,
    )

    path = tmp_path / "vectors-1.1.faiss"
    size, digest = write_flat(path, np.array([1, 2, 3]), np.eye(3, 8, dtype=np.float32))
    segment = Segment(path.name, 3, 1, 3, size, digest)
    vectors = VectorSet(tmp_path, [segment], {}, 8)
    assert vectors.similarities(np.eye(1, 8), [1, 2]) == pytest.approx({1: 1.0, 2: 0.0}, abs=1e-6)
    path.write_bytes(cut(path.read_bytes()))

    with pytest.raises(VectorFileError, match="vectors-1.1.faiss is truncated or unreadable"):
        read_mapped(path)
    with pytest.raises(VectorFileError, match="does not match its checksum"):
        check_file(path, sha256=digest)
