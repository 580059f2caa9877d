"""The common words' postings (store/keyword_postings.py) give FTS5's own top k
(store/keyword_topk.py), to the last bit, or step aside."""

from __future__ import annotations

import random
import sqlite3

import numpy as np
import pytest

from askseed.store import keyword_postings, keyword_topk
from askseed.store.keyword import Fts5Index
from askseed.store.keyword_postings import (
    Tokenizer,
    decode_counts,
    decode_ids,
    encode_counts,
    encode_ids,
    postings_current,
    refresh_postings,
)
from askseed.store.keyword_topk import best_k, contributions, idf, length_terms
from askseed.text import words

# Words whose Porter stems are not their own stems, accents, and a Zipf tail of filler words.
SPECIAL = ["connect", "connected", "connection", "generalization", "abilities", "café", "cafe"]
VOCABULARY = [f"w{i}" for i in range(300)] + SPECIAL
WEIGHTS = [1 / (rank + 1) for rank in range(len(VOCABULARY))]


@pytest.mark.parametrize(
    ("ids", "width"),
    [
        ([], 2),
        ([0], 1),
        ([1, 2, 3], 1),
        ([65535, 65536], 2),  # a far gap in two: the low bits are smaller
        ([7, 70_000, 200_000, 1_048_575], 2),
        (list(range(0, 300_000, 7)), 1),  # gaps of a byte
        ([*range(0, 2000, 3), 900_000, *range(900_001, 902_000, 2)], 1),  # one far gap
        (list(range(0, 300_000, 256)), 2),  # every gap too far for a byte
    ],
)
def test_ids_round_trip(ids, width):
    narrow, wide = encode_ids(np.array(ids, dtype=np.int64))
    assert decode_ids(narrow, wide, len(ids)).tolist() == ids
    assert len(narrow) == width * len(ids)


@pytest.mark.parametrize(
    ("counts", "stored"),
    [([1, 1, 3], 1), ([255, 1], 1), ([256, 1, 2], 4), ([], 0), ([1] * 17, 0), ([2] * 9, 9)],
)
def test_counts_round_trip(counts, stored):
    mask, others = encode_counts(np.array(counts, dtype=np.int64))
    assert len(mask) == (len(counts) + 7) // 8
    assert len(others) == stored  # bytes for the counts that are not 1
    assert decode_counts(mask, others, len(counts)).tolist() == counts


@pytest.mark.parametrize(
    ("chunks", "holding", "expected"),
    [
        (1000, 10, np.log(990.5 / 10.5)),
        (1000, 500, 1e-6),  # log(1) = 0: floored, as FTS5 does
        (1000, 900, 1e-6),  # negative: floored
    ],
)
def test_idf(chunks, holding, expected):
    assert idf(chunks, holding) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(
    ("scores", "k", "hint", "expected"),
    [
        ([0.0, 3.0, 1.0, 3.0, 0.0], 2, None, [(1, 3.0), (3, 3.0)]),
        ([0.0, 3.0, 1.0, 3.0, 0.0], 1, None, [(1, 3.0)]),  # a tie goes to the smaller id
        ([0.0, 1.0, 5.0], 10, None, [(2, 5.0), (1, 1.0)]),  # chunks scoring 0 hold no word
        ([0.0, 0.0], 3, None, []),
        # A hint of k chunks bounds the k-th best from below, wherever the best are.
        ([0.0, 3.0, 1.0, 3.0, 0.5, 2.0], 2, [2, 4], [(1, 3.0), (3, 3.0)]),
        ([0.0, 3.0, 1.0, 3.0, 0.5, 2.0], 3, [1, 2, 3], [(1, 3.0), (3, 3.0), (5, 2.0)]),
        ([0.0, 3.0, 1.0, 3.0, 0.5, 2.0], 1, [4], [(1, 3.0)]),
        ([0.0, 3.0, 1.0, 3.0, 0.5, 2.0], 3, [2, 4], [(1, 3.0), (3, 3.0), (5, 2.0)]),  # < k
        ([0.0, 2.0, 2.0, 2.0], 2, [3, 2], [(1, 2.0), (2, 2.0)]),  # ties at the bound
    ],
)
def test_best_k(scores, k, hint, expected):
    hint = np.array(hint, dtype=np.int64) if hint is not None else None
    assert best_k(np.array(scores), k, hint) == expected


