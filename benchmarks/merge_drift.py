"""Do 8-bit chunk vectors drift when merges decode and code them again?

    PYTHONPATH=src .venv/bin/python benchmarks/merge_drift.py --index DIR [--faiss-range]

Takes the chunk vectors of an index as it stores them (float16 in an index built before 8-bit
codes), writes them in id order as segments of --batch vectors through askseed's own
`write_flat`, and merges them as askseed's writer does (segments.plan_merge and
merge_segments, MERGE_FACTOR 4, the largest merge --batch x 32 as 131,072 is 4,096 x 32).
Then it compares every vector, grouped by how many merges coded it again, with the original:
the cosine to --claims SciFact claims embedded by MiniLM (largest and mean absolute change),
and the exact top 10 of each claim against the original vectors' top 10; then again after
every segment is rewritten alone --rewrites times (as a compaction of tombstones rewrites a
segment), and for the batches coded once, never merged. --faiss-range codes
on FAISS's own range (training on the minimum and maximum) instead of askseed's, which moves
the range half a step down so that values coded again stay put.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from vector_precision import base_vectors, claim_vectors

from askseed.store import codes, segments
from askseed.store.vectors import Segment, live_slices, write_flat


def faiss_range(low, high):
    import faiss

    flat = faiss.IndexScalarQuantizer(
        len(low), faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    flat.train(np.ascontiguousarray(np.vstack([low, high]), dtype=np.float32))
    return faiss.IndexIDMap(flat)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--claims", type=int, default=300)
    parser.add_argument("--rewrites", type=int, default=3)
    parser.add_argument("--faiss-range", action="store_true")
    args = parser.parse_args(argv)
    if args.faiss_range:
        codes.trained_flat = faiss_range
    original = base_vectors(args.index)
    ids = np.arange(1, len(original) + 1)
    work = Path(tempfile.mkdtemp(prefix="askseed-drift-"))
    segments.MAX_SEGMENT_VECTORS = args.batch * 32
    segments.BASE_SEGMENT_VECTORS = args.batch
    merges = np.zeros(len(original), np.int64)
    held: list[Segment] = []
    names = 0
    for start in range(0, len(original), args.batch):
        names += 1
        name = f"vectors-{names}.faiss"
        part = ids[start : start + args.batch]
        size, digest = write_flat(work / name, part, original[part - 1])
        held.append(Segment(name, len(part), int(part[0]), int(part[-1]), size, digest))
        while (planned := segments.plan_merge([(s.vectors, 0) for s in held])) is not None:
            inputs = held[planned[0] : planned[1]]
            names += 1
            merged = segments.merge_segments(work, inputs, {}, f"vectors-{names}.faiss", None)
            merges[merged.first_id - 1 : merged.last_id] += 1
            for segment in inputs:
                (work / segment.name).unlink()
            held[planned[0] : planned[1]] = [merged]
    queries = claim_vectors(args.claims)
    coding = "FAISS's range" if args.faiss_range else "askseed's range"
    print(f"{len(original)} vectors, batches of {args.batch}, {coding}")
    print("| state | vectors | top-10 overlap with the original | cosine change: mean | max |")
    print("|---|---|---|---|---|")
    once = np.zeros_like(original)
    for start in range(0, len(original), args.batch):
        part = ids[start : start + args.batch]
        write_flat(work / "once.faiss", part, original[part - 1])
        for found, decoded in live_slices(work / "once.faiss"):
            once[found - 1] = decoded
    report("coded once, never merged", original, once, queries, np.ones(len(ids), bool))
    merged = read_all(work, held, original)
    for count in np.unique(merges):
        report(f"merged {count} times", original, merged, queries, merges == count)
    for _ in range(args.rewrites):
        for position, segment in enumerate(held):
            names += 1
            held[position] = segments.merge_segments(
                work, [segment], {}, f"vectors-{names}.faiss", None
            )
            (work / segment.name).unlink()
    rewritten = read_all(work, held, original)
    every = np.ones(len(ids), bool)
    report(
        f"merged, then rewritten alone {args.rewrites} times", original, rewritten, queries, every
    )
    return 0


def read_all(work: Path, held: list[Segment], original: np.ndarray) -> np.ndarray:
    stored = np.zeros_like(original)
    for segment in held:
        for part, decoded in live_slices(work / segment.name):
            stored[part - 1] = decoded
    return stored


def report(state, original, stored, queries, rows) -> None:
    """One table row: these vectors' cosines to the claims, and the claims' top 10 among all."""
    before, after = queries @ original.T, queries @ stored.T
    change = np.abs(after - before)[:, rows]
    top = np.argsort(-before, axis=1)[:, :10]
    found = np.argsort(-after, axis=1)[:, :10]
    overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(top, found, strict=True)])
    print(
        f"| {state} | {int(rows.sum()):,} | {overlap:.3f} | {change.mean():.5f} | "
        f"{change.max():.4f} |"
    )


if __name__ == "__main__":
    sys.exit(main())
