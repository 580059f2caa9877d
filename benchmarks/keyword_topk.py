"""Keyword top-k at scale: FTS5's top k from the common words' postings
(store/keyword_topk.py) against the plain FTS5 query that ranks every match.

    .venv/bin/python benchmarks/keyword_topk.py INDEX QUESTIONS --work DIR [--k 10 500]
        [--ask DOCS] [--update N]

INDEX is only read: its meta.sqlite is copied into DIR (once; --fresh copies it again) and the
postings are built there by `refresh_postings`, timed, in one transaction, as `askseed index`
does after its commit. Each question is then asked both ways in turns, warm (each asked once
before it is timed): the plain query, and `Fts5Index.search`, which uses the postings. Reports
the median and 90th percentile ms, the top-k overlap with the plain query, how many answers are
identical (the same ids in the same order, the same scores to the last bit), the build seconds
and the postings' bytes per chunk (SQLite's dbstat, slack included). With --ask, the chat's
warm question (`Engine.ask`, the real model; median of --asks questions, each asked once
before) on INDEX and on the copy (DIR/index: the copy beside INDEX's vector files). With
--update N, at the end, N chunks leave the copy's keyword index and the postings' update
(not a full build) is timed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

from askseed.store import keyword_postings
from askseed.store.keyword import Fts5Index
from askseed.store.schema import DB_FILE, SEARCH_VIEW, connect


def build(db: Path) -> dict:
    conn = connect(db)
    started = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    rebuilt = keyword_postings.refresh_postings(conn)
    conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    (chunks,) = conn.execute("SELECT count(*) FROM lexical_fts_docsize").fetchone()
    (size,) = conn.execute(
        "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE '%keyword_postings%'"
    ).fetchone()
    (terms,) = conn.execute("SELECT count(*) FROM keyword_postings").fetchone()
    conn.close()
    return {
        "rebuilt": rebuilt,
        "build_s": seconds,
        "chunks": chunks,
        "terms": terms,
        "bytes_per_chunk": size / chunks,
    }


def identical(a: list[tuple[int, float]], b: list[tuple[int, float]]) -> bool:
    return a == b


def measure(db: Path, questions: list[str], k: int) -> dict:
    conn = connect(db)
    conn.execute("BEGIN")  # one snapshot, as IndexReader holds
    index = Fts5Index(conn, SEARCH_VIEW)
    if not keyword_postings.postings_current(conn):
        raise SystemExit("the postings were not built: is the index under MIN_CHUNKS?")
    plain_ms, fast_ms, overlaps, same = [], [], [], 0
    for question in questions:
        index.rank_every_match(question, k)
        started = time.perf_counter()
        plain = index.rank_every_match(question, k)
        plain_ms.append((time.perf_counter() - started) * 1000)
        index.search(question, k)
        started = time.perf_counter()
        found = index.search(question, k)
        fast_ms.append((time.perf_counter() - started) * 1000)
        if plain:
            overlaps.append(len({i for i, _ in plain} & {i for i, _ in found}) / len(plain))
        same += identical(plain, found)
    conn.close()

    def p90(values):
        return statistics.quantiles(values, n=10)[-1]

    return {
        "k": k,
        "questions": len(questions),
        "plain_ms": statistics.median(plain_ms),
        "plain_p90_ms": p90(plain_ms),
        "postings_ms": statistics.median(fast_ms),
        "postings_p90_ms": p90(fast_ms),
        "postings_max_ms": max(fast_ms),
        "overlap": statistics.mean(overlaps),
        "identical": same,
    }


def update(db: Path, removed: int, questions: list[str]) -> dict:
    """Take `removed` chunks out of the copy's keyword index (as `askseed index` does for an
    edited file), time the postings' update, and check the answers again. The copy keeps
    the change: --fresh starts from INDEX again."""
    conn = connect(db)
    index = Fts5Index(conn, SEARCH_VIEW)
    (top,) = conn.execute("SELECT max(id) FROM lexical_fts_docsize").fetchone()
    first = top // 2
    conn.execute("BEGIN IMMEDIATE")
    index.remove(range(first, first + removed))
    conn.execute("COMMIT")
    started = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    keyword_postings.refresh_postings(conn)
    conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.execute("BEGIN")
    same = sum(index.search(q, 500) == index.rank_every_match(q, 500) for q in questions)
    conn.close()
    return {"removed": removed, "update_s": seconds, "identical_k500": same, "of": len(questions)}


def warm_asks(docs: Path, index: Path, questions: list[str]) -> dict:
    """The chat's warm question, whole (Engine.ask, real model), and its keyword search."""
    from askseed.config import Settings
    from askseed.engine import Engine
    from askseed.store.reader import IndexReader

    engine = Engine(Settings(seeds=docs, index=index))
    if not engine.status().fresh:
        raise SystemExit(f"{index} is not fresh for {docs}")
    engine.load()
    keyword_ms: list[float] = []
    search = IndexReader.keyword_search

    def timed(reader, query, k):
        started = time.perf_counter()
        found = search(reader, query, k)
        keyword_ms.append((time.perf_counter() - started) * 1000)
        return found

    IndexReader.keyword_search = timed
    try:
        for question in questions:  # each asked once untimed: pages in, vectors cached
            engine.ask(question)
        keyword_ms.clear()
        ask_ms = []
        for question in questions:
            started = time.perf_counter()
            engine.ask(question)
            ask_ms.append((time.perf_counter() - started) * 1000)
    finally:
        IndexReader.keyword_search = search
        engine.close()
    return {"warm_ask_ms": statistics.median(ask_ms), "keyword_ms": statistics.median(keyword_ms)}


