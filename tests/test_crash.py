"""Crash safety: `askseed index` killed at any moment leaves the previous index intact.

The indexer runs in a subprocess (this file, run as a script: see the bottom) with the fake
embedder, and stops at named points of its run so a kill lands exactly there: while reading,
between embedding batches, with the new vectors file half written or written but not yet
committed, and after the commit but before the old vectors are cleaned up. Points are picked
at random with a fixed seed from every point one full run passes, plus kills at random times.
The hooks are plain monkeypatches in the subprocess: askseed itself has no test switches.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

SEED = 20240601
KILLS_AT_POINTS = 10
KILLS_AT_TIMES = 3
QUESTIONS = (
    "When does the island ferry leave the harbour?",
    "Which days is the village library open?",
    "What does the bakery sell on Sundays?",
)
BEFORE = {
    "ferry.txt": "The island ferry leaves the harbour at nine every morning. Tickets are sold "
    "on board.\n",
    "library.md": "# Library\n\nThe village library opens on Tuesday and Friday afternoons.\n",
    "bakery.txt": "The bakery sells rye bread on Sundays only. It closes at noon.\n",
}
AFTER = {
    "ferry.txt": "The island ferry now leaves the harbour at eleven every morning. Tickets are "
    "sold on board.\n",
    "library.md": BEFORE["library.md"],
    "market/stalls.txt": "On Sundays the bakery stall sells honey cake and rye bread at the "
    "market.\n",
}
# Filler text: nine random words a sentence, from a vocabulary the questions do not use.
WORDS = (
    ("river", "stone", "lantern", "meadow", "copper", "harvest", "orchard", "beacon"),
    ("pebble", "willow", "granite", "thistle", "compass", "ember", "falcon", "hollow"),
    ("juniper", "kettle", "ledger", "mosaic", "nettle", "quarry", "rafter", "saddle"),
)


def filler(rng: random.Random, sentences: int) -> str:
    return " ".join(
        " ".join(rng.choice(rng.choice(WORDS)) for _ in range(9)).capitalize() + "."
        for _ in range(sentences)
    )


def write_folder(folder: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """`before/` (documents and index) and `after/` (documents): an update of many files."""
    rng = random.Random(SEED)
    fillers = {f"notes/filler-{n}.txt": filler(rng, 6) for n in range(8)}
    before = {**BEFORE, **fillers}
    after = {**AFTER, **fillers}
    for rel in ("notes/filler-1.txt", "notes/filler-4.txt"):
        after[rel] = filler(rng, 6)  # changed
    del after["notes/filler-6.txt"]  # removed
    after.update({f"new/filler-{n}.txt": filler(rng, 5) for n in range(3)})  # added
    root = tmp_path_factory.mktemp("crash")
    write_folder(root / "before" / "docs", before)
    write_folder(root / "after" / "docs", after)
    from askseed.config import Settings
    from askseed.ingest.indexer import update_index
    from conftest import FakeEmbedder

    update_index(
        Settings(seeds=root / "before" / "docs", index=root / "before" / "index"), FakeEmbedder()
    )
    return root


def trial(corpus: Path, name: str) -> Path:
    """A fresh copy of the old index next to the new documents: an update about to run."""
    folder = corpus / "trials" / name
    shutil.copytree(corpus / "before" / "index", folder / "index")
    shutil.copytree(corpus / "after" / "docs", folder / "docs")  # copy2 keeps mtimes
    return folder


def start_indexer(
    folder: Path,
    pause_at: str = "",
    trace: Path | None = None,
    commit_chunks: int = 0,
    merge_factor: int = 0,
):
    env = {
        **os.environ,
        "CRASH_PAUSE_AT": pause_at,
        "CRASH_TRACE": str(trace or ""),
        "CRASH_COMMIT_CHUNKS": str(commit_chunks or ""),
        "CRASH_MERGE_FACTOR": str(merge_factor or ""),
    }
    argv = ["index", "--seeds", str(folder / "docs"), "--index", str(folder / "index")]
    return subprocess.Popen(
        [sys.executable, __file__, *argv],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)


def paused(
    folder: Path, point: str, commit_chunks: int = 0, merge_factor: int = 0
) -> subprocess.Popen:
    process = start_indexer(
        folder, pause_at=point, commit_chunks=commit_chunks, merge_factor=merge_factor
    )
    reached = process.stdout.readline().strip()  # printed when it stops at the point
    if reached != point:
        _, err = process.communicate(timeout=60)
        pytest.fail(f"the indexer never reached {point}: {err}")
    return process


def state(folder: Path) -> tuple[frozenset, tuple]:
    """What the index holds (file digests) and what it answers (top source and quote)."""
    from askseed.config import Settings
    from askseed.engine import Engine
    from askseed.store.reader import IndexReader
    from conftest import FakeEmbedder

    with IndexReader(folder / "index") as reader:
        files = frozenset((rel, record.sha256) for rel, record in reader.files().items())
    engine = Engine(Settings(seeds=folder / "docs", index=folder / "index"), FakeEmbedder())
    try:
        answers = tuple(
            (top.source, top.quote) for top in (engine.ask(q).passages[0] for q in QUESTIONS)
        )
    finally:
        engine.close()
    return files, answers


def named_files(index: Path) -> set[str]:
    """The vector files the committed snapshot names (segments, IVF companions, template)."""
    import sqlite3

    conn = sqlite3.connect(index / "meta.sqlite")
    try:
        rows = conn.execute("SELECT name, approximate FROM vector_segments").fetchall()
        rows += conn.execute("SELECT value, NULL FROM manifest WHERE key = ?", (TEMPLATE,))
    finally:
        conn.close()
    return {name for row in rows for name in row if name}


TEMPLATE = "approximate_template"


def vector_files(index: Path) -> set[str]:
    return {path.name for path in index.glob("vectors-*")}


def cli_with_fake_embedder(folder: Path, *argv: str) -> int:
    """cli.main in this process, on the trial's folders, with the fake embedder."""
    from askseed.engine import Engine
    from askseed.ui import cli
    from conftest import FakeEmbedder

    original = cli._make_engine
    cli._make_engine = lambda settings: Engine(settings, embedder=FakeEmbedder())
    try:
        location = ["--seeds", str(folder / "docs"), "--index", str(folder / "index")]
        return cli.main([*argv, *location])
    finally:
        cli._make_engine = original


