"""askseed at 10k, 100k and 1M chunks: build, memory, disk, one-shot and warm queries, recall.

    .venv/bin/python benchmarks/scale.py                          # 10k and 100k, recorded
    .venv/bin/python benchmarks/scale.py --sizes 1000000 --keep   # one size, corpus kept
    .venv/bin/python benchmarks/scale.py --src OTHER/src --no-record  # time another tree

Real embedding runs at about 20 chunks/s here (a million chunks: 14 hours), so each index is
built through askseed's real indexer and store writer with a stand-in embedder that returns,
at once, real all-MiniLM-L6-v2 vectors of SciFact and SQuAD chunks with a little noise, and
reports the real model's fingerprint (scale_corpus.py). The texts are real SciFact sentences,
each the halves of two joined, all distinct to askseed's dedup, written as text files of about
--chunks-per-file chunks under --work (never the repository). Then, with the real model:
`askseed ask` as whole processes against the import floor, in turns (medians), and in one
process the chat's warm question and the vector search in each mode, with the approximate
index's recall@10 against exact search (scale_probe.py). Questions are SciFact claims.
Needs ../shared/eval/scifact and an index of real vectors; says so and stops without them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, SCIFACT, in_turns  # noqa: E402
from latency import FLOOR  # noqa: E402
from record import record_section  # noqa: E402
from scale_corpus import (  # noqa: E402
    NO_VECTORS,
    SentencePool,
    real_vectors,
    scifact_pool,
    vector_indexes,
    write_corpus,
)
from scale_probe import WARM_QUESTIONS, question_cache  # noqa: E402

from askseed.config import Settings  # noqa: E402
from askseed.ingest.chunk import make_chunks  # noqa: E402
from askseed.ingest.sentences import split_sentences  # noqa: E402
from askseed.model.embedder import (  # noqa: E402
    WordPieceCounter,
    model_dir,
    model_fingerprint,
)

HERE = Path(__file__).resolve().parent
PROBE = HERE / "scale_probe.py"
QUESTIONS = 200
# Rough rates on this machine (2 cores, busy: about 1,400 chunks/s quiet, 150-250 at load 6 to
# 17), for the estimate printed before each size; replaced by the rate measured on the
# previous size of the same run.
BUILD_CHUNKS_PER_S = 250.0
CORPUS_CHUNKS_PER_S = 15_000.0
ONE_SHOT_TIMEOUT = 600  # a stale index would start re-embedding with the real model: stop it
QUESTION = "Vitamin D supplementation reduces the risk of bone fractures."


def claims(count: int) -> list[str]:
    with open(SCIFACT / "queries.jsonl", encoding="utf-8") as lines:
        return [json.loads(line)["text"] for _, line in zip(range(count), lines, strict=False)]


def sentences_per_chunk(pool: SentencePool, settings: Settings, sample: int = 600) -> float:
    """How many of the pool's sentences a chunk advances by, with askseed's own chunker and the
    real tokenizer (chunks share `chunk_overlap` sentences with their neighbours)."""
    counter = WordPieceCounter(model_dir())
    text = "\n\n".join(pool.sentence(n) for n in range(sample))
    sentences = split_sentences(text)
    counts = dict(
        zip([s.text for s in sentences], counter([s.text for s in sentences]), strict=True)
    )
    chunks = make_chunks(
        sentences,
        text,
        lambda piece: counts[piece] if piece in counts else counter([piece])[0],
        max_tokens=settings.chunk_tokens,
        overlap=settings.chunk_overlap,
    )
    return len(sentences) / len(chunks)


def prepare_corpus(folder: Path, pool: SentencePool, chunks: int, per_file: int) -> dict:
    """The documents for about `chunks` chunks, reused when a kept run already wrote them."""
    spec_path = folder / ".scale-corpus.json"
    ratio = sentences_per_chunk(pool, Settings())
    files = max(1, math.ceil(chunks / per_file))
    spec = {
        "chunks": chunks,
        "files": files,
        "sentences_per_file": max(2, round(per_file * ratio)),
        "pool": [len(pool.lefts), len(pool.rights)],
    }
    if spec_path.exists() and json.loads(spec_path.read_text()).get("spec") == spec:
        return json.loads(spec_path.read_text())
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    written = write_corpus(folder, pool, files, spec["sentences_per_file"])
    done = {"spec": spec, "bytes": written, "seconds": time.perf_counter() - started}
    spec_path.write_text(json.dumps(done))
    return done


def probe(src: Path, *args: str) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), str(HERE)])}
    done = subprocess.run(
        [sys.executable, str(PROBE), *args], env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(f"scale_probe.py {args[0]} failed:\n{done.stderr.strip()[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def disk_per_chunk(index: Path, chunks: int) -> dict:
    """Bytes per chunk of everything in the index folder, and beyond the chunk texts."""
    total = sum(path.stat().st_size for path in index.rglob("*") if path.is_file())
    try:
        with sqlite3.connect(f"file:{index / 'meta.sqlite'}?mode=ro", uri=True) as db:
            (text,) = db.execute("SELECT sum(length(CAST(text AS BLOB))) FROM chunks").fetchone()
    except sqlite3.Error:  # a store that keeps its texts elsewhere
        text = None
    return {
        "disk_bytes_per_chunk": total / chunks,
        "disk_beyond_text_per_chunk": (total - text) / chunks if text else None,
    }


def one_shot(src: Path, docs: Path, index: Path, runs: int) -> dict:
    """`askseed ask` as a whole process, and the import floor, in turns; medians."""
    askseed = Path(sys.executable).with_name("askseed")
    commands = {
        "floor": (FLOOR, None),
        "ask": (
            [str(askseed), "ask", QUESTION, "--seeds", str(docs), "--index", str(index), "--json"],
            {**os.environ, "PYTHONPATH": str(src)},
        ),
    }

    def not_stale(name: str, done: subprocess.CompletedProcess) -> None:
        if name == "ask" and '"refreshed": true' in done.stdout:
            raise SystemExit(f"askseed found {index} stale and updated it: not a query")
        # Exit code 1 is "not answered", and also Python's for an import error.
        if name == "ask" and '"question"' not in done.stdout:
            raise SystemExit(f"askseed ask gave no answer:\n{done.stderr.strip()[-2000:]}")

    medians = in_turns(commands, runs, timeout=ONE_SHOT_TIMEOUT, check=not_stale)
    return {f"{name}_s": seconds for name, seconds in medians.items()}


def run_size(args, pool: SentencePool, chunks: int, questions_file: Path) -> dict:
    docs, index = args.work / f"corpus-{chunks}", args.work / f"index-{chunks}"
    print(f"{chunks:,} chunks: writing the corpus...", file=sys.stderr, flush=True)
    corpus = prepare_corpus(docs, pool, chunks, args.chunks_per_file)
    shutil.rmtree(index, ignore_errors=True)
    print(f"{chunks:,} chunks: building...", file=sys.stderr, flush=True)
    row = {"target": chunks, "corpus_bytes": corpus["bytes"]}
    row |= probe(args.src, "build", str(docs), str(index))
    row |= disk_per_chunk(index, row["chunks"])
    print(f"{chunks:,} chunks: built: {json.dumps(row)}; querying...", file=sys.stderr, flush=True)
    measured = probe(args.src, "measure", str(docs), str(index), str(questions_file))
    if not measured.get("fresh"):
        raise SystemExit(f"the {index} index is not fresh for the real model: stopping")
    row |= measured
    row |= one_shot(args.src, docs, index, args.runs)
    row["load"] = os.getloadavg()[0]
    if not args.keep:
        shutil.rmtree(index, ignore_errors=True)
        shutil.rmtree(docs, ignore_errors=True)
    print(json.dumps(row), flush=True)
    return row


def real_cosines(count: int) -> tuple[float, float] | None:
    """Median cosine of the questions' 1st and 10th nearest chunk in the real SciFact index:
    what the stand-in vectors should resemble."""
    path = question_cache(model_fingerprint(model_dir()), count)
    if not path.exists():
        return None
    questions = np.load(path, allow_pickle=False)
    chunks = real_vectors(vector_indexes()[:1]).astype(np.float32)
    scores = -np.sort(-(questions @ chunks.T), axis=1)
    return float(np.median(scores[:, 0])), float(np.median(scores[:, 9]))


def estimate(chunks: int, build_rate: float) -> str:
    seconds = chunks / CORPUS_CHUNKS_PER_S + chunks / build_rate + 60 + chunks / 20_000
    return f"about {seconds / 60:.0f} min"


def _cell(value, spec: str) -> str:
    """A figure, or n/a for one this tree or index could not give."""
    return format(value, spec) if isinstance(value, int | float) else "n/a"


def format_report(rows: list[dict], args, real: tuple[float, float] | None) -> str:
    sizes = " ".join(str(row["target"]) for row in rows)
    command = f"`.venv/bin/python benchmarks/scale.py --sizes {sizes} --runs {args.runs}`"
    lines = [
        f"Command: {command}. Each index is built through `askseed index`'s own code with a "
        "stand-in embedder (real MiniLM vectors of SciFact and SQuAD chunks, plus noise: "
        "`benchmarks/scale_corpus.py`), from SciFact sentences recombined into distinct ones, "
        f"about {args.chunks_per_file} chunks a file. Build time excludes the stand-in's; "
        "peak RSS is the build process's; bytes on disk are the whole index folder's. Queries "
        f"use the real model. One-shot: median of {args.runs} whole `askseed ask` processes, "
        "in turns with the import floor (warm page cache). Warm: the chat's `Engine.ask`, "
        f"median of {WARM_QUESTIONS} SciFact claims, then `IndexReader.search` one question "
        f"at a time in each mode, median of {QUESTIONS} claims, and the approximate index's "
        f"recall@10 against exact search. {os.cpu_count()} CPUs shared with other work "
        "(load average at the end of each size).",
        "",
        "| chunks | files | build s (excl. embedding) | chunks/s | peak RSS MB "
        "| bytes/chunk on disk | beyond the chunk text | dropped as duplicates |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['chunks']:,} | {row['files']:,} | {row['build_seconds']:,.0f} | "
            f"{row['chunks'] / row['build_seconds']:,.0f} | {row['peak_rss_mb']:,.0f} | "
            f"{row['disk_bytes_per_chunk']:,.0f} | "
            f"{_cell(row['disk_beyond_text_per_chunk'], ',.0f')} | "
            f"{row['duplicates_dropped']:,} |"
        )
    lines += [
        "",
        "| chunks | one-shot s | import floor s | one-shot / floor | warm ask ms "
        "| search ms: exact | approximate | auto | recall@10 | top-1 / top-10 cosine | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    notes = []
    for row in rows:
        recall = row["recall_at_10"]
        if isinstance(recall, str) and recall not in notes:
            notes.append(recall)
        lines.append(
            f"| {row['chunks']:,} | {row['ask_s']:.2f} | {row['floor_s']:.2f} | "
            f"{row['ask_s'] / row['floor_s']:.2f}x | {row['warm_ask_ms']:.0f} | "
            f"{row['search_ms_exact']:.2f} | {_cell(row.get('search_ms_approximate'), '.2f')} | "
            f"{_cell(row.get('search_ms_auto'), '.2f')} | {_cell(recall, '.3f')} | "
            f"{_cell(row.get('top1_cosine'), '.3f')} / {_cell(row.get('top10_cosine'), '.3f')} | "
            f"{row['load']:.1f} |"
        )
    lines += ["", *(f"recall@10 {note}." for note in notes)] if notes else []
    if real:
        lines += [
            "",
            f"Top-1 / top-10 cosine: median cosine of the claims to their nearest and 10th "
            f"nearest chunk. Against the real SciFact index (22,481 chunks): {real[0]:.3f} / "
            f"{real[1]:.3f}.",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--src", type=Path, default=REPO / "src", help="the askseed to time")
    parser.add_argument("--work", type=Path, default=REPO.parent / "scale-data")
    parser.add_argument("--keep", action="store_true", help="keep corpora and indexes")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--chunks-per-file", type=int, default=50)
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args(argv)
    if not (SCIFACT / "corpus.jsonl").exists():
        print(f"skipped: {SCIFACT} is absent (SciFact texts and claims)", file=sys.stderr)
        return 0
    if not vector_indexes():
        print(f"skipped: {NO_VECTORS}", file=sys.stderr)
        return 0
    # Absolute: the timed processes run in the repository (_common.run_timed).
    args.work, args.src = args.work.resolve(), args.src.resolve()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.work.is_relative_to(REPO):
        raise SystemExit("--work must be outside the repository")
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(args.src / "askseed")])
    free = shutil.disk_usage(args.work).free
    need = sum(args.sizes) * 6_000
    print(f"disk: {free / 1e9:.0f} GB free, about {need / 1e9:.1f} GB needed", file=sys.stderr)
    if need > free:
        raise SystemExit(f"not enough disk space in {args.work}")
    pool = scifact_pool(SCIFACT / "corpus.jsonl")
    questions_file = args.work / "questions.json"
    questions_file.write_text(json.dumps(claims(QUESTIONS)))
    rate, rows = BUILD_CHUNKS_PER_S, []
    print(
        "estimated: " + ", ".join(f"{size:,} chunks {estimate(size, rate)}" for size in args.sizes),
        file=sys.stderr,
    )
    for size in args.sizes:
        print(f"{size:,} chunks: {estimate(size, rate)}", file=sys.stderr, flush=True)
        rows.append(run_size(args, pool, size, questions_file))
        rate = rows[-1]["chunks"] / rows[-1]["seconds"]
    report = format_report(rows, args, real_cosines(QUESTIONS))
    print(report)
    if not args.no_record and args.src.resolve() == (REPO / "src").resolve():
        record_section("Scale: 10k, 100k and 1M chunks", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
