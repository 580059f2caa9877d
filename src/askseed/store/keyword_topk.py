"""FTS5's exact BM25 top k on large indexes, without ranking every chunk that matches.

FTS5 ranks an OR query by computing bm25() for every chunk that holds any query word: at a
million chunks a question's words match about half of them, and ranking them takes about half
a second (BENCHMARKS.md, "Keyword top-k at scale"). bm25() is a sum of one contribution per
query word, so the words are split in two:

- a COMMON word (in more than COMMON_DF chunks) has an impact list, built by `refresh_lists`
  after `askseed index` commits: its LIST_LENGTH chunks of highest contribution, and the
  contribution no other chunk exceeds (its floor);
- every other word is RARE, and FTS5 ranks the few chunks holding one of them itself, with every
  query word in the query so that the scores are FTS5's own.

A chunk holding no rare word scores at most the sum, over the common words, of its listed
contribution or else the floor. When the k-th best score of the rare side beats every such
bound, no other chunk can enter the top k: it is FTS5's answer (proven_top_k). When not, the
rarest common word moves to the rare side and the check runs again, while the rare side stays
small; past that, or when the lists no longer describe the index (they keep a stamp of the
FTS5 state they were built from), the caller runs the plain FTS5 query. Indexes under
MIN_CHUNKS keep no lists.
"""

from __future__ import annotations

import sqlite3
from array import array
from dataclasses import dataclass

import numpy as np

MIN_CHUNKS = 200_000  # where ranking every match starts to cost tens of milliseconds
COMMON_DF = 5_000
LIST_LENGTH = 512
RARE_BUDGET = 40_000  # chunks the rare side may match before the plain query is cheaper
# FTS5 and this module add the same contributions in other orders: a bound must win by more
# than that rounding, relatively.
MARGIN = 1e-9
TIE = 1e-12

TABLES = (
    # A rowid table: its pages hold rows of a few KB whole, where a WITHOUT ROWID table's
    # would spill each to an overflow page (4x the bytes).
    "CREATE TABLE IF NOT EXISTS keyword_lists (term TEXT UNIQUE NOT NULL, chunks INTEGER"
    " NOT NULL, floor REAL NOT NULL, ids BLOB NOT NULL, scores BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS keyword_lists_stamp (stamp BLOB NOT NULL)",
)


@dataclass(frozen=True)
class ImpactList:
    """A common word's best chunks by its bm25() contribution, each rounded up, and the most
    any chunk not listed gets from it (0 when every chunk holding it is listed)."""

    chunks: int  # how many chunks hold the word
    floor: float
    ids: np.ndarray  # int64
    scores: np.ndarray  # float64, each >= FTS5's contribution


# --- the pure steps -----------------------------------------------------------------------------


def outside_bounds(lists: list[ImpactList]) -> tuple[float, dict[int, float]]:
    """(bound of a chunk in no list, bound of each listed chunk): what a chunk can score from
    these words at most. A word asked twice has its list twice, as FTS5 counts it twice."""
    base = sum(impact.floor for impact in lists)
    extra: dict[int, float] = {}
    for impact in lists:
        gains = impact.scores - impact.floor
        for chunk_id, gain in zip(impact.ids.tolist(), gains.tolist(), strict=True):
            extra[chunk_id] = extra.get(chunk_id, 0.0) + gain
    return base, extra


def ranked(scores: dict[int, float], k: int | None = None) -> list[tuple[int, float]]:
    """The best k (all when None), best first; ties to the smaller chunk id, as FTS5's ORDER
    BY rank, rowid. FTS5 adds a chunk's contributions in the question's word order, the rare
    side here in another, so the same sum may differ in its last bits: scores within TIE of
    each other, relatively, are ties."""
    items = list(scores.items())
    if k is not None and len(items) > k:
        values = np.fromiter(scores.values(), dtype=np.float64, count=len(items))
        kth = np.partition(values, len(items) - k)[len(items) - k]
        items = [item for item in items if item[1] >= kth * (1 - TIE)]
    items.sort(key=lambda item: (-item[1], item[0]))
    out: list[tuple[int, float]] = []
    group: list[tuple[int, float]] = []
    for item in items:
        if group and item[1] < group[0][1] * (1 - TIE):
            out.extend(sorted(group))
            group = []
        group.append(item)
    out.extend(sorted(group))
    return out if k is None else out[:k]


