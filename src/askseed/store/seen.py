"""Dedup's memory in the index: the sentences already kept in any file, in SQLite.

The writer gives each file one SqliteSeen (ingest.dedup.SeenSentences) in its transaction,
and removes a file's keys with forget_keys.
Tables (schema.py): sentence_keys holds each kept sentence's exact key and MinHash signature,
sentence_bands its LSH band keys, clustered on the band for the near-duplicate lookup.
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


def forget_keys(conn: sqlite3.Connection, held: FileRanges) -> None:
    """Delete a file's keys and their bands (the band table is keyed by band, so this scans
    it, as it did with an index on file_id)."""
    keys = (held.first_key, held.last_key, held.file_id)
    conn.execute(
        "DELETE FROM sentence_bands WHERE sentence_id IN (SELECT id FROM sentence_keys "
        "WHERE id BETWEEN ? AND ? AND file_id = ?)",
        keys,
    )
    conn.execute("DELETE FROM sentence_keys WHERE id BETWEEN ? AND ? AND file_id = ?", keys)


def dependents(conn: sqlite3.Connection, held: FileRanges, path: str) -> set[str]:
    """Other files that dropped a sentence as a duplicate of one this file kept."""
    rows = conn.execute(
        "SELECT DISTINCT f.path FROM dropped_keys d JOIN files f ON f.id = d.file_id "
        "WHERE d.key IN (SELECT key FROM sentence_keys WHERE id BETWEEN ? AND ? "
        "AND file_id = ?) AND f.path != ?",
        (held.first_key, held.last_key, held.file_id, path),
    )
    return {row[0] for row in rows}
