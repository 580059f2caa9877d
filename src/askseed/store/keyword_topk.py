"""FTS5's exact BM25 top k on large indexes, without FTS5 ranking every chunk that matches.

FTS5 ranks an OR query by calling bm25() on every chunk that holds any query word: at a
million chunks a question's words match about half of them, and that takes about half a
second (BENCHMARKS.md, "Keyword top-k at scale"). bm25() is a sum, in the question's word
order, of one contribution per word, which depends only on the word's document frequency,
its count in the chunk and the chunk's length. So:

- each common word keeps its postings, the chunks that hold it and how often, beside every
  chunk's length in tokens (keyword_postings.py, which also says when they may be used;
  when not, the caller runs the plain query);
- a question adds up each word's contributions with numpy, with FTS5's own formula and
  constants in FTS5's order, so the scores are FTS5's to the last bit; a rare word's chunks
  and counts come from FTS5's own index (fts5vocab), and a word FTS5 reads as a phrase is
  ranked by FTS5 itself.
"""

from __future__ import annotations

import math
import sqlite3
from collections import OrderedDict
from typing import NamedTuple

import numpy as np

from askseed.store.keyword_postings import Postings, Tokenizer, decode_counts, decode_ids, totals
from askseed.store.schema import Hit

# FTS5's bm25() constants (fts5_aux.c), which FTS5 does not let a query change.
K1 = 1.2
B = 0.75


# --- the pure steps ---------------------------------------------------------------------------


def idf(chunks: int, holding: int) -> float:
    """FTS5's idf, floored as FTS5 floors it (math.log is the C library's, as FTS5's)."""
    value = math.log((chunks - holding + 0.5) / (holding + 0.5))
    return value if value > 0.0 else 1e-6


def length_terms(lengths: np.ndarray, average: float) -> np.ndarray:
    """k1 * (1 - b + b * D / avgdl) for each chunk, as fts5Bm25Function computes it."""
    return K1 * ((1 - B) + B * lengths / average)


def contributions(weight: float, counts: np.ndarray, length_term: np.ndarray) -> np.ndarray:
    """One word's bm25() term for each chunk, in FTS5's operation order (fts5Bm25Function):
    idf * ((f * (k1 + 1)) / (f + k1 * (1 - b + b * D / avgdl)))."""
    return weight * ((counts * (K1 + 1.0)) / (counts + length_term))


def best_k(scores: np.ndarray, k: int, hint: np.ndarray | None = None) -> list[Hit]:
    """The k highest scores above 0 as (chunk id, score): ORDER BY rank, rowid (ties to the
    smaller chunk id).

    `hint`: ids of some chunks scoring above 0 (those holding one query word). When there
    are k of them, the k-th best of their scores is at most the k-th best of all, so only
    the chunks scoring at least that are looked at: a few hundred, not every chunk matched."""
    if hint is not None and 0 < k <= len(hint):
        values = scores[hint]
        bound = np.partition(values, len(values) - k)[len(values) - k]
        held = np.flatnonzero(scores >= bound)
    else:
        held = np.flatnonzero(scores > 0)
    if len(held) > k:
        kth = np.partition(scores[held], len(held) - k)[len(held) - k]
        held = held[scores[held] >= kth]
    order = np.lexsort((held, -scores[held]))[:k]
    return [Hit(int(i), float(scores[i])) for i in held[order]]


# Every occurrence of every term in the keyword index, one row each, read from FTS5's own
# index: made per connection, in its temporary schema, so it writes nothing to the index.
INSTANCES = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.lexical_fts_instances"
    " USING fts5vocab(main, lexical_fts, 'instance')"
)


def rare_postings(conn: sqlite3.Connection, term: str) -> Postings:
    """The postings of a term too rare to keep them, read from FTS5's own index (fts5vocab),
    so that its terms are computed as a common word's are: FTS5's scores to the last bit,
    without FTS5's rank looking up each chunk's length in its own table, 2.5 times faster at
    a million chunks (BENCHMARKS.md, "Rare words' keyword scores")."""
    conn.execute(INSTANCES)
    rows = conn.execute(
        "SELECT doc, count(*) FROM temp.lexical_fts_instances WHERE term = ? GROUP BY doc",
        (term,),
    ).fetchall()
    table = np.array(rows, dtype=np.int64).reshape(-1, 2)
    return Postings(table[:, 0], table[:, 1].astype(np.float64))


# What a PostingsReader keeps of the words it has summed, for the next questions: a chat meets
# the same common words question after question, and a word's contributions, fixed while
# the postings stay the same, are a gather and a division over all its chunks.
KEPT_BYTES = 96 * 2**20
# A word held by more than this share of the chunks keeps one contribution a chunk, 0.0 where
# it is absent: adding a whole array (about 1 ms at a million chunks) beats adding at a
# quarter of a million places, and adding 0.0 changes no score (none is ever -0.0).
DENSE_SHARE = 0.25


