"""Did a change of the store move the answers? Per-question decisions, before and after.

    # each with the code (and index format) it measures:
    .venv/bin/python benchmarks/answer_shift.py dump --set seed --index DIR --out before.jsonl
    .venv/bin/python benchmarks/answer_shift.py dump --set squad-a-abstain --sample 600 \
        --index DIR --out before.jsonl
    .venv/bin/python benchmarks/answer_shift.py compare before.jsonl after.jsonl

`dump` builds the index if it is missing (so that each side's own code writes it), asks every
question and writes one JSON line per question: answered or not, the calibrated confidence,
the quote. `compare` counts the decisions and quotes that changed and how far the confidence
moved. The seed questions are tests/test_seed_questions.py's; the squad-a-abstain sample is
drawn with a fixed seed from every kind of question (answerable, off-corpus, adversarial).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import sys
from pathlib import Path

from _common import DATA

from askseed.config import Settings
from askseed.engine import Engine
from askseed.eval.beir import read_queries

REPO = Path(__file__).resolve().parent.parent


def seed_questions() -> list[str]:
    spec = importlib.util.spec_from_file_location(
        "seed_questions", REPO / "tests" / "test_seed_questions.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return (
        [question for question, _ in module.ANSWERABLE]
        + list(module.NEAR_TOPIC_UNANSWERABLE)
        + [query for query, _ in module.KEYWORD_QUERIES]
    )


def abstain_questions(sample: int) -> list[str]:
    queries = sorted(read_queries(DATA / "squad-a-abstain").items())
    return [text for _, text in random.Random(0).sample(queries, min(sample, len(queries)))]


def dump(args: argparse.Namespace) -> None:
    if args.set == "seed":
        docs, questions = REPO / "seeds", seed_questions()
    else:
        docs, questions = args.docs, abstain_questions(args.sample)
    engine = Engine(Settings(seeds=docs, index=args.index))
    engine.ensure_fresh()
    with args.out.open("w") as out:
        for question in questions:
            answer = engine.ask(question)
            row = {
                "question": question,
                "answered": answer.answered,
                "confidence": round(float(answer.confidence), 6),
                "quote": answer.passages[0].quote if answer.passages else "",
            }
            out.write(json.dumps(row) + "\n")
    engine.close()


def compare(args: argparse.Namespace) -> None:
    before = {row["question"]: row for row in map(json.loads, args.before.open())}
    after = {row["question"]: row for row in map(json.loads, args.after.open())}
    common = [q for q in before if q in after]
    shifts = [abs(before[q]["confidence"] - after[q]["confidence"]) for q in common]
    flipped = [q for q in common if before[q]["answered"] != after[q]["answered"]]
    requoted = [q for q in common if before[q]["quote"] != after[q]["quote"]]
    print(
        f"{len(common)} questions; answered before {sum(before[q]['answered'] for q in common)},"
        f" after {sum(after[q]['answered'] for q in common)}; decisions changed {len(flipped)};"
        f" quotes changed {len(requoted)}; confidence moved by {sum(shifts) / len(shifts):.5f}"
        f" on average, {max(shifts):.5f} at most"
    )
    for question in dict.fromkeys(flipped + requoted):
        b, a = before[question], after[question]
        quote = ""
        if b["quote"] != a["quote"]:
            quote = f"; quote {b['quote'][:60]!r} -> {a['quote'][:60]!r}"
        print(
            f"- {question!r}: {b['answered']} {b['confidence']:.4f} -> "
            f"{a['answered']} {a['confidence']:.4f}{quote}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    dumping = commands.add_parser("dump")
    dumping.add_argument("--set", choices=["seed", "squad-a-abstain"], required=True)
    dumping.add_argument("--docs", type=Path, help="the squad-a-abstain documents folder")
    dumping.add_argument("--sample", type=int, default=600)
    dumping.add_argument("--index", type=Path, required=True)
    dumping.add_argument("--out", type=Path, required=True)
    comparing = commands.add_parser("compare")
    comparing.add_argument("before", type=Path)
    comparing.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    dump(args) if args.command == "dump" else compare(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
