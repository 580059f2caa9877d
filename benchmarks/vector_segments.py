"""The vector store at scale: commit time per batch, the writer's peak memory, and exact
against approximate search (recall@10, warm and one-shot latency), through the store's code.

    .venv/bin/python benchmarks/vector_segments.py --chunks 100000 1000000 \
        --index /work/scifact-final-index ~/.cache/askseed/eval/squad-a-abstain-*/index

Vectors: the real MiniLM chunk vectors of the given askseed indexes, repeated with small
noise (0.02 a dimension, as vector_precision.py) up to --chunks. Queries: the real MiniLM
vectors of SciFact's and SQuAD-A's questions (the model runs once, offline), or noisy chunk
vectors with --no-model. Each size is written in a fresh process, batch by batch through
segments.VectorWriter exactly as `askseed index` commits (4,096 vectors a batch, tiered merges,
the IVF trained once the index passes approximate.MIN_CHUNKS), so its peak RSS is the vector
side of a build. Searches run one question at a time on one thread, as askseed asks them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA, REPO  # noqa: E402

BATCH = 4096
NOISE = 0.02


def base_vectors(indexes: list[Path]) -> np.ndarray:
    """Every chunk vector of these askseed indexes (one vectors file each, or segments)."""
    import faiss

    parts = []
    for index in indexes:
        for path in sorted(index.glob("vectors-*.faiss")):
            stored = faiss.read_index(str(path))
            inner = faiss.downcast_index(stored.index)
            parts.append(inner.reconstruct_n(0, inner.ntotal))
    if not parts:
        return np.random.default_rng(0).standard_normal((2000, 384)).astype(np.float32)
    return np.vstack(parts).astype(np.float32)


def noisy(base: np.ndarray, count: int, rng: np.random.Generator, noise: float) -> np.ndarray:
    vectors = base[rng.integers(0, len(base), count)]
    vectors = vectors + noise * rng.standard_normal(vectors.shape, np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def query_vectors(count: int, use_model: bool, base: np.ndarray) -> np.ndarray:
    if use_model:
        texts = []
        for name in ("scifact", "squad-a-abstain"):
            path = DATA / name / "queries.jsonl"
            if path.exists():
                with open(path) as lines:
                    texts += [json.loads(line)["text"] for line in lines]
        if texts:
            from askseed.model.embedder import MiniLMEmbedder

            picks = np.random.default_rng(2).choice(len(texts), min(count, len(texts)), False)
            return MiniLMEmbedder().encode([texts[i] for i in picks]).astype(np.float32)
    return noisy(base, count, np.random.default_rng(2), 0.05)


def build(args: argparse.Namespace, chunks: int, folder: Path) -> dict:
    """In this process: write `chunks` vectors batch by batch through VectorWriter."""
    from askseed.store import approximate
    from askseed.store.schema import SCHEMA
    from askseed.store.segments import VectorWriter, remove_stale_files

    if args.approximate_min is not None:
        approximate.MIN_CHUNKS = args.approximate_min
    base = base_vectors(args.index)
    rng = np.random.default_rng(1)
    conn = sqlite3.connect(folder / "meta.sqlite", isolation_level=None)
    conn.executescript(SCHEMA)
    writer = VectorWriter(conn, folder, base.shape[1], {})
    commits = []
    template: dict = {}
    next_id = 1
    generation = 0
    started = time.perf_counter()
    while next_id <= chunks:
        count = min(BATCH, chunks - next_id + 1)
        vectors = noisy(base, count, rng, NOISE)
        conn.execute("BEGIN")
        writer.add(list(range(next_id, next_id + count)), vectors)
        generation += 1
        committing = time.perf_counter()
        template = writer.flush(generation)
        conn.execute("COMMIT")
        remove_stale_files(folder, keep=writer.names())
        commits.append(time.perf_counter() - committing)
        next_id += count
    seconds = time.perf_counter() - started
    (json_path := folder / "template.json").write_text(json.dumps(template))
    files = list(folder.glob("vectors-*"))
    return {
        "chunks": chunks,
        "build_s": round(seconds, 1),
        "commits": len(commits),
        "commit_ms_median": round(1000 * statistics.median(commits), 1),
        "commit_ms_p90": round(1000 * sorted(commits)[int(0.9 * len(commits))], 1),
        "commit_s_max": round(max(commits), 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "segments": conn.execute("SELECT COUNT(*) FROM vector_segments").fetchone()[0],
        "flat_bytes_per_chunk": round(
            sum(p.stat().st_size for p in files if p.suffix == ".faiss") / chunks
        ),
        "ivf_bytes_per_chunk": round(
            sum(p.stat().st_size for p in files if p.suffix == ".ivf") / chunks
        ),
        "template": json_path.name,
    }


def open_store(folder: Path, nprobe: int | None = None):
    from askseed.store import approximate
    from askseed.store.segments import read_segments, read_tombstones
    from askseed.store.vectors import VectorSet

    conn = sqlite3.connect(folder / "meta.sqlite")
    template = json.loads((folder / "template.json").read_text())
    probe = nprobe or int(template.get("approximate_nprobe", 1))
    segments = read_segments(conn)
    named = template.get("approximate_template")
    return VectorSet(
        folder,
        segments,
        read_tombstones(conn),
        384,
        nprobe=probe,
        rescore=approximate.RESCORE,
        template=folder / named if named else None,
    )


def search(args: argparse.Namespace, folder: Path, chunks: int) -> list[dict]:
    """Warm latency and recall@10 of exact and approximate search, for several nprobe."""
    base = base_vectors(args.index)
    queries = query_vectors(args.queries, not args.no_model, base)
    store = open_store(folder)
    store.open_files("approximate")
    rows = []

    def timed(mode: str) -> tuple[list, float]:
        store.search(queries[:1], 10, mode)  # the pages this touches are now in memory
        found, times = [], []
        cpu = time.process_time()
        for query in queries:
            started = time.perf_counter()
            found.append(store.search(query.reshape(1, -1), 10, mode)[0])
            times.append(time.perf_counter() - started)
        # CPU time too: on a machine shared with other work, wall time mostly measures waiting.
        cpu_ms = 1000 * (time.process_time() - cpu) / len(queries)
        return found, 1000 * statistics.median(times), cpu_ms

    exact, exact_ms, exact_cpu = timed("exact")
    rows.append(
        {
            "chunks": chunks,
            "search": "exact",
            "ms": round(exact_ms, 2),
            "cpu_ms": round(exact_cpu, 2),
            "recall@10": 1.0,
        }
    )
    if not store.has_approximate:
        return rows
    for nprobe in args.nprobe:
        store.nprobe = nprobe
        found, ms, cpu_ms = timed("approximate")
        recall = np.mean(
            [
                len({i for i, _ in a} & {i for i, _ in e}) / max(1, len(e))
                for a, e in zip(found, exact, strict=True)
            ]
        )
        rows.append(
            {
                "chunks": chunks,
                "search": f"approximate, nprobe {nprobe}",
                "ms": round(ms, 2),
                "cpu_ms": round(cpu_ms, 2),
                "recall@10": round(float(recall), 4),
            }
        )
    return rows


def tombstones(folder: Path, queries: int = 200) -> list[dict]:
    """One full segment searched exactly with 1% and 10% of it tombstoned: FAISS's ID selector
    against over-fetching k + tombstones and filtering, CPU ms a question."""
    import faiss

    from askseed.store.vectors import read_mapped

    segment = max(open_store(folder)._segments, key=lambda opened: opened.segment.vectors)
    index = read_mapped(folder / segment.segment.name)
    ids = faiss.vector_to_array(index.id_map)
    rng = np.random.default_rng(4)
    batch = noisy(base_vectors([]), queries, rng, 0.05)
    for query in batch[:20]:  # the segment's pages into memory first
        index.search(query.reshape(1, -1), 10)
    rows = []
    for share in (0.01, 0.1):
        dead = np.sort(rng.choice(ids, int(share * len(ids)), replace=False))
        selector_batch = faiss.IDSelectorBatch(dead)
        params = faiss.SearchParameters(sel=faiss.IDSelectorNot(selector_batch))
        timings = {}
        for name in ("none", "selector", "over-fetch"):
            started = time.process_time()  # CPU: the machine is shared
            for query in batch:
                query = query.reshape(1, -1)
                if name == "none":
                    index.search(query, 10)
                elif name == "selector":
                    index.search(query, 10, params=params)
                else:
                    _, found = index.search(query, 10 + len(dead))
                    found[0][~np.isin(found[0], dead)][:10]
            timings[name] = round(1000 * (time.process_time() - started) / len(batch), 2)
        rows.append({"segment": len(ids), "tombstoned": f"{share:.0%}", **timings})
    return rows


ONE_SHOT = """
import sys, time
started = time.perf_counter()
import numpy as np
sys.path.insert(0, sys.argv[3])
from vector_segments import open_store
from pathlib import Path
store = open_store(Path(sys.argv[1]))
mode = sys.argv[2]
query = np.load(Path(sys.argv[1]) / "query.npy")
import faiss
def mapped_kb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("RssFile:"))
before = mapped_kb()
if mode != "floor":
    store.open_files(mode)
    store.search(query, 10, mode)
