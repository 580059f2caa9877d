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

Damage (a truncated or corrupt file, a vectors file gone missing, an index from another version
of askseed) is reported by readers as one StoreError naming the remedy; the writer replaces
such an index with a fresh build, since everything in it can be rebuilt from the documents.
Nothing here can run code: the files are FAISS's own format, SQLite and JSON (no pickle), and
SQLite is told not to trust functions named in the database's schema.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from askseed.vectors import FlatVectors, VectorFileError

# 2: chunks are also indexed for keyword search (lexical.py), in the same transaction.
# 3: each chunk stores its sentences' vectors, so that a question embeds only itself.
SCHEMA_VERSION = "3"
DB_FILE = "meta.sqlite"
# Chunks an IndexReader keeps once read: ~8 KB each with their sentence vectors.
CHUNK_CACHE_SIZE = 10_000
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
    end_line INTEGER NOT NULL, sentences TEXT NOT NULL, sentence_vectors BLOB NOT NULL);
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


class FileRecord(NamedTuple):
    """An indexed file, as the manifest knows it (a named tuple: one per file is read before
    every question, for the freshness check)."""

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
    # One row per sentence, float32 unit vectors (stored as float16: half the disk, and the
    # cosines move by under 0.001).
    sentence_vectors: np.ndarray | None = field(default=None, compare=False, repr=False)


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    # A damaged or planted database could name functions with side effects in its schema.
    conn.execute("PRAGMA trusted_schema=OFF")
    return conn


def _damaged(directory: Path, error: Exception | str) -> StoreError:
    """The one-line message for an index that cannot be used, with its remedy."""
    if isinstance(error, sqlite3.DatabaseError) and not is_damage(error):
        # Locked, read-only, out of space, no permission: rebuilding would not help.
        return StoreError(f"cannot use the index in {directory}: {error}")
    lines = str(error).strip().splitlines() or [type(error).__name__]
    return StoreError(
        f"the index in {directory} is damaged ({lines[0][:120]}); "
        f"run `askseed index --rebuild --index {directory}`"
    )


def is_damage(error: sqlite3.DatabaseError) -> bool:
    """A damaged database, as opposed to a busy, read-only or full one."""
    name = getattr(error, "sqlite_errorname", None) or ""
    return name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB"))


def check_version(directory: Path, manifest: dict[str, str]) -> None:
    version = manifest.get("schema_version")
    if version != SCHEMA_VERSION:
        raise StoreError(
            f"the index in {directory} was made by another version of askseed (format "
            f"{version!r}, this one reads {SCHEMA_VERSION!r}); "
            f"run `askseed index --rebuild --index {directory}`"
        )


def read_manifest(conn: sqlite3.Connection) -> dict[str, str]:
    """The manifest; empty for a database whose first build never finished."""
    exists = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'manifest'").fetchone()
    return dict(conn.execute("SELECT key, value FROM manifest")) if exists else {}


class _VectorsGone(Exception):
    """The vectors file a snapshot names is not there (yet: a writer may have replaced it)."""


