"""Updating the index: one writer at a time, one SQLite transaction per batch of files.

See schema.py for the layout and why the SQLite commit is the single switch point. A long
run commits every few thousand chunks (`checkpoint`), so that a killed build keeps what it
had committed and the vectors waiting for a commit stay few; each commit is a whole snapshot
(every file in it complete, its vector segments named by it), as the final one is. A commit
writes only the new vectors (segments.py), so neither its time nor the writer's memory grows
with the index.

An index that cannot be used (damaged, its vectors file missing, or made by another version
of askseed) is deleted and built afresh: it holds nothing that the documents cannot give
back, and it was no use as it was. `IndexWriter.discarded` says why, so the user is told.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from askseed.errors import first_line, is_damage
from askseed.store.chunk_codec import CHUNK_COLUMNS, encode_chunk, split_heading
from askseed.store.folder import acquire_lock, check_index_folder, discard_index_files
from askseed.store.keyword import Fts5Index, open_keyword_index
from askseed.store.keyword_postings import refresh_postings
from askseed.store.schema import (
    DB_FILE,
    LOCK_FILE,
    READABLE_VERSIONS,
    SCHEMA,
    SCHEMA_VERSION,
    SEARCH_VIEW,
    ChunkRow,
    FileRanges,
    FileRecord,
    SkippedFile,
    bring_up_to_date,
    connect,
    create_on_demand,
    damaged,
    encode_pages,
    encode_sha256,
    has_table,
    read_files,
    read_manifest,
    read_skipped,
)
from askseed.store.seen import FORGOTTEN, SqliteSeen, dependents, forget_keys, sweep_bands
from askseed.store.segments import VectorWriter, remove_stale_files
from askseed.store.vectors import VectorFileError

# The manifest keys of the trained IVF template (segments.VectorWriter.flush).
TEMPLATE_KEYS = (
    "approximate_template",
    "approximate_template_size",
    "approximate_template_sha256",
    "approximate_nprobe",
    "approximate_format",
)


class IndexWriter:
    """Holds the write lock and a transaction; nothing is visible to readers until commit()."""

    def __init__(
        self,
        directory: Path,
        fingerprint: str,
        manifest: dict[str, str],
        dim: int,
        rebuild: bool = False,
    ):
        self.directory = directory
        check_index_folder(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self._conn: sqlite3.Connection | None = None
        self._lock = acquire_lock(directory / LOCK_FILE)
        # Why an unusable index was replaced by a fresh build; None when it was not.
        self.discarded: str | None = None
        try:
            try:
                old = self._open(fingerprint, dim, rebuild)
            except _Unusable as problem:
                self.discarded = str(problem)
                self._close_connection()
                discard_index_files(directory)
                old = self._open(fingerprint, dim, rebuild)
        except BaseException:
            self._abort()
            raise
        self._old_manifest = old
        self.manifest = {
            **manifest,
            "fingerprint": fingerprint,
            "dim": str(dim),
            "schema_version": SCHEMA_VERSION,
        }
        if self.rebuilt:
            self._keywords.remove(row[0] for row in self._conn.execute("SELECT id FROM chunks"))
            self._conn.execute("DROP TABLE IF EXISTS skipped")
            for table in (
                "files",
                "chunks",
                "sentence_keys",
                "sentence_bands",
                "dropped_keys",
            ):
                self._conn.execute(f"DELETE FROM {table}")
        # Keys removed whose band rows are still there (seen.py); none after a rebuild.
        self._forgotten = 0 if self.rebuilt else int(old.get(FORGOTTEN, "0"))
        self._seen: dict[int, SqliteSeen] = {}  # files begun and not yet finished
        # How long writing the vectors took at the last commit (a segment, maybe a merge): a
        # checkpoint waits for many times that, so that merging stays a small share of a build.
        self.last_save_seconds = 0.0
        self.last_commit_at = time.monotonic()

    def _open(self, fingerprint: str, dim: int, rebuild: bool) -> dict[str, str]:
        """Start the transaction and load the vectors; returns the old manifest.

        Raises _Unusable for an index to throw away, StoreError for one to leave alone."""
        try:
            path = self.directory / DB_FILE
            self._conn = connect(path, new=not path.exists())
            # The commit must be on disk before the old vectors file is deleted.
            self._conn.execute("PRAGMA synchronous=FULL")
            # Read before the schema is touched: another version's tables may differ.
            old = read_manifest(self._conn)
            if old and old.get("schema_version") not in READABLE_VERSIONS:
                version = old.get("schema_version")
                raise _Unusable(f"made by another version of askseed, format {version!r}")
            if old:
                (verdict,) = self._conn.execute("PRAGMA quick_check(1)").fetchone()
                if verdict != "ok":
                    raise _Unusable(f"its database fails SQLite's check: {verdict}")
            self._conn.executescript(SCHEMA)
            bring_up_to_date(self._conn)
            self._conn.execute("BEGIN IMMEDIATE")
            # Keyword search over the same chunks, changed in the same transaction.
            self._keywords = open_keyword_index(self._conn, content=SEARCH_VIEW)
            # A new model or new chunk settings make every stored vector meaningless.
            self.rebuilt = bool(old) and (rebuild or old.get("fingerprint") != fingerprint)
            template = {key: value for key, value in old.items() if key in TEMPLATE_KEYS}
            self._vectors = VectorWriter(self._conn, self.directory, dim, template)
            if old and not self.rebuilt:
                self._check_vectors(old, dim)
            else:
                self._vectors.clear()
            return old
        except sqlite3.DatabaseError as error:
            if is_damage(error):
                raise _Unusable(first_line(error)[:160]) from error
            raise damaged(self.directory, error) from error

    def _check_vectors(self, old: dict[str, str], dim: int) -> None:
        if old.get("dim") != str(dim):
            raise _Unusable(f"its vectors have {old.get('dim')} dimensions, not {dim}")
        (rows,) = self._conn.execute("SELECT COUNT(*) FROM chunks").fetchone()
        try:
            self._vectors.verify(rows)
        except FileNotFoundError as error:
            raise _Unusable(
                f"its vectors file {Path(str(error.filename)).name} is missing"
            ) from None
        except VectorFileError as error:
            raise _Unusable(str(error)) from error

    def files(self) -> dict[str, FileRecord]:
        return read_files(self._conn)

    def skipped(self) -> dict[str, SkippedFile]:
        return read_skipped(self._conn)

    def _ranges(self, path: str) -> FileRanges | None:
        row = self._conn.execute(
            "SELECT id, first_chunk, chunks, first_key, last_key FROM files WHERE path = ?",
            (path,),
        ).fetchone()
        return None if row is None else FileRanges(*row)

    def dependents_of(self, path: str) -> set[str]:
        """Files that dropped a sentence as a duplicate of one this file holds."""
        held = self._ranges(path)
        return set() if held is None else dependents(self._conn, held, path)

    def remove_file(self, path: str) -> list[int]:
        """Drop a file's chunks and dedup keys; returns the removed chunk ids."""
        held = self._ranges(path)
        if has_table(self._conn, "skipped"):
            self._conn.execute("DELETE FROM skipped WHERE path = ?", (path,))
        if held is None:
            return []
        ids = list(held.chunk_ids)
        # First: the keyword index reads the texts it forgets from the chunks (chunk_search).
        self._keywords.remove(ids)
        self._forgotten += forget_keys(self._conn, held)
        if ids:
            self._conn.execute(
                "DELETE FROM chunks WHERE id BETWEEN ? AND ? AND file_id = ?",
                (ids[0], ids[-1], held.file_id),
            )
        self._conn.execute("DELETE FROM dropped_keys WHERE file_id = ?", (held.file_id,))
        self._conn.execute("DELETE FROM files WHERE id = ?", (held.file_id,))
        self._vectors.remove(ids)
        return ids

    def begin_file(self, record: FileRecord) -> tuple[int, SqliteSeen]:
        pages = encode_pages(record.page_starts)
        cursor = self._conn.execute(
            "INSERT INTO files (path, size, mtime_ns, ctime_ns, sha256, chunks, page_starts) "
            "VALUES (:path, :size, :mtime_ns, :ctime_ns, :sha256, 0, :pages)",
            record._asdict() | {"sha256": encode_sha256(record.sha256), "pages": pages},
        )
        file_id = cursor.lastrowid
        self._seen[file_id] = SqliteSeen(self._conn, file_id)
        return file_id, self._seen[file_id]

    def finish_file(
        self,
        file_id: int,
        chunks: list[ChunkRow],
        vectors: np.ndarray | None,
        dropped_keys: Iterable[int],
        search_texts: list[str] | None = None,
    ) -> list[int]:
        """Store a file's chunks, their vectors (one row each) and the keys of the sentences it
        dropped as duplicates; search_texts is what the keyword index holds for each chunk
        (default: its text)."""
        # Consecutive ids (AUTOINCREMENT, one insert after another): see FileRanges.
        ids = []
        columns = ", ".join(CHUNK_COLUMNS)
        marks = ", ".join("?" * (1 + len(CHUNK_COLUMNS)))
        previous = None  # the chunk stored just before, whose last vector the next may borrow
        for chunk in chunks:
            cursor = self._conn.execute(
                f"INSERT INTO chunks (file_id, {columns}) VALUES ({marks})",
                (file_id, *encode_chunk(chunk, previous)),
            )
            ids.append(cursor.lastrowid)
            previous = chunk
        if ids and ids != list(range(ids[0], ids[0] + len(ids))):
            raise RuntimeError(f"chunk ids of file {file_id} are not consecutive: {ids}")
        self._conn.execute(
            "UPDATE files SET chunks = ?, first_chunk = ? WHERE id = ?",
            (len(ids), ids[0] if ids else None, file_id),
        )
        self._record_key_range(file_id)
        searched = search_texts or [chunk.text for chunk in chunks]
        self._store_headings(file_id, ids, chunks, searched)
        self._keywords.add(zip(ids, searched, strict=True))
        self._conn.executemany(
            "INSERT INTO dropped_keys (file_id, key) VALUES (?, ?)",
            [(file_id, key) for key in set(dropped_keys)],
        )
        if ids:
            self._vectors.add(ids, vectors)
        return ids

    def _record_key_range(self, file_id: int) -> None:
        """Note in the files row which ids the file's dedup keys took (remove_file's range)."""
        seen = self._seen.pop(file_id, None)
        if seen is not None and seen.first_id is not None:
            self._conn.execute(
                "UPDATE files SET first_key = ?, last_key = ? WHERE id = ?",
                (seen.first_id, seen.last_id, file_id),
            )

    def _store_headings(
        self, file_id: int, ids: list[int], chunks: list[ChunkRow], searched: list[str]
    ) -> None:
        """Record what each searched text adds before its chunk, so that the chunk_search view
        gives back exactly the text the keyword index holds."""
        heading = split_heading(chunks, searched)
        if heading.chars is not None:
            self._conn.execute(
                "UPDATE files SET heading_chars = ? WHERE id = ?", (heading.chars, file_id)
            )
        elif heading.text is not None:
            self._conn.execute("UPDATE files SET heading = ? WHERE id = ?", (heading.text, file_id))
        self._conn.executemany(
            "UPDATE chunks SET headed = 1 WHERE id = ?", [(ids[at],) for at in heading.headed]
        )

    def touch(self, path: str, size: int, mtime_ns: int, ctime_ns: int) -> None:
        """Same content, new stat data: remember it so the next check is stat-only."""
        self._conn.execute(
            "UPDATE files SET size = ?, mtime_ns = ?, ctime_ns = ? WHERE path = ?",
            (size, mtime_ns, ctime_ns, path),
        )

    def mark_skipped(self, path: str, size: int, mtime_ns: int, ctime_ns: int, reason: str) -> None:
        create_on_demand(self._conn, "skipped")
        self._conn.execute(
            "INSERT OR REPLACE INTO skipped (path, size, mtime_ns, ctime_ns, reason)"
            " VALUES (?, ?, ?, ?, ?)",
            (path, size, mtime_ns, ctime_ns, reason),
        )

    @property
    def pending_chunks(self) -> int:
        """Chunks stored since the last commit, whose vectors wait in memory for it."""
        return self._vectors.pending

    def checkpoint(self) -> None:
        """Commit what is stored so far, as a complete index, and carry on in a new
        transaction, still holding the write lock."""
        self._commit()
        self._conn.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self._commit()
        self._refresh_keyword_postings()
        # The build's free pages (FTS5's merged segments, replaced rows) would stay in the
        # file until the next update: 132 bytes a chunk on SQuAD-A. A transaction of its own,
        # after the commit: a run killed here loses nothing. A no-op in an index made before
        # auto_vacuum was set (schema.connect). executescript, because execute() steps the
        # pragma once, which frees one page.
        self._conn.executescript("PRAGMA incremental_vacuum;")
        self._release()

    def _refresh_keyword_postings(self) -> None:
        # After the commit, in a transaction of its own: FTS5 writes its counts at commit, and
        # a run killed here loses only the postings, which are never used once stale.
        if not isinstance(self._keywords, Fts5Index):
            return
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            refresh_postings(self._conn)
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def _commit(self) -> None:
        for file_id in list(self._seen):  # begun and never finished: still removable
            self._record_key_range(file_id)
        saving = time.monotonic()
        self._forgotten = sweep_bands(self._conn, self._forgotten)
        generation = int(self._old_manifest.get("generation", "0")) + 1
        template = self._vectors.flush(generation)
        self.last_save_seconds = time.monotonic() - saving - self._vectors.training_seconds
        values = {
            **self.manifest,
            **template,
            "generation": str(generation),
            FORGOTTEN: str(self._forgotten),
            "built_at": f"{time.time():.3f}",
        }
        self._conn.execute("DELETE FROM manifest")
        self._conn.executemany("INSERT INTO manifest (key, value) VALUES (?, ?)", values.items())
        self._conn.execute("COMMIT")
        self._old_manifest = values
        self.last_commit_at = time.monotonic()
        remove_stale_files(self.directory, keep=self._vectors.names())

    def _abort(self) -> None:
        # Closing the connection rolls back everything this run wrote.
        self._release()

    def _close_connection(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _release(self) -> None:
        self._close_connection()
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def __enter__(self) -> IndexWriter:
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if self._conn is not None:
            self._abort()


class _Unusable(Exception):
    """The index cannot be used and may be replaced; str() says why, for the user."""
