"""Retrieval: from a question to ranked candidate passages.

Two searches run over the chunks: dense (cosine of the embeddings) and keyword (BM25 over
Porter stems, store/keyword.py). askseed adds their scores, the keyword one scaled to the
query's best: on SciFact that beat reciprocal-rank fusion, which is kept as a baseline
(`Retrieval`). A document is as good as its best chunk: documents rank by the first of their
chunks. What the candidates answer is decided in answer.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from askseed.store.reader import IndexReader
from askseed.store.schema import Hit, SentenceSpan, StoredChunk


@dataclass(frozen=True)
class Retrieval:
    """How chunks are found, ranked and quoted. The defaults are askseed's, chosen on SciFact
    (see BENCHMARKS.md); the variants below are the baselines it is measured against."""

    name: str = "askseed"
    dense: bool = True
    lexical: bool = True
    # "scores": cosine + lexical_weight * BM25 / the query's best BM25.
    # "rrf": reciprocal-rank fusion, sum of weight / (rrf_k + rank); the dense ranking weighs 1.
    fusion: str = "scores"
    lexical_weight: float = 0.2
    rrf_k: float = 60.0
    depth: int = 500  # chunks taken from each ranking: enough for 100 distinct documents
    # The answer sentence comes from one of this many top passages, which then goes first:
    # the sentence with the best answer_prior * its passage's retrieval score + its support
    # (answer.promote_answer). 0 keeps the retrieval order.
    answer_pool: int = 5
    answer_prior: float = 1.0
    # "weighted": a question word weighs more the rarer it is among the top passages, and a
    # sentence that only repeats the question's words is never the quote. "plain": every
    # question word weighs the same and any sentence may be quoted (askseed's first rule).
    sentence_rule: str = "weighted"
    # "confidence": the quote is the most confident sentence of the top passages, answered
    # when its confidence reaches the calibrator's line (query/calibration.py). "support":
    # askseed's older rule, answered when scoring.answer_support reaches ANSWER_THRESHOLD.
    decision: str = "confidence"


ASKSEED = Retrieval()
# askseed before issue 11: the same ranking, quoting and deciding by the support rule.
SUPPORT_RULE = Retrieval(name="askseed, support rule", decision="support")
PLAIN_RRF = Retrieval(
    name="plain RRF",
    fusion="rrf",
    lexical_weight=1.0,
    answer_pool=0,
    sentence_rule="plain",
    decision="support",
)
DENSE_ONLY = Retrieval(
    name="dense only", lexical=False, answer_pool=0, sentence_rule="plain", decision="support"
)
LEXICAL_ONLY = Retrieval(
    name="lexical only", dense=False, answer_pool=0, sentence_rule="plain", decision="support"
)
# The answer baseline: the best sentence (by `support`) of plain RRF's top 3 passages.
PLAIN_RRF_BEST_SENTENCE = Retrieval(
    name="plain RRF, best sentence of top 3",
    fusion="rrf",
    lexical_weight=1.0,
    answer_pool=3,
    answer_prior=0.0,
    sentence_rule="plain",
    decision="support",
)

# What `askseed eval --system NAME` runs: askseed and the baselines it is measured against.
SYSTEMS = {
    "askseed": ASKSEED,
    "lexical": LEXICAL_ONLY,
    "dense": DENSE_ONLY,
    "rrf": PLAIN_RRF,
    "rrf-best-sentence": PLAIN_RRF_BEST_SENTENCE,
    "support-rule": SUPPORT_RULE,
}

# --- ranking chunks -------------------------------------------------------------------------


def fuse_ranks(rankings: list[list[int]], weights: list[float], rrf_k: float) -> list[Hit]:
    """Weighted reciprocal-rank fusion: (chunk id, fused score), best first.

    Ties go to the smaller chunk id, so the order never depends on dict or SQLite order.
    """
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, chunk_id in enumerate(ranking, start=1):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + weight / (rrf_k + rank)
    return [Hit(*item) for item in sorted(fused.items(), key=lambda item: (-item[1], item[0]))]


def fuse_scores(
    cosines: dict[int, float], keyword_scores: dict[int, float], lexical_weight: float
) -> list[Hit]:
    """cosine + lexical_weight * BM25 / the best BM25 of this query: (chunk id, score), best first.

    Dividing by the best BM25 puts keyword scores, which grow with the query's length and
    rarity, on the cosine's 0-1 scale. Every chunk needs its cosine: the dense search's, or one
    computed for a chunk only the keywords found. Ties go to the smaller chunk id.
    """
    best = max(keyword_scores.values(), default=0.0)
    fused = {}
    for chunk_id, cosine in cosines.items():
        keyword = keyword_scores.get(chunk_id, 0.0) / best if best > 0 else 0.0
        fused[chunk_id] = cosine + lexical_weight * keyword
    return [Hit(*item) for item in sorted(fused.items(), key=lambda item: (-item[1], item[0]))]


def rank_chunks(
    reader: IndexReader, query: str, query_vector: np.ndarray, retrieval: Retrieval
) -> tuple[list[Hit], dict[int, float]]:
    """(chunk id, retrieval score) best first, and the cosine of every ranked chunk."""
    dense_hits: list[Hit] = []
    keyword_hits: list[Hit] = []
    if retrieval.dense:
        dense_hits = reader.search(query_vector.reshape(1, -1), retrieval.depth)[0]
    if retrieval.lexical:
        keyword_hits = reader.keyword_search(query, retrieval.depth)
    cosines = dict(dense_hits)
    only_keywords = [chunk_id for chunk_id, _ in keyword_hits if chunk_id not in cosines]
    cosines.update(reader.similarities(query_vector, only_keywords))
    if not retrieval.dense:
        return keyword_hits, cosines
    if retrieval.fusion == "rrf":
        rankings = [[chunk_id for chunk_id, _ in hits] for hits in (dense_hits, keyword_hits)]
        return fuse_ranks(rankings, [1.0, retrieval.lexical_weight], retrieval.rrf_k), cosines
    return fuse_scores(cosines, dict(keyword_hits), retrieval.lexical_weight), cosines


@dataclass(frozen=True)
class Candidate:
    """A retrieved chunk and how well it matched the query."""

    chunk: StoredChunk
    cosine: float  # of the query to the chunk
    retrieval_score: float = 0.0  # what ranked it: the fused score (rank_chunks)

    @property
    def source(self) -> str:
        return self.chunk.source

    @property
    def sentences(self) -> tuple[SentenceSpan, ...]:
        return self.chunk.sentences

    def sentence_text(self, span: SentenceSpan) -> str:
        return self.chunk.sentence_text(span)

    def sentence_cosines(self, query_vector: np.ndarray) -> np.ndarray | None:
        """The query's cosine to each of the chunk's sentences; None without their vectors."""
        vectors = self.chunk.sentence_vectors
        return vectors @ query_vector.reshape(-1) if vectors is not None else None


def load_candidates(
    reader: IndexReader, ranked: list[Hit], cosines: dict[int, float]
) -> list[Candidate]:
    """The chunks as candidates, in the given order (a chunk gone from the index is left out)."""
    chunks = reader.chunks_by_id([chunk_id for chunk_id, _ in ranked])
    return [
        Candidate(chunks[chunk_id], cosines.get(chunk_id, 0.0), retrieval_score)
        for chunk_id, retrieval_score in ranked
        if chunk_id in chunks
    ]