def test_contributions_are_fts5s_to_the_last_bit():
    conn = sqlite3.connect(":memory:")
    index = Fts5Index(conn)
    texts = ["apple"] * 3 + ["apple apple pear"] * 2 + ["pear plum " * n for n in range(1, 40)]
    index.add(enumerate(texts, start=1))
    (chunks,) = conn.execute("SELECT count(*) FROM lexical_fts").fetchone()
    tokens = sum(len(text.split()) for text in texts)
    for word in ("apple", "pear", "plum"):
        rows = conn.execute(
            "SELECT rowid, rank, text FROM lexical_fts WHERE lexical_fts MATCH ?", (word,)
        ).fetchall()
        counts = np.array([text.split().count(word) for _, _, text in rows], dtype=np.float64)
        lengths = np.array([len(text.split()) for _, _, text in rows], dtype=np.float64)
        ours = contributions(idf(chunks, len(rows)), counts, length_terms(lengths, tokens / chunks))
        assert ours.tolist() == [-rank for _, rank, _ in rows]


def test_tokenizer_gives_fts5_terms():
    terms = Tokenizer().terms(["Connections", "café", "running", "", "x y"])
    assert terms == ["connect", "cafe", "run", None, None]


@pytest.fixture
def small_limits(monkeypatch):
    monkeypatch.setattr(keyword_postings, "MIN_CHUNKS", 500)
    monkeypatch.setattr(keyword_postings, "COMMON_DF", 40)


def corpus(rng: random.Random, first: int, count: int) -> list[tuple[int, str]]:
    return [
        (chunk_id, " ".join(rng.choices(VOCABULARY, WEIGHTS, k=rng.randint(3, 60))))
        for chunk_id in range(first, first + count)
    ]


@pytest.fixture
def indexed(tmp_path, small_limits):
    conn = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    index = Fts5Index(conn)
    conn.execute("BEGIN")
    index.add(corpus(random.Random(7), 1, 2000))
    conn.execute("COMMIT")
    return conn, index


def rebuild(conn: sqlite3.Connection) -> bool:
    conn.execute("BEGIN IMMEDIATE")
    rebuilt = refresh_postings(conn)
    conn.execute("COMMIT")
    return rebuilt


def count_uses(monkeypatch) -> list[int]:
    uses = []
    real = keyword_topk.PostingsReader.top_k

    def counted(self, *args):
        uses.append(1)
        return real(self, *args)

    monkeypatch.setattr(keyword_topk.PostingsReader, "top_k", counted)
    return uses


def assert_same_as_plain(index: Fts5Index, queries: list[str], ks=(1, 10, 50)) -> None:
    for query in queries:
        for k in ks:
            # The same ids in the same order, the same scores to the last bit.
            assert index.search(query, k) == index.rank_every_match(query, k), (query, k)


def queries(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choices(VOCABULARY, WEIGHTS, k=rng.randint(1, 8))) for _ in range(count)]


def test_postings_give_fts5s_exact_top_k(indexed, monkeypatch):
    conn, index = indexed
    assert rebuild(conn)
    assert conn.execute("SELECT count(*) FROM keyword_postings").fetchone()[0] > 10
    uses = count_uses(monkeypatch)
    assert_same_as_plain(index, queries(11, 150))
    assert len(uses) == 3 * 150  # every answer came from the postings


