"""The common words' postings that keyword_topk.py sums: what they hold, how they are kept
in the index's database, and how `askseed index` builds and updates them.

Each word in more than COMMON_DF chunks (stopwords left out: a question never holds one) keeps
the chunks holding it and how often, as numpy-ready blobs, and the index keeps every chunk's
length in tokens, all read from FTS5 itself. They record the FTS5 state they describe
(fts_stamp): once the keyword index changes they are never used, until `refresh_postings`,
run by IndexWriter.commit after its commit, updates them (a small change) or builds them
again. Indexes under MIN_CHUNKS keep none, not even the tables.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import numpy as np

from askseed.text import STOPWORDS

# Where ranking every match starts to cost tens of milliseconds: about 40 ms a question at
# 100,000 chunks (BENCHMARKS.md, "Keyword postings from 50,000 chunks").
MIN_CHUNKS = 50_000
COMMON_DF = 2_000  # a rarer word is ranked by FTS5: at most this many chunks, ~2 ms
BLOCK = 1 << 16  # see encode_ids
REBUILD_SHARE = 0.1  # see _update_postings

TABLES = (
    # A rowid table, so that a term's row of a few KB shares pages with others.
    "CREATE TABLE IF NOT EXISTS keyword_postings (term TEXT UNIQUE NOT NULL,"
    " chunks INTEGER NOT NULL, narrow BLOB NOT NULL, wide BLOB NOT NULL, more BLOB NOT NULL,"
    " counts BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS keyword_postings_state (stamp BLOB NOT NULL,"
    " width INTEGER NOT NULL, lengths BLOB NOT NULL, built INTEGER NOT NULL,"
    " changed INTEGER NOT NULL)",
)


@dataclass(frozen=True)
class Postings:
    """The chunks that hold a term, ascending, and how often each holds it."""

    ids: np.ndarray  # int64
    counts: np.ndarray  # float64, as FTS5 counts


# --- the format ---------------------------------------------------------------------------------


def encode_ids(ids: np.ndarray) -> tuple[bytes, bytes]:
    """Ascending chunk ids as (narrow, wide), whichever of two forms is smaller: gaps, a byte
    each, with 0 standing for a gap of 256 or more kept in `wide` as 4 bytes (a word in many
    chunks); or each id's low 16 bits, with `wide` counting the ids in each block of 65,536
    (a rarer word). `narrow` holds 1 or 2 bytes an id: its length tells the form."""
    gaps = np.diff(ids, prepend=-1)
    far = gaps >= 256
    if len(ids) and 4 * int(far.sum()) < len(ids):
        return np.where(far, 0, gaps).astype("<u1").tobytes(), gaps[far].astype("<u4").tobytes()
    blocks = np.bincount(ids >> 16).astype("<u4") if len(ids) else np.zeros(0, "<u4")
    return (ids & (BLOCK - 1)).astype("<u2").tobytes(), blocks.tobytes()


def decode_ids(narrow: bytes, wide: bytes, postings: int) -> np.ndarray:
    if postings and len(narrow) == postings:
        gaps = np.frombuffer(narrow, dtype=np.uint8).astype(np.int64)
        gaps[gaps == 0] = np.frombuffer(wide, dtype="<u4")
        return np.cumsum(gaps) - 1
    per_block = np.frombuffer(wide, dtype="<u4")
    high = np.repeat(np.arange(len(per_block), dtype=np.int64) << 16, per_block)
    return high + np.frombuffer(narrow, dtype="<u2")


def encode_counts(counts: np.ndarray) -> tuple[bytes, bytes]:
    """(a bit a posting, set where the count is not 1; those counts, a byte each, or two when
    one passes 255): five postings in six hold their word once."""
    more = counts != 1
    others = counts[more]
    width = "<u1" if others.max(initial=0) < 256 else "<u2"
    return np.packbits(more).tobytes(), others.astype(width).tobytes()


def decode_counts(mask: bytes, others: bytes, postings: int) -> np.ndarray:
    more = np.unpackbits(np.frombuffer(mask, dtype=np.uint8), count=postings).astype(bool)
    width = "<u1" if len(others) == int(more.sum()) else "<u2"
    counts = np.ones(postings, dtype=np.float64)
    counts[more] = np.frombuffer(others, dtype=width)
    return counts


# --- the postings on disk -------------------------------------------------------------------------


def fts_stamp(conn: sqlite3.Connection) -> bytes:
    """FTS5's averages record (chunk and token counts) and segment structure: every committed
    change to the keyword index changes the structure."""
    rows = conn.execute(
        "SELECT block FROM lexical_fts_data WHERE id IN (1, 10) ORDER BY id"
    ).fetchall()
    return b"".join(bytes(block) for (block,) in rows)


def _varints(data: bytes, count: int) -> list[int]:
    """The first `count` SQLite varints of `data` (FTS5's records use them)."""
    values, at = [], 0
    for _ in range(count):
        value = 0
        for shift in range(9):
            byte = data[at]
            at += 1
            if shift == 8:
                value = (value << 8) | byte
                break
            value = (value << 7) | (byte & 0x7F)
            if byte < 0x80:
                break
        values.append(value)
    return values


def totals(conn: sqlite3.Connection) -> tuple[int, int]:
    """(chunks, tokens) as FTS5 counts them for bm25(): its averages record."""
    row = conn.execute("SELECT block FROM lexical_fts_data WHERE id = 1").fetchone()
    if row is None or not row[0]:
        return 0, 0
    chunks, tokens = _varints(bytes(row[0]), 2)
    return chunks, tokens


def _lengths(conn: sqlite3.Connection) -> np.ndarray:
    """Every chunk's length in tokens, by chunk id (FTS5's docsize table)."""
    rows = conn.execute("SELECT id, sz FROM lexical_fts_docsize").fetchall()
    top = max((chunk_id for chunk_id, _ in rows), default=0)
    lengths = np.zeros(top + 1, dtype=np.int64)
    for chunk_id, size in rows:
        lengths[chunk_id] = _varints(bytes(size), 1)[0]
    return lengths


def refresh_postings(conn: sqlite3.Connection) -> bool:
    """Rebuild the postings when the keyword index changed since they were built. Under
    MIN_CHUNKS drop them, tables too, so that a small index stays as it was. Runs in the
    caller's transaction; True when it rebuilt them."""
    if totals(conn)[0] < MIN_CHUNKS:
        conn.execute("DROP TABLE IF EXISTS keyword_postings")
        conn.execute("DROP TABLE IF EXISTS keyword_postings_state")
        return False
    for statement in TABLES:
        conn.execute(statement)
    stamp = fts_stamp(conn)
    stored = conn.execute(
        "SELECT stamp, width, lengths, built, changed FROM keyword_postings_state"
    ).fetchone()
    if stored is not None and bytes(stored[0]) == stamp:
        return False
    if stored is not None and _update_postings(conn, stored, stamp):
        return True
    conn.execute("DELETE FROM keyword_postings")
    conn.execute("DELETE FROM keyword_postings_state")
    conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.keyword_terms"
        " USING fts5vocab(main, lexical_fts, 'row')"
    )
    conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.keyword_instances"
        " USING fts5vocab(main, lexical_fts, 'instance')"
    )
    common = conn.execute(
        "SELECT term, doc FROM temp.keyword_terms WHERE doc > ?", (COMMON_DF,)
    ).fetchall()
    # A query never holds a stopword (text.words): their postings, a fifth of all, would
    # never be read. A word that shares a stopword's stem is ranked by FTS5 instead.
    stopped = set(Tokenizer().terms(sorted(STOPWORDS)))
    for term, chunks in common:
        if term in stopped:
            continue
        # One row per occurrence, by chunk id: runs of one id are its count.
        rows = conn.execute(
            "SELECT doc FROM temp.keyword_instances WHERE term = ?", (term,)
        ).fetchall()
        ids, counts = np.unique(np.array(rows, dtype=np.int64).ravel(), return_counts=True)
        conn.execute(
            "INSERT INTO keyword_postings (term, chunks, narrow, wide, more, counts)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (term, chunks, *encode_ids(ids), *encode_counts(counts)),
        )
    lengths = _lengths(conn)
    conn.execute(
        "INSERT INTO keyword_postings_state (stamp, width, lengths, built, changed)"
        " VALUES (?, ?, ?, ?, 0)",
        (stamp, *_encode_lengths(lengths), totals(conn)[0]),
    )
    return True


