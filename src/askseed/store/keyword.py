"""Keyword retrieval beside the dense index, stored in the store's own SQLite database.

Two implementations share one small interface:

- ``Fts5Index``: SQLite's FTS5 ('porter unicode61' tokenizer) ranked by its built-in bm25(),
  whose k1=1.2, b=0.75 are fixed. Chosen by ``open_keyword_index``: on SciFact it matched the
  published BM25 figures (nDCG@10 0.687, Anserini 0.679), builds ~10x faster than
  ``Bm25Index``, needs nothing beyond the sqlite3 module (benchmarks/lexical_choice.py has the
  measurements).
- ``Bm25Index``: BM25 with Anserini's k1=0.9, b=0.4 over an inverted index in two plain SQLite
  tables, used where the sqlite3 module was built without FTS5.

Both live in the caller's connection and never commit, so index updates share the store's
transaction. Both drop English stopwords from queries and match Porter stems, so "remission"
finds "remissions".
"""

from __future__ import annotations

import math
import sqlite3
from collections import Counter
from collections.abc import Iterable
from typing import Protocol

from askseed.store.keyword_postings import postings_current, stored_frequencies
from askseed.store.keyword_topk import PostingsReader
from askseed.store.schema import Hit
from askseed.text import terms, words


class KeywordIndex(Protocol):
    def add(self, rows: Iterable[tuple[int, str]]) -> None:
        """Index (chunk_id, text) rows; a chunk_id already present is replaced."""

    def remove(self, chunk_ids: Iterable[int]) -> None:
        """Forget these chunks; unknown ids are ignored."""

    def search(self, query: str, k: int) -> list[Hit]:
        """Up to k (chunk_id, score) pairs, best first; empty when no query term is indexed."""

    def document_frequencies(self, stems: Iterable[str]) -> dict[str, int]:
        """How many chunks hold each of these Porter stems (0 for a stem found nowhere)."""


def open_keyword_index(conn: sqlite3.Connection, content: str | None = None) -> KeywordIndex:
    """The keyword index askseed uses, created in ``conn``'s database if missing.

    `content` names a table or view of (id, text) rows that holds each indexed text, so that
    FTS5 need not keep its own copy (see Fts5Index)."""
    try:
        return Fts5Index(conn, content)
    except sqlite3.OperationalError as error:
        if "fts5" not in str(error):
            raise
        return Bm25Index(conn)


def _unique(chunk_ids: Iterable[int]) -> list[tuple[int]]:
    return [(chunk_id,) for chunk_id in dict.fromkeys(chunk_ids)]


class Bm25Index:
    """BM25 over postings (term, chunk_id, count) and chunk lengths kept in SQLite."""

    def __init__(self, conn: sqlite3.Connection, k1: float = 0.9, b: float = 0.4) -> None:
        self.conn = conn
        self.k1 = k1
        self.b = b
        conn.execute(
            "CREATE TABLE IF NOT EXISTS lexical_lengths"
            " (chunk_id INTEGER PRIMARY KEY, length INTEGER NOT NULL)"
        )
        conn.execute(
            "CREATE TABLE IF NOT EXISTS lexical_postings (term TEXT NOT NULL,"
            " chunk_id INTEGER NOT NULL, count INTEGER NOT NULL,"
            " PRIMARY KEY (term, chunk_id)) WITHOUT ROWID"
        )
        # Removing a chunk finds its postings through this index instead of a full scan.
        conn.execute(
            "CREATE INDEX IF NOT EXISTS lexical_postings_by_chunk ON lexical_postings (chunk_id)"
        )

    def add(self, rows: Iterable[tuple[int, str]]) -> None:
        rows = list(rows)
        self.remove(chunk_id for chunk_id, _ in rows)
        lengths = []
        postings = []
        for chunk_id, text in rows:
            counts = Counter(terms(text))
            lengths.append((chunk_id, sum(counts.values())))
            postings.extend((term, chunk_id, count) for term, count in counts.items())
        self.conn.executemany("INSERT INTO lexical_lengths VALUES (?, ?)", lengths)
        self.conn.executemany("INSERT INTO lexical_postings VALUES (?, ?, ?)", postings)

    def remove(self, chunk_ids: Iterable[int]) -> None:
        ids = _unique(chunk_ids)
        self.conn.executemany("DELETE FROM lexical_postings WHERE chunk_id = ?", ids)
        self.conn.executemany("DELETE FROM lexical_lengths WHERE chunk_id = ?", ids)

    def search(self, query: str, k: int) -> list[Hit]:
        # A repeated query word weighs more, as in Anserini's bag-of-words queries.
        query_terms = Counter(terms(query))
        chunk_count, total_length = self.conn.execute(
            "SELECT count(*), coalesce(sum(length), 0) FROM lexical_lengths"
        ).fetchone()
        if not query_terms or not chunk_count or k <= 0:
            return []
        average_length = max(total_length / chunk_count, 1e-9)
        scores: dict[int, float] = {}
        for term, weight in query_terms.items():
            matches = self.conn.execute(
                "SELECT p.chunk_id, p.count, l.length FROM lexical_postings AS p"
                " JOIN lexical_lengths AS l USING (chunk_id) WHERE p.term = ?",
                (term,),
            ).fetchall()
            if not matches:
                continue
            # Lucene's idf: always positive, even for a term in most chunks.
            idf = math.log(1 + (chunk_count - len(matches) + 0.5) / (len(matches) + 0.5))
            for chunk_id, count, length in matches:
                saturation = count + self.k1 * (1 - self.b + self.b * length / average_length)
                gain = weight * idf * count * (self.k1 + 1) / saturation
                scores[chunk_id] = scores.get(chunk_id, 0.0) + gain
        # Ties go to the smaller chunk_id so results never depend on SQLite's row order.
        best = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        return [Hit(*item) for item in best[:k]]

    def document_frequencies(self, stems: Iterable[str]) -> dict[str, int]:
        wanted = list(dict.fromkeys(stems))
        marks = ",".join("?" * len(wanted))
        rows = self.conn.execute(
            f"SELECT term, count(*) FROM lexical_postings WHERE term IN ({marks}) GROUP BY term",
            wanted,
        ).fetchall()
        return dict.fromkeys(wanted, 0) | dict(rows)