def test_rare_words_are_scored_from_fts5s_instances_to_the_last_bit(indexed, monkeypatch):
    """A word below COMMON_DF has no postings: its chunks and counts come from FTS5's own
    index, and its scores are still FTS5's. A word FTS5 cuts in two ("½", read as "1⁄2") is a
    phrase, which FTS5 ranks itself. Removed chunks are gone from both."""
    conn, index = indexed
    conn.execute("BEGIN")
    index.add([(2001, "w250 1⁄2 w3"), (2002, "1⁄2 cup, 1⁄2 w299 w1"), (2003, "w299 w299")])
    conn.execute("COMMIT")
    conn.execute("BEGIN")
    index.remove([5, 6, 7])
    conn.execute("COMMIT")
    assert rebuild(conn)
    rare = []
    real = keyword_topk.rare_postings

    def counted(conn, term):
        rare.append(term)
        return real(conn, term)

    monkeypatch.setattr(keyword_topk, "rare_postings", counted)
    uses = count_uses(monkeypatch)
    assert_same_as_plain(index, ["w299", "w250 ½ w3", "w299 w1 w0", "½ cup"])
    assert {"w299", "w250", "cup"} <= set(rare) and not {"1", "2"} & set(rare)
    assert len(uses) == 3 * 4  # every answer came from the postings
    assert {chunk_id for chunk_id, _ in index.search("½", 10)} == {2001, 2002}
    held = {chunk_id for chunk_id, _ in index.search("w299", 100)}
    assert {2002, 2003} <= held and not held & {5, 6, 7}


@pytest.mark.parametrize("kept_bytes", [0, 20_000, keyword_topk.KEPT_BYTES])
def test_contributions_kept_across_questions_change_no_score(indexed, kept_bytes):
    """However many words a reader keeps (0: only the last), every top k is FTS5's, in
    any order of questions, and after the postings change under it."""
    conn, index = indexed
    assert rebuild(conn)
    reader = keyword_topk.PostingsReader(kept_bytes)
    asked = queries(17, 40)
    for query in asked + asked[::-1]:
        wanted = list(dict.fromkeys(words(query)))
        assert reader.top_k(conn, wanted, 20) == index.rank_every_match(query, 20), query
    if kept_bytes:  # the commonest words are kept as one value a chunk
        assert any(kept.ids is None for kept in reader._kept.values())
    conn.execute("BEGIN")
    index.add(corpus(random.Random(18), 5000, 60))
    conn.execute("COMMIT")
    assert rebuild(conn)
    for query in asked:
        wanted = list(dict.fromkeys(words(query)))
        assert reader.top_k(conn, wanted, 20) == index.rank_every_match(query, 20), query


def test_document_frequencies_are_the_same_from_the_postings(indexed):
    conn, index = indexed
    stems = ["w0", "w1", "w150", "connect", "cafe", "nowhere"]
    before = index.document_frequencies(stems)
    assert rebuild(conn)
    assert index.document_frequencies(stems) == before
    assert before["w0"] > keyword_postings.COMMON_DF and before["nowhere"] == 0


def test_stale_postings_are_never_used_and_rebuilt_by_refresh(indexed, monkeypatch):
    conn, index = indexed
    assert rebuild(conn)
    assert not rebuild(conn)  # nothing changed: kept
    conn.execute("BEGIN")
    index.add(corpus(random.Random(8), 5000, 50))  # new chunks, heavy in the common words
    index.remove(range(1, 40))
    conn.execute("COMMIT")
    assert not postings_current(conn)
    uses = count_uses(monkeypatch)
    assert_same_as_plain(index, queries(12, 40))
    assert uses == []  # stale: the plain query answered every time
    updates = spy(monkeypatch, "_update_postings")
    assert rebuild(conn)
    assert updates == [True]  # 89 chunks changed of 2,000: updated, not built again
    assert postings_current(conn)
    assert_same_as_plain(index, queries(13, 40))
    assert uses


def spy(monkeypatch, name: str) -> list:
    calls = []
    real = getattr(keyword_postings, name)

    def called(*args):
        calls.append(real(*args))
        return calls[-1]

    monkeypatch.setattr(keyword_postings, name, called)
    return calls


