"""The parts of benchmarks/scale.py that run in a fresh process, with the askseed under test.

    PYTHONPATH=SRC python benchmarks/scale_probe.py build DOCS INDEX
    PYTHONPATH=SRC python benchmarks/scale_probe.py measure DOCS INDEX QUESTIONS

`build` indexes DOCS through askseed's own indexer and store writer with the stand-in embedder
(scale_corpus.py) and prints, as one JSON line, its time less the stand-in's and its peak RSS
(a process's peak is its own, hence the fresh process). `measure` opens the index as the chat
does, with the real model, and times warm questions and the vector search in each mode the
reader offers, with the approximate index's recall@10 against exact search.
"""

from __future__ import annotations

import inspect
import json
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from scale_corpus import StandInEmbedder, real_vectors, vector_indexes

from askseed.config import Settings, cache_dir
from askseed.engine import Engine
from askseed.ingest.indexer import update_index
from askseed.model.embedder import MODEL_NAME, WordPieceCounter, model_dir, model_fingerprint
from askseed.store.reader import IndexReader

K = 10
WARM_QUESTIONS = 30  # asked through the Engine, each once (it caches question vectors)


def rss_mb() -> float:
    """Resident set size now (Linux), in MB."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def build(docs: Path, index: Path) -> dict:
    directory = model_dir()
    embedder = StandInEmbedder(
        real_vectors(vector_indexes()),
        name=MODEL_NAME,
        fingerprint=model_fingerprint(directory),
        count_tokens=WordPieceCounter(directory),
    )
    embedder.encode(["warm up"])
    before = rss_mb()
    started = time.perf_counter()
    report = update_index(Settings(seeds=docs, index=index), embedder)
    seconds = time.perf_counter() - started
    return {
        "chunks": report.chunks,
        "files": report.files,
        "duplicates_dropped": report.duplicates_dropped,
        "seconds": seconds,
        "stand_in_seconds": embedder.seconds,
        "build_seconds": seconds - embedder.seconds,
        "embedded_texts": embedder.texts,
        "rss_before_mb": before,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def question_cache(fingerprint: str, count: int) -> Path:
    return cache_dir() / "scale" / f"questions-{fingerprint}-{count}.npy"


def question_vectors(engine: Engine, questions: list[str]) -> np.ndarray:
    """The questions embedded by the real model, cached per model under askseed's cache."""
    path = question_cache(engine.embedder.fingerprint, len(questions))
    texts = path.with_suffix(".json")
    if path.exists() and texts.exists() and json.loads(texts.read_text()) == questions:
        return np.load(path, allow_pickle=False)
    vectors = engine.embedder.encode(questions)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors, allow_pickle=False)
    texts.write_text(json.dumps(questions))
    return vectors


def search_modes(reader: IndexReader) -> tuple[list[str], str | None]:
    """The modes to time, and why the approximate one is missing, if it is."""
    if "mode" not in inspect.signature(reader.search).parameters:
        return ["exact"], "n/a: no approximate index in this tree"
    if not getattr(reader, "has_approximate", False):
        return ["exact", "auto"], "n/a: this index has no approximate part"
    return ["exact", "approximate", "auto"], None


def timed_searches(reader: IndexReader, vectors: np.ndarray, mode: str) -> tuple[float, list]:
    """Median ms of one question's search, one at a time as a person asks; the results."""
    with_mode = "mode" in inspect.signature(reader.search).parameters

    def search(query: np.ndarray):
        return reader.search(query, K, mode=mode) if with_mode else reader.search(query, K)

    search(vectors[:1])
    times, found = [], []
    for row in range(len(vectors)):
        started = time.perf_counter()
        result = search(vectors[row : row + 1])
        times.append((time.perf_counter() - started) * 1000)
        found.append(result[0])
    return statistics.median(times), found


def recall_at_k(found: list[list[tuple]], exact: list[list[tuple]]) -> float:
    """Share of exact search's top k that the other search also returns, over questions."""
    shares = [
        len({i for i, _ in a} & {i for i, _ in e}) / len(e)
        for a, e in zip(found, exact, strict=True)
        if e
    ]
    return float(np.mean(shares)) if shares else float("nan")


def measure(docs: Path, index: Path, questions: list[str]) -> dict:
    engine = Engine(Settings(seeds=docs, index=index))
    if not engine.status().fresh:
        return {"fresh": False}
    vectors = question_vectors(engine, questions)
    started = time.perf_counter()
    engine.load()
    engine.ask(questions[0])
    first_ms = (time.perf_counter() - started) * 1000
    warm = []
    for question in questions[1 : 1 + WARM_QUESTIONS]:
        started = time.perf_counter()
        engine.ask(question)
        warm.append((time.perf_counter() - started) * 1000)
    engine.close()
    result = {"fresh": True, "load_and_first_ms": first_ms, "warm_ask_ms": statistics.median(warm)}
    with IndexReader(index) as reader:
        modes, missing = search_modes(reader)
        found = {}
        for mode in modes:
            result[f"search_ms_{mode}"], found[mode] = timed_searches(reader, vectors, mode)
    result["recall_at_10"] = (
        recall_at_k(found["approximate"], found["exact"]) if "approximate" in found else missing
    )
    if "auto" in found:
        result["recall_at_10_auto"] = recall_at_k(found["auto"], found["exact"])
    result["questions"] = len(vectors)
    # How near the real questions come to the stand-in vectors, against a real index's.
    result["top1_cosine"] = statistics.median(e[0][1] for e in found["exact"] if e)
    result["top10_cosine"] = statistics.median(e[-1][1] for e in found["exact"] if e)
    return result


def main(argv: list[str]) -> int:
    command, docs, index, *rest = argv
    if command == "build":
        result = build(Path(docs), Path(index))
    else:
        result = measure(Path(docs), Path(index), json.loads(Path(rest[0]).read_text()))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
