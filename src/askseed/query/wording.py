"""What a query or a sentence says by its words alone: whether a query is a question, the
kind of answer it asks for and whether a sentence holds one, a negation, a heading, names
and numbers. Pure rules over text, no index and no model: features.py turns them into the
calibrator's features.
"""

from __future__ import annotations

import re
from functools import lru_cache

from askseed.text import QUESTION_WORDS, STOPWORDS, WORD, fold

# Kinds of answer a question can ask for, from its first words.
NUMBER, AMOUNT, DATE, NAME = "number", "amount", "date", "name"
_KIND_PATTERNS = (
    (DATE, re.compile(r"\b(when|(what|which) (year|century|decade|month|day|date|time))\b")),
    # "How much does it cost?" wants a sum or a share, which a count ("5 of 6") is not
    (
        AMOUNT,
        re.compile(
            r"\bhow much\b|\b(what|which) (price|cost|amount|percentage|percent|proportion|share)"
            r"\b|\bcost\b"
        ),
    ),
    (
        NUMBER,
        re.compile(
            r"\bhow (many|old|long|far|large|big|tall|high|fast|heavy|often|deep|wide)\b"
            r"|\b(what|which) (number|fraction)\b"
        ),
    ),
    (NAME, re.compile(r"\b(who|whom|whose)\b")),
)
_NUMBER_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty "
    "hundred hundreds thousand thousands million millions billion billions dozen half once twice"
)
_NUMBER = re.compile(
    r"\d+(?:[.,]\d+)*|\b(" + "|".join(_NUMBER_WORDS.split()) + r")\b", re.IGNORECASE
)
_AMOUNT = re.compile(
    r"[$£€¥]|\d[\d,.]*\s*(%|percent|per cent|pounds?|dollars?|euros?|yen|million|billion"
    r"|thousand|trillion|bn|m\b|k\b)|\b(half|quarter|third|percent|per cent)\b",
    re.IGNORECASE,
)
_DATE = re.compile(
    r"\b(1\d{3}|20\d{2})s?\b|\b\d+(st|nd|rd|th) century\b|\b(January|February|March|April|May"
    r"|June|July|August|September|October|November|December|Monday|Tuesday|Wednesday|Thursday"
    r"|Friday|Saturday|Sunday|ago|century|decade|years?|months?|weeks?|days?|morning|afternoon"
    r"|evening|night|noon|midnight|dawn|o'clock|[ap]\.?m|today|tomorrow|yesterday|daily|weekly"
    r"|annually|every|spring|summer|autumn|winter|before|after|during|until|since|nine|ten|eleven"
    r"|twelve|\d{1,2}[:.]\d{2})\b",
    re.IGNORECASE,
)
_NAME = re.compile(r"(?<!^)(?<![.!?] )\b[A-Z][\w'-]+")
_NEGATION = re.compile(
    r"\b(?:not|no|never|none|nothing|nobody|nowhere|neither|nor|cannot|without)\b|n['’]t\b",
    re.IGNORECASE,
)
_FULL_STOP = re.compile(r"[.!?:;\"”’')\]]\s*$")
HEADING_WORDS = 14


# Words that open a yes/no question: "Is it a one-off treatment?"
_AUXILIARIES = frozenset(
    ["is", "are", "was", "were", "do", "does", "did", "can", "could", "should", "would"]
    + ["will", "shall", "has", "have", "had", "may", "might", "must"]
)


def is_question(query: str) -> bool:
    """A question (it ends with "?" or opens with a question word or an auxiliary verb),
    rather than a statement: a claim to check or a few keywords."""
    tokens = WORD.findall(query)
    if query.rstrip().endswith("?"):
        return True
    return bool(tokens) and fold(tokens[0]) in (QUESTION_WORDS | _AUXILIARIES)


def answer_kind(question: str) -> str | None:
    """date, amount, number or name when the question asks for one ("when", "how much",
    "how many", "who")."""
    folded = question.casefold()
    for kind, pattern in _KIND_PATTERNS:
        if pattern.search(folded):
            return kind
    return None


@lru_cache(maxsize=100_000)
def holds_kind(sentence: str, kind: str, question_tokens: frozenset[str]) -> bool:
    """Whether the sentence holds a thing of this kind that the question does not already say:
    "How many ... Super Bowl 50?" is not answered by the "50" it repeats."""
    pattern = {NUMBER: _NUMBER, AMOUNT: _AMOUNT, DATE: _DATE, NAME: _NAME}[kind]
    return any(
        fold(match.group()) not in question_tokens
        and not (match.group().isdigit() and match.group() in question_tokens)
        for match in pattern.finditer(sentence)
    )


@lru_cache(maxsize=100_000)
def is_negated(text: str) -> bool:
    """Whether the text says that something is not so: "not", "never", "didn't" ..."""
    return _NEGATION.search(text) is not None


@lru_cache(maxsize=100_000)
def is_heading(sentence: str) -> bool:
    """A title or heading: a short line that does not end like a sentence."""
    return len(WORD.findall(sentence)) < HEADING_WORDS and not _FULL_STOP.search(sentence)


def question_names(question: str) -> frozenset[str]:
    """The question's names and numbers, folded: capitalised words after the first, and any
    word with a digit, leaving out question words and stopwords."""
    found = set()
    for index, token in enumerate(WORD.findall(question)):
        folded = fold(token)
        if folded in STOPWORDS or folded in QUESTION_WORDS:
            continue
        if any(char.isdigit() for char in token) or (index > 0 and token[0].isupper()):
            found.add(folded)
    return frozenset(found)


@lru_cache(maxsize=100_000)
def text_tokens(text: str) -> frozenset[str]:
    return frozenset(fold(token) for token in WORD.findall(text))


def names_lacking(names: frozenset[str], tokens: frozenset[str]) -> float:
    """The share of `names` (question_names) that `tokens` (text_tokens) do not hold."""
    return len(names - tokens) / len(names) if names else 0.0
