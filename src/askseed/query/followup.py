"""Follow-up questions: spot them, and search them together with the question they follow.

The rule, in one sentence: a question of at most eight words is a follow-up when it starts
with a connective ("and", "but", "so", "what about", ...), refers back with a pronoun ("it",
"they", "his", or "this"/"that" standing without a noun of its own), or is a bare question
word ("why?").

A follow-up is searched as the previous query followed by the question, so "who led it?"
after "What did the trial find?" searches "What did the trial find? who led it?".
"""

from __future__ import annotations

import re

from askseed.text import QUESTION_WORDS

MAX_WORDS = 8

CONNECTIVES = (
    ("and",),
    ("but",),
    ("so",),
    ("also",),
    ("then",),
    ("what", "about"),
    ("how", "about"),
)


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Pronouns that only make sense with something said earlier.
REFERRING_PRONOUNS = _word_set("it its they them their theirs he him his she her hers")

# "this", "that", "these", "those" refer back unless a noun follows ("this trial").
DEMONSTRATIVES = _word_set("this that these those")

# Words that can follow a demonstrative standing alone ("is that true", "what does this mean").
NOT_A_NOUN = _word_set(
    """
    is was are were be been being am do does did done have has had will would can could
    should shall may might must mean means meant happen happened happens work works worked
    cost costs take takes took come came make made show shows showed say says said
    in on at to for of about with by from into than as so too also then still again
    one ones and or but not true right correct possible enough
    """
)

_WORD = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")


def words_of(question: str) -> list[str]:
    """Lower-case words, without punctuation ("T-cell" and "it's" stay one word)."""
    return _WORD.findall(question.lower().replace("\u2019", "'"))


def _starts_with_connective(words: list[str]) -> bool:
    return any(tuple(words[: len(connective)]) == connective for connective in CONNECTIVES)


def _refers_back(words: list[str]) -> bool:
    for position, word in enumerate(words):
        base, contracted, _ = word.partition("'")  # "it's" -> "it", "that's" -> "that"
        if base in REFERRING_PRONOUNS:
            return True
        if base in DEMONSTRATIVES:
            following = words[position + 1] if position + 1 < len(words) else None
            if contracted or following is None or following in NOT_A_NOUN:
                return True
    return False


def is_follow_up(question: str) -> bool:
    """True when `question` leans on the previous one (see the module docstring for the rule)."""
    words = words_of(question)
    if not words or len(words) > MAX_WORDS:
        return False
    if len(words) == 1 and words[0] in QUESTION_WORDS:
        return True
    return _starts_with_connective(words) or _refers_back(words)


def rewrite(question: str, previous_query: str) -> str:
    """What to search for a follow-up: the previous query, then the question."""
    question = " ".join(question.split())
    previous_query = " ".join(previous_query.split())
    if not previous_query:
        return question
    return f"{previous_query} {question}"
