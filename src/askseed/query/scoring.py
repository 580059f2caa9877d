"""How well each sentence of the candidates answers the question, and the answer's support.

These are the numbers answer.py decides with: which sentence is the quote, which passage goes
first, and whether the documents answer at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from askseed.query.retrieve import Candidate
from askseed.text import content_terms, sentence_terms

SentenceKey = tuple[str, int]  # (source, raw_start): a sentence, wherever a chunk repeats it


def sentence_key(candidate: Candidate, raw_start: int) -> SentenceKey:
    return (candidate.source, raw_start)


@dataclass(frozen=True)
class SentenceScore:
    cosine: float  # to the question; 0.0 for a candidate without sentence vectors
    coverage: float  # weighted share of the question's content terms the sentence contains
    # Whether the sentence has a content word the question lacks, or all of the question's.
    # One that only repeats some of the question's words (a title, a heading) cannot hold the
    # answer, so it is never the quote while another sentence can be.
    adds: bool = True

    @property
    def support(self) -> float:
        """How well the sentence answers the question: picks each passage's quote."""
        return self.cosine + self.coverage

    @property
    def rank_key(self) -> tuple[bool, float]:
        return (self.adds, self.support)


def score_sentences(
    query: str,
    query_vector: np.ndarray,
    candidates: list[Candidate],
    pool: int,
    weighted: bool = True,
) -> dict[SentenceKey, SentenceScore]:
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
    terms_of: dict[SentenceKey, frozenset[str]] = {}
    cosine_of: dict[SentenceKey, float] = {}
    pooled: list[frozenset[str]] = []
    for position, candidate in enumerate(candidates):
        cosines = candidate.sentence_cosines(query_vector)
        for index, span in enumerate(candidate.sentences):
            key = sentence_key(candidate, span.raw_start)
            if key in terms_of:
                continue
            terms_of[key] = sentence_terms(candidate.sentence_text(span))
            cosine_of[key] = float(cosines[index]) if cosines is not None else 0.0
            if position < pool:
                pooled.append(terms_of[key])
    weights = (
        term_weights(query_terms, pooled) if weighted else dict.fromkeys(sorted(query_terms), 1.0)
    )
    scores = {}
    for key, words in terms_of.items():
        coverage = weighted_share(weights, words)
        # A sentence holding every question word may be the one the user is quoting back.
        adds = bool(words - query_terms) or query_terms <= words or not weighted
        scores[key] = SentenceScore(cosine_of[key], coverage, adds)
    return scores


def term_weights(query_terms: set[str], sentences: list[frozenset[str]]) -> dict[str, float]:
    """log((n + 1) / (sentences holding the term + 0.5)) for each query term: always above 0,
    near 0 for a term every sentence holds. In the terms' sorted order, see weighted_share."""
    count = len(sentences)
    return {
        term: math.log((count + 1) / (sum(term in words for words in sentences) + 0.5))
        for term in sorted(query_terms)
    }


def weighted_share(weights: dict[str, float], words: frozenset[str] | set[str]) -> float:
    """The share of the weights whose terms `words` holds.

    Summed in the weights' own order, never a set's: a set of strings iterates in an order
    that changes from process to process (string hashing is salted), and floats summed in
    another order differ in their last bits, so the same question could score differently,
    and break a tie differently, in two processes."""
    total = sum(weights.values())
    return sum(w for term, w in weights.items() if term in words) / total if total else 0.0


def answer_support(
    query: str, candidates: list[Candidate], sentence_scores: dict[SentenceKey, SentenceScore]
) -> float:
    """Whether these passages answer the question at all: the best sentence's cosine to the
    question + the share of the question's content terms found anywhere in them.

    The terms are counted over all the passages, not one sentence: a long claim spreads its
    terms over an abstract, while a question on a topic the documents lack ("the boiling point
    of mercury") finds its words nowhere.
    """
    keys = [
        sentence_key(candidate, span.raw_start)
        for candidate in candidates
        for span in candidate.sentences
    ]
    cosines = [sentence_scores[key].cosine for key in keys if key in sentence_scores]
    if not cosines:
        return 0.0
    query_terms = content_terms(query)
    found = set()
    for candidate in candidates:
        for span in candidate.sentences:
            found |= sentence_terms(candidate.sentence_text(span)) & query_terms
    return max(cosines) + (len(found) / len(query_terms) if query_terms else 0.0)
