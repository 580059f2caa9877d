"""Peak memory and time of a first build, without the model: how they grow with the corpus.

    .venv/bin/python benchmarks/build_memory.py --chunks 20000 40000
    .venv/bin/python benchmarks/build_memory.py --chunks 20000 40000 --src OTHER/src  # before

Writes N one-chunk documents of distinct sentences and indexes them with `askseed index`'s
own code, with a stand-in embedder that returns random 384-dimension unit vectors at once,
so that what is measured is the store: reading, dedup, SQLite, FTS5 and the vectors file.
Each build runs in a fresh process (peak RSS is per process). --src times another checkout.
Each commit (batch or final) is timed: with vector segments it writes only its batch.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORDS = [
    "river",
    "stone",
    "lantern",
    "meadow",
    "copper",
    "harvest",
    "orchard",
    "beacon",
    "pebble",
    "willow",
    "granite",
    "thistle",
    "compass",
    "ember",
    "falcon",
    "hollow",
    "juniper",
    "kettle",
    "ledger",
    "mosaic",
    "nettle",
    "quarry",
    "rafter",
    "saddle",
]

BUILD = """
import json, resource, sys, time
from pathlib import Path
import numpy as np
from askseed.config import Settings
from askseed.ingest.indexer import update_index
from askseed.store.writer import IndexWriter

commits = []
commit = IndexWriter._commit

def timed_commit(self):
    started = time.perf_counter()
    commit(self)
    commits.append(time.perf_counter() - started)

IndexWriter._commit = timed_commit

class RandomEmbedder:
    name, dim, fingerprint = "random", 384, "random-1"
    def __init__(self):
        self.rng = np.random.default_rng(0)
    def _unit(self, n):
        v = self.rng.standard_normal((n, self.dim), dtype=np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)
    def encode(self, texts):
        return self._unit(len(texts))
    def encode_sentences(self, texts):
        return self._unit(len(texts))
    def encode_spans(self, texts, spans):
        return self._unit(len(texts)), [self._unit(len(s)) for s in spans]
    def count_tokens(self, texts):
        return [len(t.split()) + 2 for t in texts]

docs, index = Path(sys.argv[1]), Path(sys.argv[2])
started = time.perf_counter()
report = update_index(Settings(seeds=docs, index=index), RandomEmbedder())
print(json.dumps({
    "chunks": report.chunks,
    "seconds": time.perf_counter() - started,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "commits": len(commits),
    "commit_s_median": sorted(commits)[len(commits) // 2],
    "commit_s_max": max(commits),
}))
"""


def write_corpus(folder: Path, chunks: int) -> None:
    """One short document per chunk; every sentence distinct, so dedup keeps them all."""
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(chunks):
        path = folder / f"{number // 1000:03}" / f"{number:07}.txt"
        if path.exists():
            continue
        path.parent.mkdir(exist_ok=True)
        words = [WORDS[(number >> shift) % len(WORDS)] for shift in range(0, 40, 4)]
        text = " ".join(words).capitalize() + f" number {number}. " + " ".join(reversed(words))
        path.write_text(text.capitalize() + f" closes note {number}.\n", encoding="utf-8")


def build(docs: Path, index: Path, src: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run(
        [sys.executable, "-c", BUILD, str(docs), str(index)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, nargs="+", default=[20_000, 40_000])
    parser.add_argument("--src", type=Path, default=REPO / "src", help="the askseed to time")
    parser.add_argument("--work", type=Path, help="keep the corpora here")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="askseed-build-memory-"))
    for chunks in args.chunks:
        docs = work / f"docs-{chunks}"
        write_corpus(docs, chunks)
        index = Path(tempfile.mkdtemp(prefix="index-", dir=work))
        result = build(docs, index, args.src)
        size = sum(path.stat().st_size for path in index.iterdir() if path.is_file())
        result["disk_bytes_per_chunk"] = size / max(result["chunks"], 1)
        print(json.dumps({"src": str(args.src), **result}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
