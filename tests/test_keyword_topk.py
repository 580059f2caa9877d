"""The impact lists (store/keyword_topk.py) give FTS5's own top k, or step aside."""

from __future__ import annotations

import random
import sqlite3

import numpy as np
import pytest

from askseed.store import keyword, keyword_topk
from askseed.store.keyword import Fts5Index
from askseed.store.keyword_topk import (
    ImpactList,
    Tokenizer,
    hopeless,
    lists_current,
    outside_bounds,
    proven_top_k,
    refresh_lists,
)

# Words whose Porter stems are not their own stems, accents, and a Zipf tail of filler words.
SPECIAL = ["connect", "connected", "connection", "generalization", "abilities", "café", "cafe"]
VOCABULARY = [f"w{i}" for i in range(300)] + SPECIAL
WEIGHTS = [1 / (rank + 1) for rank in range(len(VOCABULARY))]


def impact(floor: float, pairs: dict[int, float], chunks: int = 100) -> ImpactList:
    return ImpactList(
        chunks, floor, np.array(list(pairs), dtype=np.int64), np.array(list(pairs.values()))
    )


@pytest.mark.parametrize(
    ("lists", "base", "extra"),
    [
        ([], 0.0, {}),
        ([impact(1.0, {7: 3.0, 8: 2.0})], 1.0, {7: 2.0, 8: 1.0}),
        # A chunk in both lists gains from both; a word asked twice counts twice, as in FTS5.
        ([impact(1.0, {7: 3.0}), impact(0.5, {7: 1.5, 9: 1.0})], 1.5, {7: 3.0, 9: 0.5}),
        ([impact(1.0, {7: 3.0})] * 2, 2.0, {7: 4.0}),
        # A complete list (floor 0): a chunk not listed gets nothing from that word.
        ([impact(0.0, {7: 3.0})], 0.0, {7: 3.0}),
    ],
)
def test_outside_bounds(lists, base, extra):
    assert outside_bounds(lists) == (pytest.approx(base), pytest.approx(extra))


@pytest.mark.parametrize(
    ("exact", "base", "extra", "k", "expected"),
    [
        # The k-th beats every outside bound: proven, best first.
        ({1: 9.0, 2: 8.0, 3: 1.0}, 2.0, {5: 3.0}, 2, [(1, 9.0), (2, 8.0)]),
        # An outside chunk might reach 8.0 + 0: not proven.
        ({1: 9.0, 2: 8.0}, 2.0, {5: 6.0}, 2, None),
        # A tie with an outside bound is not proven: FTS5 breaks it by chunk id.
        ({1: 9.0, 2: 5.0}, 5.0, {}, 2, None),
        # Listed chunks on the rare side are scored exactly, not bounded.
        ({1: 9.0, 2: 8.0}, 2.0, {1: 50.0}, 2, [(1, 9.0), (2, 8.0)]),
        # Fewer than k chunks on the rare side: others might fill the top k.
        ({1: 9.0}, 0.0, {}, 2, None),
        # Equal scores go by chunk id, as ORDER BY rank, rowid.
        ({4: 7.0, 2: 7.0, 3: 1.0}, 0.5, {}, 2, [(2, 7.0), (4, 7.0)]),
    ],
)
def test_proven_top_k(exact, base, extra, k, expected):
    assert proven_top_k(exact, base, extra, k) == expected


@pytest.mark.parametrize(
    ("partial", "base", "extra", "k", "expected"),
    [
        ({1: 5.0, 2: 4.0}, 1.0, {9: 2.0}, 2, False),  # 4 + 1 > 1 + 2
        ({1: 5.0, 2: 1.0}, 1.0, {9: 2.0}, 2, True),  # 1 + 1 <= 3: chunk 9 may win
        ({1: 5.0, 2: 1.0}, 1.0, {2: 5.0, 9: 2.0}, 2, False),  # chunk 2 may reach 7
        ({1: 5.0}, 1.0, {}, 2, True),
    ],
)
def test_hopeless(partial, base, extra, k, expected):
    assert hopeless(partial, base, extra, k) is expected


def test_tokenizer_gives_fts5_terms():
    terms = Tokenizer().terms(["Connections", "café", "running", "", "x y"])
    assert terms == ["connect", "cafe", "run", None, None]


@pytest.fixture
def small_limits(monkeypatch):
    monkeypatch.setattr(keyword_topk, "MIN_CHUNKS", 500)
    monkeypatch.setattr(keyword_topk, "COMMON_DF", 40)
    monkeypatch.setattr(keyword_topk, "LIST_LENGTH", 16)


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
    rebuilt = refresh_lists(conn)
    conn.execute("COMMIT")
    return rebuilt


def count_proofs(monkeypatch) -> list[bool]:
    proofs = []
    real = keyword.top_k

    def counted(*args):
        found = real(*args)
        proofs.append(found is not None)
        return found

    monkeypatch.setattr(keyword, "top_k", counted)
    return proofs


def same_top_k(found: list[tuple[int, float]], plain: list[tuple[int, float]]) -> bool:
    """The same scores, and the same chunks in the same order, but where FTS5 breaks a tie
    by a last-bit difference in how a sum was rounded (keyword_topk.ranked)."""
    if [s for _, s in found] != pytest.approx([s for _, s in plain], rel=1e-12):
        return False
    if not plain:
        return True
    last = plain[-1][1] * (1 + 1e-11)  # ties with the k-th may be swapped for one another
    canonical = [i for i, _ in keyword_topk.ranked(dict(plain)) if plain_score(plain, i) > last]
    mine = [i for i, s in found if s > last]
    return canonical == mine


