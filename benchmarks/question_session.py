"""What a warm question's two model passes cost on the chat's session, against the indexing one.

    PYTHONPATH=src .venv/bin/python benchmarks/question_session.py [--rounds 40] [--no-record]

After Engine.load, the chat embeds each question and reads the few sentences of its alignment
on a prepacked session. It used to be the indexing session, which runs many batches at once,
one thread each (INDEX_WORKERS): a question, one small batch, then ran on one CPU, and the
alignment's sentences were split into smaller batches, each a pass through the whole model.
The question session runs its one batch on every CPU. Both give the same vectors to the last
bit (tests/test_onnx_parity.py); this times them in turns, on the passes askseed really makes
for a few questions of the seed: the question's, and the alignment's (the sentences askseed
reads, captured from Engine.ask).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, ask_reading_alignment  # noqa: E402
from record import record_section  # noqa: E402

from askseed.config import Settings  # noqa: E402
from askseed.engine import Engine  # noqa: E402
from askseed.model.embedder import INDEX_WORKERS, MAX_SEQ_LENGTH  # noqa: E402
from askseed.model.onnx_runtime import OnnxModel  # noqa: E402

# Questions a user might ask of the seed: some settled by the first step (one sentence read),
# some re-ranked (three).
QUESTIONS = [
    "How many lupus patients went into remission?",
    "What did experts call the results?",
    "Whose cells are altered by the therapy?",
    "Is it a one-off treatment or ongoing?",
    "Which hospital trust took part?",
    "What does the immune system learn to do after the therapy?",
]


def passes_askseed_makes() -> tuple[list[tuple[str, list[str]]], Path]:
    """(question, the sentences its alignment read) for each question asked of the seed, and
    the model export the engine used."""
    with tempfile.TemporaryDirectory() as index:
        engine = Engine(Settings(seeds=REPO / "seeds", index=Path(index)))
        engine.refresh()
        passes = [(question, ask_reading_alignment(engine, question)[1]) for question in QUESTIONS]
        return passes, engine.embedder.export_dir


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args()
    passes, export = passes_askseed_makes()
    sessions = {
        f"indexing session ({INDEX_WORKERS} workers, 1 thread each; before)": OnnxModel(
            export, MAX_SEQ_LENGTH, prepack=True, workers=INDEX_WORKERS
        ),
        f"question session (1 batch, {os.cpu_count()} threads; after)": OnnxModel(
            export, MAX_SEQ_LENGTH, prepack=True, workers=1
        ),
    }
    counts = sorted({len(sentences) for _, sentences in passes})
    kinds = ["question", *(f"alignment, {count} sentence(s)" for count in counts)]
    times = {name: {kind: [] for kind in kinds} for name in sessions}
    load_before = os.getloadavg()[0]
    for attempt in range(args.rounds + 1):  # the first round warms up
        for name, session in sessions.items():
            for question, sentences in passes:
                for kind, method, texts in (
                    ("question", session.encode_with_pieces, [question]),
                    (f"alignment, {len(sentences)} sentence(s)", session.token_vectors, sentences),
                ):
                    started = time.perf_counter()
                    method(texts)
                    if attempt:
                        times[name][kind].append(1000 * (time.perf_counter() - started))
    load_after = os.getloadavg()[0]
    read = ", ".join(str(len(sentences)) for _, sentences in passes)
    lines = [
        f"Command: `PYTHONPATH=src .venv/bin/python benchmarks/question_session.py --rounds "
        f"{args.rounds}`. {len(passes)} seed questions; the sentences each one's alignment "
        f"read: {read}. Each pass timed {args.rounds} times, the two sessions in turns; "
        f"medians over the questions and rounds of each kind of pass. Load average "
        f"{load_before:.1f} before, {load_after:.1f} after, on {os.cpu_count()} CPUs.",
        "",
        "| session | " + " | ".join(f"{kind} pass, ms" for kind in kinds) + " |",
        "|---|" + "---|" * len(kinds),
    ]
    for name, measured in times.items():
        medians = [f"{statistics.median(measured[kind]):.1f}" for kind in kinds]
        lines.append(f"| {name} | " + " | ".join(medians) + " |")
    body = "\n".join(lines)
    print(body)
    if not args.no_record:
        record_section("The chat's question session", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
