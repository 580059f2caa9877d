"""Incremental indexing with a fake embedder: what is re-embedded, removed, and kept."""

from __future__ import annotations

import os
import sqlite3

import pytest

from askseed import reports
from askseed.checksum import file_sha256
from askseed.engine import Engine
from askseed.errors import NoDocumentsError
from askseed.ingest import freshness, indexer
from askseed.ingest.dedup import NUM_BANDS
from askseed.ingest.indexer import update_index
from askseed.ingest.listing import iter_source_files
from askseed.store.reader import IndexReader, read_catalogue
from askseed.store.schema import PAGE_SIZE
from askseed.store.seen import SWEEP_MIN, sweep_bands
from old_index import as_version_5

ALPHA = "Alpha reactors run on thorium salt. They were first tested in the desert.\n"
BETA = "Beta gardens grow purple carrots in winter. Frost makes the carrots sweeter.\n"
GAMMA = "Gamma rays come from distant pulsars. Telescopes in orbit detect them.\n"


def write(folder, name, text):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


SHARED = "Thorium salt reactors were first tested in the desert long ago."


def write_a_shared_sentence(folder) -> str:
    """Two files that begin with the same sentence, which the later one drops as a duplicate
    (its key in dropped_keys); returns the sentence."""
    write(folder, "a_first.txt", f"{SHARED}\nA first file adds its own note here.\n")
    write(folder, "z_last.txt", f"{SHARED}\nThe last file also has its own note.\n")
    return SHARED


def write_a_binary_file(folder) -> None:
    """A file the indexer skips (a row in `skipped`)."""
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)


@pytest.fixture
def corpus(make_settings):
    settings = make_settings()
    write(settings.seeds, "alpha.txt", ALPHA)
    write(settings.seeds, "beta.md", BETA)
    write(settings.seeds, "sub/gamma.txt", GAMMA)
    return settings


def sources_in_index(settings) -> dict[str, int]:
    with IndexReader(settings.index) as reader:
        return {path: record.chunks for path, record in reader.files().items()}


def test_second_run_re_embeds_nothing(corpus, fake_embedder):
    first = update_index(corpus, fake_embedder)
    assert first.embedded_files == 3 and first.chunks == 3
    fake_embedder.encoded.clear()

    second = update_index(corpus, fake_embedder)

    assert second.embedded_files == 0 and fake_embedder.encoded == []
    assert "nothing re-embedded" in second.summary()


def test_editing_one_file_re_embeds_only_that_file(corpus, fake_embedder):
    update_index(corpus, fake_embedder)
    fake_embedder.encoded.clear()
    write(corpus.seeds, "beta.md", BETA + "\nPurple carrots need sandy soil.\n")

    report = update_index(corpus, fake_embedder)

    assert report.embedded_files == 1
    assert all("carrots" in text or "Frost" in text for text in fake_embedder.encoded)
    assert sources_in_index(corpus).keys() == {"alpha.txt", "beta.md", "sub/gamma.txt"}


def test_touching_a_file_without_changing_it_re_embeds_nothing(corpus, fake_embedder):
    update_index(corpus, fake_embedder)
    path = corpus.seeds / "alpha.txt"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    fake_embedder.encoded.clear()

    report = update_index(corpus, fake_embedder)

    assert report.embedded_files == 0 and fake_embedder.encoded == []
    assert Engine(corpus, embedder=fake_embedder).status().fresh


