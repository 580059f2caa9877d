"""Retrieval: from a question to scored candidate passages and sentence scores."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from askseed.answer import Candidate
from askseed.lexical import terms
from askseed.store import IndexReader

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


def dense_candidates(reader: IndexReader, query_vector: np.ndarray, limit: int) -> list[Candidate]:
    hits = reader.search(query_vector.reshape(1, -1), limit)[0]
    chunks = reader.chunks_by_id([chunk_id for chunk_id, _ in hits])
    candidates = []
    for chunk_id, score in hits:
        chunk = chunks.get(chunk_id)
        if chunk is None:
            continue
        sentences = tuple(
            (chunk.text[s.start : s.end], s.raw_start, s.line, s.end_line) for s in chunk.sentences
        )
        candidates.append(Candidate(chunk.source, score, sentences, chunk.page_starts))
    return candidates


def content_terms(text: str) -> set[str]:
    """Stemmed words that carry the topic: no stopwords, no question words."""
    return {term for term in terms(text) if term not in _question_terms()}


def score_sentences(
    encoder, query: str, query_vector: np.ndarray, candidates: list[Candidate]
) -> dict[tuple[str, int], float]:
    """How well each sentence supports an answer: its cosine to the query plus the share of
    the query's content terms it contains.

    Cosine alone cannot tell "Who led the trial?" (short, low cosine to the sentence that
    answers it) from "What is the best treatment for diabetes?" asked of a text about lupus
    (on topic, so a fair cosine); the words the question is about can.
    """
    keys, texts = [], []
    for candidate in candidates:
        for text, raw_start, _, _ in candidate.sentences:
            key = (candidate.source, raw_start)
            if key not in keys:
                keys.append(key)
                texts.append(text)
    if not texts:
        return {}
    cosines = encoder.encode(texts) @ query_vector.reshape(-1)
    query_terms = content_terms(query)
    scores = {}
    for key, text, cosine in zip(keys, texts, cosines, strict=True):
        coverage = len(query_terms & content_terms(text)) / len(query_terms) if query_terms else 0.0
        scores[key] = float(cosine) + coverage
    return scores
