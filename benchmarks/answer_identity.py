"""Do two askseed trees give the same answers? Pure speed work must change none.

    .venv/bin/python benchmarks/answer_identity.py --old OLD/src --new src \\
        --docs DOCS --index INDEX [--old-index OLD_INDEX] [--questions 120]

Each tree answers the same questions in its own process, as the chat does (one Engine, one
question after another), against the same index: SciFact claims (the warm questions of
scale_probe.py among them), the same claims asked as questions, and SQuAD questions, so that
both of the calibrator's heads and both decisions are met. The new tree then asks them all
again in reverse order, so that anything it keeps across questions is seen to change no
answer whatever came before. Passages (order, text, quote, place, score), the decision and
the explanation must be equal; confidences equal to within --tolerance. Prints the number of
questions compared and every difference; exits 1 on any.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from pathlib import Path

# Not from _common.py: this module runs again under the old tree's askseed, whose modules
# _common.py's imports may not find.
DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "eval"
SCIFACT = DATA / "scifact"
SQUAD = DATA / "squad-a"
HERE = Path(__file__).resolve()


def _texts(path: Path, count: int, skip: int = 0) -> list[str]:
    found = []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            if number < skip:
                continue
            if len(found) == count:
                break
            found.append(json.loads(line)["text"])
    return found


def questions(count: int) -> list[str]:
    """Half SciFact claims from the first (scale_probe's warm questions are claims 1-30), a
    quarter those claims as questions, a quarter SQuAD questions spread over its articles."""
    claims = _texts(SCIFACT / "queries.jsonl", count // 2)
    asked = [f"Is it true that {claim[0].lower()}{claim[1:].rstrip('.')}?" for claim in claims]
    squad = _texts(SQUAD / "queries.jsonl", 40 * (count // 4))[::40] if SQUAD.exists() else []
    return claims + asked[: count // 4] + squad[: count - len(claims) - count // 4]


def answers(docs: Path, index: Path, asked: list[str], again: bool) -> list[dict]:
    """Run in the tree under test: every answer as JSON, with the unrounded confidences."""
    from askseed.config import Settings
    from askseed.engine import Engine

    engine = Engine(Settings(seeds=docs, index=index))
    engine.load()
    order = asked + (asked[::-1] if again else [])
    rows = []
    for question in order:
        answer = engine.ask(question)
        row = answer.to_json(explain=True)
        row["raw_confidence"] = answer.confidence
        row["raw_passage_confidences"] = [passage.confidence for passage in answer.passages]
        rows.append(row)
    engine.close()
    return rows


def _numbers_apart(old, new, tolerance: float, path: str, found: list[str]) -> None:
    """Differences between two JSON values: numbers beyond `tolerance`, anything else unequal."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            if key not in old or key not in new:
                found.append(f"{path}.{key}: only in {'new' if key in new else 'old'}")
                continue
            _numbers_apart(old[key], new[key], tolerance, f"{path}.{key}", found)
    elif isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            found.append(f"{path}: {len(old)} items, now {len(new)}")
            return
        for number, (a, b) in enumerate(zip(old, new, strict=True)):
            _numbers_apart(a, b, tolerance, f"{path}[{number}]", found)
    elif (
        isinstance(old, float | int) and isinstance(new, float | int) and not isinstance(old, bool)
    ):
        if not math.isclose(old, new, rel_tol=0.0, abs_tol=tolerance):
            found.append(f"{path}: {old!r} -> {new!r}")
    elif old != new:
        found.append(f"{path}: {old!r} -> {new!r}")


def differences(old: dict, new: dict, tolerance: float) -> list[str]:
    """What differs between two answers beyond the tolerance: the unrounded confidences by
    `tolerance`, the figures rounded for display (4 places) by one unit of their last place
    (a difference within the tolerance may round either way of a half), anything else at all."""
    found: list[str] = []
    shown = {key: value for key, value in old.items() if not key.startswith("raw_")}
    now = {key: value for key, value in new.items() if not key.startswith("raw_")}
    _numbers_apart(shown, now, 1e-4 + 1e-9, "", found)
    _numbers_apart(
        [old["raw_confidence"], *old["raw_passage_confidences"]],
        [new["raw_confidence"], *new["raw_passage_confidences"]],
        tolerance,
        ".confidences",
        found,
    )
    return found


def run_tree(src: Path, docs: Path, index: Path, asked: list[str], again: bool) -> list[dict]:
    # askseed sums some weights in the order of a set of words, which follows the process's
    # string hashing: fixed, so that two runs of one tree agree to the last bit.
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(src), str(HERE.parent)]),
        "PYTHONHASHSEED": "0",
    }
    done = subprocess.run(
        [sys.executable, str(HERE), "--answer", str(docs), str(index), "--again" if again else ""],
        env=env,
        input=json.dumps(asked),
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"{src}: answering failed:\n{done.stderr.strip()[-3000:]}")
    return json.loads(done.stdout)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--answer":
        asked = json.loads(sys.stdin.read())
        rows = answers(Path(argv[1]), Path(argv[2]), asked, again="--again" in argv[3:])
        print(json.dumps(rows))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", type=Path, required=True, help="the reference tree's src")
    parser.add_argument("--new", type=Path, required=True, help="the changed tree's src")
    parser.add_argument("--docs", type=Path, required=True)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument(
        "--old-index",
        type=Path,
        help="the index the reference tree answers from (default --index): one it built "
        "itself, when the two trees store an index differently",
    )
    parser.add_argument("--questions", type=int, default=120)
    parser.add_argument("--tolerance", type=float, default=1e-6)
    parser.add_argument("--show", action="store_true", help="also list differences within it")
    parser.add_argument("--show-rounded", action="store_true", help="list rounded figures apart")
    args = parser.parse_args(argv)
    asked = questions(args.questions)
    old_index = args.old_index or args.index
    old = run_tree(args.old.resolve(), args.docs, old_index, asked, again=False)
    new = run_tree(args.new.resolve(), args.docs, args.index, asked, again=True)
    failures = identical = shown_apart = 0
    largest = 0.0
    for number, row in enumerate(new):
        # The second round asks the questions in reverse order.
        question = number if number < len(asked) else 2 * len(asked) - 1 - number
        identical += row == old[question]
        was = old[question]
        raw = [was["raw_confidence"], *was["raw_passage_confidences"]]
        now = [row["raw_confidence"], *row["raw_passage_confidences"]]
        if len(raw) == len(now):
            largest = max([largest, *(abs(a - b) for a, b in zip(raw, now, strict=True))])
        shown = {key: value for key, value in was.items() if not key.startswith("raw_")}
        rounded = {key: value for key, value in row.items() if not key.startswith("raw_")}
        if shown != rounded:
            shown_apart += 1
            if args.show_rounded:
                apart: list[str] = []
                _numbers_apart(shown, rounded, 0.0, "", apart)
                print(f"question {question}: rounded figures: {'; '.join(apart[:6])}")
        found = differences(old[question], row, 0.0 if args.show else args.tolerance)
        if found:
            failures += 1
            where = "again, reversed" if number >= len(asked) else "first"
            print(f"question {question} ({where}): {asked[question]!r}")
            for line in found[:10]:
                print(f"    {line}")
    answered = sum(row["answered"] for row in old)
    print(
        f"{len(asked)} questions ({answered} answered), asked twice by the new tree: "
        f"{identical} of {len(new)} answers identical to the last bit, "
        f"{failures} differ beyond the tolerance ({args.tolerance:g}); largest confidence "
        f"difference {largest:.2g}; {shown_apart} answers whose JSON (figures rounded to 4 "
        "places) differs at all"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
