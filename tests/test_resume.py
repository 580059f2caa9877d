"""A first build commits in batches: killed between two, it resumes where it stopped.

The build runs in a subprocess with the fake embedder and stops at a named point (see
test_crash.py, whose helpers these are), here just after a batch commit. The files that
commit holds must not be embedded again by the next `askseed index`, and a reader opened at
that moment sees a consistent index of exactly those files.
"""

from __future__ import annotations

import random
import time

import pytest

from askseed.config import Settings
from askseed.engine import Engine
from askseed.ingest import indexer
from askseed.ingest.indexer import update_index
from askseed.store.reader import IndexReader
from askseed.store.writer import IndexWriter
from askseed.ui import cli
from conftest import FakeEmbedder
from test_crash import SEED, filler, kill, named_files, paused, vector_files, write_folder

FILES = 12
COMMIT_CHUNKS = 4  # with test_crash's EMBED_BATCH of 2: a commit every two or three files


def committed_chunks(index) -> dict[str, list[str]]:
    with IndexReader(index) as reader:
        files = reader.files()
        chunks = reader.chunks_by_id(list(range(1, 1000)))
    assert sum(record.chunks for record in files.values()) == len(chunks)
    by_file: dict[str, list[str]] = {path: [] for path in files}
    for chunk in chunks.values():
        by_file[chunk.source].append(chunk.text)
    return by_file


def test_a_killed_first_build_does_not_embed_committed_files_again(tmp_path, monkeypatch):
    rng = random.Random(SEED)
    documents = {f"notes/file-{n:02}.txt": filler(rng, 8) for n in range(FILES)}
    write_folder(tmp_path / "docs", documents)

    process = paused(tmp_path, "cleaned:2", commit_chunks=COMMIT_CHUNKS)  # after two commits
    try:
        # A reader at this moment sees the files of the second commit, whole, and answers.
        committed = committed_chunks(tmp_path / "index")
        assert 0 < len(committed) < FILES
        settings = Settings(seeds=tmp_path / "docs", index=tmp_path / "index")
        engine = Engine(settings, embedder=FakeEmbedder())
        hits = engine.ask("lantern meadow copper").passages
        assert hits and {hit.source for hit in hits} <= committed.keys()
        engine.close()
    finally:
        kill(process)

    embedder = FakeEmbedder()
    monkeypatch.setattr(cli, "_make_engine", lambda s: Engine(s, embedder=embedder))
    location = ["--seeds", str(tmp_path / "docs"), "--index", str(tmp_path / "index")]
    assert cli.main(["index", *location]) == 0
    embedded = embedder.encoded
    assert embedded, "the rest of the build"
    for texts in committed.values():
        for text in texts:
            assert not any(text in again for again in embedded), text
    final = committed_chunks(tmp_path / "index")
    assert final.keys() == set(documents)
    for path, texts in committed.items():
        assert final[path] == texts


class Clock:
    """What _time_to_commit reads of a writer."""

    def __init__(self, pending: int, since: float, last_save: float):
        self.pending_chunks = pending
        self.last_commit_at = time.monotonic() - since
        self.last_save_seconds = last_save


@pytest.mark.parametrize(
    ("pending", "since", "last_save", "commit"),
    [
        (10, 1.0, 0.0, False),  # neither enough chunks nor enough time
        (4096, 1.0, 0.0, True),  # enough chunks
        (10, 61.0, 0.0, True),  # a minute
        (4096, 1.0, 0.5, False),  # a large vectors file: wait 10 x its last save
        (4096, 6.0, 0.5, True),
        (10, 61.0, 7.0, False),
    ],
)
def test_when_a_batch_is_committed(pending, since, last_save, commit):
    assert indexer._time_to_commit(Clock(pending, since, last_save)) is commit


def test_a_checkpoint_is_a_whole_index_and_frees_the_waiting_vectors(
    make_settings, fake_embedder, monkeypatch
):
    monkeypatch.setattr(indexer, "EMBED_BATCH", 1)
    monkeypatch.setattr(indexer, "COMMIT_CHUNKS", 1)
    monkeypatch.setattr(indexer, "SAVE_SHARE", 0)
    settings = make_settings()
    for number in range(5):
        (settings.seeds / f"{number}.txt").write_text(f"Note {number} about ferries.\n")
    seen: list[tuple[int, bool, int]] = []  # (files a reader sees, files named, pending)
    checkpoint = IndexWriter.checkpoint

    def watched(writer):
        checkpoint(writer)
        with IndexReader(settings.index) as reader:
            seen.append(
                (
                    len(reader.files()),
                    vector_files(settings.index) == named_files(settings.index),
                    writer.pending_chunks,
                )
            )

    monkeypatch.setattr(IndexWriter, "checkpoint", watched)
    report = update_index(settings, fake_embedder)
    assert report.files == 5
    assert seen == [(n, True, 0) for n in range(1, 5)]  # the fifth is the final commit
