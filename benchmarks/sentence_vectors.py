"""Sentence vectors pooled from the chunk's own pass against sentences embedded alone.

    .venv/bin/python benchmarks/sentence_vectors.py            # records into BENCHMARKS.md
    .venv/bin/python benchmarks/sentence_vectors.py --max-queries 500 --no-record
    .venv/bin/python benchmarks/sentence_vectors.py --indexing-only   # speed only, see below

For each way (askseed.ingest.indexer.SENTENCE_VECTORS), SQuAD-A (../shared/eval/squad-a) is
indexed from scratch, timed, and evaluated through the same harness as `askseed eval --json`.
Then the two indexes, which hold the same chunks, are compared sentence by sentence, so that
anything fitted on sentence cosines (the abstain rule) can be refitted: how far each pooled
vector is from the same sentence alone, and how the best sentence cosine of the gold
paragraph moves for the questions. Skipped, with a message, when the data is absent.

--indexing-only times `askseed index` of SQuAD-A from scratch each way (WAYS: sentence vectors
alone or pooled, chunk vectors from a chunk pass or from the sentences, sentences read by the
int8 copy of the model or in float32, batches of 32 texts or of one) against
SentenceTransformer.encode of the same chunks alone, --rounds times in turns. The machine is
shared and its load moves within minutes, so SentenceTransformer is timed before and after
every build, and each way's ratio is to the mean of the two timings around it.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DATA, stored_chunks  # noqa: E402
from record import record_section  # noqa: E402

from askseed.config import Settings  # noqa: E402
from askseed.engine import Engine  # noqa: E402
from askseed.eval.beir import judged_queries, read_qrels  # noqa: E402
from askseed.eval.runner import prepare_corpus, run_queries  # noqa: E402
from askseed.ingest import indexer  # noqa: E402
from askseed.model import embedder as embedder_module  # noqa: E402
from askseed.model.embedder import MiniLMEmbedder  # noqa: E402

SQUAD = DATA / "squad-a"
MODES = ("alone", "pooled")


class Way(NamedTuple):
    """One way of indexing: indexer.SENTENCE_VECTORS, indexer.CHUNK_VECTORS, whether the
    sentences are read by the int8 copy of the model (embedder.SENTENCES_INT8), and how many
    texts a batch holds (the embedder's batch_size)."""

    label: str
    sentence_vectors: str
    chunk_vectors: str
    int8: bool
    batch: int


WAYS = (
    Way("float32, batches of 32 (the twelfth round's default)", "alone", "pass", False, 32),
    Way("float32, a text a batch", "alone", "pass", False, 1),
    Way("float32 chunks, int8 sentences, a text a batch (default)", "alone", "pass", True, 1),
)


def measure(
    mode: str,
    work: Path,
    max_queries: int | None,
    evaluate: bool = True,
    chunk_vectors: str = "pass",
    int8: bool = embedder_module.SENTENCES_INT8,
    batch: int = embedder_module.INDEX_BATCH,
) -> dict:
    indexer.SENTENCE_VECTORS = mode
    indexer.CHUNK_VECTORS = chunk_vectors
    embedder_module.SENTENCES_INT8 = int8  # read when the sentences' session opens
    corpus = prepare_corpus(SQUAD, work / f"index-{mode}-{chunk_vectors}-{int8}-{batch}")
    engine = Engine(Settings(seeds=corpus.documents, index=corpus.index))
    engine.embedder.batch_size = batch
    # The one-time ONNX export and int8 copy are not indexing (nor is opening the session).
    warm_up = ["warm up"] * (embedder_module.QUESTION_TEXTS + 1)
    engine.embedder.encode(warm_up)
    engine.embedder.encode_sentences(warm_up)
    started = time.perf_counter()
    report = engine.refresh(rebuild=True)
    seconds = time.perf_counter() - started
    print(f"{mode}: {report.chunks} chunks in {seconds:.0f} s", file=sys.stderr)
    result = run_queries(engine, corpus, max_queries).to_json() if evaluate else {}
    engine.close()
    return {
        "chunks": report.chunks,
        "index_seconds": seconds,
        "chunks_per_s": report.chunks / seconds,
        **result,
        "index": str(corpus.index),
    }


class SentenceTransformerTimer:
    """SentenceTransformer.encode of the chunks alone, as benchmarks/latency.py times it."""

    def __init__(self, index: Path):
        from sentence_transformers import SentenceTransformer

        from askseed.model.embedder import model_dir

        with sqlite3.connect(index / "meta.sqlite") as db:
            self.texts = [row[0] for row in db.execute("SELECT text FROM chunks")]
        self.model = SentenceTransformer(str(model_dir()), device="cpu")
        self.model.encode(self.texts[:8])

    def chunks_per_s(self) -> float:
        started = time.perf_counter()
        self.model.encode(self.texts, batch_size=64, normalize_embeddings=True)
        per_s = len(self.texts) / (time.perf_counter() - started)
        print(f"SentenceTransformer: {per_s:.1f} chunks/s", file=sys.stderr)
        return per_s


def measure_speeds(work: Path, rounds: int) -> tuple[list[tuple[Way, dict]], list[float]]:
    """Each way built from scratch, in turns, and SentenceTransformer timed after each build:
    a build is compared with the timings just before and after it (only after, for the
    first)."""
    results, st_speeds, timer = [], [], None
    for _ in range(rounds):
        for way in WAYS:
            r = measure(
                way.sentence_vectors, work, None, False, way.chunk_vectors, way.int8, way.batch
            )
            r["load"] = os.getloadavg()[0]
            results.append((way, r))
            timer = timer or SentenceTransformerTimer(Path(r["index"]))  # the same chunks
            st_speeds.append(timer.chunks_per_s())
    return results, st_speeds


def format_speed(results: list[tuple[Way, dict]], st_speeds: list[float], rounds: int) -> str:
    rows = [
        "Command: `.venv/bin/python benchmarks/sentence_vectors.py --indexing-only "
        f"--rounds {rounds}`. SQuAD-A "
        "indexed from scratch each way, in turns, with SentenceTransformer.encode (batch 64) of "
        "the same chunks alone timed after each build, in one run on "
        f"{os.cpu_count()} CPUs shared with other work. Each ratio is to the mean of the "
        "SentenceTransformer timings just before and after its build (after only, for the "
        "first).",
        "",
        "| `askseed index`: how it reads | chunks | seconds | chunks/s | "
        "SentenceTransformer chunks/s, before / after | ratio | load average |",
        "|---|---|---|---|---|---|---|",
    ]
    for number, (way, r) in enumerate(results):
        around = st_speeds[max(0, number - 1) : number + 1]
        ratio = r["chunks_per_s"] / (sum(around) / len(around))
        before = f"{st_speeds[number - 1]:.1f}" if number else "-"
        rows.append(
            f"| {way.label} | {r['chunks']} | {r['index_seconds']:.0f} | "
            f"{r['chunks_per_s']:.1f} | {before} / {st_speeds[number]:.1f} | {ratio:.2f}x | "
            f"{r['load']:.1f} |"
        )
    return "\n".join(rows)


def sentence_vectors(index: Path, dim: int = 384) -> dict[tuple[str, str, str], np.ndarray]:
    """Every stored sentence vector, keyed by (file, chunk text, sentence text)."""
    found = {}
    with sqlite3.connect(index / "meta.sqlite") as db:
        for chunk in stored_chunks(db, dim):
            for span, vector in zip(chunk.sentences, chunk.sentence_vectors, strict=True):
                found[(chunk.source, chunk.text, chunk.sentence_text(span))] = vector
    return found


def compare(results: dict, max_queries: int | None) -> dict:
    """How the pooled vectors differ from the same sentences embedded alone."""
    alone = sentence_vectors(Path(results["alone"]["index"]))
    pooled = sentence_vectors(Path(results["pooled"]["index"]))
    shared = sorted(alone.keys() & pooled.keys())
    same = np.array([float(alone[key] @ pooled[key]) for key in shared])
    # Best sentence cosine in the gold paragraph, per question, each way.
    doc_ids = prepare_corpus(SQUAD).doc_ids
    by_document: dict[str, list[tuple[str, str, str]]] = {}
    for key in shared:
        by_document.setdefault(doc_ids.get(key[0], ""), []).append(key)
    qrels = read_qrels(SQUAD)
    queries = judged_queries(SQUAD)
    queries = queries[:max_queries] if max_queries else queries
    questions = MiniLMEmbedder().encode([query.text for query in queries])
    best = {"alone": [], "pooled": []}
    for query, vector in zip(queries, questions, strict=True):
        keys = [key for doc_id in qrels[query.id] for key in by_document.get(doc_id, [])]
        if not keys:
            continue
        best["alone"].append(max(float(alone[key] @ vector) for key in keys))
        best["pooled"].append(max(float(pooled[key] @ vector) for key in keys))
    shift = np.array(best["pooled"]) - np.array(best["alone"])
    return {
        "sentences": len(shared),
        "cos_pooled_alone": np.percentile(same, [5, 50, 95]).round(3).tolist(),
        "cos_pooled_alone_mean": round(float(same.mean()), 3),
        "questions": len(shift),
        "best_alone": np.percentile(best["alone"], [10, 50, 90]).round(3).tolist(),
        "best_pooled": np.percentile(best["pooled"], [10, 50, 90]).round(3).tolist(),
        "best_shift_mean": round(float(shift.mean()), 3),
    }


def format_section(results: dict, comparison: dict, args) -> str:
    command = "`.venv/bin/python benchmarks/sentence_vectors.py"
    command += f" --max-queries {args.max_queries}`" if args.max_queries else "`"
    rows = [
        f"Command: {command}. SQuAD-A (1,048 paragraphs), indexed from scratch each way on "
        f"{os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f}: the machine is "
        "shared), then evaluated as `askseed eval --json` does.",
        "",
        "| sentence vectors | chunks | index s | chunks/s | nDCG@10 | answer-sentence@1 | "
        "abstained |",
        "|---|---|---|---|---|---|---|",
    ]
    for mode in MODES:
        r = results[mode]
        rows.append(
            f"| {mode} | {r['chunks']} | {r['index_seconds']:.0f} | {r['chunks_per_s']:.1f} | "
            f"{r['ndcg@10']:.4f} | {r['answer_sentence@1']:.4f} | {r['abstained']:.2%} |"
        )
    c = comparison
    rows += [
        "",
        f"Cosine of each pooled sentence vector to the same sentence embedded alone, over "
        f"{c['sentences']} sentences: mean {c['cos_pooled_alone_mean']}, 5/50/95th percentiles "
        f"{c['cos_pooled_alone']}. Best sentence cosine to the question within the gold "
        f"paragraph ({c['questions']} questions), 10/50/90th percentiles: alone "
        f"{c['best_alone']}, pooled {c['best_pooled']} (mean shift {c['best_shift_mean']:+}).",
    ]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-queries", type=int, help="only the first N queries")
    parser.add_argument("--work", type=Path, help="keep the indexes here")
    parser.add_argument("--no-record", action="store_true", help="print only")
    parser.add_argument(
        "--indexing-only",
        action="store_true",
        help="time indexing each way against SentenceTransformer.encode; no evaluation",
    )
    parser.add_argument("--rounds", type=int, default=1, help="with --indexing-only: turns")
    args = parser.parse_args(argv)
    if not (SQUAD / "corpus.jsonl").is_file():
        print(f"skipped: {SQUAD} is absent", file=sys.stderr)
        return 0
    work = args.work or Path(tempfile.mkdtemp(prefix="askseed-sentences-"))
    if args.indexing_only:
        results, st_speeds = measure_speeds(work, args.rounds)
        section = format_speed(results, st_speeds, args.rounds)
        print(section)
        if not args.no_record:
            record_section("Sentence vectors: indexing speed", section)
        return 0
    results = {mode: measure(mode, work, args.max_queries) for mode in MODES}
    comparison = compare(results, args.max_queries)
    print(json.dumps({"results": results, "comparison": comparison}, indent=2))
    section = format_section(results, comparison, args)
    print(section)
    if not args.no_record:
        record_section("Sentence vectors: pooled in the chunk's pass, or embedded alone", section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
