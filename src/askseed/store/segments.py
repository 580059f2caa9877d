"""Writing the vectors: a new segment per commit, tombstones, and bounded merges.

A commit writes only its new vectors, as one segment file, and records it in the table
`vector_segments` of the same SQLite commit that stores the chunks; a removed chunk's id goes
into `vector_tombstones` in that commit too. So what the writer holds in memory is the
vectors waiting for the next commit and, while merging, one output segment of at most
MAX_SEGMENT_VECTORS: never the whole index (BENCHMARKS.md, "Vector segments").

Merging is tiered, as in a log-structured merge tree: a segment's tier is how many times
MERGE_FACTOR its size is that of a batch; MERGE_FACTOR neighbouring segments of one tier are
merged into one of the next, unless that would exceed MAX_SEGMENT_VECTORS; a segment more than
a quarter tombstones is rewritten alone. Segments hold ascending, disjoint ranges of chunk ids
(ids only grow, and only neighbours merge), so a chunk's segment is found by bisection.
A merge's inputs are deleted only after the commit that stops naming them, as every stale file.
"""

from __future__ import annotations

import math
import sqlite3
import time
from pathlib import Path

import numpy as np

from askseed.store import approximate, probing
from askseed.store.codes import ValueRange
from askseed.store.schema import create_on_demand, has_table
from askseed.store.vectors import (
    Segment,
    VectorFileError,
    check_file,
    live_slices,
    write_flat,
    write_index,
)

# A batch commit's segment is the unit of the tiers (the indexer commits every 4,096 chunks).
BASE_SEGMENT_VECTORS = 4096
MERGE_FACTOR = 4
# A merged segment is built in memory: 131,072 vectors of 384 8-bit codes are 50 MB (and its
# IVF companion 5 MB more), whatever the size of the index.
MAX_SEGMENT_VECTORS = 131_072

# A segment this much tombstones is rewritten without them: FAISS's ID selector that skips
# them doubles the CPU time of an exact search once a tenth of a segment is tombstoned
# (BENCHMARKS.md, "Vector segments and approximate search").
COMPACT_SHARE = 0.25

SEGMENT_COLUMNS = (
    "name",
    "vectors",
    "first_id",
    "last_id",
    "size",
    "sha256",
    "approximate",
    "approximate_size",
    "approximate_sha256",
)


def read_segments(conn: sqlite3.Connection) -> list[Segment]:
    rows = conn.execute(
        f"SELECT {', '.join(SEGMENT_COLUMNS)} FROM vector_segments ORDER BY first_id"
    )
    return [Segment(*row) for row in rows]


def read_tombstones(conn: sqlite3.Connection) -> dict[str, np.ndarray]:
    """Tombstoned chunk ids by segment name."""
    if not has_table(conn, "vector_tombstones"):
        return {}
    dead: dict[str, list[int]] = {}
    for chunk_id, segment in conn.execute("SELECT chunk_id, segment FROM vector_tombstones"):
        dead.setdefault(segment, []).append(chunk_id)
    return {name: np.asarray(ids, dtype=np.int64) for name, ids in dead.items()}


def tier(vectors: int) -> int:
    return max(0, int(math.log(max(vectors, 1) / BASE_SEGMENT_VECTORS, MERGE_FACTOR)))