def test_an_edit_that_keeps_size_and_mtime_is_still_seen(corpus, fake_embedder):
    # `touch -r`, and sync tools that restore times: only the inode's change time moves.
    update_index(corpus, fake_embedder)
    path = corpus.seeds / "alpha.txt"
    before = path.stat()
    write(corpus.seeds, "alpha.txt", ALPHA.replace("thorium", "uranium"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size

    assert not Engine(corpus, embedder=fake_embedder).status().fresh
    fake_embedder.encoded.clear()
    assert update_index(corpus, fake_embedder).embedded_files == 1
    assert any("uranium" in text for text in fake_embedder.encoded)


def test_a_skipped_file_fixed_without_moving_size_or_mtime_is_read_again(corpus, fake_embedder):
    path = corpus.seeds / "notes.txt"
    fixed = "Delta kites fly best in steady coastal wind.\n"
    path.write_bytes(b"\x00" * len(fixed))  # binary: skipped
    assert update_index(corpus, fake_embedder).skipped_files == 1
    before = path.stat()
    path.write_text(fixed, encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))

    report = update_index(corpus, fake_embedder)

    assert report.skipped_files == 0 and "notes.txt" in sources_in_index(corpus)


def test_a_question_records_touched_files_so_the_next_hashes_nothing(
    corpus, fake_embedder, monkeypatch
):
    update_index(corpus, fake_embedder)
    path = corpus.seeds / "alpha.txt"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    engine = Engine(corpus, embedder=fake_embedder)
    assert engine.status().touched_files == 1  # its stat data moved: hashed at every check
    hashed = []
    monkeypatch.setattr(freshness, "file_sha256", lambda p: hashed.append(p) or file_sha256(p))
    fake_embedder.encoded.clear()

    result = engine.ensure_fresh()

    assert not result.refreshed and fake_embedder.encoded == []
    assert hashed == [path]  # by the check; recording it reuses that digest
    status = engine.status()
    assert status.fresh and status.touched_files == 0


def touch(path) -> None:
    """New dates, same content."""
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))


@pytest.mark.parametrize(("threshold", "said"), [(1, True), (10**9, False)])
def test_the_check_says_first_when_it_must_read_many_touched_files(
    corpus, fake_embedder, monkeypatch, threshold, said
):
    """A folder touched as a whole (a checkout, a copy without dates) is read file by file
    before the first answer: above HASHING_NOTICE_BYTES, that is said before it starts."""
    update_index(corpus, fake_embedder)
    for name in ("alpha.txt", "beta.md"):
        touch(corpus.seeds / name)
    monkeypatch.setattr(reports, "HASHING_NOTICE_BYTES", threshold)
    notices, hashed = [], []
    monkeypatch.setattr(
        freshness, "file_sha256", lambda p: hashed.append(notices[:]) or file_sha256(p)
    )

    result = Engine(corpus, embedder=fake_embedder).ensure_fresh(on_notice=notices.append)

    assert not result.refreshed
    size = sum((corpus.seeds / name).stat().st_size for name in ("alpha.txt", "beta.md"))
    if said:
        assert notices == [reports.hashing_notice(2, size)]
        assert hashed and all(seen == notices for seen in hashed)  # said before any read
        assert notices[0].startswith("2 files (0 MB) have new dates but the same sizes")
    else:
        assert notices == []


def test_the_plan_keeps_the_walks_order_and_counts_only_files_it_must_read(
    corpus, fake_embedder, monkeypatch
):
    update_index(corpus, fake_embedder)
    write(corpus.seeds, "alpha.txt", ALPHA.replace("a", "e"))  # same size, new content
    write(corpus.seeds, "beta.md", BETA + "More.\n")  # a new size: not read to compare
    write(corpus.seeds, "sub/gamma.txt", GAMMA.replace("a", "o"))
    told = []
    catalogue = read_catalogue(corpus.index)
    alpha = next(s for s in iter_source_files(corpus.seeds) if s.rel == "alpha.txt")

    plan = freshness.plan_update(
        corpus.seeds,
        catalogue.files,
        catalogue.skipped,
        hashed={alpha: "0" * 64},
        on_hashing=lambda files, size: told.append((files, size)),
    )

    assert [source.rel for source in plan.changed] == ["alpha.txt", "beta.md", "sub/gamma.txt"]
    assert told == [(1, (corpus.seeds / "sub/gamma.txt").stat().st_size)]  # alpha was hashed