def _encode_lengths(lengths: np.ndarray) -> tuple[int, bytes]:
    width = 2 if lengths.max(initial=0) < (1 << 16) else 4
    return width, lengths.astype(f"<u{width}").tobytes()


def _added_postings(conn: sqlite3.Connection, first: int) -> dict[str, Postings]:
    """Each term's postings among the chunks from id `first` on, cut by FTS5's own tokenizer
    from the very texts the keyword index holds."""
    rows = conn.execute("SELECT rowid, text FROM lexical_fts WHERE rowid >= ?", (first,))
    cutter = Tokenizer()
    cutter.conn.execute("BEGIN")
    cutter.conn.executemany("INSERT INTO words (rowid, word) VALUES (?, ?)", rows)
    found: dict[str, tuple[list[int], list[int]]] = {}
    for term, chunk_id, count in cutter.conn.execute(
        "SELECT term, doc, count(*) FROM temp.tokens GROUP BY term, doc ORDER BY term, doc"
    ):
        ids, counts = found.setdefault(term, ([], []))
        ids.append(chunk_id)
        counts.append(count)
    cutter.conn.close()
    return {
        term: Postings(np.array(ids, dtype=np.int64), np.array(counts, dtype=np.float64))
        for term, (ids, counts) in found.items()
    }