def test_many_changes_build_the_postings_again(indexed, monkeypatch):
    conn, index = indexed
    assert rebuild(conn)
    rng = random.Random(16)
    updates = spy(monkeypatch, "_update_postings")
    for step in range(4):  # 120 chunks a step: a tenth of 2,000 passed every second step
        conn.execute("BEGIN")
        index.add(corpus(rng, 10_000 + 100 * step, 60))
        index.remove(range(1 + 60 * step, 61 + 60 * step))
        conn.execute("COMMIT")
        assert rebuild(conn)
        assert_same_as_plain(index, queries(20 + step, 15))
    assert updates == [True, False, True, False]


def has_postings_tables(conn: sqlite3.Connection) -> bool:
    return bool(
        conn.execute("SELECT 1 FROM sqlite_master WHERE name LIKE 'keyword_postings%'").fetchall()
    )


def test_a_small_index_keeps_no_postings(tmp_path, small_limits, monkeypatch):
    conn = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    index = Fts5Index(conn)
    conn.execute("BEGIN")
    index.add(corpus(random.Random(9), 1, 400))  # under MIN_CHUNKS
    conn.execute("COMMIT")
    assert not rebuild(conn)
    assert not has_postings_tables(conn)  # the small index is as it was
    assert not postings_current(conn)
    uses = count_uses(monkeypatch)
    assert_same_as_plain(index, queries(14, 10))
    assert uses == []


def test_an_index_that_shrinks_drops_its_postings(indexed):
    conn, index = indexed
    assert rebuild(conn)
    conn.execute("BEGIN")
    index.remove(range(1, 1800))
    conn.execute("COMMIT")
    assert not rebuild(conn)
    assert not has_postings_tables(conn)
    assert not postings_current(conn)


# --- at the end of `askseed index` ----------------------------------------------------------------

CHILD = """
import os, signal, sys
sys.path.insert(0, {tests!r})
from pathlib import Path
from askseed.config import Settings
from askseed.ingest.indexer import update_index
from askseed.store import keyword_postings
from conftest import FakeEmbedder

keyword_postings.MIN_CHUNKS, keyword_postings.COMMON_DF = 5, 3
calls = []
real = keyword_postings.encode_counts

def dying(counts):
    calls.append(1)
    if len(calls) == 3:  # postings half written, inside their transaction
        os.kill(os.getpid(), signal.SIGKILL)
    return real(counts)

keyword_postings.encode_counts = dying
update_index(Settings(seeds=Path({docs!r}), index=Path({index!r})), FakeEmbedder())
"""