def test_an_index_without_change_times_gains_them_without_re_embedding(corpus, fake_embedder):
    # As made by askseed before the files kept their change time: read as it is, then the
    # next writer adds the column and each file's time, after hashing it once.
    update_index(corpus, fake_embedder)
    with sqlite3.connect(corpus.index / "meta.sqlite") as db:
        db.execute("ALTER TABLE files DROP COLUMN ctime_ns")
    engine = Engine(corpus, embedder=fake_embedder)
    assert engine.status().fresh
    fake_embedder.encoded.clear()

    engine.ensure_fresh()

    assert fake_embedder.encoded == []
    with IndexReader(corpus.index) as reader:
        records = reader.files().values()
    assert len(records) == 3 and all(record.ctime_ns for record in records)


def test_an_index_of_version_5_is_read_and_updated_in_place(corpus, fake_embedder):
    # Version 6 changed how spans are stored and which tables have rowids, nothing a reader
    # of version 5's rows cannot follow: such an index is not rebuilt (re-embedded).
    shared = write_a_shared_sentence(corpus.seeds)
    write_a_binary_file(corpus.seeds)
    update_index(corpus, fake_embedder)
    with IndexReader(corpus.index) as reader:
        before = reader.chunks_by_id(list(range(1, 100)))
    as_version_5(corpus.index)
    with IndexReader(corpus.index) as reader:
        assert reader.manifest["schema_version"] == "5"
        assert reader.chunks_by_id(list(range(1, 100))) == before
    fake_embedder.encoded.clear()
    write(corpus.seeds, "beta.md", BETA + "\nPurple carrots need sandy soil.\n")
    (corpus.seeds / "a_first.txt").unlink()

    report = update_index(corpus, fake_embedder)

    # beta.md changed, and z_last.txt gets back the sentence it had dropped for a_first.txt.
    assert report.embedded_files == 2  # a rebuild would embed all five
    with IndexReader(corpus.index) as reader:
        assert reader.manifest["schema_version"] == "6"
        after = reader.chunks_by_id(list(range(1, 100)))
    kept = {key: chunk for key, chunk in before.items() if chunk.source in ("alpha.txt",)}
    assert kept and all(after[key] == chunk for key, chunk in kept.items())
    assert any(shared in chunk.text and chunk.source == "z_last.txt" for chunk in after.values())
    with sqlite3.connect(corpus.index / "meta.sqlite") as db:
        kinds = {kind for (kind,) in db.execute("SELECT DISTINCT typeof(sentences) FROM chunks")}
        skipped = db.execute("SELECT path FROM skipped").fetchall()
        assert db.execute("PRAGMA quick_check").fetchall() == [("ok",)]
    assert kinds == {"text", "blob"}
    assert skipped == [("binary.txt",)]  # remembered, so not read again


def test_deleting_a_file_removes_its_chunks(corpus, fake_embedder):
    update_index(corpus, fake_embedder)
    (corpus.seeds / "sub" / "gamma.txt").unlink()

    report = update_index(corpus, fake_embedder)

    assert report.removed_files == 1
    assert sources_in_index(corpus).keys() == {"alpha.txt", "beta.md"}
    with IndexReader(corpus.index) as reader:
        assert reader.vectors.count == reader.chunks == 2


def test_rebuild_re_embeds_everything(corpus, fake_embedder):
    update_index(corpus, fake_embedder)
    report = update_index(corpus, fake_embedder, rebuild=True)
    assert report.embedded_files == 3


def test_changed_chunk_settings_force_a_full_rebuild(corpus, fake_embedder):
    from dataclasses import replace

    update_index(corpus, fake_embedder)
    report = update_index(replace(corpus, chunk_tokens=64), fake_embedder)
    assert report.embedded_files == 3


def test_duplicate_sentences_across_files_are_kept_once_and_come_back(corpus, fake_embedder):
    shared = write_a_shared_sentence(corpus.seeds)
    report = update_index(corpus, fake_embedder)
    assert report.duplicates_dropped >= 1

    def holders():
        with IndexReader(corpus.index) as reader:
            hits = reader.chunks_by_id(list(range(1, 100)))
        return sorted({chunk.source for chunk in hits.values() if shared in chunk.text})

    assert holders() == ["a_first.txt"]
    (corpus.seeds / "a_first.txt").unlink()
    update_index(corpus, fake_embedder)
    assert holders() == ["z_last.txt"]


