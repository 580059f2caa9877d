"""What the benchmarks share: where the repository and the shared data are, and how one whole
process is timed (the machine is shared, so every figure is a ratio measured in one run)."""

from __future__ import annotations

import sqlite3
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from askseed.query import alignment
from askseed.store.chunk_codec import chunk_query, decode_chunk
from askseed.store.schema import StoredChunk

if TYPE_CHECKING:
    from askseed.query.answer import Answer

REPO = Path(__file__).resolve().parent.parent
# The benchmark sets live beside the repository and are never copied into it.
DATA = REPO.parent / "shared" / "eval"
SCIFACT = DATA / "scifact"
SEED_QUESTION = "How many lupus patients went into remission?"


def ask_reading_alignment(engine, question: str) -> tuple[Answer, list[str]]:
    """engine.ask(question), and the sentences it read for their alignment with the question
    (none when its calibrator read none): the model pass the benchmarks time."""
    read: list[str] = []
    features = alignment.Aligner.features

    def record(self, sentences):
        read[:] = sentences
        return features(self, sentences)

    alignment.Aligner.features = record
    try:
        return engine.ask(question), read
    finally:
        alignment.Aligner.features = features


def run_timed(
    command: list[str],
    env: dict[str, str] | None = None,
    accept: tuple[int, ...] = (0,),
    timeout: float | None = None,
) -> tuple[float, subprocess.CompletedProcess]:
    """Wall seconds of one whole process, and what it printed; SystemExit when it fails."""
    started = time.perf_counter()
    done = subprocess.run(
        command, capture_output=True, env=env, cwd=REPO, text=True, timeout=timeout
    )
    seconds = time.perf_counter() - started
    if done.returncode not in accept:
        raise SystemExit(f"{' '.join(map(str, command[:3]))} failed: {done.stderr.strip()}")
    return seconds, done


def median_seconds(
    command: list[str], runs: int, env: dict[str, str] | None = None, accept=(0, 1)
) -> float:
    """Median wall time of `runs` fresh processes, after one untimed warm-up. Exit code 1 is
    accepted by default: it is askseed's "not answered", still a complete query."""
    run_timed(command, env, accept)
    return statistics.median(run_timed(command, env, accept)[0] for _ in range(runs))


def in_turns(
    commands: dict[str, tuple[list[str], dict[str, str] | None]],
    runs: int,
    timeout: float | None = None,
    check: Callable[[str, subprocess.CompletedProcess], None] | None = None,
) -> dict[str, float]:
    """Median wall seconds of each named (command, env), run in turns `runs` times after one
    untimed round that warms the caches, so that the machine's load hits every command alike.
    Exit code 1 is accepted: it is askseed's "not answered", still a complete query."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for attempt in range(runs + 1):
        for name, (command, env) in commands.items():
            seconds, done = run_timed(command, env, accept=(0, 1), timeout=timeout)
            if check is not None:
                check(name, done)
            if attempt:
                times[name].append(seconds)
    return {name: statistics.median(values) for name, values in times.items()}


def stored_chunks(db: sqlite3.Connection, dim: int) -> Iterator[StoredChunk]:
    """Every chunk of an index of this tree's format, decoded, a few hundred rows at a time."""
    db.row_factory = sqlite3.Row
    ids = [row[0] for row in db.execute("SELECT id FROM chunks")]
    for start in range(0, len(ids), 500):
        batch = ids[start : start + 500]
        for row in db.execute(chunk_query(len(batch)), batch):
            yield decode_chunk(row, dim)
