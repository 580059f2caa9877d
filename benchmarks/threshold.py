"""Where to draw the line between "answered" and "the documents do not answer this".

Prints the support of the best sentence for questions the seed answers and for questions
it does not, so the threshold in askseed.query.answer can be chosen between the two groups.

    python benchmarks/threshold.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO  # noqa: E402
from record import record_section  # noqa: E402

from askseed.config import Settings
from askseed.engine import Engine
from askseed.query.answer import ANSWER_THRESHOLD

ANSWERED = [
    "How many lupus patients went into remission?",
    "How many patients achieved remission?",
    "Who led the trial?",
    "How does the therapy work?",
    "What did experts say about the findings?",
    "What was CAR T-cell therapy previously used for?",
    "Is this the first time CAR T-cell therapy was used for lupus in the UK?",
    "Are larger studies needed?",
    "How many doses does the therapy need?",
    "Could the therapy cure lupus?",
    "Which hospital ran the lupus trial?",
    "What kind of treatment is CAR T-cell therapy?",
    "Does the treatment remove the need for lifelong medication?",
    "how quickly did patients reach remission",
    "lupus immune reset",
]
NOT_ANSWERED = [
    "What is the boiling point of mercury?",
    "Who won the 1998 football World Cup?",
    "How do I bake sourdough bread?",
    "What is the capital of Australia?",
    "How tall is Mount Everest?",
    "What programming language is Textual written in?",
    "When did the Roman Empire fall?",
    "How much does a new car cost?",
    "What is the speed of light?",
    "Who wrote Pride and Prejudice?",
    "How do vaccines against measles work?",
    "What is the best treatment for diabetes?",
    "How many moons does Jupiter have?",
    "What causes earthquakes?",
    "How do I reset my router password?",
]


def best_scores(engine: Engine, questions: list[str]) -> list[float]:
    """The support of the best sentence, the figure the answer/abstain rule compares."""
    return [engine.ask(question, k=1).support for question in questions]


def main() -> int:
    with tempfile.TemporaryDirectory() as index:
        engine = Engine(Settings(seeds=REPO / "seeds", index=Path(index)))
        engine.refresh()
        answered = best_scores(engine, ANSWERED)
        unanswered = best_scores(engine, NOT_ANSWERED)
    for label, questions, scores in (
        ("answered", ANSWERED, answered),
        ("not answered", NOT_ANSWERED, unanswered),
    ):
        print(f"\n{label}:")
        for question, score in sorted(zip(questions, scores, strict=True), key=lambda x: x[1]):
            print(f"  {score:.3f}  {question}")
    print(f"\nlowest answered {min(answered):.3f}, highest not answered {max(unanswered):.3f}")
    print(f"threshold in askseed.query.answer: {ANSWER_THRESHOLD}")
    record_section(
        "Abstain threshold",
        "Command: `.venv/bin/python benchmarks/threshold.py`. askseed's older rule, kept as the "
        "`support-rule` baseline since issue 11 (askseed now decides by its calibrated "
        "confidence: see Abstention and confidence). The support it compares with "
        "its threshold (best sentence's cosine to the question + share of the question's "
        f"content words the top passages hold), on the seed: the {len(ANSWERED)} questions it "
        f"answers score {min(answered):.3f} and up, the {len(NOT_ANSWERED)} it does not "
        f"{max(unanswered):.3f} and below. The threshold is {ANSWER_THRESHOLD}; how often "
        "judged benchmark queries fall below it is in the answer quality table.",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
