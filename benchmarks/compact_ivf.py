"""The approximate index's codes, measured on a real scale index: bytes a chunk, recall@10
against exact search and warm search time, by code size, nprobe and rescoring depth.

    PYTHONPATH=src .venv/bin/python benchmarks/compact_ivf.py \
        --index /work/scale-after/index-1000000 --questions /work/scale-after/questions.json \
        --work /work/h6-data --before --variants pq32 opq32 --nprobe 32 48 64 --rescore 20 500

The index is only read (its database opened immutable). Each variant gets a folder under
--work: links to the index's flat segments, and a template and IVF companions trained and
built there by askseed's own `approximate.train` and `approximate.build`, with
approximate.CODE_BYTES, ROTATE, OPQ_ROUNDS and OPQ_SAMPLE set by the variant's name (see
`configure`), for the segments that have a companion in the index. `--before` searches the
index's own IVF (8-bit scalar codes, format 1) as it is. Searches go through
`vectors.VectorSet`, as `IndexReader.search` does, one question at a time on one thread after
one warm-up pass, as benchmarks/scale.py measures them; recall@10 is against the exact search
of the same segments. Questions: scale.py's SciFact claims, embedded by MiniLM (cached by
scale_probe.py).

Other modes, one variant each:
- `--train-peak VARIANT`: only train its template, and print the process's peak RSS;
- `--assemble VARIANT`: a whole index folder under --work (a copy of meta.sqlite naming the
  variant's IVF, links to the flat segments) for benchmarks/disk_usage.py, searched through
  `IndexReader` as scale_probe.py does;
- `--one-shot --variants VARIANT`: fresh processes that open the store and search once,
  before and after, in turns with the import floor.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from askseed.config import cache_dir
from askseed.store import approximate
from askseed.store.schema import read_manifest
from askseed.store.segments import read_segments, read_tombstones
from askseed.store.vectors import Segment, VectorSet

K = 10


def read_index(index: Path) -> tuple[list[Segment], dict[str, np.ndarray], dict[str, str]]:
    """The index's segments, tombstones and manifest, opened so that nothing is written:
    immutable, since even a read-only connection to a WAL database creates its -shm file."""
    conn = sqlite3.connect(f"file:{index / 'meta.sqlite'}?mode=ro&immutable=1", uri=True)
    try:
        return read_segments(conn), read_tombstones(conn), read_manifest(conn)
    finally:
        conn.close()


def question_vectors(questions: list[str]) -> np.ndarray:
    """The questions' MiniLM vectors: scale_probe.py's cache, or the model once."""
    for cached in sorted((cache_dir() / "scale").glob(f"questions-*-{len(questions)}.json")):
        if json.loads(cached.read_text()) == questions:
            return np.load(cached.with_suffix(".npy"), allow_pickle=False)
    from askseed.model.embedder import MiniLMEmbedder

    return MiniLMEmbedder().encode(questions).astype(np.float32)


def configure(variant: str) -> None:
    """askseed's settings for a variant: "pq32" (32-byte codes), "opq32" (the same after a
    learned rotation, FAISS's 50 rounds of OPQ on the whole sample), "opq32-r10" (10 rounds),
    "opq32-r10-t16384" (10 rounds on 16,384 of the sample's vectors, as shipped); a further
    "-s1" draws the training sample with another seed, "-n163840" draws that many vectors."""
    approximate.CODE_BYTES = int(variant.split("-")[0].removeprefix("o").removeprefix("pq"))
    approximate.ROTATE = variant.startswith("opq")
    approximate.TRAIN_SAMPLE, approximate.SAMPLE_SEED = 40 * approximate.NLIST, 0
    approximate.OPQ_ROUNDS, approximate.OPQ_SAMPLE = 50, approximate.TRAIN_SAMPLE  # FAISS's
    for part in variant.split("-")[1:]:
        if part.startswith("r"):
            approximate.OPQ_ROUNDS = int(part[1:])
        if part.startswith("t"):
            approximate.OPQ_SAMPLE = int(part[1:])
        if part.startswith("s"):
            approximate.SAMPLE_SEED = int(part[1:])
        if part.startswith("n"):
            approximate.TRAIN_SAMPLE = int(part[1:])


def link_segments(index: Path, folder: Path, segments: list[Segment]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for segment in segments:
        link = folder / segment.name
        if not link.exists():
            link.symlink_to(index / segment.name)


def build_variant(index: Path, folder: Path, variant: str) -> tuple[list[Segment], dict]:
    """Train and build an IVF of this variant beside links to the index's segments."""
    segments, dead, manifest = read_index(index)
    done = folder / "variant.json"
    if done.exists():
        saved = json.loads(done.read_text())
        return [Segment(*row) for row in saved["segments"]], saved
    link_segments(index, folder, segments)
    configure(variant)
    started = time.perf_counter()
    cpu = time.process_time()
    template = "vectors-0.1.ivf"
    nlist, size, digest = approximate.train(folder, segments, dead, template)
    train_s = time.perf_counter() - started
    built = []
    for number, segment in enumerate(segments, start=2):
        if not segment.approximate:  # askseed gave this segment no companion: small
            built.append(segment)
            continue
        name = f"vectors-0.{number}.ivf"
        ivf_size, ivf_digest = approximate.build(
            folder, segment, dead.get(segment.name), folder / template, name
        )
        built.append(segment._replace(approximate_size=ivf_size, approximate_sha256=ivf_digest))
        built[-1] = built[-1]._replace(approximate=name)
    saved = {
        "variant": variant,
        "nlist": nlist,
        "template": template,
        "template_size": size,
        "template_sha256": digest,
        "train_s": round(train_s, 1),
        "build_s": round(time.perf_counter() - started, 1),
        "cpu_s": round(time.process_time() - cpu, 1),
        "segments": [list(segment) for segment in built],
        "format": approximate.FORMAT,
        "nprobe": manifest.get("approximate_nprobe"),
    }
    done.write_text(json.dumps(saved))
    return built, saved


def ivf_bytes(folder: Path, segments: list[Segment], template: str, chunks: int) -> dict:
    companions = sum((folder / s.approximate).stat().st_size for s in segments if s.approximate)
    template_bytes = (folder / template).stat().st_size
    return {
        "ivf_bytes_per_chunk": round((companions + template_bytes) / chunks, 1),
        "companions": sum(1 for s in segments if s.approximate),
        "template_bytes": template_bytes,
    }


def sweep(store: VectorSet, queries: np.ndarray, exact: list, nprobes, rescores) -> list[dict]:
    rows = []
    for nprobe in nprobes:
        for rescore in rescores:
            store.nprobe, store.rescore = nprobe, rescore
            found, ms, cpu_ms = timed(store, queries, "approximate")
            rows.append(
                {
                    "nprobe": nprobe,
                    "rescore": rescore,
                    "ms": round(ms, 2),
                    "cpu_ms": round(cpu_ms, 2),
                    "recall@10": round(recall(found, exact), 4),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    return rows


def timed(store: VectorSet, queries: np.ndarray, mode: str) -> tuple[list, float, float]:
    """Median wall ms and mean CPU ms of one question's search, after a warm-up pass."""
    for query in queries:
        store.search(query.reshape(1, -1), K, mode)
    found, times = [], []
    cpu = time.process_time()
    for query in queries:
        started = time.perf_counter()
        found.append(store.search(query.reshape(1, -1), K, mode)[0])
        times.append(time.perf_counter() - started)
    cpu_ms = 1000 * (time.process_time() - cpu) / len(queries)
    return found, 1000 * statistics.median(times), cpu_ms


def recall(found: list, exact: list) -> float:
    shares = [
        len({i for i, _ in a} & {i for i, _ in e}) / len(e)
        for a, e in zip(found, exact, strict=True)
        if e
    ]
    return float(np.mean(shares))


def assemble(index: Path, variant: Path, folder: Path) -> None:
    """A whole index folder: the index's database, naming the variant's IVF, and links."""
    saved = json.loads((variant / "variant.json").read_text())
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "meta.sqlite"
    if not target.exists():
        shutil.copyfile(index / "meta.sqlite", target.with_suffix(".tmp"))
        os.replace(target.with_suffix(".tmp"), target)
    conn = sqlite3.connect(target)
    with conn:
        for row in saved["segments"]:
            segment = Segment(*row)
            conn.execute(
                "UPDATE vector_segments SET approximate = ?, approximate_size = ?, "
                "approximate_sha256 = ? WHERE name = ?",
                (*segment[6:], segment.name),
            )
            for name in (segment.name, segment.approximate):
                if name and not (folder / name).exists():
                    source = index if name == segment.name else variant
                    (folder / name).symlink_to((source / name).resolve())
        template = saved["template"]
        if not (folder / template).exists():
            shutil.copyfile(variant / template, folder / template)
        values = {
            "approximate_template": template,
            "approximate_template_size": str(saved["template_size"]),
            "approximate_template_sha256": saved["template_sha256"],
            "approximate_format": saved["format"],
        }
        conn.executemany(
            "INSERT OR REPLACE INTO manifest (key, value) VALUES (?, ?)", values.items()
        )
    conn.close()


def train_peak(index: Path, folder: Path, variant: str) -> dict:
    """Peak RSS of a process that only trains this variant's template (as the commit that
    crosses approximate.MIN_CHUNKS does), and its seconds."""
    import resource

    segments, dead, _ = read_index(index)
    link_segments(index, folder, segments)
    configure(variant)
    started, cpu = time.perf_counter(), time.process_time()
    approximate.train(folder, segments, dead, "vectors-0.1.ivf")
    return {
        "variant": variant,
        "train_s": round(time.perf_counter() - started, 1),
        "train_cpu_s": round(time.process_time() - cpu, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def open_variant(index: Path, work: Path, variant: str) -> VectorSet:
    """The index's segments with a variant's IVF ("before": the index's own), as a reader
    opens them."""
    segments, dead, manifest = read_index(index)
    dim = int(manifest["dim"])
    nprobe = int(manifest["approximate_nprobe"])
    if variant == "before":
        template = index / manifest["approximate_template"]
        return VectorSet(index, segments, dead, dim, nprobe=nprobe, rescore=20, template=template)
    saved = json.loads((work / variant / "variant.json").read_text())
    built = [Segment(*row) for row in saved["segments"]]
    template = work / variant / saved["template"]
    return VectorSet(work / variant, built, dead, dim, nprobe=nprobe, template=template)


def one_shot_child(index: Path, work: Path, variant: str, questions: Path) -> None:
    """One fresh process's question: open the store, search once (or nothing: "floor");
    prints the MB of file pages it mapped in, what a cold page cache would read."""

    def mapped_kb() -> int:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("RssFile:"))

    query = question_vectors(json.loads(questions.read_text()))[:1]
    before = mapped_kb()
    if variant != "floor":
        store = open_variant(index, work, variant.removeprefix("floor-"))
        store.open_files("approximate")
        store.search(query, K, "approximate")
    print((mapped_kb() - before) / 1024)


def one_shot(args) -> dict:
    """Median whole-process seconds of one question, in turns with the import floor."""
    from _common import in_turns

    mapped: dict[str, float] = {}

    def record(name: str, done) -> None:
        mapped[name] = round(float(done.stdout.split()[-1]), 1)

    base = [sys.executable, __file__, "--index", str(args.index), "--work", str(args.work)]
    base += ["--questions", str(args.questions), "--one-shot-child"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent / "src")}
    commands = {name: ([*base, name], env) for name in ("floor", "before", *args.variants)}
    seconds = in_turns(commands, args.runs, check=record)
    return {name: {"s": round(value, 3), "mb": mapped[name]} for name, value in seconds.items()}


def through_reader(folder: Path, questions: Path) -> dict:
    """scale_probe.py's search timings and recall, through IndexReader on a whole folder."""
    from scale_probe import recall_at_k, search_modes, timed_searches

    from askseed.store.reader import IndexReader

    vectors = question_vectors(json.loads(questions.read_text()))
    result: dict = {"load": os.getloadavg()[0]}
    with IndexReader(folder) as reader:
        modes, _ = search_modes(reader)
        found = {}
        for mode in modes:
            timed_searches(reader, vectors, mode)  # the pages it reads into memory first
            result[f"search_ms_{mode}"], found[mode] = timed_searches(reader, vectors, mode)
    for mode in ("approximate", "auto"):
        if mode in found:
            result[f"recall_at_10_{mode}"] = recall_at_k(found[mode], found["exact"])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True, help="a scale index (only read)")
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument(
        "--variants",
        nargs="*",
        default=["opq32"],
        help="pqN: N-byte codes; opqN: rotated first (OPQ); opqN-rR: with R rounds of OPQ",
    )
    parser.add_argument("--nprobe", type=int, nargs="+", default=[64])
    parser.add_argument("--rescore", type=int, nargs="+", default=[approximate.RESCORE])
    parser.add_argument("--before", action="store_true", help="also the index's own IVF")
    parser.add_argument("--assemble", help="a whole index folder of this variant")
    parser.add_argument("--train-peak", help="only train this variant, in this process")
    parser.add_argument("--one-shot", action="store_true", help="fresh processes, in turns")
    parser.add_argument("--runs", type=int, default=7, help="one-shot runs of each")
    parser.add_argument("--one-shot-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    import faiss

    faiss.omp_set_num_threads(1)  # the machine is shared; askseed searches on one thread
    index = args.index.resolve()
    if args.one_shot_child:
        one_shot_child(index, args.work, args.one_shot_child, args.questions)
        return 0
    if args.one_shot:
        print(json.dumps({"load": os.getloadavg()[0], "one_shot": one_shot(args)}))
        return 0
    if args.train_peak:
        folder = args.work / f"train-{args.train_peak}"
        print(json.dumps(train_peak(index, folder, args.train_peak)))
        return 0
    if args.assemble:
        folder = args.work / f"index-{args.assemble}"
        assemble(index, args.work / args.assemble, folder)
        print(json.dumps({"assembled": str(folder), **through_reader(folder, args.questions)}))
        return 0
    segments, dead, manifest = read_index(index)
    chunks = sum(s.vectors for s in segments) - sum(len(d) for d in dead.values())
    queries = question_vectors(json.loads(args.questions.read_text()))
    print(json.dumps({"load": os.getloadavg()[0], "chunks": chunks, "questions": len(queries)}))
    dim = int(manifest["dim"])
    exact_store = VectorSet(index, segments, dead, dim)
    exact, exact_ms, exact_cpu = timed(exact_store, queries, "exact")
    print(json.dumps({"search": "exact", "ms": round(exact_ms, 2), "cpu_ms": round(exact_cpu, 2)}))
    if args.before:
        template = manifest["approximate_template"]
        before = VectorSet(index, segments, dead, dim, template=index / template)
        print(
            json.dumps(
                {"variant": "sq8 (index's own)", **ivf_bytes(index, segments, template, chunks)}
            )
        )
        sweep(before, queries, exact, args.nprobe, args.rescore)
    for variant in args.variants:
        folder = args.work / variant
        built, saved = build_variant(index, folder, variant)
        summary = {k: v for k, v in saved.items() if k != "segments" and "sha" not in k}
        print(
            json.dumps(
                {
                    "variant": variant,
                    **summary,
                    **ivf_bytes(folder, built, saved["template"], chunks),
                }
            ),
            flush=True,
        )
        store = VectorSet(folder, built, dead, dim, template=folder / saved["template"])
        sweep(store, queries, exact, args.nprobe, args.rescore)
    return 0


if __name__ == "__main__":
    sys.exit(main())