def test_an_index_with_a_row_in_every_table_passes_the_writers_check(corpus, fake_embedder):
    # The writer runs PRAGMA quick_check before each update and rebuilds an index that fails
    # it; SQLite 3.40's check misread a WITHOUT ROWID table whose key did not come first.
    write_a_shared_sentence(corpus.seeds)  # a row in dropped_keys
    write_a_binary_file(corpus.seeds)
    update_index(corpus, fake_embedder)
    write(corpus.seeds, "beta.md", BETA + "\nPurple carrots need sandy soil.\n")
    update_index(corpus, fake_embedder)  # a tombstone for beta.md's old chunk
    with sqlite3.connect(corpus.index / "meta.sqlite") as db:
        tables = [
            name for (name,) in db.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")
        ]
        empty = [name for name in tables if not db.execute(f"SELECT 1 FROM {name}").fetchone()]
        assert db.execute("PRAGMA quick_check").fetchall() == [("ok",)]
    assert empty == []
    fake_embedder.encoded.clear()
    assert update_index(corpus, fake_embedder).embedded_files == 0
    assert fake_embedder.encoded == []


def test_an_emptied_folder_keeps_the_old_index(corpus, fake_embedder):
    update_index(corpus, fake_embedder)
    for path in list(corpus.seeds.rglob("*.*")):
        path.unlink()

    with pytest.raises(NoDocumentsError):
        update_index(corpus, fake_embedder)

    assert len(sources_in_index(corpus)) == 3


def test_status_reports_stale_after_a_change(corpus, fake_embedder):
    engine = Engine(corpus, embedder=fake_embedder)
    assert not engine.status().exists
    engine.refresh()
    assert engine.status().fresh
    write(corpus.seeds, "new.txt", "A brand new file about volcanoes.\n")
    status = engine.status()
    assert not status.fresh and status.changed_files == 1


def table_counts(settings) -> dict[str, int]:
    queries = {
        table: f"SELECT count(*) FROM {table}" for table in ("chunks", "sentence_keys", "files")
    } | {
        "borrowing": "SELECT count(*) FROM chunks WHERE borrows_first",
        # A removed file's band rows stay until a sweep (store/seen.py): count the live ones.
        "sentence_bands": "SELECT count(*) FROM sentence_bands b "
        "JOIN sentence_keys k ON k.id = b.sentence_id",
    }
    with sqlite3.connect(settings.index / "meta.sqlite") as db:
        return {name: db.execute(sql).fetchone()[0] for name, sql in queries.items()}


def test_removing_and_re_adding_a_file_leaves_exactly_its_rows(make_settings, fake_embedder):
    # Long files of many chunks, so that rows of one file sit between rows of others and
    # chunks borrow their first sentence's vector from the chunk before.
    from dataclasses import replace

    settings = replace(make_settings(), chunk_tokens=60)
    for name in ("a.txt", "b.txt", "c.txt"):
        lines = [
            f"In file {name} sentence number {n} tells of river {n} and its fish."
            for n in range(30)
        ]
        write(settings.seeds, name, "\n".join(lines) + "\n")
    update_index(settings, fake_embedder)
    full = table_counts(settings)
    (settings.seeds / "b.txt").rename(settings.seeds / "b.keep")
    update_index(settings, fake_embedder)
    without = table_counts(settings)
    assert 0 < full["borrowing"] < full["chunks"]
    assert without["files"] == 2 and 0 < without["chunks"] < full["chunks"]
    assert 0 < without["sentence_bands"] < full["sentence_bands"]
    (settings.seeds / "b.keep").rename(settings.seeds / "b.txt")
    update_index(settings, fake_embedder)
    assert table_counts(settings) == full
    with IndexReader(settings.index) as reader:
        chunks = reader.chunks_by_id(list(range(1, 1000)))
        assert len(chunks) == full["chunks"] == reader.vectors.count
    for chunk in chunks.values():
        alone = fake_embedder.encode([chunk.sentence_text(s) for s in chunk.sentences])
        assert abs(chunk.sentence_vectors - alone).max() < 0.01