def plain_score(hits: list[tuple[int, float]], chunk_id: int) -> float:
    return dict(hits)[chunk_id]


def assert_same_as_plain(index: Fts5Index, queries: list[str], ks=(1, 10, 50)) -> None:
    for query in queries:
        for k in ks:
            found, plain = index.search(query, k), index.rank_every_match(query, k)
            assert same_top_k(found, plain), (query, k, found, plain)


def queries(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choices(VOCABULARY, WEIGHTS, k=rng.randint(1, 8))) for _ in range(count)]


def test_lists_give_fts5s_exact_top_k(indexed, monkeypatch):
    conn, index = indexed
    assert rebuild(conn)
    assert conn.execute("SELECT count(*) FROM keyword_lists").fetchone()[0] > 10
    proofs = count_proofs(monkeypatch)
    assert_same_as_plain(index, queries(11, 150))
    # Most answers come from the lists, not from the plain query they are checked against.
    assert sum(proofs) > 0.8 * len(proofs)


def test_stale_lists_are_never_used_and_rebuilt_by_refresh(indexed, monkeypatch):
    conn, index = indexed
    assert rebuild(conn)
    assert not rebuild(conn)  # nothing changed: kept
    conn.execute("BEGIN")
    index.add(corpus(random.Random(8), 5000, 50))  # new chunks, heavy in the common words
    index.remove(range(1, 40))
    conn.execute("COMMIT")
    assert not lists_current(conn)
    proofs = count_proofs(monkeypatch)
    assert_same_as_plain(index, queries(12, 40))
    assert proofs == []  # stale: the plain query answered every time
    assert rebuild(conn)
    assert lists_current(conn)
    assert_same_as_plain(index, queries(13, 40))
    assert any(proofs)


def has_lists_tables(conn: sqlite3.Connection) -> bool:
    return bool(
        conn.execute("SELECT 1 FROM sqlite_master WHERE name LIKE 'keyword_lists%'").fetchall()
    )


def test_a_small_index_keeps_no_lists(tmp_path, small_limits, monkeypatch):
    conn = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    index = Fts5Index(conn)
    conn.execute("BEGIN")
    index.add(corpus(random.Random(9), 1, 400))  # under MIN_CHUNKS
    conn.execute("COMMIT")
    assert not rebuild(conn)
    assert not has_lists_tables(conn)  # the small index is as it was
    assert not lists_current(conn)
    proofs = count_proofs(monkeypatch)
    assert_same_as_plain(index, queries(14, 10))
    assert proofs == []


def test_an_index_that_shrinks_drops_its_lists(indexed):
    conn, index = indexed
    assert rebuild(conn)
    conn.execute("BEGIN")
    index.remove(range(1, 1800))
    conn.execute("COMMIT")
    assert not rebuild(conn)
    assert not has_lists_tables(conn)
    assert not lists_current(conn)


# --- at the end of `askseed index` ----------------------------------------------------------------

CHILD = """
import os, signal, sys
sys.path.insert(0, {tests!r})
from pathlib import Path
from askseed.config import Settings
from askseed.ingest.indexer import update_index
from askseed.store import keyword_topk
from conftest import FakeEmbedder

keyword_topk.MIN_CHUNKS, keyword_topk.COMMON_DF, keyword_topk.LIST_LENGTH = 5, 3, 2
calls = []
real = keyword_topk._round_up

def dying(scores):
    calls.append(1)
    if len(calls) == 3:  # lists half written, inside their transaction
        os.kill(os.getpid(), signal.SIGKILL)
    return real(scores)

keyword_topk._round_up = dying
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


def small_lists(monkeypatch) -> None:
    monkeypatch.setattr(keyword_topk, "MIN_CHUNKS", 5)
    monkeypatch.setattr(keyword_topk, "COMMON_DF", 3)
    monkeypatch.setattr(keyword_topk, "LIST_LENGTH", 2)


def reader_agrees_with_plain_fts5(index_dir, questions: list[str]) -> bool:
    """Whether the reader's keyword search gives the plain query's answers; and the lists'
    state: True when they are current."""
    from askseed.store.reader import IndexReader

    with IndexReader(index_dir) as reader:
        conn = reader._conn
        plain = Fts5Index(conn, "chunk_search")
        for question in questions:
            for k in (1, 5, 20):
                found = reader.keyword_search(question, k)
                assert same_top_k(found, plain.rank_every_match(question, k)), (question, k)
        return lists_current(conn)


def test_index_builds_lists_and_a_kill_while_building_them_loses_only_them(
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
    small_lists(monkeypatch)
    update_index(Settings(seeds=docs, index=index), fake_embedder)
    questions = queries(15, 12)
    assert reader_agrees_with_plain_fts5(index, questions)  # built after the commit

    write_documents(docs / "more", rng, 3)
    tests = str(Path(__file__).parent)
    child = CHILD.format(tests=tests, docs=str(docs), index=str(index))
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True)
    assert done.returncode == -9, done.stderr  # killed while writing the lists
    with IndexReader(index) as reader:  # the new files' commit stands; the lists are stale
        assert len(reader.files()) == 9
    assert not reader_agrees_with_plain_fts5(index, questions)

    report = update_index(Settings(seeds=docs, index=index), fake_embedder)
    assert report.embedded_files == 0  # nothing to index again: only the lists are rebuilt
    assert reader_agrees_with_plain_fts5(index, questions)
