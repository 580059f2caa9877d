from __future__ import annotations

import pytest

from askseed.query.followup import is_follow_up, rewrite, words_of


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # Connectives at the start.
        ("and how many doses?", True),
        ("And how many doses?", True),
        ("But was it safe?", True),
        ("so what happened next?", True),
        ("What about children?", True),
        ("how about side effects?", True),
        ("Also the cost?", True),
        # Pronouns that point back.
        ("who led it?", True),
        ("Who funded them?", True),
        ("When did they start?", True),
        ("What were its side effects?", True),
        ("What's her name?", True),
        ("Is it's cost known?", True),
        # Demonstratives standing alone refer back; followed by a noun they do not.
        ("What does this mean?", True),
        ("Is that true?", True),
        ("Why is that?", True),
        ("that's it?", True),
        ("What does this trial show?", False),
        ("Who ran that study?", False),
        # A bare question word.
        ("Why?", True),
        ("when", True),
        # Self-contained questions.
        ("How many patients achieved remission?", False),
        ("What is lupus?", False),
        ("Who led the CAR T-cell trial?", False),
        ("Android phones?", False),
        ("Where?!", True),
        # Long questions carry their own context even with a pronoun or connective.
        ("And how many of the patients in the UCLH trial reached remission?", False),
        ("Is it safe to give CAR T-cell therapy to children with severe lupus?", False),
        # Nothing to go on.
        ("", False),
        ("   ", False),
        ("?!", False),
    ],
)
def test_is_follow_up(question, expected):
    assert is_follow_up(question) is expected


@pytest.mark.parametrize(
    ("question", "previous_query", "expected"),
    [
        ("who led it?", "What did the trial find?", "What did the trial find? who led it?"),
        ("and how many doses?", "What is CAR T?", "What is CAR T? and how many doses?"),
        ("  who   led it? ", " What did the\ntrial find? ", "What did the trial find? who led it?"),
        ("who led it?", "", "who led it?"),
        ("who led it?", "   ", "who led it?"),
    ],
)
def test_rewrite(question, previous_query, expected):
    assert rewrite(question, previous_query) == expected


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who led the CAR T-cell trial?", ["who", "led", "the", "car", "t-cell", "trial"]),
        ("What’s that?", ["what's", "that"]),
        ("five out of six!", ["five", "out", "of", "six"]),
    ],
)
def test_words_of(question, expected):
    assert words_of(question) == expected
