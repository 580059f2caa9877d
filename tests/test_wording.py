"""The word-level rules of query/wording.py: pure steps, each a table of cases."""

from __future__ import annotations

import pytest

from askseed.query.wording import (
    AMOUNT,
    DATE,
    NAME,
    NUMBER,
    answer_kind,
    holds_kind,
    is_heading,
    is_negated,
    is_question,
    names_lacking,
    question_names,
    text_tokens,
)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many patients went into remission?", NUMBER),
        ("How much does the treatment cost?", AMOUNT),
        ("What percentage of patients responded?", AMOUNT),
        ("how old were the patients", NUMBER),
        ("When did the trial start?", DATE),
        ("In what year was it founded?", DATE),
        ("Who led the trial?", NAME),
        ("Whose cells are altered?", NAME),
        ("What did experts call the results?", None),
        ("lupus CAR T-cell remission", None),
    ],
)
def test_answer_kind(question, kind):
    assert answer_kind(question) == kind


@pytest.mark.parametrize(
    ("sentence", "kind", "question", "expected"),
    [
        ("Five out of six patients went into remission.", NUMBER, "How many patients?", True),
        ("It cost 300,000 pounds.", AMOUNT, "How much did it cost?", True),
        ("It cost $1.2 billion.", AMOUNT, "How much did it cost?", True),
        ("Five out of six patients went into remission.", AMOUNT, "How much did it cost?", False),
        ("Patients went into remission.", NUMBER, "How many patients?", False),
        # the 50 the question already says is not an answer
        ("Super Bowl 50 was played in Santa Clara.", NUMBER, "How many at Super Bowl 50?", False),
        ("The trial began in March 2021.", DATE, "When did it begin?", True),
        ("The ferry leaves at nine every morning.", DATE, "When does the ferry leave?", True),
        ("The trial was led by experts.", DATE, "When did it begin?", False),
        ("The trial was led by University College London.", NAME, "Who led the trial?", True),
        ("Experts describe the findings as groundbreaking.", NAME, "Who led it?", False),
    ],
)
def test_holds_kind(sentence, kind, question, expected):
    tokens = frozenset(word.lower().strip("?") for word in question.split())
    assert holds_kind(sentence, kind, tokens) is expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Groundbreaking therapy could revolutionise treatment for lupus", True),
        ("Super Bowl 50", True),
        ("The single-dose therapy works by modifying a patient's own cells.", False),
        ("Is it a question?", False),
        (
            "A long line without a full stop that goes on and on for many more words than "
            "any title would hold",
            False,
        ),
    ],
)
def test_is_heading(line, expected):
    assert is_heading(line) is expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Who led the trial?", True),
        ("Is it a one-off treatment or ongoing?", True),
        ("how quickly did patients reach remission", True),
        ("Does vitamin D reduce fractures", True),
        ("vitamin D fractures", False),
        ("0-dimensional biomaterials show inductive properties.", False),
        ("lupus immune reset", False),
        ("", False),
    ],
)
def test_is_question(query, expected):
    assert is_question(query) is expected


@pytest.mark.parametrize(
    ("question", "names"),
    [
        ("Which NFL team represented the AFC at Super Bowl 50?", {"nfl", "afc", "super", "bowl",
                                                                  "50"}),
        ("Where did the black death originate?", set()),
        ("What was the price of oil in 1979?", {"1979"}),
        ("Who founded Newcastle's museum?", {"newcastle"}),
    ],
)  # fmt: skip
def test_question_names(question, names):
    assert question_names(question) == names


@pytest.mark.parametrize(
    ("text", "negated"),
    [
        ("What is not recognised as a general principle?", True),
        ("Why didn't the army win?", True),
        ("Why didn’t the army win?", True),
        ("The plan never worked.", True),
        ("No treaty was signed.", True),
        ("Members cannot vote.", True),
        ("Nothing was found.", True),
        ("It grows without light.", True),
        ("What is known about Nottingham?", False),  # "not" inside a word
        ("Which notable person founded the museum?", False),
        ("Norse settlers reached Normandy.", False),
        ("", False),
    ],
)
def test_is_negated(text, negated):
    assert is_negated(text) is negated


@pytest.mark.parametrize(
    ("question", "sentence", "lacking"),
    [
        ("Where in Katyn are the objects kept?", "The Museum of Independence keeps them.", 1.0),
        ("What happened in 1973?", "In 1974 prices fell.", 1.0),
        ("When did Tesla move to New York?", "Tesla moved to New York in 1884.", 0.0),
        ("When did Tesla move to New York?", "He moved to New York in 1884.", 1 / 3),
        ("Where did the black death originate?", "It began in Asia.", 0.0),  # no names
    ],
)
def test_names_lacking(question, sentence, lacking):
    assert names_lacking(question_names(question), text_tokens(sentence)) == pytest.approx(lacking)