def test_a_later_file_reusing_a_removed_files_ids_is_not_taken_for_its_duplicate(
    make_settings, fake_embedder
):
    # The last file's keys hold the highest ids, which SQLite gives out again once they are
    # deleted; its band rows stay behind (store/seen.py) and now point at the new file's
    # sentences, whose signatures differ: a copy of the removed file must still be kept.
    long_beta = "Beta gardens in the northern valley grow purple carrots all through the winter.\n"
    long_gamma = "Gamma rays from distant spinning pulsars are seen by telescopes in high orbit.\n"
    settings = make_settings()
    write(settings.seeds, "a.txt", ALPHA)
    write(settings.seeds, "b.txt", long_beta)
    update_index(settings, fake_embedder)
    (settings.seeds / "b.txt").unlink()
    write(settings.seeds, "c.txt", long_gamma)
    update_index(settings, fake_embedder)
    with sqlite3.connect(settings.index / "meta.sqlite") as db:
        pointing = db.execute(
            "SELECT count(*) FROM sentence_bands b JOIN sentence_keys k ON k.id = b.sentence_id"
        ).fetchone()[0]
    assert pointing == 2 * NUM_BANDS  # c's own rows, and b's, now pointing at c's sentence
    write(settings.seeds, "d.txt", long_beta)
    update_index(settings, fake_embedder)
    with IndexReader(settings.index) as reader:
        chunks = reader.chunks_by_id(list(range(1, 100))).values()
        texts = " ".join(chunk.text for chunk in chunks if chunk.source == "d.txt")
    assert "purple carrots" in texts


@pytest.mark.parametrize(
    ("forgotten", "highest_id", "swept"),
    [
        (SWEEP_MIN - 1, 1, False),  # few: not worth a pass over the table
        (SWEEP_MIN, 100 * SWEEP_MIN, False),  # a small share of the ids given
        (SWEEP_MIN * 25, 100 * SWEEP_MIN, True),
        (SWEEP_MIN * 50, 100 * SWEEP_MIN, True),
    ],
)
def test_band_rows_of_removed_keys_are_swept_once_they_are_many(forgotten, highest_id, swept):
    db = sqlite3.connect(":memory:")
    db.executescript(
        "CREATE TABLE sentence_keys (id INTEGER PRIMARY KEY, key, file_id, signature);"
        "CREATE TABLE sentence_bands (band, sentence_id, PRIMARY KEY (band, sentence_id));"
    )
    db.execute("INSERT INTO sentence_keys (id, key, file_id) VALUES (?, 0, 1)", (highest_id,))
    db.executemany(
        "INSERT INTO sentence_bands VALUES (?, ?)", [(7, highest_id), (7, highest_id + 1)]
    )
    left = sweep_bands(db, forgotten)
    bands = [row[0] for row in db.execute("SELECT sentence_id FROM sentence_bands")]
    assert (left, bands) == ((0, [highest_id]) if swept else (forgotten, bands))
    assert len(bands) == (1 if swept else 2)


def test_a_build_gives_its_free_pages_back(make_settings, fake_embedder, monkeypatch):
    # Many small commits: FTS5 merges its segments and frees the pages of the old ones.
    monkeypatch.setattr(indexer, "COMMIT_CHUNKS", 2)
    settings = make_settings(chunk_tokens=14)
    for number in range(60):
        words = " ".join(f"word{number}x{line} appears in line {line}." for line in range(12))
        (settings.seeds / f"note{number}.txt").write_text(words, encoding="utf-8")
    update_index(settings, fake_embedder)
    for number in range(0, 60, 2):  # an update that removes half: more free pages
        (settings.seeds / f"note{number}.txt").unlink()
    update_index(settings, fake_embedder)
    with sqlite3.connect(settings.index / "meta.sqlite") as db:
        assert db.execute("PRAGMA auto_vacuum").fetchone() == (2,)  # incremental
        assert db.execute("PRAGMA page_size").fetchone() == (PAGE_SIZE,)
        assert db.execute("PRAGMA freelist_count").fetchone() == (0,)
