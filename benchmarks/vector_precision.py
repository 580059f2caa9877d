"""The flat vectors file as float32, float16 or 8-bit codes: bytes, one-question search time,
same answers.

    PYTHONPATH=src .venv/bin/python benchmarks/vector_precision.py --chunks 100000
    PYTHONPATH=src .venv/bin/python benchmarks/vector_precision.py --index DIR --real --claims 300

Unit vectors: with --real, the chunk vectors of the index given with --index exactly as it
stores them (float16 in a schema-5 index built before 8-bit codes, so float16 is then the
reference itself), searched by --claims SciFact claims embedded by MiniLM; without it, the
index's vectors (or random ones when no index is given) repeated with small noise up to
--chunks, searched by noisy copies of some of them. Every file is memory-mapped and searched
one question at a time on one thread, as a one-shot `askseed` does. The 8-bit rows: askseed's
own segment (store/vectors.py: each dimension's range, QT_8bit) and FAISS's QT_8bit_uniform
(one range for every dimension, FAISS's default training).
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
from _common import SCIFACT

from askseed.store.codes import ValueRange
from askseed.store.segments import read_segments, read_tombstones
from askseed.store.vectors import live_slices


def base_vectors(index: Path | None, dim: int = 384) -> np.ndarray:
    """Every live chunk vector of the index, as it stores them (decoded to float32)."""
    if index is None:
        return np.random.default_rng(0).standard_normal((1000, dim)).astype(np.float32)
    conn = sqlite3.connect(f"file:{index / 'meta.sqlite'}?mode=ro", uri=True)
    try:
        segments, dead = read_segments(conn), read_tombstones(conn)
    finally:
        conn.close()
    parts = [
        vectors
        for segment in segments
        for _, vectors in live_slices(index / segment.name, dead.get(segment.name))
    ]
    return np.vstack(parts).astype(np.float32)


def claim_vectors(count: int) -> np.ndarray:
    from askseed.model.embedder import MiniLMEmbedder

    with open(SCIFACT / "queries.jsonl", encoding="utf-8") as lines:
        texts = [json.loads(line)["text"] for _, line in zip(range(count), lines, strict=False)]
    return MiniLMEmbedder().encode(texts).astype(np.float32)


def kinds(vectors: np.ndarray) -> dict:
    import faiss

    dim = vectors.shape[1]
    uniform = faiss.IndexScalarQuantizer(
        dim, faiss.ScalarQuantizer.QT_8bit_uniform, faiss.METRIC_INNER_PRODUCT
    )
    uniform.train(vectors)
    span = ValueRange(dim)
    span.update(vectors)
    return {
        "float32 (IndexFlatIP)": faiss.IndexIDMap(faiss.IndexFlatIP(dim)),
        "float16 (QT_fp16)": faiss.IndexIDMap(
            faiss.IndexScalarQuantizer(
                dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
            )
        ),
        "8-bit, a range a dimension (QT_8bit, askseed)": span.flat(),
        "8-bit, one range (QT_8bit_uniform)": faiss.IndexIDMap(uniform),
    }


def main(argv: list[str] | None = None) -> int:
    import faiss

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--index", type=Path, help="an askseed index to take real vectors from")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--real", action="store_true", help="the index's vectors, no noise")
    parser.add_argument("--claims", type=int, default=300, help="SciFact claims, with --real")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(1)
    base = base_vectors(args.index)
    if args.real:
        if args.index is None:
            parser.error("--real needs --index")
        vectors, queries = base, claim_vectors(args.claims)
    else:
        picks = rng.integers(0, len(base), args.chunks)
        vectors = base[picks] + 0.02 * rng.standard_normal((args.chunks, base.shape[1]), np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        queries = vectors[rng.integers(0, args.chunks, args.queries)]
        queries = queries + 0.1 * rng.standard_normal(queries.shape, np.float32)
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    ids = np.arange(1, len(vectors) + 1)
    faiss.omp_set_num_threads(1)
    work = Path(tempfile.mkdtemp(prefix="askseed-precision-"))
    results = {}
    for name, index in kinds(vectors).items():
        index.add_with_ids(vectors, ids)
        path = work / f"{len(results)}.faiss"
        faiss.write_index(index, str(path))
        mapped = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
        mapped.search(queries[:1], 10)
        started = time.perf_counter()
        found = [mapped.search(queries[i : i + 1], 10) for i in range(len(queries))]
        seconds = (time.perf_counter() - started) / len(queries)
        results[name] = (path.stat().st_size / len(vectors), seconds * 1000, found)
        path.unlink()
    exact, half = (results[name][2] for name in list(results)[:2])
    print(
        f"{len(vectors)} chunks{' (as stored)' if args.real else ''}, {len(queries)} questions, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    print(
        "| vectors file | bytes a chunk | ms a question | top-10 set as float32 | "
        "top-10 overlap with float16 | max score diff to float32 |"
    )
    print("|---|---|---|---|---|---|")
    for name, (size, ms, found) in results.items():
        same = np.mean([set(a[1][0]) == set(b[1][0]) for a, b in zip(found, exact, strict=True)])
        overlap = np.mean(
            [len(set(a[1][0]) & set(b[1][0])) / 10 for a, b in zip(found, half, strict=True)]
        )
        diff = max(float(np.abs(a[0] - b[0]).max()) for a, b in zip(found, exact, strict=True))
        print(f"| {name} | {size:,.0f} | {ms:.2f} | {same:.1%} | {overlap:.3f} | {diff:.1e} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
