import sqlite3

import pytest

from askseed.store import keyword
from askseed.store.keyword import Bm25Index, Fts5Index, open_keyword_index
from askseed.text import terms

CORPUS = [
    (1, "Cats purr when they are content, and a purring cat is a happy cat."),
    (2, "Dogs bark at strangers and wag their tails."),
    (3, "The patient stayed in complete remission for five years."),
    (4, "Remissions were rare; most patients relapsed within a year."),
    (5, "A café in Paris serves coffee to cats and dogs alike."),
]


@pytest.fixture(params=[Fts5Index, Bm25Index], ids=["fts5", "bm25"])
def index(request):
    conn = sqlite3.connect(":memory:")
    index = request.param(conn)
    index.add(CORPUS)
    return index


def ids(hits: list[tuple[int, float]]) -> list[int]:
    return [chunk_id for chunk_id, _ in hits]


def test_best_match_comes_first_with_descending_scores(index):
    hits = index.search("purring cats", 5)
    assert ids(hits)[0] == 1
    assert set(ids(hits)) == {1, 5}
    scores = [score for _, score in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(score > 0 for score in scores)


def test_k_limits_results(index):
    assert len(index.search("cats dogs", 1)) == 1
    assert index.search("cats dogs", 0) == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("remission", {3, 4}),
        ("remissions", {3, 4}),
        ("relapse", {4}),  # relapsed
        ("barking dog", {2, 5}),
        ("cafe", {5}),  # accents fold away
        ("CAFÉ", {5}),
    ],
)
def test_stems_and_case_match(index, query, expected):
    assert set(ids(index.search(query, 10))) == expected


@pytest.mark.parametrize("query", ["the", "The of and a to", "", "   ", "?!", "is it"])
def test_stopword_or_empty_query_finds_nothing(index, query):
    assert index.search(query, 10) == []


def test_unknown_word_finds_nothing(index):
    assert index.search("zebra", 10) == []


@pytest.mark.parametrize(
    "query",
    [
        '"cats',
        'cats"',
        '"""',
        "cats*",
        "*",
        "-cats",
        "cats - dogs",
        "(cats",
        "cats)",
        "(cats OR dogs) AND NOT strangers",
        "NEAR(cats dogs, 2)",
        "NEAR",
        "AND",
        "cats AND",
        "OR OR OR",
        "^cats",
        "text:cats",
        "text : cats",
        "{text}: cats",
        "cats + dogs",
        "cat's",
        "\\",
        "'; DROP TABLE lexical_fts; --",
        "cats\x00dogs",
    ],
)
def test_query_syntax_characters_never_raise(index, query):
    hits = index.search(query, 10)
    assert all(isinstance(chunk_id, int) for chunk_id in ids(hits))


def test_operators_are_plain_words(index):
    # "cats AND dogs" must not require both words: the cat-only document still matches.
    assert 1 in ids(index.search("cats AND dogs", 10))


def test_remove_forgets_chunks(index):
    index.remove([3, 99, 3])  # unknown and repeated ids are fine
    assert ids(index.search("remission", 10)) == [4]


def test_adding_an_existing_id_replaces_its_text(index):
    index.add([(2, "Parrots talk.")])
    assert index.search("bark", 10) == []
    assert ids(index.search("parrots", 10)) == [2]


def test_repeated_term_and_shorter_text_rank_higher():
    for kind in (Fts5Index, Bm25Index):
        index = kind(sqlite3.connect(":memory:"))
        index.add(
            [
                (10, "otter otter river"),
                (11, "otter river bank"),
                (12, "otter river bank with many other words about rivers and banks"),
            ]
        )
        assert ids(index.search("otter", 3)) == [10, 11, 12], kind.__name__


def test_updates_share_the_callers_transaction(tmp_path):
    conn = sqlite3.connect(tmp_path / "store.db")
    index = open_keyword_index(conn)
    with conn:
        index.add(CORPUS[:2])
    index.add(CORPUS[2:3])
    conn.rollback()
    assert ids(index.search("remission", 10)) == []
    assert ids(open_keyword_index(sqlite3.connect(tmp_path / "store.db")).search("cats", 10)) == [1]


def test_open_keyword_index_prefers_fts5():
    assert isinstance(open_keyword_index(sqlite3.connect(":memory:")), Fts5Index)


def test_open_keyword_index_falls_back_without_fts5(monkeypatch):
    def no_fts5(self, conn, content=None):
        raise sqlite3.OperationalError("no such module: fts5")

    monkeypatch.setattr(keyword.Fts5Index, "__init__", no_fts5)
    assert isinstance(open_keyword_index(sqlite3.connect(":memory:")), Bm25Index)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The remissions of patients", ["remiss", "patient"]),
        ("Café, CAFE and cafe_bar", ["cafe", "cafe", "cafe", "bar"]),
        ("the a of and", []),
        ("", []),
    ],
)
def test_terms(text, expected):
    assert terms(text) == expected