def proven_top_k(
    exact: dict[int, float], base: float, extra: dict[int, float], k: int
) -> list[tuple[int, float]] | None:
    """The top k of every chunk when `exact` holds the exact score of every chunk that holds a
    rare word, and any other chunk scores at most base + extra.get(chunk, 0); None when these
    bounds cannot prove it (an outside chunk might tie or beat the k-th)."""
    best = ranked(exact, k)
    if len(best) < k:
        return None
    outside = base + max((gain for i, gain in extra.items() if i not in exact), default=0.0)
    kth = best[-1][1]
    return best if kth > outside * (1 + MARGIN) + MARGIN else None


def hopeless(partial: dict[int, float], base: float, extra: dict[int, float], k: int) -> bool:
    """Whether the proof must fail before the common words are ranked: `partial` holds the
    rare words' part of each rare-side score, so partial + base + extra bounds it."""
    if len(partial) < k:
        return True
    bounds = sorted((s + base + extra.get(i, 0.0) for i, s in partial.items()), reverse=True)
    outside = base + max((gain for i, gain in extra.items() if i not in partial), default=0.0)
    return bounds[k - 1] <= outside


# --- the lists on disk ----------------------------------------------------------------------------


def fts_stamp(conn: sqlite3.Connection) -> bytes:
    """FTS5's averages record (chunk and token counts) and segment structure: every committed
    change to the keyword index changes the structure."""
    rows = conn.execute(
        "SELECT block FROM lexical_fts_data WHERE id IN (1, 10) ORDER BY id"
    ).fetchall()
    return b"".join(bytes(block) for (block,) in rows)


def _chunk_count(conn: sqlite3.Connection) -> int:
    # The averages record opens with the row count as an SQLite varint.
    row = conn.execute("SELECT block FROM lexical_fts_data WHERE id = 1").fetchone()
    if row is None:
        return 0
    value = 0
    for byte in bytes(row[0])[:9]:
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            break
    return value


class Tokenizer:
    """FTS5's own 'porter unicode61' tokens of single words, from an in-memory FTS5 table, so
    that a word finds the list of exactly the term FTS5 matches it with."""

    def __init__(self) -> None:
        self.conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        self.conn.execute(
            "CREATE VIRTUAL TABLE words USING fts5(word, tokenize='porter unicode61')"
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


def _round_up(scores: list[float]) -> tuple[bytes, np.ndarray]:
    exact = np.asarray(scores, dtype=np.float64)
    stored = exact.astype("<f4")
    low = stored.astype(np.float64) < exact
    stored[low] = np.nextafter(stored[low], np.float32(np.inf))
    return stored.tobytes(), stored.astype(np.float64)


# Endings that turn a Porter stem back into a word that stems to it ("diseas" + "e").
ENDINGS = ("", "e", "s", "ed", "ing", "y", "es", "al")


def _spellings(tokenizer: Tokenizer, terms: list[str]) -> dict[str, str]:
    """A word FTS5 stems to each term, to query it by: a stem need not stem to itself. A term
    none of the ENDINGS gives back keeps no list and stays on the rare side."""
    found: dict[str, str] = {}
    for ending in ENDINGS:
        missing = [term for term in terms if term not in found]
        spelled = [term + ending for term in missing]
        for term, word, token in zip(missing, spelled, tokenizer.terms(spelled), strict=True):
            if token == term:
                found[term] = word
    return found


def refresh_lists(conn: sqlite3.Connection) -> bool:
    """Rebuild the impact lists when the keyword index changed since they were built; drop
    them under MIN_CHUNKS, where the tables are not even created, so that a small index stays
    as it was. Runs in the caller's transaction; True when it rebuilt them."""
    if _chunk_count(conn) < MIN_CHUNKS:
        conn.execute("DROP TABLE IF EXISTS keyword_lists")
        conn.execute("DROP TABLE IF EXISTS keyword_lists_stamp")
        return False
    for statement in TABLES:
        conn.execute(statement)
    stamp = fts_stamp(conn)
    stored = conn.execute("SELECT stamp FROM keyword_lists_stamp").fetchone()
    if stored is not None and bytes(stored[0]) == stamp:
        return False
    conn.execute("DELETE FROM keyword_lists")
    conn.execute("DELETE FROM keyword_lists_stamp")
    conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.keyword_vocab"
        " USING fts5vocab(main, lexical_fts, 'row')"
    )
    common = conn.execute(
        "SELECT term, doc FROM temp.keyword_vocab WHERE doc > ?", (COMMON_DF,)
    ).fetchall()
    spellings = _spellings(Tokenizer(), [term for term, _ in common])
    for term, chunks in common:
        if term not in spellings:
            continue
        rows = conn.execute(
            "SELECT rowid, rank FROM lexical_fts WHERE lexical_fts MATCH ?"
            " ORDER BY rank, rowid LIMIT ?",
            (f'"{spellings[term]}"', LIST_LENGTH + 1),
        ).fetchall()
        floor = -rows[LIST_LENGTH][1] if len(rows) > LIST_LENGTH else 0.0
        rows = rows[:LIST_LENGTH]
        scores, _ = _round_up([-rank for _, rank in rows])
        ids = array("i", [chunk_id for chunk_id, _ in rows])
        conn.execute(
            "INSERT INTO keyword_lists (term, chunks, floor, ids, scores) VALUES (?, ?, ?, ?, ?)",
            (term, chunks, floor, np.asarray(ids, dtype="<i4").tobytes(), scores),
        )
    conn.execute("INSERT INTO keyword_lists_stamp VALUES (?)", (stamp,))
    return True


