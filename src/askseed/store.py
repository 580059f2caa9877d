"""The on-disk index: SQLite metadata (chunks, manifest, dedup keys) plus a FAISS vectors file.

Layout of the index directory:

    meta.sqlite          chunks, files and the manifest, in WAL mode
    vectors-<n>.faiss    the vectors generation named by the manifest key `vectors_file`
    write.lock           held by the one process allowed to update the index

The SQLite commit is the single switch point. A writer first saves the next vectors generation
under a new name, then commits the metadata that names it, then deletes the old generation.
A reader takes a SQLite snapshot and opens the vectors file that snapshot names, so it sees the
old index or the new one, never a mix; a writer killed at any moment leaves the old one intact.
The manifest lives in the same database for the same reason: it must change in that one commit.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from askseed.vectors import FlatVectors, VectorFileError

SCHEMA_VERSION = "1"
DB_FILE = "meta.sqlite"
LOCK_FILE = "write.lock"

SCHEMA = """
CREATE TABLE IF NOT EXISTS manifest (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL, size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL, chunks INTEGER NOT NULL,
    page_starts TEXT, warnings TEXT);
CREATE TABLE IF NOT EXISTS skipped (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, file_id INTEGER NOT NULL, text TEXT NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, start_line INTEGER NOT NULL,
    end_line INTEGER NOT NULL, sentences TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_by_file ON chunks(file_id);
CREATE TABLE IF NOT EXISTS sentence_keys (
    id INTEGER PRIMARY KEY, key TEXT NOT NULL, file_id INTEGER NOT NULL, signature BLOB);
CREATE INDEX IF NOT EXISTS sentence_keys_by_key ON sentence_keys(key);
CREATE INDEX IF NOT EXISTS sentence_keys_by_file ON sentence_keys(file_id);
CREATE TABLE IF NOT EXISTS sentence_bands (band INTEGER NOT NULL, sentence_id INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS sentence_bands_by_band ON sentence_bands(band);
CREATE TABLE IF NOT EXISTS dropped_keys (file_id INTEGER NOT NULL, key TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS dropped_keys_by_key ON dropped_keys(key);
"""


class StoreError(RuntimeError):
    """The index cannot be used as it is; the message names the remedy."""


class IndexMissingError(StoreError):
    pass


class IndexBusyError(StoreError):
    pass


@dataclass(frozen=True)
class FileRecord:
    path: str
    size: int
    mtime_ns: int
    sha256: str
    chunks: int = 0
    page_starts: tuple[int, ...] | None = None


@dataclass(frozen=True)
class SentenceSpan:
    start: int  # in the chunk text
    end: int
    raw_start: int  # in the source file's decoded text
    raw_end: int
    line: int  # first line of the sentence in the source
    end_line: int


@dataclass(frozen=True)
class StoredChunk:
    id: int
    source: str
    text: str
    start: int
    end: int
    start_line: int
    end_line: int
    sentences: tuple[SentenceSpan, ...]
    page_starts: tuple[int, ...] | None = None


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def _damaged(directory: Path, error: Exception) -> StoreError:
    return StoreError(
        f"the index in {directory} is damaged ({str(error).splitlines()[0][:120]}); "
        f"run `askseed index --rebuild --index {directory}`"
    )


class IndexReader:
    """A consistent, read-only view of the index, fixed at the moment it was opened."""

    def __init__(self, directory: Path):
        self.directory = directory
        path = directory / DB_FILE
        if not path.exists():
            raise IndexMissingError(f"no index in {directory}: run `askseed index` first")
        for attempt in range(3):
            try:
                self._open(path)
                return
            except FileNotFoundError:
                # A writer replaced the vectors between our snapshot and our open: look again.
                self.close()
                time.sleep(0.05 * (attempt + 1))
            except (sqlite3.DatabaseError, VectorFileError, json.JSONDecodeError) as error:
                self.close()
                raise _damaged(directory, error) from error
        raise StoreError(f"the index in {directory} kept changing while being opened; try again")

    def _open(self, path: Path) -> None:
        self._conn = _connect(path)
        self._conn.execute("BEGIN")  # the snapshot: held until close()
        self.manifest = dict(self._conn.execute("SELECT key, value FROM manifest"))
        version = self.manifest.get("schema_version")
        if version != SCHEMA_VERSION:
            raise StoreError(
                f"the index in {self.directory} has format {version!r}, this askseed reads "
                f"{SCHEMA_VERSION!r}: run `askseed index --rebuild --index {self.directory}`"
            )
        vectors_file = self.directory / self.manifest["vectors_file"]
        if not vectors_file.exists():
            raise FileNotFoundError(vectors_file)
        self.vectors = FlatVectors.load(vectors_file)
        documents, chunks = self._conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(chunks), 0) FROM files"
        ).fetchone()
        self.documents, self.chunks = int(documents), int(chunks)
        if self.vectors.count != self.chunks:
            raise VectorFileError(
                f"{self.vectors.count} vectors for {self.chunks} chunks in {vectors_file.name}"
            )

    def close(self) -> None:
        conn = getattr(self, "_conn", None)
        if conn is not None:
            conn.close()
            self._conn = None

    def files(self) -> dict[str, FileRecord]:
        rows = self._conn.execute(
            "SELECT path, size, mtime_ns, sha256, chunks, page_starts FROM files"
        )
        return {row[0]: _file_record(row) for row in rows}

    def skipped(self) -> dict[str, tuple[int, int, str]]:
        rows = self._conn.execute("SELECT path, size, mtime_ns, reason FROM skipped")
        return {path: (size, mtime, reason) for path, size, mtime, reason in rows}

    def search(self, query_vectors: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        return self.vectors.search(query_vectors, k)

    def chunks_by_id(self, ids: list[int]) -> dict[int, StoredChunk]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._conn.execute(
            f'SELECT c.id, f.path, c.text, c.start, c."end", c.start_line, c.end_line, '
            f"c.sentences, f.page_starts FROM chunks c JOIN files f ON f.id = c.file_id "
            f"WHERE c.id IN ({marks})",
            ids,
        )
        return {row[0]: _stored_chunk(row) for row in rows}

    def __enter__(self) -> IndexReader:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _file_record(row) -> FileRecord:
    path, size, mtime_ns, sha256, chunks, page_starts = row
    pages = tuple(json.loads(page_starts)) if page_starts else None
    return FileRecord(path, size, mtime_ns, sha256, chunks, pages)


def _stored_chunk(row) -> StoredChunk:
    chunk_id, source, text, start, end, start_line, end_line, sentences, page_starts = row
    spans = tuple(SentenceSpan(*values) for values in json.loads(sentences))
    pages = tuple(json.loads(page_starts)) if page_starts else None
    return StoredChunk(chunk_id, source, text, start, end, start_line, end_line, spans, pages)


def read_catalogue(directory: Path) -> tuple[dict[str, str], dict[str, FileRecord], dict]:
    """Manifest, files and skipped files, without touching the vectors: for freshness checks."""
    path = directory / DB_FILE
    if not path.exists():
        return {}, {}, {}
    try:
        conn = _connect(path)
        try:
            conn.execute("BEGIN")
            manifest = dict(conn.execute("SELECT key, value FROM manifest"))
            if not manifest:
                return {}, {}, {}
            rows = conn.execute(
                "SELECT path, size, mtime_ns, sha256, chunks, page_starts FROM files"
            )
            files = {row[0]: _file_record(row) for row in rows}
            skipped = {
                p: (size, mtime, reason)
                for p, size, mtime, reason in conn.execute(
                    "SELECT path, size, mtime_ns, reason FROM skipped"
                )
            }
            return manifest, files, skipped
        finally:
            conn.close()
    except sqlite3.DatabaseError as error:
        raise _damaged(directory, error) from error
