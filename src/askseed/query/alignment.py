"""Token-level alignment (MaxSim): how well every word piece of the question finds a match,
by meaning, among the word pieces of a sentence.

The sentence vector is one mean over a whole sentence, so a sentence on the question's topic
scores well even when one thing the question asks about is nowhere in it. Alignment looks at
each piece of the question: "Which company manufactures it?" asked of a sentence about the
trial finds nothing close to "company" or "manufactures", while a paraphrase ("Whose cells
are altered?" against "the patient's own cells are modified") finds close pieces for its
words even where the words differ. The token vectors are MiniLM's own, from one more model
pass over the question and its quote together: the pass that embedded the question computed
the question's token vectors too, but pooled them away, so the question is read twice.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# Per text, one unit row per word piece, as the model reads it (Embedder.token_vectors).
TokenVectors = Callable[[list[str]], list[np.ndarray]]


def alignment(question: np.ndarray, sentence: np.ndarray) -> float:
    """The mean, over the question's word pieces, of each one's best cosine to any word piece
    of the sentence; 0.0 when either has none."""
    if not len(question) or not len(sentence):
        return 0.0
    return float((question @ sentence.T).max(axis=1).mean())


def quote_alignment(token_vectors: TokenVectors, query: str, sentence: str) -> float:
    """alignment() of a query and a sentence, from one model pass over both."""
    question, quote = token_vectors([query, sentence])
    return alignment(question, quote)