def write_documents(folder, rng: random.Random, files: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(files):
        sentences = [
            " ".join(rng.choices(VOCABULARY[:40] + SPECIAL, k=9)).capitalize() + "."
            for _ in range(12)
        ]
        (folder / f"note-{n}.txt").write_text(" ".join(sentences) + "\n", encoding="utf-8")


def small_postings(monkeypatch) -> None:
    monkeypatch.setattr(keyword_postings, "MIN_CHUNKS", 5)
    monkeypatch.setattr(keyword_postings, "COMMON_DF", 3)


def reader_agrees_with_plain_fts5(index_dir, questions: list[str]) -> bool:
    """Checks that the reader's keyword search gives the plain query's answers; returns
    whether the postings are current."""
    from askseed.store.reader import IndexReader

    with IndexReader(index_dir) as reader:
        conn = reader._conn
        plain = Fts5Index(conn, "chunk_search")
        for question in questions:
            for k in (1, 5, 20):
                found = reader.keyword_search(question, k)
                assert found == plain.rank_every_match(question, k), (question, k)
        return postings_current(conn)


def test_a_reader_prefetching_gives_the_same_hits_and_frequencies(
    tmp_path, monkeypatch, fake_embedder
):
    from askseed.config import Settings
    from askseed.ingest.indexer import update_index
    from askseed.store.reader import IndexReader

    docs, index = tmp_path / "docs", tmp_path / "index"
    write_documents(docs, random.Random(22), 6)
    small_postings(monkeypatch)
    update_index(Settings(seeds=docs, index=index), fake_embedder)
    asked = queries(23, 12)
    stems = [["w0", "w3"], ["connect", "nowhere"], []]
    with IndexReader(index) as plain:
        hits = {query: plain.keyword_search(query, 5) for query in asked}
        frequencies = [plain.document_frequencies(some) for some in stems]
    with IndexReader(index) as reader:
        for number, query in enumerate(asked):
            reader.prefetch(query, 5, stems[number % 3])
            assert reader.document_frequencies(stems[number % 3]) == frequencies[number % 3]
            assert reader.keyword_search(query, 5) == hits[query]
            reader.prefetch(query, 5, [])  # not asked for: the next search is its own
            assert reader.keyword_search(asked[0], 5) == hits[asked[0]]
            reader.prefetch(query, 20, [])  # another k
            assert reader.keyword_search(query, 5) == hits[query]
        reader.prefetch(asked[1], 5, stems[0])  # closed with a prefetch under way


def test_index_builds_postings_and_a_kill_while_building_them_loses_only_them(
    tmp_path, monkeypatch, fake_embedder
):
    import subprocess
    import sys
    from pathlib import Path

    from askseed.config import Settings
    from askseed.ingest.indexer import update_index
    from askseed.store.reader import IndexReader

    docs, index = tmp_path / "docs", tmp_path / "index"
    rng = random.Random(21)
    write_documents(docs, rng, 6)
    small_postings(monkeypatch)
    update_index(Settings(seeds=docs, index=index), fake_embedder)
    questions = queries(15, 12)
    assert reader_agrees_with_plain_fts5(index, questions)  # built after the commit

    write_documents(docs / "more", rng, 3)
    tests = str(Path(__file__).parent)
    child = CHILD.format(tests=tests, docs=str(docs), index=str(index))
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True)
    assert done.returncode == -9, done.stderr  # killed while writing the postings
    with IndexReader(index) as reader:  # the new files' commit stands; the postings are stale
        assert len(reader.files()) == 9
    assert not reader_agrees_with_plain_fts5(index, questions)

    report = update_index(Settings(seeds=docs, index=index), fake_embedder)
    assert report.embedded_files == 0  # nothing to index again: only the postings are rebuilt
    assert reader_agrees_with_plain_fts5(index, questions)


@pytest.mark.model
def test_real_answers_are_the_same_from_the_postings(tmp_path, monkeypatch):
    import shutil

    from askseed.config import Settings
    from askseed.engine import Engine
    from conftest import SEEDS

    monkeypatch.setattr(keyword_postings, "MIN_CHUNKS", 1)
    monkeypatch.setattr(keyword_postings, "COMMON_DF", 2)
    with_postings = tmp_path / "with"
    engine = Engine(Settings(seeds=SEEDS, index=with_postings))
    engine.refresh()
    engine.close()
    conn = sqlite3.connect(with_postings / "meta.sqlite")
    assert postings_current(conn)
    conn.close()
    plain = tmp_path / "plain"
    shutil.copytree(with_postings, plain)
    conn = sqlite3.connect(plain / "meta.sqlite")
    for table in ("keyword_postings", "keyword_postings_state"):  # the plain query answers
        conn.execute(f"DROP TABLE {table}")
    conn.commit()
    conn.close()
    questions = [
        "How many lupus patients went into remission?",
        "Who led the trial?",
        "What did experts say about the findings?",
    ]
    answers = {}
    for name, index in (("with", with_postings), ("plain", plain)):
        engine = Engine(Settings(seeds=SEEDS, index=index))
        answers[name] = [
            [(p.source, p.quote, p.text) for p in engine.ask(question, k=5).passages]
            for question in questions
        ]
        engine.close()
    assert answers["with"] == answers["plain"]
    assert any(answers["with"])
