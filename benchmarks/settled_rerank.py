"""What skipping the re-ranking of a settled first choice saves a warm question, and changes.

    PYTHONPATH=src .venv/bin/python benchmarks/settled_rerank.py [--questions 400] [--rounds 3]

The quote is chosen in two steps (query/calibration.py): a cheap score of every candidate
sentence, then a model pass over the top 3 that re-ranks them by their token alignment with
the question. When the first step already gives one sentence `settled_share` of the say or
more, the shipped calibrator skips the re-ranking and reads that sentence alone (the
answerable heads read its alignment). This asks a sample of squad-a-abstain's questions
(every kind, in the proportions of the set) in one process, on the chat's warm path
(Engine.load: the prepacked session), with two calibrators in turns: the shipped one, and the
same one re-ranking every question. Each question is asked once by each before timing, so
the question's own embedding (cached by the engine) is the same for both; what differs is the
alignment pass and what follows it. Figures: the share of questions settled, the median and
mean ms a question for each, and how many answers differ in their quote or their decision.

The index is the one `askseed eval ../shared/eval/squad-a-abstain` builds in the eval cache
(built here on first use, a few minutes).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from abstain_data import SET, jsonl_rows, open_engine, require_data  # noqa: E402
from record import record_section  # noqa: E402

from askseed.query import answer as answer_module  # noqa: E402
from askseed.query.calibration import NEVER_SETTLED, load_calibrator  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args()
    require_data()
    questions = [line["text"] for line in jsonl_rows(SET / "queries.jsonl")]
    questions = random.Random(0).sample(questions, min(args.questions, len(questions)))
    engine, _ = open_engine()
    engine.load()
    shipped = load_calibrator()
    calibrators = {
        "shipped (skips settled)": shipped,
        "re-ranking every question": shipped._replace(settled_share=NEVER_SETTLED),
    }
    answers: dict[str, list] = {}
    for name, calibrator in calibrators.items():  # also warms each question's embedding
        answer_module.load_calibrator = lambda calibrator=calibrator: calibrator
        answers[name] = [engine.ask(question) for question in questions]
    # --explain's effects hold the re-ranking's only when it ran.
    settled = sum(
        answer.evidence is not None and "rerank_score" not in answer.evidence.effects
        for answer in answers["shipped (skips settled)"]
    )
    times: dict[str, list[float]] = {name: [] for name in calibrators}
    for _ in range(args.rounds):
        for question in questions:
            for name, calibrator in calibrators.items():
                answer_module.load_calibrator = lambda calibrator=calibrator: calibrator
                started = time.perf_counter()
                engine.ask(question)
                times[name].append(1000 * (time.perf_counter() - started))
    pairs = list(zip(*answers.values(), strict=True))
    quotes = sum(a.passages[0].quote != b.passages[0].quote for a, b in pairs)
    decisions = sum(a.answered != b.answered for a, b in pairs)
    lines = [
        f"Command: `PYTHONPATH=src .venv/bin/python benchmarks/settled_rerank.py --questions "
        f"{args.questions} --rounds {args.rounds}`. {len(questions)} squad-a-abstain questions "
        f"(a fixed random sample of every kind), each asked {args.rounds} times by each "
        f"calibrator in turns, warm, in one process (Engine.load). The shipped line: a first "
        f"step's best share of {shipped.settled_share} or more is settled.",
        "",
        "| calibrator | median ms a question | mean ms |",
        "|---|---|---|",
    ]
    for name, measured in times.items():
        lines.append(
            f"| {name} | {statistics.median(measured):.1f} | {statistics.fmean(measured):.1f} |"
        )
    lines += [
        "",
        f"Questions settled by the first step (re-ranking skipped): {settled} of "
        f"{len(questions)}. Answers whose quote differs: {quotes}; whose decision differs: "
        f"{decisions}.",
    ]
    print("\n".join(lines))
    if not args.no_record:
        record_section("Skipping the re-ranking of a settled first choice", "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