class Fts5Index:
    """SQLite FTS5 ('porter unicode61' tokenizer) ranked by its built-in bm25().

    By default FTS5 keeps a copy of every text it indexes. With `content`, an external
    content table, it keeps none and reads the texts from that table or view, (id, text),
    when it needs them, which is to delete a row: so a row must be added after its text is
    in `content`, with that same text, and removed before its text leaves or changes there.
    """

    def __init__(self, conn: sqlite3.Connection, content: str | None = None) -> None:
        self.conn = conn
        self.external = content is not None
        self._postings: PostingsReader | None = None
        options = f", content = '{content}', content_rowid = 'id'" if content else ""
        conn.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS lexical_fts"
            f" USING fts5(text, tokenize = 'porter unicode61'{options})"
        )

    def add(self, rows: Iterable[tuple[int, str]]) -> None:
        rows = list(rows)
        if not self.external:  # external content: the ids are new, and their text is in place
            self.remove(chunk_id for chunk_id, _ in rows)
        self.conn.executemany("INSERT INTO lexical_fts (rowid, text) VALUES (?, ?)", rows)

    def remove(self, chunk_ids: Iterable[int]) -> None:
        self.conn.executemany("DELETE FROM lexical_fts WHERE rowid = ?", _unique(chunk_ids))

    def check(self) -> None:
        """Raise sqlite3.DatabaseError unless the index matches its texts."""
        self.conn.execute(
            "INSERT INTO lexical_fts (lexical_fts, rank) VALUES ('integrity-check', 1)"
        )

    def search(self, query: str, k: int) -> list[Hit]:
        # Each word goes in as a quoted phrase, so FTS5 operators (AND, NEAR, *, -, quotes,
        # parentheses) typed by the user are plain words; FTS5 stems them itself.
        wanted = dict.fromkeys(words(query))
        if not wanted or k <= 0:
            return []
        # Large indexes keep the common words' postings, which give the same top k without
        # FTS5 ranking every match (keyword_topk.py).
        if postings_current(self.conn):
            if self._postings is None:
                self._postings = PostingsReader()
            return self._postings.top_k(self.conn, list(wanted), k)
        return self.rank_every_match(query, k)

    def rank_every_match(self, query: str, k: int) -> list[Hit]:
        """search() by the plain FTS5 query, which ranks every chunk holding a query word."""
        wanted = dict.fromkeys(words(query))
        if not wanted or k <= 0:
            return []
        match = " OR ".join(f'"{word}"' for word in wanted)
        rows = self.conn.execute(
            "SELECT rowid, rank FROM lexical_fts WHERE lexical_fts MATCH ?"
            " ORDER BY rank, rowid LIMIT ?",
            (match, k),
        ).fetchall()
        # rank is bm25(), lower-is-better; flip it so every index returns higher-is-better.
        return [Hit(chunk_id, -cost) for chunk_id, cost in rows]

    def document_frequencies(self, stems: Iterable[str]) -> dict[str, int]:
        wanted = list(dict.fromkeys(stems))
        # fts5vocab counts a stem's chunks by reading all its postings: 26 ms a question at a
        # million chunks. A large index's common stems have theirs stored with their postings.
        known = stored_frequencies(self.conn, wanted) if postings_current(self.conn) else {}
        rest = [stem for stem in wanted if stem not in known]
        if not rest:
            return known
        # fts5vocab reads FTS5's own term list: one row per stem, `doc` = chunks holding it.
        # A temp table, so that reading it never writes to the index's database.
        self.conn.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.lexical_vocab"
            " USING fts5vocab(main, lexical_fts, 'row')"
        )
        marks = ",".join("?" * len(rest))
        rows = self.conn.execute(
            f"SELECT term, doc FROM temp.lexical_vocab WHERE term IN ({marks})", rest
        ).fetchall()
        return dict.fromkeys(wanted, 0) | known | dict(rows)
