"""Retrieval: from a question to ranked candidate passages and scored sentences.

Two searches run over the chunks: dense (cosine of the embeddings) and keyword (BM25 over
Porter stems, lexical.py). askseed adds their scores, the keyword one scaled to the query's
best: on SciFact that beat reciprocal-rank fusion, which is kept as a baseline (`Retrieval`).
A document is as good as its best chunk: documents rank by the first of their chunks.

Then the sentences of the top passages are scored (score_sentences), the passage holding the
answer goes first (answer.promote_answer) and answer_support decides whether to abstain.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from askseed.answer import Candidate, SentenceScore
from askseed.lexical import terms
from askseed.store import IndexReader


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


ASKSEED = Retrieval()
PLAIN_RRF = Retrieval(
    name="plain RRF", fusion="rrf", lexical_weight=1.0, answer_pool=0, sentence_rule="plain"
)
DENSE_ONLY = Retrieval(name="dense only", lexical=False, answer_pool=0, sentence_rule="plain")
LEXICAL_ONLY = Retrieval(name="lexical only", dense=False, answer_pool=0, sentence_rule="plain")
# The answer baseline: the best sentence (by `support`) of plain RRF's top 3 passages.
PLAIN_RRF_BEST_SENTENCE = Retrieval(
    name="plain RRF, best sentence of top 3",
    fusion="rrf",
    lexical_weight=1.0,
    answer_pool=3,
    answer_prior=0.0,
    sentence_rule="plain",
)

# What `askseed eval --system NAME` runs: askseed and the baselines it is measured against.
SYSTEMS = {
    "askseed": ASKSEED,
    "lexical": LEXICAL_ONLY,
    "dense": DENSE_ONLY,
    "rrf": PLAIN_RRF,
    "rrf-best-sentence": PLAIN_RRF_BEST_SENTENCE,
}

# Question words say what kind of answer is wanted, not what it is about.
_QUESTION_WORDS = frozenset(
    {
        "who",
        "whom",
        "whose",
        "what",
        "which",
        "when",
        "where",
        "why",
        "how",
        "many",
        "much",
        "does",
        "do",
        "did",
        "can",
        "could",
        "would",
        "should",
        "i",
        "me",
        "my",
        "you",
        "your",
        "we",
        "our",
    }
)


@lru_cache(maxsize=1)
def _question_terms() -> frozenset[str]:
    return frozenset(terms(" ".join(_QUESTION_WORDS))) | _QUESTION_WORDS


def content_terms(text: str) -> set[str]:
    """Stemmed words that carry the topic: no stopwords, no question words."""
    return {term for term in terms(text) if term not in _question_terms()}


@lru_cache(maxsize=100_000)
def sentence_terms(text: str) -> frozenset[str]:
    """content_terms of a stored sentence, remembered: an evaluation, or a chat, meets the same
    sentences question after question, and stemming them was most of its time."""
    return frozenset(content_terms(text))


# --- ranking chunks -------------------------------------------------------------------------


def fuse_ranks(
    rankings: list[list[int]], weights: list[float], rrf_k: float
) -> list[tuple[int, float]]:
    """Weighted reciprocal-rank fusion: (chunk id, fused score), best first.

    Ties go to the smaller chunk id, so the order never depends on dict or SQLite order.
    """
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, chunk_id in enumerate(ranking, start=1):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + weight / (rrf_k + rank)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def fuse_scores(
    cosines: dict[int, float], keyword_scores: dict[int, float], lexical_weight: float
) -> list[tuple[int, float]]:
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
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def rank_chunks(
    reader: IndexReader, query: str, query_vector: np.ndarray, retrieval: Retrieval
) -> tuple[list[tuple[int, float]], dict[int, float]]:
    """(chunk id, retrieval score) best first, and the cosine of every ranked chunk."""
    dense_hits: list[tuple[int, float]] = []
    keyword_hits: list[tuple[int, float]] = []
    if retrieval.dense:
        dense_hits = reader.search(query_vector.reshape(1, -1), retrieval.depth)[0]
    if retrieval.lexical:
        keyword_hits = reader.lexical_search(query, retrieval.depth)
    cosines = dict(dense_hits)
    only_keywords = [chunk_id for chunk_id, _ in keyword_hits if chunk_id not in cosines]
    cosines.update(reader.similarities(query_vector, only_keywords))
    if not retrieval.dense:
        return keyword_hits, cosines
    if retrieval.fusion == "rrf":
        rankings = [[chunk_id for chunk_id, _ in hits] for hits in (dense_hits, keyword_hits)]
        return fuse_ranks(rankings, [1.0, retrieval.lexical_weight], retrieval.rrf_k), cosines
    return fuse_scores(cosines, dict(keyword_hits), retrieval.lexical_weight), cosines


def load_candidates(
    reader: IndexReader, ranked: list[tuple[int, float]], cosines: dict[int, float]
) -> list[Candidate]:
    """The chunks as candidates, in the given order, each scored by its cosine to the query."""
    chunks = reader.chunks_by_id([chunk_id for chunk_id, _ in ranked])
    candidates = []
    for chunk_id, retrieval_score in ranked:
        chunk = chunks.get(chunk_id)
        if chunk is None:
            continue
        sentences = tuple(
            (chunk.text[s.start : s.end], s.raw_start, s.line, s.end_line) for s in chunk.sentences
        )
        candidates.append(
            Candidate(
                chunk.source,
                cosines.get(chunk_id, 0.0),
                sentences,
                chunk.page_starts,
                retrieval_score,
                chunk.sentence_vectors,
            )
        )
    return candidates


# --- scoring sentences ----------------------------------------------------------------------


def score_sentences(
    query: str,
    query_vector: np.ndarray,
    candidates: list[Candidate],
    pool: int,
    weighted: bool = True,
) -> dict[tuple[str, int], SentenceScore]:
    """Each sentence's cosine to the query and weighted share of the query's content terms.

    Cosine alone cannot tell "Who led the trial?" (short, low cosine to the sentence that
    answers it) from "What is the best treatment for diabetes?" asked of a text about lupus
    (on topic, so a fair cosine); the words the question is about can. A word weighs more the
    fewer sentences of the first `pool` candidates hold it, as in BM25: when every passage is
    about "Super Bowl 50", the sentence that also says "AFC" is the one asked about.

    The sentence vectors were computed at index time; a candidate without them scores by its
    terms alone (cosine 0). With weighted=False every term weighs 1 and every sentence counts
    as adding something.
    """
    query_terms = content_terms(query)
    terms_of: dict[tuple[str, int], frozenset[str]] = {}
    cosine_of: dict[tuple[str, int], float] = {}
    pooled: list[frozenset[str]] = []
    for position, candidate in enumerate(candidates):
        vectors = candidate.sentence_vectors
        cosines = vectors @ query_vector.reshape(-1) if vectors is not None else None
        for index, (text, raw_start, _, _) in enumerate(candidate.sentences):
            key = (candidate.source, raw_start)
            if key in terms_of:
                continue
            terms_of[key] = sentence_terms(text)
            cosine_of[key] = float(cosines[index]) if cosines is not None else 0.0
            if position < pool:
                pooled.append(terms_of[key])
    weights = term_weights(query_terms, pooled) if weighted else dict.fromkeys(query_terms, 1.0)
    total = sum(weights.values())
    scores = {}
    for key, words in terms_of.items():
        coverage = sum(weights[term] for term in query_terms & words) / total if total else 0.0
        # A sentence holding every question word may be the one the user is quoting back.
        adds = bool(words - query_terms) or query_terms <= words or not weighted
        scores[key] = SentenceScore(cosine_of[key], coverage, adds)
    return scores


def term_weights(query_terms: set[str], sentences: list[set[str]]) -> dict[str, float]:
    """log((n + 1) / (sentences holding the term + 0.5)) for each query term: always above 0,
    near 0 for a term every sentence holds."""
    count = len(sentences)
    return {
        term: math.log((count + 1) / (sum(term in words for words in sentences) + 0.5))
        for term in query_terms
    }


def answer_support(
    query: str, candidates: list[Candidate], sentence_scores: dict[tuple[str, int], SentenceScore]
) -> float:
    """Whether these passages answer the question at all: the best sentence's cosine to the
    question + the share of the question's content terms found anywhere in them.

    The terms are counted over all the passages, not one sentence: a long claim spreads its
    terms over an abstract, while a question on a topic the documents lack ("the boiling point
    of mercury") finds its words nowhere.
    """
    keys = [(candidate.source, s[1]) for candidate in candidates for s in candidate.sentences]
    cosines = [sentence_scores[key].cosine for key in keys if key in sentence_scores]
    if not cosines:
        return 0.0
    query_terms = content_terms(query)
    found = set()
    for candidate in candidates:
        for text, _, _, _ in candidate.sentences:
            found |= sentence_terms(text) & query_terms
    return max(cosines) + (len(found) / len(query_terms) if query_terms else 0.0)
