"""Vector segments: a commit appends one, removals are tombstones, merges are tiered and
bounded, and a build killed in the middle of a merge keeps a usable index."""

from __future__ import annotations

import random

import numpy as np
import pytest

from askseed.config import Settings
from askseed.ingest import indexer
from askseed.ingest.indexer import update_index
from askseed.store import segments
from askseed.store.reader import IndexReader
from conftest import FakeEmbedder
from test_crash import SEED, filler, kill, named_files, paused, vector_files, write_folder


@pytest.mark.parametrize(
    ("live", "merge"),
    [
        ([], None),
        ([(4096, 0)] * 3, None),  # three of a tier: not yet
        ([(4096, 0)] * 4, (0, 4)),
        ([(16384, 0), (4096, 0), (4096, 0), (4096, 0), (4096, 0)], (1, 5)),  # the newest run
        ([(4096, 0), (16384, 0), (4096, 0), (4096, 0)], None),  # not neighbours
        ([(65536, 0)] * 4, None),  # 262,144 would exceed MAX_SEGMENT_VECTORS
        ([(65536, 0), (4096, 2048)], (1, 2)),  # half tombstones: rewritten alone
        ([(65536, 16384), (4096, 0)], (0, 1)),  # a quarter
        ([(65536, 16383)], None),
        ([(4096, 100)] * 4, (0, 4)),  # tiers count live vectors
    ],
)
def test_which_segments_merge(live, merge):
    assert segments.plan_merge(live) == merge


def assert_exact(reader: IndexReader, vectors: dict[int, np.ndarray], query: np.ndarray, hits):
    """`hits` are the best of the chunks the snapshot holds, scored on their stored 8-bit
    codes (brute force over every chunk's decoded vector), and close to the float32 cosines.
    Compared by score: the fake embedder's bags of words tie often."""
    decoded = reader.similarities(query, list(vectors))
    assert decoded.keys() == vectors.keys()
    best = sorted(decoded.values(), reverse=True)[: len(hits)]
    assert [s for _, s in hits] == pytest.approx(best, abs=1e-5)
    for chunk_id, score in hits:
        assert score == pytest.approx(decoded[chunk_id], abs=1e-5)
        assert score == pytest.approx(float(vectors[chunk_id] @ query), abs=1e-2)


@pytest.fixture
def small_segments(monkeypatch):
    """A commit every chunk or two, and merges of every two neighbouring segments."""
    monkeypatch.setattr(indexer, "EMBED_BATCH", 1)
    monkeypatch.setattr(indexer, "COMMIT_CHUNKS", 1)
    monkeypatch.setattr(indexer, "SAVE_SHARE", 0)
    monkeypatch.setattr(segments, "BASE_SEGMENT_VECTORS", 2)
    monkeypatch.setattr(segments, "MERGE_FACTOR", 2)


def test_segments_merge_and_tombstones_hide_removed_chunks(tmp_path, small_segments):
    rng = random.Random(SEED)
    documents = {f"notes/{n:02}.txt": filler(rng, 6) for n in range(16)}
    write_folder(tmp_path / "docs", documents)
    settings = Settings(seeds=tmp_path / "docs", index=tmp_path / "index")
    embedder = FakeEmbedder()
    update_index(settings, embedder)
    for n in range(0, 16, 3):  # a third of the files change: their old chunks are tombstoned
        (tmp_path / "docs" / f"notes/{n:02}.txt").write_text(filler(rng, 6))
    (tmp_path / "docs" / "notes/01.txt").unlink()
    update_index(settings, embedder)

    with IndexReader(settings.index) as reader:
        chunks = reader.chunks_by_id(list(range(1, 1000)))
        stored = dict(zip(chunks, embedder.encode([c.text for c in chunks.values()]), strict=True))
        named = reader.vectors
        assert len(named._segments) < 16  # merged
        assert reader.vectors.count == len(chunks) == reader.chunks
        for query in ("lantern meadow copper", "juniper kettle", "granite falcon ember"):
            vector = embedder.encode([query])[0]
            [hits] = reader.search(vector.reshape(1, -1), 10, mode="exact")
            assert len(hits) == 10
            assert_exact(reader, stored, vector, hits)
            assert {i for i, _ in hits} <= chunks.keys()  # nothing tombstoned
    assert vector_files(settings.index) == named_files(settings.index)


# Inside merges, and while the IVF is trained and built for the merged segments.
MERGE_KILLS = [
    "merge-read:1",
    "merge-read:3",
    "merged:1",
    "merged:2",
    "ivf-trained:1",
    "ivf-built:1",
]


