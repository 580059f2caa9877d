"""Answer quality: askseed against lexical only, dense only and plain RRF, on SciFact and SQuAD-A.

Every system is a run of `askseed eval DIR --system NAME --json` (which asks each judged query
through Engine.ask, as `askseed ask` does) on the same index; only the
askseed.query.retrieve.Retrieval differs. The askseed row is `askseed eval`'s own default.

Also times the one-shot `askseed "question"` on the seed, whole process, with and without the
keyword half of the search, and writes everything to the "## Answer quality" section of
BENCHMARKS.md (other sections are left alone).

    .venv/bin/python benchmarks/quality.py                    # both sets, all queries
    .venv/bin/python benchmarks/quality.py --max-queries 50   # a quick look, not for the table

The first run indexes each corpus into askseed's cache (SciFact: ~20 to 50 minutes on two
busy cores); later runs re-embed nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DATA, REPO, SEED_QUESTION, run_timed  # noqa: E402
from record import record_section  # noqa: E402

from askseed.config import load_settings
from askseed.engine import Engine
from askseed.eval.runner import EvalReport, prepare_corpus, run_queries
from askseed.query.retrieve import ASKSEED, SYSTEMS
from askseed.ui.progress import QueryProgress

ASKSEED_SCRIPT = Path(sys.executable).with_name("askseed")
DISPLAY_NAMES = {name: retrieval.name for name, retrieval in SYSTEMS.items()}
SETS = ("scifact", "squad-a")
SECTION = "## Answer quality"
SWEPT_WEIGHTS = (0.1, 0.2, 0.3, 0.5, 1.0)

# From ../shared/eval/README.md ("Published figures"): SciFact test split.
PUBLISHED = [
    ("BM25, BEIR paper (Table 2)", "0.665", "", ""),
    ("BM25, Anserini flat (k1 0.9, b 0.4)", "0.679", "", "0.925"),
    ("all-MiniLM-L6-v2, MTEB", "0.645", "0.783", "0.925"),
    ("BM25 + cross-encoder rerank, BEIR paper", "0.688", "", ""),
]


def systems(has_answers: bool) -> list[str]:
    """`askseed eval --system` names: askseed, then the baselines."""
    chosen = ["askseed", "lexical", "dense", "rrf"]
    return chosen + ["rrf-best-sentence"] if has_answers else chosen


def evaluate_set(folder: Path, max_queries: int | None, jobs: int) -> list[EvalReport]:
    """Index once here, then run each system as its own `askseed eval` process, `jobs` at once:
    the queries are Python-bound, so processes use the cores that threads could not."""
    corpus = prepare_corpus(folder)
    engine = Engine(load_settings(seeds=corpus.documents, index=corpus.index))
    started = time.perf_counter()
    report = engine.refresh(on_warning=lambda message: print(message, file=sys.stderr))
    print(f"{folder.name}: {report.summary()} ({time.perf_counter() - started:.0f}s)")
    engine.close()
    names = systems((folder / "answers.jsonl").exists())
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        reports = list(pool.map(lambda name: run_system(folder, name, max_queries), names))
    for result in reports:
        print(result.summary(), flush=True)
    return reports


def run_system(folder: Path, name: str, max_queries: int | None) -> EvalReport:
    command = [str(ASKSEED_SCRIPT), "eval", str(folder), "--system", name, "--json"]
    if max_queries is not None:
        command += ["--max-queries", str(max_queries)]
    print(f"{folder.name} / {name}: running", file=sys.stderr, flush=True)
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.strip()}")
    figures = json.loads(done.stdout)
    queries = figures["queries"]
    return EvalReport(
        name=DISPLAY_NAMES[name],
        queries=queries,
        ndcg_10=figures["ndcg@10"],
        recall_10=figures["recall@10"],
        recall_100=figures["recall@100"],
        mrr_10=figures["mrr@10"],
        answer_sentence_1=figures["answer_sentence@1"],
        abstained=figures["abstained"],
        seconds=queries / figures["queries_per_second"] if figures["queries_per_second"] else 0,
    )


def weight_sweep(folder: Path, max_queries: int | None) -> list[EvalReport]:
    """askseed with other keyword weights: how its one fusion parameter was chosen."""
    corpus = prepare_corpus(folder)
    engine = Engine(load_settings(seeds=corpus.documents, index=corpus.index))
    reports = []
    for weight in SWEPT_WEIGHTS:
        retrieval = dataclasses.replace(ASKSEED, lexical_weight=weight)
        name = f"keyword weight {weight}" + (
            " (askseed)" if weight == ASKSEED.lexical_weight else ""
        )
        progress = QueryProgress(sys.stderr, f"{folder.name} / {name}")
        reports.append(run_queries(engine, corpus, max_queries, retrieval, progress, name))
        print(reports[-1].summary(), flush=True)
    return reports


def one_shot_seconds(mode: str, index: Path) -> float:
    """Wall time of one whole `askseed "question"` process; mode "dense" drops the keywords."""
    driver = (
        "import sys, askseed.query.retrieve as search\n"
        "if sys.argv[1] == 'dense':\n"
        "    search.ASKSEED = search.Retrieval(name='dense', lexical=False)\n"
        "from askseed.ui.cli import main\n"
        "sys.exit(main(sys.argv[2:]))\n"
    )
    command = [sys.executable, "-c", driver, mode, SEED_QUESTION, "--index", str(index)]
    return run_timed(command)[0]


def measure_latency(runs: int) -> dict[str, float]:
    """Median whole-process seconds of the one-shot ask on the seed, runs interleaved."""
    # As an install does (this environment may forbid writing bytecode at run time).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "src" / "askseed")])
    with tempfile.TemporaryDirectory() as work:
        index = Path(work) / "index"
        one_shot_seconds("hybrid", index)  # builds the index and the model export
        times: dict[str, list[float]] = {"hybrid": [], "dense": []}
        for _ in range(runs):
            for mode in times:
                times[mode].append(one_shot_seconds(mode, index))
    return {mode: statistics.median(values) for mode, values in times.items()}


def _answer(report: EvalReport) -> str:
    return "" if report.answer_sentence_1 is None else f"{report.answer_sentence_1:.4f}"


def render(
    results: dict[str, list[EvalReport]],
    sweep: list[EvalReport],
    latency: dict[str, float],
    command: str,
) -> str:
    lines = [
        SECTION,
        "",
        f"Produced by `{command}` on {time.strftime('%Y-%m-%d')}, "
        f"with the judged test queries of `../shared/eval/`.",
        "Every row goes through the same harness as `askseed eval`, on the same index: only the",
        "retrieval differs (`askseed.query.retrieve.Retrieval`). Documents are ranked by their",
        "best chunk.",
        "Lexical only is askseed's keyword index, SQLite FTS5, whose bm25() fixes k1 1.2 and",
        "b 0.75 (BM25 with k1 0.9, b 0.4 is in the lexical choice table). Two systems ran at",
        "once on two cores, so queries/s is a rough guide.",
        "",
        "| set | system | nDCG@10 | Recall@10 | Recall@100 | MRR@10 | answer-sentence@1 "
        "| abstained | queries/s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, reports in results.items():
        for report in reports:
            lines.append(
                f"| {name} | {report.name} | {report.ndcg_10:.4f} | {report.recall_10:.4f} | "
                f"{report.recall_100:.4f} | {report.mrr_10:.4f} | {_answer(report)} | "
                f"{report.abstained:.2%} | {report.queries_per_second:.1f} |"
            )
        if name == "scifact":
            for label, ndcg, recall_10, recall_100 in PUBLISHED:
                lines.append(
                    f"| scifact | published: {label} | {ndcg} | {recall_10} | {recall_100} "
                    "| | | | |"
                )
    if sweep:
        lines += [
            "",
            "askseed's one fusion parameter, the keyword weight (chunk score = cosine + weight *",
            "BM25 / the question's best BM25), was chosen on SciFact, the only set with judged",
            "queries for retrieval, so its SciFact row is tuned on the queries it is scored on;",
            "SQuAD-A, never used for choosing, is the check. The 0.80 abstain line lies between",
            "the seed's answered and unanswered questions (`benchmarks/threshold.py`); that 5",
            "passages compete for the quote is a fixed choice, not tuned here.",
            "",
            "| SciFact, askseed with | nDCG@10 | Recall@100 | MRR@10 | abstained |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {r.name} | {r.ndcg_10:.4f} | {r.recall_100:.4f} | {r.mrr_10:.4f} | "
            f"{r.abstained:.2%} |"
            for r in sweep
        ]
    if latency:
        hybrid, dense = latency["hybrid"], latency["dense"]
        lines += [
            "",
            f'One-shot `askseed "{SEED_QUESTION}"` on the seed, whole process, median of '
            f"{latency['runs']:.0f} interleaved runs each: {hybrid:.2f} s with the keyword search, "
            f"{dense:.2f} s without it ({(hybrid / dense - 1):+.1%}).",
        ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="folder holding the sets")
    parser.add_argument("--sets", nargs="+", default=list(SETS), help="which sets to run")
    parser.add_argument("--max-queries", type=int, help="a quick subset (not for the table)")
    parser.add_argument("--latency-runs", type=int, default=7, help="0 skips the timing")
    parser.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="systems at once")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    results = {
        name: evaluate_set(args.data / name, args.max_queries, args.jobs) for name in args.sets
    }
    sweep = []
    if "scifact" in args.sets:
        sweep = weight_sweep(args.data / "scifact", args.max_queries)
    latency: dict[str, float] = {}
    if args.latency_runs:
        latency = {**measure_latency(args.latency_runs), "runs": args.latency_runs}
        print(f"one-shot ask: {latency}")
    command = "python benchmarks/quality.py " + " ".join(sys.argv[1:])
    section = render(results, sweep, latency, command.strip())
    print(section)
    if args.max_queries is None:
        record_section(SECTION.removeprefix("## "), section.split("\n", 1)[1], args.out)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
