"""The flat vectors file as float32 or float16: bytes, one-question search time, same answers.

    .venv/bin/python benchmarks/vector_precision.py --chunks 100000

Unit vectors: real MiniLM vectors of SQuAD-A's chunks (from an index built by
`askseed eval ../shared/eval/squad-a --index DIR`, given with --index) repeated with small
noise up to --chunks, or random ones when no index is given. Both files are memory-mapped and
searched one question at a time on one thread, as a one-shot `askseed` does.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def base_vectors(index: Path | None, dim: int = 384) -> np.ndarray:
    if index is None:
        return np.random.default_rng(0).standard_normal((1000, dim)).astype(np.float32)
    import faiss

    stored = faiss.read_index(str(next(index.glob("vectors-*.faiss"))))
    flat = faiss.downcast_index(stored.index)
    return np.vstack([flat.reconstruct(i) for i in range(flat.ntotal)]).astype(np.float32)


def main(argv: list[str] | None = None) -> int:
    import faiss

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--index", type=Path, help="an askseed index to take real vectors from")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(1)
    base = base_vectors(args.index)
    picks = rng.integers(0, len(base), args.chunks)
    vectors = base[picks] + 0.02 * rng.standard_normal((args.chunks, base.shape[1]), np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    queries = vectors[rng.integers(0, args.chunks, args.queries)]
    queries = queries + 0.1 * rng.standard_normal(queries.shape, np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    dim, ids = vectors.shape[1], np.arange(1, args.chunks + 1)
    kinds = {
        "float32 (IndexFlatIP)": faiss.IndexFlatIP(dim),
        "float16 (IndexScalarQuantizer fp16)": faiss.IndexScalarQuantizer(
            dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
        ),
    }
    faiss.omp_set_num_threads(1)
    work = Path(tempfile.mkdtemp(prefix="askseed-precision-"))
    results = {}
    for name, inner in kinds.items():
        index = faiss.IndexIDMap(inner)
        index.add_with_ids(vectors, ids)
        path = work / f"{len(results)}.faiss"
        faiss.write_index(index, str(path))
        mapped = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
        mapped.search(queries[:1], 10)
        started = time.perf_counter()
        found = [mapped.search(queries[i : i + 1], 10) for i in range(len(queries))]
        seconds = (time.perf_counter() - started) / len(queries)
        results[name] = (path.stat().st_size / args.chunks, seconds * 1000, found)
    (_, _, exact), *_ = results.values()
    print(f"{args.chunks} chunks, {args.queries} questions, load {os.getloadavg()[0]:.1f}")
    print("| vectors file | bytes a chunk | ms a question | top-10 as float32 | max score diff |")
    print("|---|---|---|---|---|")
    for name, (size, ms, found) in results.items():
        same = np.mean([set(a[1][0]) == set(b[1][0]) for a, b in zip(found, exact, strict=True)])
        diff = max(float(np.abs(a[0] - b[0]).max()) for a, b in zip(found, exact, strict=True))
        print(f"| {name} | {size:,.0f} | {ms:.2f} | {same:.1%} | {diff:.1e} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