@pytest.mark.parametrize("point", MERGE_KILLS)
def test_a_build_killed_during_a_merge_resumes_to_the_same_index(tmp_path, point, monkeypatch):
    rng = random.Random(SEED)
    documents = {f"notes/file-{n:02}.txt": filler(rng, 8) for n in range(10)}
    write_folder(tmp_path / "docs", documents)
    process = paused(tmp_path, point, commit_chunks=2, merge_factor=2)
    kill(process)
    index = tmp_path / "index"
    try:  # the last commit before the merge, whole, or no index yet
        with IndexReader(index) as reader:
            held = reader.files()
            assert reader.vectors.count == reader.chunks == sum(r.chunks for r in held.values())
    except Exception as error:  # noqa: BLE001 - only "no index yet" is acceptable
        assert "run `askseed index` first" in str(error), error

    from askseed.engine import Engine
    from askseed.store import approximate
    from askseed.ui import cli

    # The resumed build merges and builds the IVF as the killed one did (test_crash.py).
    monkeypatch.setattr(segments, "MERGE_FACTOR", 2)
    monkeypatch.setattr(segments, "BASE_SEGMENT_VECTORS", 4)
    monkeypatch.setattr(approximate, "MIN_CHUNKS", 8)
    monkeypatch.setattr(approximate, "MIN_SEGMENT_VECTORS", 4)
    original = cli._make_engine
    cli._make_engine = lambda settings: Engine(settings, embedder=FakeEmbedder())
    try:
        assert cli.main(["index", "--seeds", str(tmp_path / "docs"), "--index", str(index)]) == 0
    finally:
        cli._make_engine = original
    embedder = FakeEmbedder()
    with IndexReader(index) as reader:
        assert set(reader.files()) == set(documents)
        chunks = reader.chunks_by_id(list(range(1, 1000)))
        assert reader.vectors.count == len(chunks)
        stored = dict(zip(chunks, embedder.encode([c.text for c in chunks.values()]), strict=True))
        vector = embedder.encode(["lantern meadow copper"])[0]
        [hits] = reader.search(vector.reshape(1, -1), 5, mode="exact")
        assert_exact(reader, stored, vector, hits)
        assert reader.has_approximate
        [approximate_hits] = reader.search(vector.reshape(1, -1), 5)
        assert_exact(reader, stored, vector, approximate_hits)  # rescored from the same codes
    assert vector_files(index) == named_files(index)


def _ivf_settings(monkeypatch) -> None:
    """test_crash.py's subprocess settings for merges and the IVF, in this process."""
    from askseed.store import approximate

    monkeypatch.setattr(indexer, "EMBED_BATCH", 2)
    monkeypatch.setattr(indexer, "COMMIT_CHUNKS", 2)
    monkeypatch.setattr(indexer, "SAVE_SHARE", 0)
    monkeypatch.setattr(segments, "MERGE_FACTOR", 2)
    monkeypatch.setattr(segments, "BASE_SEGMENT_VECTORS", 4)
    monkeypatch.setattr(approximate, "MIN_CHUNKS", 8)
    monkeypatch.setattr(approximate, "MIN_SEGMENT_VECTORS", 4)


@pytest.mark.parametrize("point", ["ivf-trained:1", "ivf-built:1"])
def test_a_build_killed_while_replacing_an_old_format_ivf_keeps_the_old_snapshot(
    tmp_path, point, monkeypatch
):
    """`askseed index` on an index whose IVF has the old format (format 1: 8-bit codes) trains
    a new one in its commit; killed in the middle, the index is the old snapshot, searched
    exactly; the next run finishes the new IVF and deletes every file left behind."""
    import sqlite3

    from askseed.store import approximate

    _ivf_settings(monkeypatch)
    rng = random.Random(SEED)
    documents = {f"notes/file-{n:02}.txt": filler(rng, 8) for n in range(10)}
    write_folder(tmp_path / "docs", documents)
    settings = Settings(seeds=tmp_path / "docs", index=tmp_path / "index")
    update_index(settings, FakeEmbedder())
    conn = sqlite3.connect(settings.index / "meta.sqlite")
    with conn:
        conn.execute("DELETE FROM manifest WHERE key = 'approximate_format'")
    conn.close()
    old_files = named_files(settings.index)

    kill(paused(tmp_path, point, commit_chunks=2, merge_factor=2))
    embedder = FakeEmbedder()
    vector = embedder.encode(["lantern meadow copper"])
    with IndexReader(settings.index) as reader:
        assert "approximate_format" not in reader.manifest
        assert not reader.has_approximate
        assert reader.search(vector, 5) == reader.search(vector, 5, mode="exact")
    assert named_files(settings.index) == old_files

    assert update_index(settings, embedder).embedded_files == 0
    with IndexReader(settings.index) as reader:
        assert reader.manifest["approximate_format"] == approximate.FORMAT
        assert reader.has_approximate
        [approx] = reader.search(vector, 5, mode="approximate")
        [exact] = reader.search(vector, 5, mode="exact")
        assert {i for i, _ in approx} == {i for i, _ in exact}
    assert vector_files(settings.index) == named_files(settings.index)
    assert not {name for name in old_files if name.endswith(".ivf")} & named_files(settings.index)


def test_a_file_removed_before_its_vectors_are_written_needs_no_tombstone(tmp_path):
    # Its vectors are still waiting in memory: they are dropped there, and the tombstone table,
    # made by its first row, is not needed (nor touched: it does not exist yet).
    from askseed.store.schema import ChunkRow, FileRecord, SentenceSpan
    from askseed.store.writer import IndexWriter

    row = ChunkRow("A note.", 0, 7, 1, 1, (SentenceSpan(0, 7, 0, 7, 1, 1),), np.ones((1, 4)))
    with IndexWriter(tmp_path / "index", "fingerprint", {}, dim=4) as writer:
        for path in ("kept.txt", "gone.txt"):
            file_id, _ = writer.begin_file(FileRecord(path, 7, 1, "00" * 32, ctime_ns=1))
            writer.finish_file(file_id, [row], np.ones((1, 4), dtype=np.float32), [])
        assert writer.remove_file("gone.txt") == [2]
        writer.commit()
    with IndexReader(tmp_path / "index") as reader:
        assert set(reader.files()) == {"kept.txt"}
        assert reader.vectors.count == reader.chunks == 1