def complete_update(folder: Path) -> int:
    return cli_with_fake_embedder(folder, "index")


@pytest.fixture(scope="module")
def full_run(corpus):
    """One uninterrupted update, traced: every point it passes, with its time, and the result."""
    folder = trial(corpus, "traced")
    trace = folder / "trace.txt"
    started = time.monotonic()
    process = start_indexer(folder, trace=trace)
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    points = [line.split() for line in trace.read_text().splitlines()]
    timeline = [(point, float(at) - started) for point, at in points]
    return timeline, time.monotonic() - started, state(folder)


def test_the_update_changes_the_answers(corpus, full_run):
    before = state(corpus / "before")
    *_, after = full_run
    (ferry_before, library_before, bakery_before) = before[1]
    (ferry_after, library_after, bakery_after) = after[1]
    assert "nine" in ferry_before[1] and "eleven" in ferry_after[1]
    assert library_before == library_after
    assert bakery_before[0] == "bakery.txt" and bakery_after[0] == "market/stalls.txt"


def kill_plan(timeline: list[tuple[str, float]], duration: float) -> list[tuple[str, object]]:
    """Points to kill at, picked at random with a fixed seed, always including those that
    matter most (mid-embedding, vectors half and fully written, committed but not cleaned
    up); then moments in seconds from the start."""
    rng = random.Random(SEED)
    points = [point for point, _ in timeline]
    embeds = [point for point in points if point.startswith("embed:")]
    must = [embeds[len(embeds) // 2], "vectors-tmp:1", "vectors-saved:1", "committed:1"]
    others = [point for point in points if point not in must]
    chosen = must + rng.sample(others, KILLS_AT_POINTS - len(must))
    first_read = next(at for point, at in timeline if point.startswith("read:"))
    moments = [rng.uniform(first_read, duration) for _ in range(KILLS_AT_TIMES)]
    return [("point", point) for point in chosen] + [("time", moment) for moment in moments]


def test_killing_the_indexer_anywhere_keeps_a_usable_index(corpus, full_run):
    timeline, duration, after = full_run
    before = state(corpus / "before")
    commit_at = [point for point, _ in timeline].index("committed:1")
    order = {point: position for position, (point, _) in enumerate(timeline)}
    plan = kill_plan(timeline, duration)
    assert len(plan) >= 10
    for number, (kind, where) in enumerate(plan):
        folder = trial(corpus, f"kill-{number}")
        if kind == "point":
            process = paused(folder, where)
        else:
            process = start_indexer(folder)
            time.sleep(where)
        kill(process)

        found = state(folder)  # loads, and answers

        if kind == "point":
            expected = after if order[where] >= commit_at else before
            assert found == expected, where
        else:
            assert found in (before, after), f"killed after {where:.2f}s: a mix"
        assert complete_update(folder) == 0
        assert state(folder) == after, (kind, where)
        assert vector_files(folder / "index") == named_files(folder / "index")


def test_a_question_during_an_update_is_answered_from_the_old_or_the_new_index(
    corpus, full_run, capsys
):
    *_, after = full_run
    before = state(corpus / "before")
    for point, expected in (
        ("embed:1", before),
        ("vectors-saved:1", before),
        ("committed:1", after),
    ):
        folder = trial(corpus, f"ask-during-{point}")
        process = paused(folder, point)
        try:
            assert state(folder) == expected, point
            code = cli_with_fake_embedder(folder, QUESTIONS[0])
        finally:
            kill(process)
        err = capsys.readouterr().err
        assert code == 0, err
        if expected is before:
            assert "another process is updating the index; answering from the current one" in err


def test_a_second_indexer_exits_with_a_clear_message(corpus, capsys):
    folder = trial(corpus, "two-at-once")
    process = paused(folder, "embed:1")
    try:
        code = complete_update(folder)
    finally:
        kill(process)
    err = capsys.readouterr().err
    assert code == 2
    assert err == (
        f"askseed: error: another askseed is updating the index in {folder / 'index'}; "
        "wait for it to finish\n"
    )
    assert complete_update(folder) == 0  # and once it is gone, the update goes through


def test_an_open_reader_keeps_its_snapshot_while_an_update_commits(corpus, fake_embedder):
    """The old vectors file is deleted under a reader that has it open: it keeps answering
    from the old index, and a reader opened afterwards sees only the new one."""
    from askseed.config import Settings
    from askseed.ingest.indexer import update_index
    from askseed.store.reader import IndexReader

    folder = trial(corpus, "snapshot")
    old_reader = IndexReader(folder / "index")
    old_files = old_reader.files()
    old_names = named_files(folder / "index")
    try:
        update_index(Settings(seeds=folder / "docs", index=folder / "index"), fake_embedder)
        # The update added a segment and tombstoned the changed files' chunks; merged inputs
        # and replaced files are deleted, but the reader's snapshot still searches the old.
        assert named_files(folder / "index") != old_names
        assert old_reader.files() == old_files
        query = fake_embedder.encode([QUESTIONS[0]])
        [hits] = old_reader.search(query, 3)
        chunks = old_reader.chunks_by_id([chunk_id for chunk_id, _ in hits])
        assert len(chunks) == len(hits) == 3  # every id the old vectors give is an old chunk
        assert chunks[hits[0][0]].source == "ferry.txt"
        assert "nine" in chunks[hits[0][0]].text
    finally:
        old_reader.close()
    with IndexReader(folder / "index") as new_reader:
        assert new_reader.files().keys() != old_files.keys()


# --- the subprocess --------------------------------------------------------------------------


def run_indexer_with_hooks(argv: list[str]) -> int:
    """`askseed index` with the fake embedder, pausing at CRASH_PAUSE_AT ("stage:n") and
    writing every point passed to CRASH_TRACE."""
    import faiss

    from askseed.engine import Engine
    from askseed.ingest import indexer
    from askseed.store import approximate
    from askseed.store import segments as store_segments
    from askseed.store import writer as store_writer
    from askseed.ui import cli
    from conftest import FakeEmbedder

    pause_at = os.environ.get("CRASH_PAUSE_AT", "")
    trace_path = os.environ.get("CRASH_TRACE", "")
    passed: Counter[str] = Counter()

    def reached(stage: str) -> None:
        passed[stage] += 1
        point = f"{stage}:{passed[stage]}"
        if trace_path:
            with open(trace_path, "a") as trace:
                trace.write(f"{point} {time.monotonic()}\n")
        if point == pause_at:
            print(point, flush=True)
            time.sleep(600)  # until killed

    def hooked(stage: str, function, after: bool = False):
        def call(*args, **kwargs):
            if not after:
                reached(stage)
            result = function(*args, **kwargs)
            if after:
                reached(stage)
            return result

        return call

    embedder = FakeEmbedder()
    embedder.encode = hooked("embed", embedder.encode)
    embedder.encode_spans = hooked("embed", embedder.encode_spans)
    indexer.EMBED_BATCH = 2  # many small batches: many points between them
    if os.environ.get("CRASH_COMMIT_CHUNKS"):  # commits between batches (test_resume.py)
        indexer.COMMIT_CHUNKS = int(os.environ["CRASH_COMMIT_CHUNKS"])
        indexer.SAVE_SHARE = 0  # every COMMIT_CHUNKS chunks, however fast the vectors save
    if os.environ.get("CRASH_MERGE_FACTOR"):  # small segments merged early and often
        store_segments.MERGE_FACTOR = int(os.environ["CRASH_MERGE_FACTOR"])
        store_segments.BASE_SEGMENT_VECTORS = 4
        # ...and an IVF trained and built for them as soon as there are a few.
        approximate.MIN_CHUNKS, approximate.MIN_SEGMENT_VECTORS = 8, 4
    approximate.train = hooked("ivf-trained", approximate.train, after=True)
    approximate.build = hooked("ivf-built", approximate.build, after=True)
    indexer.read_document = hooked("read", indexer.read_document)
    store_writer.IndexWriter.finish_file = hooked(
        "stored", store_writer.IndexWriter.finish_file, after=True
    )
    faiss.write_index = hooked("vectors-tmp", faiss.write_index, after=True)
    store_segments.write_flat = hooked("vectors-saved", store_segments.write_flat, after=True)
    # Inside a merge: as each input starts to be read, and once the merged file is written.
    store_segments.live_slices = hooked("merge-read", store_segments.live_slices)
    store_segments.merge_segments = hooked("merged", store_segments.merge_segments, after=True)
    cleanup = store_writer.remove_stale_files
    store_writer.remove_stale_files = hooked("cleaned", hooked("committed", cleanup), after=True)
    cli._make_engine = lambda settings: Engine(settings, embedder=embedder)
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(run_indexer_with_hooks(sys.argv[1:]))
