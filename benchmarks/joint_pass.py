"""A joint pass, measured and not shipped: MiniLM reading the question and a sentence together,
as one text, for whether the documents answer.

    PYTHONPATH=src .venv/bin/python benchmarks/joint_pass.py

askseed's model passes read the question alone (for the search) and the top sentences alone
(for their token alignment, query/alignment.py). Here the model reads "question [SEP] sentence"
in one pass, so that each side's word pieces attend to the other's, and the feature is the
cosine between that pass's embedding and the question's own: how far the sentence moves the
question's meaning. It is computed for each question's top 3 sentences by the shipped first
step (the rows the re-ranking reads, so the quote is nearly always one of them; the report
says how often a fold's quote is not), for the questions only: a keyword form gets the mean,
which the statement head cannot use.

The variant is the shipped calibrator (calibrate.SHIPPED) with the answerable heads also
reading the quote's joint cosine, fitted and measured on calibrate.py's held-out article folds.
A one-off look (the shipped confidence plus 384 dimensions of the joint embedding, logistic
regression by article) learnt the articles' topics: it answered 93% and abstained on fewer
off-corpus questions (64-79%), so only the cosine is measured here. The script also times one
joint pass against the alignment pass on the seed's sentences.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import calibrate  # noqa: E402
from abstain_data import ANSWERABLE, FeatureTable, questions_summary  # noqa: E402
from alignment_data import feature_table  # noqa: E402
from sentence_choice import ranked, shares, top_rows  # noqa: E402

from askseed.engine import Engine  # noqa: E402
from askseed.eval.runner import cache_root  # noqa: E402
from askseed.query.alignment import ALIGNMENT_FEATURES  # noqa: E402

JOINT = "joint"
TOP = 3


def joint_texts(table: FeatureTable, rows: np.ndarray) -> list[str]:
    return [
        f"{table.questions[table.question[row]].text} [SEP] {table.texts[table.text[row]]}"
        for row in rows
    ]


def joint_column(
    table: FeatureTable, engine: Engine, vectors: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The joint cosine of every row (computed for each question's top rows; the keyword
    forms' and other rows' are the mean of those), cached beside calibrate.py's features, and
    which rows are the top ones."""
    shipped = calibrate.fit(table, np.arange(len(table.questions)), calibrate.SHIPPED)
    chosen = top_rows(table, shares(table, shipped.scores(table.x)), TOP)
    statement = np.array([q.statement for q in table.questions])
    rows = np.flatnonzero(chosen & ~statement[table.question])
    texts = joint_texts(table, rows)
    digest = hashlib.sha256(json.dumps(texts).encode()).hexdigest()[:12]
    cache = cache_root().parent / "calibrate" / f"joint-{digest}.npy"
    if cache.exists():
        cosines = np.load(cache, allow_pickle=False)
    else:
        print(f"joint passes over {len(texts)} question-sentence pairs", file=sys.stderr)
        order = sorted(range(len(texts)), key=lambda index: len(texts[index]))
        cosines = np.zeros(len(texts))
        for start in range(0, len(order), 64):
            batch = order[start : start + 64]
            embedded = engine.embedder.encode([texts[i] for i in batch])
            owners = vectors[table.question[rows[batch]]]
            cosines[batch] = (embedded * owners).sum(axis=1)
        np.save(cache, cosines)
    column = np.full(len(table.x), float(cosines.mean()))
    column[rows] = cosines
    return column, chosen


def report(name: str, results: list) -> None:
    summary = questions_summary(results)
    print(calibrate.summary_row(name, summary))


def quotes_outside(table: FeatureTable, computed: np.ndarray, fits: list) -> float:
    """The share of answered-or-not quotes, over the held-out folds (`fits`: each fold's fit,
    from calibrate.cross_validate), on a row without its own joint cosine."""
    outside = []
    for model, questions in zip(fits, calibrate.article_folds(table), strict=True):
        order, places = ranked(table, calibrate.final_shares(table, model))
        first = order[places[order] == 0]
        first = first[np.isin(table.question[first], questions)]
        asked = ~np.array([table.questions[q].statement for q in table.question[first]])
        outside.append(~computed[first[asked]])
    return float(np.concatenate(outside).mean())


def time_passes(engine: Engine, runs: int = 40) -> tuple[float, float, float]:
    """Median ms of: the alignment pass (3 seed sentences, token vectors), one joint pass
    (a question and one sentence), and the question's own pass."""
    question = "How many patients went into remission?"
    sentences = [
        "A trial led by University College London Hospitals NHS Foundation Trust (UCLH) and "
        "University College London (UCL) saw five out of six severe lupus patients achieve "
        "remission within months.",
        "Patients with severe lupus in the UK have achieved remission following a pioneering "
        "“immune reset” treatment using CAR T-cell therapy on the NHS.",
        "CAR T-cell therapy achieved remission in 5 of 6 lupus patients in UK NHS trial, first "
        "autoimmune application.",
    ]
    work = {
        "alignment": lambda: engine.embedder.token_vectors(sentences),
        "joint": lambda: engine.embedder.encode([f"{question} [SEP] {sentences[0]}"]),
        "question": lambda: engine.embedder.encode_with_pieces([question]),
    }
    times: dict[str, list[float]] = {name: [] for name in work}
    for name in work:
        work[name]()  # warm up
    for _ in range(runs):
        for name, call in work.items():  # in turns: the machine is shared
            start = time.perf_counter()
            call()
            times[name].append((time.perf_counter() - start) * 1000)
    return tuple(statistics.median(times[name]) for name in work)


def main() -> int:
    table, engine, vectors = feature_table()
    column, computed = joint_column(table, engine, vectors)
    table.z = np.column_stack([table.z, column])
    # calibrate.quote_table reads table.z, then the quote's own FEATURES: the joint cosine
    # goes between them.
    calibrate.QUOTE_FEATURES = (*ALIGNMENT_FEATURES, JOINT, *calibrate.QUOTE_SENTENCE_FEATURES)
    with_joint = replace(calibrate.SHIPPED, quote=(*calibrate.SHIPPED.quote, JOINT))
    print("\n".join(calibrate.summary_header("heads read")))
    for name, variant in (
        ("the quote's alignment (shipped)", calibrate.SHIPPED),
        ("the quote's alignment and joint cosine", with_joint),
    ):
        results, fits = calibrate.cross_validate(table, variant)
        report(name, results)
    outside = quotes_outside(table, computed, fits)  # the last variant's: with_joint
    answerable = sum(q.kind == ANSWERABLE and not q.statement for q in table.questions)
    print(f"\nheld-out quotes without their own joint cosine: {outside:.2%}")
    print(f"answerable questions: {answerable}")
    alignment_ms, joint_ms, question_ms = time_passes(engine)
    print(
        f"median ms: alignment pass (3 sentences) {alignment_ms:.1f}, joint pass "
        f"{joint_ms:.1f}, the question's pass {question_ms:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
