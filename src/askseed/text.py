"""Words as both searches see them: folded, without stopwords, Porter-stemmed.

The keyword index (store/keyword.py) and the answer's scoring (query/answer.py) must cut and
stem text the same way, or a question word would never meet its sentence; so both take their
words from here. It sits below both packages because the store and the query side share it.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

# Lucene's English stopword list, which Anserini's BM25 baselines use.
STOPWORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their "  # noqa: SIM905
    "then there these they this to was will with".split()
)

# The words that open a question ("why?" alone is a follow-up: query/followup.py).
QUESTION_WORDS = frozenset(["who", "whom", "whose", "what", "which", "when", "where", "why", "how"])
# Words that say what kind of answer is wanted, or who asks, not what it is about: they are
# left out when a question's topic words are counted (query/answer.py).
NOT_TOPIC_WORDS = QUESTION_WORDS | frozenset(
    [
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
    ]
)

# Letters and digits; FTS5's unicode61 tokenizer splits on the same characters. The query
# side cuts questions and sentences into words with it too.
WORD = re.compile(r"[^\W_]+")


@lru_cache(maxsize=1)
def _stemmer():
    # snowballstemmer runs as pure Python, or through PyStemmer's C code when that is installed.
    return snowballstemmer.stemmer("porter")


def fold(word: str) -> str:
    """Lowercase without accents, so "Café" and "cafe" meet (as in FTS5's unicode61)."""
    word = word.lower()
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def words(text: str) -> list[str]:
    """Folded words that are not stopwords, unstemmed."""
    folded = (fold(word) for word in WORD.findall(text))
    return [word for word in folded if word not in STOPWORDS]


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    return _stemmer().stemWord(word)


def terms(text: str) -> list[str]:
    """The index terms of a text, in order: folded, stopwords dropped, Porter-stemmed."""
    return [stem(word) for word in words(text)]


@lru_cache(maxsize=1)
def _not_topic_terms() -> frozenset[str]:
    return frozenset(terms(" ".join(NOT_TOPIC_WORDS))) | NOT_TOPIC_WORDS


def content_terms(text: str) -> set[str]:
    """Stemmed words that carry the topic: no stopwords, no question words."""
    return {term for term in terms(text) if term not in _not_topic_terms()}


@lru_cache(maxsize=100_000)
def sentence_terms(text: str) -> frozenset[str]:
    """content_terms of a stored sentence, remembered: an evaluation, or a chat, meets the same
    sentences question after question, and stemming them was most of its time."""
    return frozenset(content_terms(text))


def is_unicode(text: str) -> bool:
    """Whether `text` can be written as UTF-8: Python keeps bytes that were not UTF-8 (in a
    command line's arguments, say) as lone surrogates, which the tokenizer refuses."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