def lists_current(conn: sqlite3.Connection) -> bool:
    """Whether the index keeps impact lists and they describe its present state."""
    try:
        stored = conn.execute("SELECT stamp FROM keyword_lists_stamp").fetchone()
    except sqlite3.OperationalError:  # no such table: a small or older index
        return False
    return stored is not None and bytes(stored[0]) == fts_stamp(conn)


def read_lists(conn: sqlite3.Connection, terms: list[str]) -> dict[str, ImpactList]:
    """The lists of these terms; a term without one is rare."""
    wanted = list(dict.fromkeys(terms))
    marks = ",".join("?" * len(wanted))
    rows = conn.execute(
        f"SELECT term, chunks, floor, ids, scores FROM keyword_lists WHERE term IN ({marks})",
        wanted,
    ).fetchall()
    return {
        term: ImpactList(
            chunks,
            floor,
            np.frombuffer(ids, dtype="<i4").astype(np.int64),
            np.frombuffer(scores, dtype="<f4").astype(np.float64),
        )
        for term, chunks, floor, ids, scores in rows
    }


# --- a query ------------------------------------------------------------------------------------


def _any_of(words: list[str]) -> str:
    return " OR ".join(f'"{word}"' for word in words)


def top_k(
    conn: sqlite3.Connection, tokenizer: Tokenizer, words: list[str], k: int
) -> list[tuple[int, float]] | None:
    """FTS5's top k (chunk id, bm25 score, higher is better) for the OR of these words, or
    None when the lists cannot prove it cheaply. The caller checks lists_current first."""
    terms = tokenizer.terms(words)
    lists = read_lists(conn, [term for term in terms if term is not None])
    if not lists:
        return None
    common = sorted(
        (i for i, term in enumerate(terms) if term in lists), key=lambda i: lists[terms[i]].chunks
    )
    while True:
        # The rare side's words in the question's order, as FTS5 adds them up in that order.
        rare = [word for i, word in enumerate(words) if i not in common]
        rest = [words[i] for i in sorted(common)]
        base, extra = outside_bounds([lists[terms[i]] for i in common])
        partial = {}
        if rare:
            rows = conn.execute(
                "SELECT rowid, rank FROM lexical_fts WHERE lexical_fts MATCH ? LIMIT ?",
                (_any_of(rare), RARE_BUDGET + 1),
            ).fetchall()
            if len(rows) > RARE_BUDGET:
                return None
            partial = {chunk_id: -rank for chunk_id, rank in rows}
        if not common:  # every word ranked by FTS5: the whole answer
            return ranked(partial, k)
        if not hopeless(partial, base, extra, k):
            exact = dict(partial)
            if rest:
                exact.update(
                    (chunk_id, -rank)
                    for chunk_id, rank in conn.execute(
                        "SELECT rowid, rank FROM lexical_fts WHERE lexical_fts MATCH ?",
                        (f"({_any_of(rare)}) AND ({_any_of(rest)})",),
                    )
                )
            found = proven_top_k(exact, base, extra, k)
            if found is not None:
                return found
        common = common[1:]  # the rarest common word joins the rare side