class Contributions(NamedTuple):
    """One word's bm25() term for each chunk holding it: what a question adds up."""

    ids: np.ndarray | None  # int64, ascending; None: `gains` holds one value every chunk
    gains: np.ndarray  # float64

    @property
    def nbytes(self) -> int:
        return (self.ids.nbytes if self.ids is not None else 0) + self.gains.nbytes

    def add_to(self, scores: np.ndarray) -> None:
        if self.ids is None:
            scores += self.gains
        else:
            scores[self.ids] += self.gains


class PostingsReader:
    """Reads postings, with the chunk lengths, each word's term and the contributions of the
    words last asked about kept while the postings stay the same (their stamp)."""

    def __init__(self, kept_bytes: int = KEPT_BYTES) -> None:
        self.tokenizer = Tokenizer()
        self.kept_bytes = kept_bytes
        self._stamp: bytes | None = None
        self._length_terms = np.zeros(0)
        self._chunks = 0
        self._terms: dict[str, str | None] = {}
        self._kept: OrderedDict[str, Contributions] = OrderedDict()  # by word, oldest first

    def length_terms(self, conn: sqlite3.Connection) -> np.ndarray:
        """Every chunk's length_terms, kept while the postings stay the same."""
        (stamp,) = conn.execute("SELECT stamp FROM keyword_postings_state").fetchone()
        if stamp != self._stamp:
            width, blob = conn.execute(
                "SELECT width, lengths FROM keyword_postings_state"
            ).fetchone()
            lengths = np.frombuffer(blob, dtype=f"<u{width}").astype(np.float64)
            chunks, tokens = totals(conn)
            self._length_terms = length_terms(lengths, tokens / chunks)
            self._chunks = chunks
            self._kept.clear()
            self._stamp = stamp
        return self._length_terms

    def terms(self, words: list[str]) -> list[str | None]:
        """The Tokenizer's terms of these words, each cut once (a pure function of the word)."""
        new = [word for word in dict.fromkeys(words) if word not in self._terms]
        if new:
            if len(self._terms) > 100_000:
                self._terms.clear()
            self._terms.update(zip(new, self.tokenizer.terms(new), strict=True))
        return [self._terms[word] for word in words]

    def top_k(self, conn: sqlite3.Connection, words: list[str], k: int) -> list[Hit]:
        """FTS5's top k (chunk id, bm25 score, higher is better) for the OR of these words,
        the phrases of the query in this order. The caller checks postings_current first."""
        by_chunk = self.length_terms(conn)
        terms = self.terms(words)
        found = self._contributions(conn, words, terms, by_chunk)
        scores = np.zeros(len(by_chunk), dtype=np.float64)
        for word in words:
            found[word].add_to(scores)
        held = [found[word].ids for word in words if found[word].ids is not None]
        enough = [ids for ids in held if len(ids) >= k]
        return best_k(scores, k, min(enough, key=len) if enough else None)

    def _contributions(
        self,
        conn: sqlite3.Connection,
        words: list[str],
        terms: list[str | None],
        by_chunk: np.ndarray,
    ) -> dict[str, Contributions]:
        """Each word's Contributions: kept, from its stored postings, or from FTS5 itself."""
        found = {word: self._kept[word] for word in words if word in self._kept}
        for word in found:
            self._kept.move_to_end(word)
        wanted = {term: word for word, term in zip(words, terms, strict=True) if word not in found}
        stored = {}
        if any(term is not None for term in wanted):
            real = [term for term in wanted if term is not None]
            marks = ",".join("?" * len(real))
            stored = {
                term: Postings(
                    decode_ids(narrow, wide, chunks), decode_counts(more, counts, chunks)
                )
                for term, chunks, narrow, wide, more, counts in conn.execute(
                    "SELECT term, chunks, narrow, wide, more, counts FROM keyword_postings"
                    f" WHERE term IN ({marks})",
                    real,
                )
            }
        for word, term in zip(words, terms, strict=True):
            if word in found:
                continue
            postings = stored.get(term) if term is not None else None
            if postings is None and term is not None:  # too rare to keep postings
                postings = rare_postings(conn, term)
            if postings is None:
                # A word FTS5 cuts into several tokens is a phrase: FTS5 scores a query of
                # one phrase as 0.0 + its contribution, which is this, exactly.
                rows = conn.execute(
                    "SELECT rowid, rank FROM lexical_fts WHERE lexical_fts MATCH ?",
                    (f'"{word}"',),
                ).fetchall()
                table = np.array(rows, dtype=np.float64).reshape(-1, 2)
                found[word] = Contributions(table[:, 0].astype(np.int64), -table[:, 1])
            else:
                weight = idf(self._chunks, len(postings.ids))
                gains = contributions(weight, postings.counts, by_chunk[postings.ids])
                found[word] = Contributions(postings.ids, gains)
                if len(postings.ids) > DENSE_SHARE * len(by_chunk):
                    dense = np.zeros(len(by_chunk), dtype=np.float64)
                    dense[postings.ids] = gains
                    found[word] = Contributions(None, dense)
            self._keep(word, found[word])
        return found

    def _keep(self, word: str, contribution: Contributions) -> None:
        self._kept[word] = contribution
        held = sum(kept.nbytes for kept in self._kept.values())
        while held > self.kept_bytes and len(self._kept) > 1:
            _, dropped = self._kept.popitem(last=False)
            held -= dropped.nbytes