def postings_folder(index: Path, db: Path) -> Path:
    """An index folder of the copy with the postings, beside INDEX's own vector files."""
    folder = db.parent / "index"
    folder.mkdir(exist_ok=True)
    for path in [*index.glob("vectors-*"), db]:
        link = folder / path.name
        if not link.exists():
            link.symlink_to(path.resolve())
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index", type=Path, help="an index folder (only read)")
    parser.add_argument("questions", type=Path, help="a JSON list of questions")
    parser.add_argument("--work", type=Path, required=True, help="where the copy is written")
    parser.add_argument("--k", type=int, nargs="*", default=[10, 500], help="none: skip")
    parser.add_argument(
        "--ask",
        type=Path,
        metavar="DOCS",
        help="also time the chat's warm question (real model) on INDEX and on the copy; "
        "DOCS: the folder INDEX was built from",
    )
    parser.add_argument("--asks", type=int, default=30, help="warm questions asked")
    parser.add_argument(
        "--update",
        type=int,
        metavar="N",
        help="at the end, take N chunks out of the copy and time the postings' update",
    )
    parser.add_argument("--count", type=int, default=100, help="questions asked")
    parser.add_argument("--fresh", action="store_true", help="copy the database again")
    args = parser.parse_args(argv)
    source = args.index / DB_FILE
    if not source.exists():
        raise SystemExit(f"no index in {args.index}: give an index folder")
    args.work.mkdir(parents=True, exist_ok=True)
    db = args.work / DB_FILE
    if args.fresh or not db.exists():
        shutil.copyfile(source, db)
    questions = json.loads(args.questions.read_text())[: args.count]
    result = {"built": build(db)}
    print(json.dumps(result), flush=True)
    for k in args.k:
        result[f"k{k}"] = measure(db, questions, k)
        print(json.dumps(result[f"k{k}"]), flush=True)
    if args.ask:
        asked = questions[: args.asks]
        for name, folder in (("plain", args.index), ("postings", postings_folder(args.index, db))):
            result[f"ask_{name}"] = warm_asks(args.ask, folder, asked)
            print(json.dumps({name: result[f"ask_{name}"]}), flush=True)
    if args.update:
        result["update"] = update(db, args.update, questions[:20])
        print(json.dumps(result["update"]), flush=True)
    print(json.dumps({"load": os.getloadavg()[0]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
