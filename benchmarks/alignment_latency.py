"""What the token alignment costs a question, inside one process: the model pass it adds.

    PYTHONPATH=src .venv/bin/python benchmarks/alignment_latency.py [--rounds 60]

Before the re-ranking, askseed ran one more pass over the question and its quote (the
question's token vectors were pooled away by the pass that embedded it); now the question's
pieces come with its vector (Embedder.encode_with_pieces) and the pass reads the top N
sentences of the seed question (calibration.json's `rerank.top`), or its quote alone when the
first step has settled it (`rerank.settled_share`). Timed in turns, medians.
A one-shot's spread on this shared machine is far larger than these few milliseconds, so
this is how the pass itself is compared.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, SEED_QUESTION, ask_reading_alignment  # noqa: E402

from askseed.config import Settings  # noqa: E402
from askseed.engine import Engine  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as index:
        engine = Engine(Settings(seeds=REPO / "seeds", index=Path(index)))
        engine.refresh()
        answer, read = ask_reading_alignment(engine, SEED_QUESTION)
    model = engine.embedder
    passes = {
        "before: the question and its quote": [SEED_QUESTION, answer.passages[0].quote],
        f"after: the {len(read)} sentence(s) askseed reads": read,
    }
    times: dict[str, list[float]] = {name: [] for name in passes}
    for _ in range(args.rounds + 1):  # the first round warms up
        for name, texts in passes.items():
            started = time.perf_counter()
            model.token_vectors(texts)
            times[name].append(time.perf_counter() - started)
    print(f"| alignment pass, seed question ({args.rounds} rounds in turns) | median ms |")
    print("|---|---|")
    for name, measured in times.items():
        print(f"| {name} | {1000 * statistics.median(measured[1:]):.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
