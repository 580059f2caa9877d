"""Sentence vectors pooled from the chunk's own pass against sentences embedded alone.

    .venv/bin/python benchmarks/sentence_vectors.py            # records into BENCHMARKS.md
    .venv/bin/python benchmarks/sentence_vectors.py --max-queries 500 --no-record

For each way (askseed.ingest.indexer.SENTENCE_VECTORS), SQuAD-A (../shared/eval/squad-a) is
indexed from scratch, timed, and evaluated through the same harness as `askseed eval --json`.
Then the two indexes, which hold the same chunks, are compared sentence by sentence, so that
anything fitted on sentence cosines (the abstain rule) can be refitted: how far each pooled
vector is from the same sentence alone, and how the best sentence cosine of the gold
paragraph moves for the questions. Skipped, with a message, when the data is absent.
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

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DATA  # noqa: E402
from record import record_section  # noqa: E402

from askseed.config import Settings  # noqa: E402
from askseed.engine import Engine  # noqa: E402
from askseed.eval.beir import judged_queries, read_qrels  # noqa: E402
from askseed.eval.runner import prepare_corpus, run_queries  # noqa: E402
from askseed.ingest import indexer  # noqa: E402
from askseed.model.embedder import MiniLMEmbedder  # noqa: E402
from askseed.store.schema import chunk_query, decode_chunk  # noqa: E402

SQUAD = DATA / "squad-a"
MODES = ("alone", "pooled")


def measure(mode: str, work: Path, max_queries: int | None, evaluate: bool = True) -> dict:
    indexer.SENTENCE_VECTORS = mode
    corpus = prepare_corpus(SQUAD, work / f"index-{mode}")
    engine = Engine(Settings(seeds=corpus.documents, index=corpus.index))
    engine.embedder.encode(["warm up"])  # the one-time ONNX export is not indexing
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


def sentence_transformer_chunks_per_s(index: Path) -> float:
    """SentenceTransformer.encode of the same chunks alone, as benchmarks/latency.py times it."""
    from sentence_transformers import SentenceTransformer

    from askseed.model.embedder import model_dir

    with sqlite3.connect(index / "meta.sqlite") as db:
        texts = [row[0] for row in db.execute("SELECT text FROM chunks")]
    model = SentenceTransformer(str(model_dir()), device="cpu")
    model.encode(texts[:8])
    started = time.perf_counter()
    model.encode(texts, batch_size=64, normalize_embeddings=True)
    return len(texts) / (time.perf_counter() - started)


def format_speed(results: dict, st_per_s: float) -> str:
    rows = [
        "Command: `.venv/bin/python benchmarks/sentence_vectors.py --indexing-only`. SQuAD-A "
        f"indexed from scratch each way, then SentenceTransformer.encode (batch 64) of the same "
        f"chunks alone, in one run on {os.cpu_count()} CPUs (load average "
        f"{os.getloadavg()[0]:.1f}: the machine is shared).",
        "",
        "| `askseed index`, sentence vectors | chunks | seconds | chunks/s | "
        "ratio to SentenceTransformer.encode of the chunks alone |",
        "|---|---|---|---|---|",
    ]
    for mode in MODES:
        r = results[mode]
        rows.append(
            f"| {mode} | {r['chunks']} | {r['index_seconds']:.0f} | {r['chunks_per_s']:.1f} | "
            f"{r['chunks_per_s'] / st_per_s:.2f}x |"
        )
    rows.append(f"| SentenceTransformer.encode, chunks alone | | | {st_per_s:.1f} | 1.00x |")
    return "\n".join(rows)


def sentence_vectors(index: Path, dim: int = 384) -> dict[tuple[str, str, str], np.ndarray]:
    """Every stored sentence vector, keyed by (file, chunk text, sentence text)."""
    found = {}
    with sqlite3.connect(index / "meta.sqlite") as db:
        db.row_factory = sqlite3.Row
        ids = [row[0] for row in db.execute("SELECT id FROM chunks")]
        for start in range(0, len(ids), 500):
            batch = ids[start : start + 500]
            for row in db.execute(chunk_query(len(batch)), batch):
                chunk = decode_chunk(row, dim)
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
    args = parser.parse_args(argv)
    if not (SQUAD / "corpus.jsonl").is_file():
        print(f"skipped: {SQUAD} is absent", file=sys.stderr)
        return 0
    work = args.work or Path(tempfile.mkdtemp(prefix="askseed-sentences-"))
    if args.indexing_only:
        results = {mode: measure(mode, work, None, evaluate=False) for mode in MODES}
        st_per_s = sentence_transformer_chunks_per_s(Path(results["alone"]["index"]))
        section = format_speed(results, st_per_s)
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