print(time.perf_counter() - started, (mapped_kb() - before) / 1024)
"""


def one_shot(folder: Path, runs: int) -> dict:
    """Whole-process seconds: open the store and answer one question, exact or approximate;
    `floor` imports the same modules and answers nothing. With MB of pages each touched."""
    base = base_vectors([])
    np.save(folder / "query.npy", noisy(base, 1, np.random.default_rng(3), 0.05))
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    result = {}
    for mode in ("floor", "exact", "approximate"):
        times, cpu = [], []
        for _ in range(runs + 1):  # the first warms the page cache
            started = time.perf_counter()
            used = resource.getrusage(resource.RUSAGE_CHILDREN)
            done = subprocess.run(
                [sys.executable, "-c", ONE_SHOT, str(folder), mode, str(REPO / "benchmarks")],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            times.append(time.perf_counter() - started)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(after.ru_utime + after.ru_stime - used.ru_utime - used.ru_stime)
        result[mode] = round(statistics.median(times[1:]), 3)
        # The process's CPU seconds: what the shared machine's load does not inflate.
        result[f"{mode}_cpu"] = round(statistics.median(cpu[1:]), 3)
        # The file pages the open and the search mapped: what a cold page cache would read.
        result[f"{mode}_mb_touched"] = round(float(done.stdout.split()[-1]))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, nargs="+", default=[100_000])
    parser.add_argument("--index", type=Path, nargs="*", default=[], help="real vectors")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--nprobe", type=int, nargs="+", default=[8, 16, 32, 64])
    parser.add_argument("--runs", type=int, default=5, help="one-shot runs per mode")
    parser.add_argument("--no-model", action="store_true", help="noisy chunk vectors as queries")
    parser.add_argument("--work", type=Path, help="keep the stores here")
    parser.add_argument("--reuse", action="store_true", help="search the stores already in --work")
    parser.add_argument(
        "--approximate-min",
        type=int,
        help="build the IVF from this many chunks (default: askseed's)",
    )
    parser.add_argument("--build-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.build_only:  # the child process: one build, its peak RSS its own
        print(json.dumps(build(args, args.chunks[0], args.build_only)))
        return 0
    work = args.work or Path(tempfile.mkdtemp(prefix="askseed-segments-"))
    print(f"load {os.getloadavg()[0]:.1f}, {len(base_vectors(args.index))} real vectors")
    for chunks in args.chunks:
        folder = work / f"store-{chunks}"
        folder.mkdir(parents=True, exist_ok=True)
        child = [sys.executable, __file__, "--chunks", str(chunks), "--build-only", str(folder)]
        child += ["--index", *map(str, args.index)] if args.index else []
        if args.approximate_min is not None:
            child += ["--approximate-min", str(args.approximate_min)]
        env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
        if not (args.reuse and (folder / "template.json").exists()):
            done = subprocess.run(child, env=env, capture_output=True, text=True)
            if done.returncode:
                raise SystemExit(done.stderr)
            print(done.stdout.strip().splitlines()[-1], flush=True)
        for row in search(args, folder, chunks):
            print(json.dumps(row), flush=True)
        print(json.dumps({"chunks": chunks, "one_shot_s": one_shot(folder, args.runs)}), flush=True)
        for row in tombstones(folder):
            print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
