"""The chat's int8 alignment pass against the one-shot's float32 one: what it changes, and
what it saves.

    PYTHONPATH=src .venv/bin/python benchmarks/chat_alignment.py [--questions 600]
        [--rounds 5] [--no-record]

After load() (the chat, the MCP server), askseed reads the sentences a question is aligned
with by an int8 copy of the model (model/int8_export.py); a one-shot question and
`askseed eval` read them with the float32 model they already hold. The calibrator is fitted
on the float32 reading (calibrate.py). Measured on squad-a-abstain and the seed:

1. Held out (calibrate.py's folds of whole articles, the shipped variant): fitted on the
   training folds' float32 features, as shipped, and scored on the held-out folds' features
   read each way; and refitted on int8 features, for comparison.
2. End to end: the same questions asked of two engines on one index, one loaded (int8) and
   one not (float32): a fixed sample of squad-a-abstain questions of every kind, and the
   seed's own questions (tests/test_seed_questions.py). Quote, decision and confidence.
3. Time: the sentences those questions' alignments read, by the loaded embedder's float32
   question session and by its int8 copy, in turns.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from _common import REPO, ask_reading_alignment  # noqa: E402
from abstain_data import questions_summary  # noqa: E402
from alignment_data import alignment_columns, feature_table  # noqa: E402
from calibrate import SHIPPED, article_folds, fit, outcomes  # noqa: E402
from record import record_section  # noqa: E402

from askseed.config import Settings  # noqa: E402
from askseed.engine import Engine  # noqa: E402
from askseed.eval.metrics import answer_found  # noqa: E402

SECTION = "An int8 model for the chat's alignment pass"
COLUMNS = ("answered", "answer_sentence@1", "quote_right", "abstained off-corpus")
COLUMNS += ("abstained adversarial", "ece", "auroc")


def held_out(fitted_on, scored_on) -> dict:
    """calibrate.cross_validate with the fit and the scoring on different feature tables."""
    results = []
    for number, questions in enumerate(article_folds(fitted_on)):
        folds = article_folds(fitted_on)
        train = np.concatenate([fold for other, fold in enumerate(folds) if other != number])
        results += outcomes(scored_on, fit(fitted_on, train, SHIPPED), questions)
    return questions_summary(results)


def answers(engine: Engine, questions: list[str]) -> list[tuple[str, bool, float]]:
    found = []
    for question in questions:
        answer = engine.ask(question)
        quote = answer.passages[0].quote if answer.passages else ""
        found.append((quote, answer.answered, answer.confidence))
    return found


def compare(one_shot: list, chat: list) -> dict:
    differences = [abs(a[2] - b[2]) for a, b in zip(one_shot, chat, strict=True)]
    return {
        "questions": len(one_shot),
        "same quote": sum(a[0] == b[0] for a, b in zip(one_shot, chat, strict=True)),
        "same decision": sum(a[1] == b[1] for a, b in zip(one_shot, chat, strict=True)),
        "median |confidence difference|": statistics.median(differences),
        "largest": max(differences),
    }


def seed_counts(engine: Engine) -> dict[str, str]:
    from test_seed_questions import ANSWERABLE, KEYWORD_QUERIES, NEAR_TOPIC_UNANSWERABLE, TITLE

    def right(question: str, fragments) -> bool:
        answer = engine.ask(question)
        quote = answer.passages[0].quote
        return answer.answered and quote != TITLE and any(f in quote for f in fragments)

    return {
        "paraphrased answered with the right quote": (
            f"{sum(right(q, f) for q, f in ANSWERABLE)}/{len(ANSWERABLE)}"
        ),
        "near-topic refused": (
            f"{sum(not engine.ask(q).answered for q in NEAR_TOPIC_UNANSWERABLE)}"
            f"/{len(NEAR_TOPIC_UNANSWERABLE)}"
        ),
        "keywords answered with the right quote": (
            f"{sum(right(q, f) for q, f in KEYWORD_QUERIES)}/{len(KEYWORD_QUERIES)}"
        ),
    }


def seed_questions() -> list[str]:
    from test_seed_questions import ANSWERABLE, KEYWORD_QUERIES, NEAR_TOPIC_UNANSWERABLE

    return [q for q, _ in ANSWERABLE] + NEAR_TOPIC_UNANSWERABLE + [q for q, _ in KEYWORD_QUERIES]


def timings(engine: Engine, questions: list[str], rounds: int) -> dict[str, float]:
    """Median ms of one alignment pass, float32 session against the int8 copy, in turns."""
    batches = [ask_reading_alignment(engine, question)[1] for question in questions]
    batches = [batch for batch in batches if batch]
    sessions = {
        "float32 (the question session)": engine.embedder._question_encoder,
        "int8 copy": engine.embedder._alignment_encoder,
    }
    times: dict[str, list[float]] = {name: [] for name in sessions}
    for attempt in range(rounds + 1):  # the first round warms up
        for name, session in sessions.items() if attempt % 2 else reversed(sessions.items()):
            started = time.perf_counter()
            for batch in batches:
                session.token_vectors(batch)
            if attempt:
                times[name].append(1000 * (time.perf_counter() - started) / len(batches))
    sizes = [len(batch) for batch in batches]
    return {
        "passes": len(batches),
        "mean sentences a pass": float(np.mean(sizes)),
        **{name: statistics.median(values) for name, values in times.items()},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=600, help="squad-a-abstain sample")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args()
    started = time.strftime("%H:%M")
    load_before = os.getloadavg()[0]

    # 1. Held out.
    float32, engine, _ = feature_table()
    int8 = feature_table()[0]
    engine.embedder.load()
    int8.z = alignment_columns(int8, engine)
    rows = {
        "one-shot: float32 sentences, fitted on float32 (as measured so far)": held_out(
            float32, float32
        ),
        "chat: int8 sentences, fitted on float32 (as shipped)": held_out(float32, int8),
        "int8 sentences, refitted on int8 (not shipped)": held_out(int8, int8),
    }
    for name, figures in rows.items():
        print(name, {key: round(value, 4) for key, value in figures.items()}, flush=True)
    differences = np.abs(int8.z - float32.z).mean(axis=0)

    # 2. End to end.
    rng = np.random.default_rng(0)
    asked = [q for q in float32.questions if not q.statement]
    sample = [asked[i] for i in sorted(rng.choice(len(asked), args.questions, replace=False))]
    one_shot = Engine(engine.settings)
    chat = Engine(engine.settings)
    chat.load()
    texts = [q.text for q in sample]
    one_shot_answers, chat_answers = answers(one_shot, texts), answers(chat, texts)
    squad = compare(one_shot_answers, chat_answers)
    for name, found in (("one-shot", one_shot_answers), ("chat", chat_answers)):
        squad[f"quote right, {name}"] = sum(
            answer_found(quote, list(q.answers))
            for (quote, _, _), q in zip(found, sample, strict=True)
        )
    print("squad-a-abstain sample", squad, flush=True)
    with tempfile.TemporaryDirectory() as index:
        seed_settings = Settings(seeds=REPO / "seeds", index=Path(index))
        seed_one_shot = Engine(seed_settings)
        seed_one_shot.refresh()
        seed_chat = Engine(seed_settings)
        seed_chat.load()
        seed = compare(
            answers(seed_one_shot, seed_questions()), answers(seed_chat, seed_questions())
        )
        seed_groups = {"one-shot": seed_counts(seed_one_shot), "chat": seed_counts(seed_chat)}
    print("seed", seed, seed_groups, flush=True)

    # 3. Time.
    speed = timings(chat, texts[:120], args.rounds)
    print("time", speed, flush=True)
    load_after = os.getloadavg()[0]

    header = "| reading | " + " | ".join(COLUMNS) + " |"
    table = [header, "|---|" + "---|" * len(COLUMNS)]
    for name, figures in rows.items():
        table.append(f"| {name} | " + " | ".join(f"{figures[c]:.3f}" for c in COLUMNS) + " |")
    float32_ms, int8_ms = speed["float32 (the question session)"], speed["int8 copy"]
    body = "\n".join(
        [
            f"Command: `PYTHONPATH=src .venv/bin/python benchmarks/chat_alignment.py "
            f"--questions {args.questions} --rounds {args.rounds}`, from {started}, load "
            f"average {load_before:.1f} before and {load_after:.1f} after, on "
            f"{os.cpu_count()} CPUs. After load() (the chat, the MCP server) the sentences a "
            "question is aligned with are read by an int8 copy of MiniLM (model/int8_export.py: "
            "onnxruntime's dynamic quantisation of the 18 MatMuls and the 6 attention layers' "
            "projections, per channel); a one-shot question and `askseed eval` read them with "
            "the float32 model, as before. The calibrator is fitted on the float32 reading.",
            "",
            "Held out (squad-a-abstain questions, calibrate.py's 5 folds of whole articles, "
            "the shipped variant; every figure on articles the fit never saw):",
            "",
            *table,
            "",
            "Mean absolute difference of the six alignment features, int8 against float32: "
            + ", ".join(f"{value:.4f}" for value in differences)
            + ".",
            "",
            f"End to end, the shipped calibrator, the same questions asked of a one-shot "
            f"engine and a loaded one on one index: {squad['questions']} squad-a-abstain "
            f"questions (a fixed sample of every kind): the same quote for "
            f"{squad['same quote']}, the same decision for {squad['same decision']}, "
            f"confidences apart by {squad['median |confidence difference|']:.4f} in the "
            f"median and {squad['largest']:.4f} at most; the quote holds a gold answer for "
            f"{squad['quote right, one-shot']} one-shot and {squad['quote right, chat']} in "
            f"the chat. The seed's {seed['questions']} own questions: the same quote for "
            f"{seed['same quote']}, the same decision for {seed['same decision']}, "
            f"confidences apart by {seed['largest']:.4f} at most.",
            "",
            "| seed questions | one-shot | chat |",
            "|---|---|---|",
            *(
                f"| {name} | {seed_groups['one-shot'][name]} | {seed_groups['chat'][name]} |"
                for name in seed_groups["one-shot"]
            ),
            "",
            f"Time: the alignment passes of {speed['passes']} of those questions "
            f"({speed['mean sentences a pass']:.1f} sentences a pass), each session "
            f"{args.rounds} times in turns: float32 {float32_ms:.1f} ms a pass, int8 "
            f"{int8_ms:.1f} ms ({int8_ms / float32_ms:.2f}x).",
        ]
    )
    print(body)
    if not args.no_record:
        record_section(SECTION, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
