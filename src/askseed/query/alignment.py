"""Token-level alignment (MaxSim): how well every word piece of the question finds a match,
by meaning, among the word pieces of a sentence.

The sentence vector is one mean over a whole sentence, so a sentence on the question's topic
scores well even when one thing the question asks about is nowhere in it. Alignment looks at
each piece of the question: "Which company manufactures it?" asked of a sentence about the
trial finds nothing close to "company" or "manufactures", while a paraphrase ("Whose cells
are altered?" against "the patient's own cells are modified") finds close pieces for its
words even where the words differ.

The token vectors are MiniLM's own. The question's come from the pass that embedded it for
the search (Embedder.encode_with_pieces), so it is read once; the few candidate sentences the
calibrator re-ranks are read in one more pass, together (Aligner.features).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from askseed.model.pieces import Pieces
from askseed.text import QUESTION_WORDS, WORD, content_terms, fold

# What alignment_features gives, in order (the calibrator's weights are named by these).
ALIGNMENT_FEATURES = (
    "alignment",  # the mean, over the question's pieces, of each one's best match
    "content_alignment",  # ... over its content pieces only (no question words, stopwords)
    "worst_alignment",  # the best match of its worst-matched content piece
    # The mean, over the sentence's pieces, of each one's best match in the question: how
    # much of the sentence is about the question.
    "reverse_alignment",
    # The best match of the question word's pieces ("when", "who"): a date or a name in the
    # sentence answers them better than anything else in it. 0.0 without a question word.
    "question_word_alignment",
    # The share of the sentence's pieces no piece of the question matches (below UNMATCHED):
    # what the sentence adds, where an answer would be.
    "unmatched",
)
UNMATCHED = 0.5

# Per text, its word pieces as the model reads them (Embedder.token_vectors).
TokenVectors = Callable[[list[str]], list[Pieces]]


class PieceKinds(NamedTuple):
    """What each piece of a question belongs to."""

    content: np.ndarray  # a content word (no question word, stopword or punctuation)
    question_word: np.ndarray  # a question word: who, when, what...


def alignment(question: np.ndarray, sentence: np.ndarray) -> float:
    """The mean, over the question's word pieces, of each one's best cosine to any word piece
    of the sentence; 0.0 when either has none."""
    none = np.zeros(len(question), bool)
    return alignment_features(question, PieceKinds(none, none), sentence)[0]


def alignment_features(
    question: np.ndarray, kinds: PieceKinds, sentence: np.ndarray
) -> tuple[float, ...]:
    """ALIGNMENT_FEATURES of a question's pieces (unit rows, of the `kinds` given) and a
    sentence's. Without content pieces, all the pieces stand in; all 0.0 when either side
    has no piece."""
    if not len(question) or not len(sentence):
        return (0.0,) * len(ALIGNMENT_FEATURES)
    cosines = question @ sentence.T
    best = cosines.max(axis=1)
    chosen = best[kinds.content] if kinds.content.any() else best
    matched = cosines.max(axis=0)
    asked = best[kinds.question_word]
    return (
        float(best.mean()),
        float(chosen.mean()),
        float(chosen.min()),
        float(matched.mean()),
        float(asked.max()) if len(asked) else 0.0,
        float((matched < UNMATCHED).mean()),
    )


def piece_kinds(text: str, spans: Sequence[tuple[int, int]]) -> PieceKinds:
    """What each piece (by its character span in `text`) belongs to: a content word, a
    question word, or neither ("many", "the", "?")."""
    words = [(match.start(), match.end(), match.group()) for match in WORD.finditer(text)]
    starts = [start for start, _, _ in words]
    content, asked = [], []
    for start, _ in spans:
        at = bisect.bisect_right(starts, start) - 1
        word = words[at][2] if at >= 0 and start < words[at][1] else ""
        content.append(bool(word) and bool(content_terms(word)))
        asked.append(fold(word) in QUESTION_WORDS)
    return PieceKinds(np.array(content, dtype=bool), np.array(asked, dtype=bool))


class Aligner:
    """A question's word pieces, from the pass that embedded it, and the model, to read the
    alignment of a few candidate sentences with the question in one more pass."""

    def __init__(self, query: str, question: Pieces, token_vectors: TokenVectors):
        self._question = question.vectors
        self._kinds = piece_kinds(query, question.spans)
        self._token_vectors = token_vectors

    def features(self, sentences: list[str]) -> list[tuple[float, ...]]:
        """ALIGNMENT_FEATURES of each sentence, from one model pass over them all."""
        if not sentences:
            return []
        return [
            alignment_features(self._question, self._kinds, pieces.vectors)
            for pieces in self._token_vectors(list(sentences))
        ]
