"""Dedup's memory in the index: the sentences already kept in any file, in SQLite.

The writer gives each file one SqliteSeen (ingest.dedup.SeenSentences) in its transaction,
and removes a file's keys with forget_keys.
Tables (schema.py): sentence_keys holds each kept sentence's exact key and MinHash signature,
sentence_bands its LSH band keys, clustered on the band for the near-duplicate lookup.

Removing a file leaves its band rows behind. The band table is keyed by band, so deleting a
file's rows by sentence id reads all of it: 0.24 s at 100k chunks, seconds at a million, for
every changed file. A row left behind points at a deleted id, which the join in
near_candidates drops, or at an id a later sentence took, whose signature the caller then
compares like any candidate's; so such rows cost bytes, never a wrong decision. sweep_bands
deletes them in one pass once they are a good share of the table.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from askseed.store.schema import FileRanges


class SqliteSeen:
    """The sentences already kept anywhere in the index, for dedup across files."""

    def __init__(self, conn: sqlite3.Connection, file_id: int):
        self._conn = conn
        self._file_id = file_id
        # The ids this file's keys took: removing the file deletes that range (with a check
        # on file_id) instead of keeping an index on file_id (BENCHMARKS.md, "Bytes per chunk,
        # third pass").
        self.first_id: int | None = None
        self.last_id: int | None = None

    def has_key(self, key: int) -> bool:
        row = self._conn.execute("SELECT 1 FROM sentence_keys WHERE key = ? LIMIT 1", (key,))
        return row.fetchone() is not None

    def near_candidates(self, bands: list[int]) -> Iterable[bytes]:
        if not bands:
            return []
        marks = ",".join("?" * len(bands))
        rows = self._conn.execute(
            f"SELECT DISTINCT k.signature FROM sentence_bands b "
            f"JOIN sentence_keys k ON k.id = b.sentence_id WHERE b.band IN ({marks})",
            bands,
        )
        return [row[0] for row in rows if row[0] is not None]

    def add(self, key: int, signature: bytes | None, bands: list[int]) -> None:
        cursor = self._conn.execute(
            "INSERT INTO sentence_keys (key, file_id, signature) VALUES (?, ?, ?)",
            (key, self._file_id, signature),
        )
        if self.first_id is None:
            self.first_id = cursor.lastrowid
        self.last_id = cursor.lastrowid
        self._conn.executemany(
            "INSERT OR IGNORE INTO sentence_bands (band, sentence_id) VALUES (?, ?)",
            [(band, cursor.lastrowid) for band in bands],
        )


# The manifest key counting the keys forgotten since the last sweep, and when to sweep: once
# they reach this share of the ids ever given (and this many, so small indexes do not sweep
# on every removal).
FORGOTTEN = "forgotten_keys"
SWEEP_SHARE = 0.25
SWEEP_MIN = 1_000


def forget_keys(conn: sqlite3.Connection, held: FileRanges) -> int:
    """Delete a file's keys, leaving their band rows to sweep_bands; returns how many."""
    cursor = conn.execute(
        "DELETE FROM sentence_keys WHERE id BETWEEN ? AND ? AND file_id = ?",
        (held.first_key, held.last_key, held.file_id),
    )
    return max(cursor.rowcount, 0)


def sweep_bands(conn: sqlite3.Connection, forgotten: int) -> int:
    """Delete the band rows of forgotten keys when they are many; returns the keys still
    counted as forgotten (0 after a sweep)."""
    if forgotten < SWEEP_MIN:
        return forgotten
    (ids,) = conn.execute("SELECT coalesce(max(id), 0) FROM sentence_keys").fetchone()
    if forgotten < SWEEP_SHARE * ids:
        return forgotten
    conn.execute(
        "DELETE FROM sentence_bands WHERE sentence_id NOT IN (SELECT id FROM sentence_keys)"
    )
    return 0


def dependents(conn: sqlite3.Connection, held: FileRanges, path: str) -> set[str]:
    """Other files that dropped a sentence as a duplicate of one this file kept."""
    rows = conn.execute(
        "SELECT DISTINCT f.path FROM dropped_keys d JOIN files f ON f.id = d.file_id "
        "WHERE d.key IN (SELECT key FROM sentence_keys WHERE id BETWEEN ? AND ? "
        "AND file_id = ?) AND f.path != ?",
        (held.first_key, held.last_key, held.file_id, path),
    )
    return {row[0] for row in rows}