def plan_merge(live: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The next merge, as a range [start, stop) of positions in `live`: (vectors, tombstoned)
    per segment, in id order. None when nothing needs merging."""
    for position, (vectors, dead) in enumerate(live):
        if dead and dead >= COMPACT_SHARE * vectors:
            return position, position + 1
    tiers = [tier(vectors - dead) for vectors, dead in live]
    # The newest run first: new small segments are what accumulates.
    for stop in range(len(live), MERGE_FACTOR - 1, -1):
        start = stop - MERGE_FACTOR
        run = tiers[start:stop]
        total = sum(vectors - dead for vectors, dead in live[start:stop])
        if len(set(run)) == 1 and total <= MAX_SEGMENT_VECTORS:
            return start, stop
    return None


class VectorWriter:
    """The vectors side of one IndexWriter transaction."""

    def __init__(self, conn: sqlite3.Connection, directory: Path, dim: int, template: dict):
        self._conn = conn
        self.directory = directory
        self.dim = dim
        # The trained IVF every approximate companion starts from (manifest keys), if any.
        self.template = dict(template) if approximate.usable(template) else {}
        if template and not self.template:
            # An IVF of another format: forgotten now and trained afresh at the next commit,
            # which also deletes its files (the reader searches exactly until then).
            conn.execute(
                "UPDATE vector_segments SET approximate = NULL, approximate_size = NULL, "
                "approximate_sha256 = NULL"
            )
        self._ids: list[int] = []
        self._vectors: list[np.ndarray] = []
        self._names = 0
        # Seconds the last flush spent training the IVF: once per index, so the indexer does
        # not space out its later commits for it.
        self.training_seconds = 0.0

    # -- checks ------------------------------------------------------------------------------
    def verify(self, chunks: int) -> None:
        """Every named file whole (full SHA-256) and as many live vectors as chunks; raises
        VectorFileError or FileNotFoundError."""
        segments = read_segments(self._conn)
        for segment in segments:
            check_file(self.directory / segment.name, segment.size, segment.sha256)
            if segment.approximate:
                check_file(
                    self.directory / segment.approximate,
                    segment.approximate_size,
                    segment.approximate_sha256,
                )
        if self.template:
            name = self.template["approximate_template"]
            check_file(
                self.directory / name,
                int(self.template["approximate_template_size"]),
                self.template["approximate_template_sha256"],
            )
        dead = 0
        if has_table(self._conn, "vector_tombstones"):
            (dead,) = self._conn.execute("SELECT COUNT(*) FROM vector_tombstones").fetchone()
        live = sum(segment.vectors for segment in segments) - dead
        if live != chunks:
            raise VectorFileError(f"the segments hold {live} vectors for {chunks} chunks")

    def names(self) -> set[str]:
        """The files the transaction's state names."""
        named = set()
        for segment in read_segments(self._conn):
            named.add(segment.name)
            if segment.approximate:
                named.add(segment.approximate)
        if self.template:
            named.add(self.template["approximate_template"])
        return named

    # -- changes -----------------------------------------------------------------------------
    @property
    def pending(self) -> int:
        return len(self._ids)

    def add(self, ids: list[int], vectors: np.ndarray) -> None:
        self._ids.extend(ids)
        self._vectors.append(np.asarray(vectors, dtype=np.float32).reshape(len(ids), self.dim))

    def remove(self, ids: list[int]) -> None:
        """Tombstone these chunks' vectors (or forget them, if not yet written)."""
        if not ids:
            return
        waiting = set(ids) & set(self._ids)
        if waiting:
            keep = [i not in waiting for i in self._ids]
            vectors = np.vstack(self._vectors)[keep]
            self._ids = [i for i in self._ids if i not in waiting]
            self._vectors = [vectors]
        segments = read_segments(self._conn)
        firsts = [segment.first_id for segment in segments]
        rows = []
        for chunk_id in sorted(set(ids) - waiting):
            position = np.searchsorted(firsts, chunk_id, side="right") - 1
            if position >= 0 and chunk_id <= segments[position].last_id:
                rows.append((chunk_id, segments[position].name))
        if not rows:  # all still waiting: nothing written to tombstone
            return
        create_on_demand(self._conn, "vector_tombstones")
        self._conn.executemany(
            "INSERT OR IGNORE INTO vector_tombstones (chunk_id, segment) VALUES (?, ?)", rows
        )

    def clear(self) -> None:
        """Forget every segment (a rebuild); their files go after the commit."""
        self._conn.execute("DELETE FROM vector_segments")
        self._conn.execute("DROP TABLE IF EXISTS vector_tombstones")
        self.template = {}
        self._ids, self._vectors = [], []

    def flush(self, generation: int) -> dict[str, str]:
        """Write the waiting vectors as a segment, merge what the tiers call for, and build
        the approximate index where due; all recorded in the open transaction. Returns the
        manifest keys of the approximate template."""
        self.training_seconds = 0.0
        if self._ids:
            vectors = np.vstack(self._vectors)
            order = np.argsort(np.asarray(self._ids), kind="stable")
            ids = np.asarray(self._ids, dtype=np.int64)[order]
            name = self._name(generation)
            size, digest = write_flat(self.directory / name, ids, vectors[order])
            self._insert(Segment(name, len(ids), int(ids[0]), int(ids[-1]), size, digest))
            self._ids, self._vectors = [], []
        self._merge(generation)
        self._approximate(generation)
        return self.template

    def _name(self, generation: int, suffix: str = "faiss") -> str:
        self._names += 1
        return f"vectors-{generation}.{self._names}.{suffix}"

    def _insert(self, segment: Segment) -> None:
        marks = ", ".join("?" * len(SEGMENT_COLUMNS))
        self._conn.execute(
            f"INSERT INTO vector_segments ({', '.join(SEGMENT_COLUMNS)}) VALUES ({marks})",
            segment,
        )

    def _drop(self, segments: list[Segment]) -> None:
        for segment in segments:
            self._conn.execute("DELETE FROM vector_segments WHERE name = ?", (segment.name,))
            if has_table(self._conn, "vector_tombstones"):
                self._conn.execute(
                    "DELETE FROM vector_tombstones WHERE segment = ?", (segment.name,)
                )

    def _merge(self, generation: int) -> None:
        while True:
            segments = read_segments(self._conn)
            dead = read_tombstones(self._conn)
            live = [(s.vectors, len(dead.get(s.name, ()))) for s in segments]
            planned = plan_merge(live)
            if planned is None:
                return
            inputs = segments[planned[0] : planned[1]]
            merged = merge_segments(
                self.directory, inputs, dead, self._name(generation), self._with_template()
            )
            self._drop(inputs)
            if merged is not None:
                self._insert(merged)

    def _with_template(self) -> Path | None:
        if not self.template:
            return None
        return self.directory / self.template["approximate_template"]

    def _approximate(self, generation: int) -> None:
        """Train the IVF once the index is large enough, then give every large segment its
        companion, one segment at a time."""
        segments = read_segments(self._conn)
        dead = read_tombstones(self._conn)
        total = sum(s.vectors - len(dead.get(s.name, ())) for s in segments)
        started = None
        if not self.template:
            if total < approximate.MIN_CHUNKS:
                return
            name = self._name(generation, "ivf")
            started = time.monotonic()
            nlist, size, digest = approximate.train(self.directory, segments, dead, name)
            self.template = {
                "approximate_template": name,
                "approximate_template_size": str(size),
                "approximate_template_sha256": digest,
                "approximate_nprobe": str(probing.nprobe_for(nlist)),
                "approximate_format": approximate.FORMAT,
            }
        template = self._with_template()
        for segment in segments:
            if segment.approximate or segment.vectors < approximate.MIN_SEGMENT_VECTORS:
                continue
            name = self._name(generation, "ivf")
            size, digest = approximate.build(
                self.directory, segment, dead.get(segment.name), template, name
            )
            self._conn.execute(
                "UPDATE vector_segments SET approximate = ?, approximate_size = ?, "
                "approximate_sha256 = ? WHERE name = ?",
                (name, size, digest, segment.name),
            )
        if started is not None:  # trained now: companions for every large segment at once
            self.training_seconds = time.monotonic() - started


def merge_segments(
    directory: Path,
    inputs: list[Segment],
    dead: dict[str, np.ndarray],
    name: str,
    template: Path | None,
) -> Segment | None:
    """One segment of the inputs' live vectors (None if none is left), with its IVF companion
    when a template is given and it is large enough. Memory: the output, plus one slice.

    The inputs are read twice: once for the merged vectors' range, which the output's 8-bit
    codes are trained on, then to add them. Their decoded values are coded again on the new
    range (the drift this adds is measured in BENCHMARKS.md, "8-bit chunk vectors")."""
    import faiss

    span = None
    for segment in inputs:
        for _, vectors in live_slices(directory / segment.name, dead.get(segment.name)):
            span = span or ValueRange(vectors.shape[1])
            span.update(vectors)
    if span is None or not np.isfinite(span.low).all():
        return None
    output = span.flat()
    companion = approximate.load_template(template) if template else None
    for segment in inputs:
        for ids, vectors in live_slices(directory / segment.name, dead.get(segment.name)):
            output.add_with_ids(vectors, ids)
            if companion is not None:
                companion.add_with_ids(vectors, ids)
    ids = faiss.vector_to_array(output.id_map)
    size, digest = write_index(output, directory / name)
    merged = Segment(name, int(output.ntotal), int(ids[0]), int(ids[-1]), size, digest)
    del output
    if companion is not None and merged.vectors >= approximate.MIN_SEGMENT_VECTORS:
        ivf_name = name.removesuffix(".faiss") + ".ivf"
        ivf_size, ivf_digest = approximate.write_companion(companion, directory / ivf_name)
        merged = merged._replace(
            approximate=ivf_name, approximate_size=ivf_size, approximate_sha256=ivf_digest
        )
    return merged


def remove_stale_files(directory: Path, keep: set[str]) -> None:
    """Delete vector files the committed snapshot does not name: merged, replaced, or left by
    a killed writer. Readers that already opened one keep it alive through their mapping."""
    for path in directory.glob("vectors-*"):
        if path.name not in keep:
            path.unlink(missing_ok=True)