def _update_postings(conn: sqlite3.Connection, stored: tuple, stamp: bytes) -> bool:
    """Bring the postings up to date with the chunks removed and added since they were built,
    rewriting only the words these touch: a few seconds at a million chunks, where a full
    build takes a minute or more. False, changing nothing, when a full build is due instead:
    a chunk id below the old ones appeared (ids only grow), or more than REBUILD_SHARE of
    the chunks changed since the last full build (a word that has since become common would
    otherwise stay without postings, ranked by FTS5, ever more often)."""
    _, width, blob, built, changed = stored
    old = np.frombuffer(blob, dtype=f"<u{width}").astype(np.int64)
    new = _lengths(conn)
    shared = min(len(old), len(new))
    if np.any((new[:shared] > 0) & (old[:shared] == 0)):
        return False
    removed = np.flatnonzero(old > 0)
    removed = removed[(removed >= len(new)) | (new[np.minimum(removed, len(new) - 1)] == 0)]
    added = int(np.count_nonzero(new[len(old) :]))
    changed += len(removed) + added
    if changed > REBUILD_SHARE * built:
        return False
    fresh = _added_postings(conn, len(old)) if added else {}
    for term, chunks, narrow, wide, more, counts in conn.execute(
        "SELECT term, chunks, narrow, wide, more, counts FROM keyword_postings"
    ).fetchall():
        ids = decode_ids(narrow, wide, chunks)
        held = decode_counts(more, counts, chunks)
        keep = ~np.isin(ids, removed, assume_unique=True)
        plus = fresh.get(term)
        if keep.all() and plus is None:
            continue
        ids, held = ids[keep], held[keep]
        if plus is not None:
            ids = np.concatenate([ids, plus.ids])
            held = np.concatenate([held, plus.counts])
        conn.execute(
            "UPDATE keyword_postings SET chunks = ?, narrow = ?, wide = ?, more = ?, counts = ?"
            " WHERE term = ?",
            (len(ids), *encode_ids(ids), *encode_counts(held.astype(np.int64)), term),
        )
    conn.execute(
        "UPDATE keyword_postings_state SET stamp = ?, width = ?, lengths = ?, changed = ?",
        (stamp, *_encode_lengths(new), changed),
    )
    return True


def postings_current(conn: sqlite3.Connection) -> bool:
    """Whether the index keeps postings and they describe its present state."""
    try:
        stored = conn.execute("SELECT stamp FROM keyword_postings_state").fetchone()
    except sqlite3.OperationalError:  # no such table: a small or older index
        return False
    return stored is not None and bytes(stored[0]) == fts_stamp(conn)


def stored_frequencies(conn: sqlite3.Connection, terms: list[str]) -> dict[str, int]:
    """How many chunks hold each of these terms that has postings (the caller checks
    postings_current first)."""
    marks = ",".join("?" * len(terms))
    rows = conn.execute(
        f"SELECT term, chunks FROM keyword_postings WHERE term IN ({marks})", terms
    ).fetchall()
    return dict(rows)


class Tokenizer:
    """FTS5's own 'porter unicode61' tokens of single words, from an in-memory FTS5 table, so
    that a word finds the postings of exactly the term FTS5 matches it with."""

    def __init__(self) -> None:
        self.conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        self.conn.execute(
            "CREATE VIRTUAL TABLE words USING fts5(word, tokenize = 'porter unicode61')"
        )
        self.conn.execute(
            "CREATE VIRTUAL TABLE temp.tokens USING fts5vocab(main, words, 'instance')"
        )

    def terms(self, words: list[str]) -> list[str | None]:
        """Each word's term; None for a word FTS5 cuts into more or fewer than one token."""
        self.conn.execute("BEGIN")
        try:
            self.conn.execute("DELETE FROM words")
            self.conn.executemany("INSERT INTO words (rowid, word) VALUES (?, ?)", enumerate(words))
            found: dict[int, list[str]] = {}
            for term, row in self.conn.execute("SELECT term, doc FROM temp.tokens"):
                found.setdefault(row, []).append(term)
        finally:
            self.conn.execute("ROLLBACK")
        return [found[i][0] if len(found.get(i, ())) == 1 else None for i in range(len(words))]