class IndexReader:
    """A consistent, read-only view of the index, fixed at the moment it was opened."""

    def __init__(self, directory: Path):
        self.directory = directory
        self._lexical = None
        self._chunk_cache: dict[int, StoredChunk] = {}
        path = directory / DB_FILE
        if not path.exists():
            raise IndexMissingError(f"no index in {directory}: run `askseed index` first")
        missing = None
        for attempt in range(3):
            try:
                self._open(path)
                return
            except _VectorsGone as gone:
                self.close()
                # A committed snapshot only names a file written before the commit, so the
                # same name missing twice means it was deleted, not replaced by a writer.
                if str(gone) == missing:
                    raise _damaged(directory, f"its vectors file {gone} is missing") from None
                missing = str(gone)
                time.sleep(0.05 * (attempt + 1))
            except (sqlite3.DatabaseError, VectorFileError, ValueError, KeyError) as error:
                self.close()
                raise _damaged(directory, error) from error
            except StoreError:
                self.close()
                raise
        raise StoreError(f"the index in {directory} kept changing while being opened; try again")

    def _open(self, path: Path) -> None:
        self._conn = _connect(path)
        self._conn.execute("BEGIN")  # the snapshot: held until close()
        self.manifest = read_manifest(self._conn)
        if not self.manifest:  # the first build was interrupted
            raise IndexMissingError(f"no index in {self.directory}: run `askseed index` first")
        check_version(self.directory, self.manifest)
        name = self.manifest["vectors_file"]
        try:
            size = self.manifest.get("vectors_size")
            self.vectors = FlatVectors.load(
                self.directory / name, size=int(size) if size is not None else None
            )
        except FileNotFoundError:
            raise _VectorsGone(name) from None
        documents, chunks = self._conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(chunks), 0) FROM files"
        ).fetchone()
        self.documents, self.chunks = int(documents), int(chunks)
        (rows,) = self._conn.execute("SELECT COUNT(*) FROM chunks").fetchone()
        if not self.vectors.count == self.chunks == rows:
            raise VectorFileError(f"{self.vectors.count} vectors for {rows} chunks")

    def close(self) -> None:
        conn = getattr(self, "_conn", None)
        if conn is not None:
            conn.close()
            self._conn = None

    def files(self) -> dict[str, FileRecord]:
        return read_files(self._conn)

    def skipped(self) -> dict[str, tuple[int, int, str]]:
        return read_skipped(self._conn)

    def search(self, query_vectors: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        return self.vectors.search(query_vectors, k)

    def lexical_search(self, query: str, k: int) -> list[tuple[int, float]]:
        """Up to k (chunk id, keyword score) pairs, best first, from this snapshot."""
        if self._lexical is None:
            from askseed.lexical import open_lexical

            self._lexical = open_lexical(self._conn)
        return self._lexical.search(query, k)

    def similarities(self, query_vector: np.ndarray, ids: list[int]) -> dict[int, float]:
        """Cosine of the query to each of these chunks, for chunks the dense search left out."""
        return self.vectors.similarities(query_vector, ids)

    def chunks_by_id(self, ids: list[int]) -> dict[int, StoredChunk]:
        # The snapshot never changes, so chunks read once stay right: a chat or an evaluation
        # meets the same chunks question after question.
        found = {i: self._chunk_cache[i] for i in ids if i in self._chunk_cache}
        missing = [i for i in ids if i not in found]
        if not missing:
            return found
        marks = ",".join("?" * len(missing))
        rows = self._conn.execute(
            f'SELECT c.id, f.path, c.text, c.start, c."end", c.start_line, c.end_line, '
            f"c.sentences, f.page_starts, c.sentence_vectors "
            f"FROM chunks c JOIN files f ON f.id = c.file_id WHERE c.id IN ({marks})",
            missing,
        )
        try:
            read = {row[0]: _stored_chunk(row, self.vectors.dim) for row in rows}
        except (ValueError, TypeError) as error:  # a damaged row: bad JSON or wrong shape
            raise _damaged(self.directory, error) from error
        self._chunk_cache.update(read)
        while len(self._chunk_cache) > CHUNK_CACHE_SIZE:
            del self._chunk_cache[next(iter(self._chunk_cache))]  # the oldest
        return found | read

    def __enter__(self) -> IndexReader:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def read_files(conn: sqlite3.Connection) -> dict[str, FileRecord]:
    """The indexed files by path, as the connection's snapshot sees them."""
    rows = conn.execute("SELECT path, size, mtime_ns, sha256, chunks, page_starts FROM files")
    return {row[0]: _file_record(row) for row in rows}


def read_skipped(conn: sqlite3.Connection) -> dict[str, tuple[int, int, str]]:
    """Files that could not be read: path -> (size, mtime_ns, reason)."""
    rows = conn.execute("SELECT path, size, mtime_ns, reason FROM skipped")
    return {path: (size, mtime, reason) for path, size, mtime, reason in rows}


def _file_record(row) -> FileRecord:
    path, size, mtime_ns, sha256, chunks, page_starts = row
    pages = tuple(json.loads(page_starts)) if page_starts else None
    return FileRecord(path, size, mtime_ns, sha256, chunks, pages)


def _stored_chunk(row, dim: int) -> StoredChunk:
    chunk_id, source, text, start, end, start_line, end_line, sentences, page_starts, blob = row
    spans = tuple(SentenceSpan(*values) for values in json.loads(sentences))
    pages = tuple(json.loads(page_starts)) if page_starts else None
    # reshape raises ValueError (read as damage) when the blob does not fit the sentences
    vectors = np.frombuffer(blob, dtype=np.float16).reshape(len(spans), dim).astype(np.float32)
    return StoredChunk(
        chunk_id, source, text, start, end, start_line, end_line, spans, pages, vectors
    )


def sentence_vectors_blob(vectors: np.ndarray) -> bytes:
    """How a chunk's sentence vectors are stored (StoredChunk.sentence_vectors)."""
    return np.ascontiguousarray(vectors, dtype=np.float16).tobytes()


def read_catalogue(directory: Path) -> tuple[dict[str, str], dict[str, FileRecord], dict]:
    """Manifest, files and skipped files, without touching the vectors: for freshness checks."""
    path = directory / DB_FILE
    if not path.exists():
        return {}, {}, {}
    try:
        conn = _connect(path)
        try:
            conn.execute("BEGIN")
            manifest = read_manifest(conn)
            if not manifest:
                return {}, {}, {}
            check_version(directory, manifest)
            return manifest, read_files(conn), read_skipped(conn)
        finally:
            conn.close()
    except (sqlite3.DatabaseError, ValueError) as error:
        raise _damaged(directory, error) from error
