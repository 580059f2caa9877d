"""Fit askseed's confidence: a logistic regression over the sentence features, cross-validated
by article on squad-a-abstain, written to src/askseed/query/calibration.json.

    PYTHONPATH=src .venv/bin/python benchmarks/calibrate.py            # CV report + fit + write
    PYTHONPATH=src .venv/bin/python benchmarks/calibrate.py --dry-run  # CV report only

Labels: a candidate sentence (of the first 5 passages) is positive when it holds one of its
question's gold answer strings; every sentence of an unanswerable question is negative. The
confidence of a question is that of its highest-scoring sentence, which is also the quote.

1. Which sentence: a conditional logit (softmax over each answerable question's sentences)
   on the sentence features: P(this sentence is the answer | the documents answer).
1b. Re-ranking: a second conditional logit over the top few sentences of (1) only, on their
   features and their token alignment with the question (alignment.ALIGNMENT_FEATURES, which
   askseed computes for those few sentences in one model pass); they share out their joint
   share of (1) by it. The quote is the sentence with the largest share. The re-ranking is
   skipped when (1) gives one sentence a share of at least `settled`, chosen on the fitted
   questions (SETTLED_SHARES).
2. Whether the documents answer at all: a logistic regression (Newton's method, small L2
   penalty) of "the question is answerable" on the question's features, the softmax's
   probability of its best sentence (the quote) and some QUOTE_FEATURES of the quote (its
   mean alignment, and whether it lacks the question's negation).
3. Platt rescaling of (2)'s log-odds against "the best sentence holds a gold answer", so that
   the quote's confidence is a calibrated probability that it answers. Another sentence's
   confidence is the quote's scaled by its share of (1) over the quote's.
4. The line: the highest confidence at which ANSWERED_SHARE of the answerable questions of
   the fitted articles are answered, both as questions and as keywords.

Cross-validation: FOLDS folds of whole articles (the 20 corpus articles and the 4 off-corpus
ones, balanced by size); each fold is measured with a calibrator fitted on the other folds.
The figures printed are on held-out articles only. The shipped fit uses every article.
Alternatives, measured the same way: the best sentence's cosine alone, and the issue's
"five simple features".
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from abstain_data import ANSWERABLE, FeatureTable, questions_summary, summarise  # noqa: E402
from alignment_data import feature_table  # noqa: E402
from calibration_notes import FIFTH_PASS, FOURTH_PASS, SECOND_PASS, THIRD_PASS  # noqa: E402
from fitting import L2, fit_choice, fit_logistic  # noqa: E402
from record import record_section  # noqa: E402
from sentence_choice import (  # noqa: E402
    group_softmax,
    open_rows,
    ranked,
    rerank_design,
    shares,
    top_rows,
)

from askseed.query.alignment import ALIGNMENT_FEATURES  # noqa: E402
from askseed.query.calibration import (  # noqa: E402
    BEST_SHARE,
    CALIBRATION_FILE,
    NEVER_SETTLED,
    QUOTE_FEATURES,
    QUOTE_SENTENCE_FEATURES,
    RERANK_FEATURES,
)
from askseed.query.features import FEATURES, QUESTION_FEATURES  # noqa: E402

FOLDS = 5
L2_ANSWERABLE = 1e-3
ANSWERED_SHARE = 0.96  # of the answerable questions, on the fitted articles
# A statement is judged on meaning and coverage alone: a claim's names and rare words need
# not appear as such (abbreviations, variant spellings: SciFact's "IBP", "Admpchordin"), so
# the absent-word and missing-name features, strong evidence against a question, are left out.
STATEMENT_FEATURES = (
    "best_cosine",
    "best_coverage",
    "best_passage_coverage",
    "best_passage_cosine",
    "folder_margin",
)
# A question asking for a kind of thing (a sum, a count, a date, a name) that no candidate
# sentence holds: "How much does the treatment cost?" of an article without a price. SQuAD
# cannot teach this (its passages nearly always hold numbers, dates and names: 0.5% of its
# questions, of every kind), so the weight is set by hand, strong enough to refuse.
SET_BY_HAND = {"type_nowhere": -4.0}
# Step 1's best share at which its choice stands without the re-ranking (which then reads the
# quote alone, for the answerable heads): the lowest of SETTLED_SHARES whose quote is right at
# least as often as when every question is re-ranked, on the fitted answerable questions, give
# or take SETTLE_TOLERANCE (about one question in 2,000): the re-ranking reads 3 sentences
# where the settled quote reads 1, some 15 ms of a one-shot question, and below that it
# changes no figure that can be told from noise.
SETTLED_SHARES = (0.5, 0.6, 0.7, 0.8, 0.9)
# The columns of abstain_data.summarise's figures, as every calibrator table names them.
SUMMARY_COLUMNS = (
    "answered",
    "answered with the right quote",
    "quote right",
    "abstained off-corpus",
    "abstained adversarial",
    "ECE",
    "AUROC",
)
SETTLE_TOLERANCE = 0.0005


def summary_header(*labels: str) -> list[str]:
    """The first two lines of a markdown table of summaries: `labels`, then SUMMARY_COLUMNS."""
    columns = (*labels, *SUMMARY_COLUMNS)
    return ["| " + " | ".join(columns) + " |", "|---" * len(columns) + "|"]


def summary_row(label: str, summary: dict) -> str:
    """One row of that table: `label` (its cells, " | " between them), then the figures."""
    return f"| {label} | " + " | ".join(f"{value:.3f}" for value in summary.values()) + " |"


@dataclass(frozen=True)
class Variant:
    """What a fit reads: names of FEATURES, QUESTION_FEATURES, the QUOTE_FEATURES the
    answerable heads read, the RERANK_FEATURES the re-ranking reads, and how many of the top
    sentences it re-ranks (0: none)."""

    sentence: tuple[str, ...]
    question: tuple[str, ...]
    quote: tuple[str, ...] = ()
    rerank: tuple[str, ...] = ()
    top: int = 0
    settle: bool = False  # skip the re-ranking when step 1 is settled (SETTLED_SHARES)
    tolerance: float = 0.0  # what skipping it may cost (settled_share)
    rerank_l2: float = L2  # the penalty on the re-ranking's weights (fit_choice)
    heads_l2: float = L2_ANSWERABLE  # the penalty on the answerable heads' weights


FIRST_THREE = ("alignment", "content_alignment", "worst_alignment")  # the first pass's
# The contrasts with the question (the sixteenth round): the rows before them do without.
CONTRASTS = ("lacks_negation", "lacks_names")
BEFORE_CONTRASTS = tuple(name for name in FEATURES if name not in CONTRASTS)
RERANK_TOP = 3
# The penalty on the re-ranking's weights: fitting.L2 (1e-3) until the fourteenth round, when
# nested cross-validation by article showed it held the re-ranking back (calibrate_l2.py; the
# same choice over every article gives 1e-5). The first step keeps fitting.L2: with 1e-4
# there too, the quote moved to another passage for SciFact's claims, whose passage goes
# first, and nDCG@10 fell from 0.7440 to 0.7362 (abstain.py, the fourteenth round).
RERANK_L2 = 1e-5
THIRTEENTH = Variant(
    BEFORE_CONTRASTS,
    QUESTION_FEATURES,
    ("alignment",),
    (*BEFORE_CONTRASTS, *ALIGNMENT_FEATURES),
    RERANK_TOP,
    settle=True,
    tolerance=SETTLE_TOLERANCE,
)
FOURTEENTH = replace(THIRTEENTH, rerank_l2=RERANK_L2)
# Both contrasts help choose the quote; the answerable heads read lacks_negation of the quote
# (QUOTE_SENTENCE_FEATURES): lacks_names there too added adversarial abstention but cost
# off-corpus abstention and calibration (calibrate_contrasts.py).
SHIPPED = replace(
    FOURTEENTH, sentence=FEATURES, rerank=RERANK_FEATURES, quote=("alignment", "lacks_negation")
)
# The sentences either side (the fourth pass): the rows before it are measured without them.
NEIGHBOURS = ("coverage_before", "coverage_after", "cosine_before", "cosine_after")
OWN = tuple(name for name in BEFORE_CONTRASTS if name not in NEIGHBOURS)
OWN_RERANK = (*OWN, *ALIGNMENT_FEATURES)
SUBSETS = {
    "best sentence's cosine alone": Variant(("cosine",), ("best_cosine",)),
    "five simple features": Variant(
        ("cosine", "margin", "passage_cosine", "coverage"),
        ("best_cosine", "best_passage_cosine", "best_coverage", "absent"),
    ),
    "all features, no alignment": Variant(OWN, QUESTION_FEATURES),
    "all features + the quote's alignment (before)": Variant(
        OWN, QUESTION_FEATURES, ("alignment",)
    ),
    "re-ranking the top 3 by the first three alignments; heads read the quote's mean": Variant(
        OWN, QUESTION_FEATURES, ("alignment",), (*OWN, *FIRST_THREE), RERANK_TOP
    ),
    **{
        f"re-ranking the top {top} by all six alignments; heads read the quote's mean": Variant(
            OWN, QUESTION_FEATURES, ("alignment",), OWN_RERANK, top
        )
        for top in (2, 5)
    },
    "re-ranking the top 3 by all six alignments; heads read the quote's mean": Variant(
        OWN, QUESTION_FEATURES, ("alignment",), OWN_RERANK, RERANK_TOP
    ),
    "re-ranking the top 3 by all six alignments; heads read all six": Variant(
        OWN, QUESTION_FEATURES, ALIGNMENT_FEATURES, OWN_RERANK, RERANK_TOP
    ),
    "... the quote's mean; no re-ranking when step 1 is settled (the tenth round's)": replace(
        THIRTEENTH, sentence=OWN, rerank=OWN_RERANK, tolerance=0.0
    ),
    "... and the sentences either side, their coverage and cosine; settled as before": replace(
        THIRTEENTH, tolerance=0.0
    ),
    "... and the sentences either side; settled give or take 0.05 points (thirteenth)": THIRTEENTH,
    f"... the re-ranking's penalty {RERANK_L2:g} instead of {L2:g} (fourteenth)": FOURTEENTH,
    "... and the contrasts with the question: lacks_negation, lacks_names (shipped)": SHIPPED,
}


@dataclass(frozen=True)
class Head:
    """Whether the documents answer, for one form of query (as calibration.Head)."""

    weights: np.ndarray  # the question features chosen, then the best share
    bias: float
    slope: float
    intercept: float

    def log_odds(self, q: np.ndarray, quote: np.ndarray) -> np.ndarray:
        return np.column_stack([q, quote]) @ self.weights + self.bias

    def confidence(self, q: np.ndarray, quote: np.ndarray) -> np.ndarray:
        log_odds = self.slope * self.log_odds(q, quote) + self.intercept
        return 1.0 / (1.0 + np.exp(-log_odds))


@dataclass(frozen=True)
class Fit:
    columns: tuple[int, ...]  # into FEATURES
    weights: np.ndarray  # of the sentence score
    question_columns: tuple[int, ...]  # into QUESTION_FEATURES
    heads: dict[bool, Head]  # by "is a statement"
    line: float
    quote_columns: tuple[int, ...] = ()  # into QUOTE_FEATURES (quote_table): what the heads read
    quote_defaults: tuple[float, ...] = (0.0,) * len(ALIGNMENT_FEATURES)
    rerank_columns: tuple[int, ...] = ()  # into RERANK_FEATURES (table.x, then table.z)
    top: int = 0  # how many of the top sentences are re-ranked
    rerank_weights: np.ndarray = field(default_factory=lambda: np.zeros(0))
    settled: float = NEVER_SETTLED  # step 1's best share at which the re-ranking is skipped

    def scores(self, x: np.ndarray) -> np.ndarray:
        """The sentence score, one per row."""
        return x[:, self.columns] @ self.weights

    def second_scores(self, table: FeatureTable) -> np.ndarray:
        """The re-ranking's score, one per row (read for the top rows only)."""
        return rerank_design(table, self.rerank_columns) @ self.rerank_weights


def final_shares(table: FeatureTable, model: Fit) -> np.ndarray:
    """Each row's share after the re-ranking (calibration.Calibrator.judge)."""
    share = shares(table, model.scores(table.x))
    if not model.top:
        return share
    chosen = top_rows(table, share, model.top)
    joint = np.zeros(len(table.questions))
    np.add.at(joint, table.question, np.where(chosen, share, 0.0))
    second = group_softmax(table, model.second_scores(table), chosen)
    best = np.zeros(len(table.questions))
    np.maximum.at(best, table.question, share)
    settled = best[table.question] >= model.settled
    return np.where(chosen & ~settled, joint[table.question] * second, share)


def best_of(table: FeatureTable, model: Fit) -> tuple[np.ndarray, np.ndarray]:
    """Per question: the best open row's share (0 when it has none), then its values in
    the model's quote_columns, and whether that row holds a gold answer of an answerable
    question. Ties go to the earlier row."""
    share = final_shares(table, model)
    order, places = ranked(table, share)
    first = order[places[order] == 0]
    best = np.full(len(table.questions), -1)
    best[table.question[first]] = first
    has = best >= 0
    answerable = np.array([q.kind == ANSWERABLE for q in table.questions])
    best_share = np.where(has, share[np.maximum(best, 0)], 0.0)
    correct = has & answerable & (table.y[np.maximum(best, 0)] > 0)
    quote = quote_table(table)[np.maximum(best, 0)][:, list(model.quote_columns)] * has[:, None]
    return np.column_stack([best_share, quote]), correct.astype(float)


def quote_table(table: FeatureTable) -> np.ndarray:
    """Every row's QUOTE_FEATURES: its alignments (table.z), then QUOTE_SENTENCE_FEATURES of
    its FEATURES (table.x)."""
    columns = [FEATURES.index(name) for name in QUOTE_SENTENCE_FEATURES]
    return np.column_stack([table.z, table.x[:, columns]])


def settled_share(
    table: FeatureTable, model: Fit, answerable: np.ndarray, tolerance: float
) -> float:
    """The lowest of SETTLED_SHARES at which the quote of the `answerable` questions is right
    at least as often as when every question is re-ranked, less `tolerance` (NEVER_SETTLED
    when none is)."""

    def right(settled: float) -> float:
        return float(best_of(table, replace(model, settled=settled))[1][answerable].mean())

    every = right(NEVER_SETTLED)
    return next((s for s in SETTLED_SHARES if right(s) >= every - tolerance), NEVER_SETTLED)


def head_mask(question_columns: tuple[int, ...], statement: bool) -> np.ndarray:
    """1 for the question features a head reads, 0 for those it leaves out."""
    names = STATEMENT_FEATURES if statement else set(QUESTION_FEATURES) - set(SET_BY_HAND)
    return np.array([1.0 if QUESTION_FEATURES[c] in names else 0.0 for c in question_columns])


def by_hand(table: FeatureTable, question_columns: tuple[int, ...]) -> np.ndarray:
    """The questions where a feature with a weight SET_BY_HAND fires."""
    columns = [QUESTION_FEATURES.index(name) for name in SET_BY_HAND]
    chosen = [c for c in columns if c in question_columns]
    return (table.q[:, chosen] > 0).any(axis=1) if chosen else np.zeros(len(table.q), bool)


def statements(table: FeatureTable) -> np.ndarray:
    return np.array([q.statement for q in table.questions])


def fit(table: FeatureTable, questions: np.ndarray, variant: Variant) -> Fit:
    """The calibrator `variant` describes, fitted on `questions` (indices into the table)."""
    columns = columns_of(variant.sentence, FEATURES)
    question_columns = columns_of(variant.question, QUESTION_FEATURES)
    quote_columns = columns_of(variant.quote, QUOTE_FEATURES)
    answerable = np.array([q.kind == ANSWERABLE for q in table.questions])
    fitted_questions = np.isin(table.question, questions[answerable[questions]])
    rows = fitted_questions & open_rows(table)
    weights, _ = fit_choice(table.x[rows][:, columns], table.y[rows], table.question[rows])
    model = Fit(columns, weights, question_columns, {}, 0.5, quote_columns)
    if variant.top:
        rerank_columns = columns_of(variant.rerank, RERANK_FEATURES)
        model = replace(model, rerank_columns=rerank_columns, top=variant.top)
        chosen = fitted_questions & top_rows(table, shares(table, model.scores(table.x)), model.top)
        design = rerank_design(table, rerank_columns)
        second, _ = fit_choice(
            design[chosen], table.y[chosen], table.question[chosen], variant.rerank_l2
        )
        model = replace(model, rerank_weights=second)
        if variant.settle:
            model = replace(
                model,
                settled=settled_share(
                    table, model, questions[answerable[questions]], variant.tolerance
                ),
            )
    best_share, correct = best_of(table, model)
    fitted_answerable = questions[answerable[questions] & ~statements(table)[questions]]
    defaults = [0.0] * len(ALIGNMENT_FEATURES)
    for place, column in enumerate(quote_columns):
        if column < len(ALIGNMENT_FEATURES):
            defaults[column] = round(float(best_share[fitted_answerable, 1 + place].mean()), 5)
    heads = {}
    for statement in (False, True):
        q = table.q[:, question_columns] * head_mask(question_columns, statement)
        chosen = questions[statements(table)[questions] == statement]
        design = np.column_stack([q, best_share])[chosen]
        theta, bias = fit_logistic(design, answerable[chosen].astype(float), variant.heads_l2)
        theta[: len(question_columns)] *= head_mask(question_columns, statement)
        for name, weight in SET_BY_HAND.items():
            if not statement and QUESTION_FEATURES.index(name) in question_columns:
                theta[question_columns.index(QUESTION_FEATURES.index(name))] = weight
        head = Head(theta, bias, 1.0, 0.0)
        # The rescaling is fitted where the fitted weights speak: the few questions a weight
        # set by hand pushes down would otherwise flatten it for all the others.
        fitted = chosen[~by_hand(table, question_columns)[chosen]]
        log_odds = head.log_odds(table.q[:, question_columns], best_share)[fitted]
        (slope,), intercept = fit_logistic(log_odds[:, None], correct[fitted], l2=0.0)
        if slope <= 0:
            raise ValueError("the rescaling must be increasing")
        heads[statement] = Head(theta, bias, float(slope), intercept)
    model = replace(model, heads=heads, quote_defaults=tuple(defaults))
    return replace(model, line=line_for(table, model, questions))


def line_for(table: FeatureTable, model: Fit, questions: np.ndarray) -> float:
    """The line that answers ANSWERED_SHARE of the answerable `questions`: one for both
    forms, the lower of the two that answer that share of each."""
    answerable = np.array([q.kind == ANSWERABLE for q in table.questions])
    confidences = question_confidences(table, model)
    lines = []
    for statement in (False, True):
        asked = questions[answerable[questions] & (statements(table)[questions] == statement)]
        lines.append(np.floor(np.quantile(confidences[asked], 1 - ANSWERED_SHARE) * 1000) / 1000)
    return float(min(lines))


def question_confidences(table: FeatureTable, model: Fit) -> np.ndarray:
    """The confidence of each question's quote."""
    best_share, _ = best_of(table, model)
    q = table.q[:, model.question_columns]
    return np.where(
        statements(table),
        model.heads[True].confidence(q, best_share),
        model.heads[False].confidence(q, best_share),
    )


def article_folds(table: FeatureTable, folds: int = FOLDS) -> list[np.ndarray]:
    """Question indices per fold: whole articles, the largest first into the smallest fold."""
    sizes: dict[str, int] = {}
    for question in table.questions:
        sizes[question.article] = sizes.get(question.article, 0) + 1
    members: list[list[str]] = [[] for _ in range(folds)]
    totals = [0] * folds
    for article in sorted(sizes, key=lambda name: (-sizes[name], name)):
        smallest = totals.index(min(totals))
        members[smallest].append(article)
        totals[smallest] += sizes[article]
    return [
        np.array([i for i, q in enumerate(table.questions) if q.article in set(articles)])
        for articles in members
    ]


@dataclass(frozen=True)
class Outcome:
    """One question's result under a fit: its confidence, whether answered and right."""

    kind: str
    statement: bool  # the keyword form of a question
    confidence: float
    answered: bool
    correct: bool  # the quote holds a gold answer (never for an unanswerable question)


def outcomes(table: FeatureTable, model: Fit, questions: np.ndarray) -> list[Outcome]:
    _, correct = best_of(table, model)
    confidences = question_confidences(table, model)
    return [
        Outcome(
            table.questions[q].kind,
            table.questions[q].statement,
            float(confidences[q]),
            bool(confidences[q] >= model.line),
            bool(correct[q]),
        )
        for q in questions
    ]


def cross_validate(
    table: FeatureTable, variant: Variant, folds: list[np.ndarray] | None = None
) -> tuple[list, list[Fit]]:
    """Every question's outcome under the fit that never saw its article, and the fits;
    `folds`: question indices of whole articles (article_folds when none are given)."""
    results, fits = [], []
    folds = article_folds(table) if folds is None else folds
    for held_out, questions in enumerate(folds):
        train = np.concatenate([f for i, f in enumerate(folds) if i != held_out])
        model = fit(table, train, variant)
        fits.append(model)
        results.extend(outcomes(table, model, questions))
    return results, fits


def held_out_questions(
    table: FeatureTable, variant: Variant, folds: list[np.ndarray] | None = None
) -> dict:
    """cross_validate's figures for the questions alone (not their keyword forms)."""
    return questions_summary(cross_validate(table, variant, folds)[0])


def to_json(model: Fit) -> dict:
    weights = dict.fromkeys(FEATURES, 0.0)
    for column, weight in zip(model.columns, model.weights, strict=True):
        weights[FEATURES[column]] = round(float(weight), 5)
    data: dict = {"sentence_weights": weights}
    for statement, name in ((False, "question"), (True, "statement")):
        head = model.heads[statement]
        question = dict.fromkeys((*QUESTION_FEATURES, BEST_SHARE, *QUOTE_FEATURES), 0.0)
        count = len(model.question_columns)
        for column, weight in zip(model.question_columns, head.weights[:count], strict=True):
            question[QUESTION_FEATURES[column]] = round(float(weight), 5)
        question[BEST_SHARE] = round(float(head.weights[count]), 5)
        for column, weight in zip(model.quote_columns, head.weights[count + 1 :], strict=True):
            question[QUOTE_FEATURES[column]] = round(float(weight), 5)
        data[name] = {
            "weights": question,
            "bias": round(head.bias, 5),
            "slope": round(head.slope, 5),
            "intercept": round(head.intercept, 5),
        }
    rerank = dict.fromkeys(RERANK_FEATURES, 0.0)
    for column, weight in zip(model.rerank_columns, model.rerank_weights, strict=True):
        rerank[RERANK_FEATURES[column]] = round(float(weight), 5)
    return data | {
        "line": model.line,
        "rerank": {"top": model.top, "settled_share": model.settled, "weights": rerank},
        "quote_defaults": dict(zip(ALIGNMENT_FEATURES, model.quote_defaults, strict=True)),
        "fitted_on": "squad-a-abstain, every article (benchmarks/calibrate.py); statements:"
        " its questions rewritten as keywords",
        "line_rule": f"answers {ANSWERED_SHARE:.0%} of the answerable questions it was fitted on,"
        " as questions and as keywords",
    }


def columns_of(features: tuple[str, ...], names: tuple[str, ...]) -> tuple[int, ...]:
    return tuple(names.index(feature) for feature in features)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="report, write nothing")
    args = parser.parse_args()
    table, _, _ = feature_table()
    print(f"{len(table.questions)} questions, {len(table.y)} candidate sentences")
    rows = summary_header("features", "queries")
    for name, variant in SUBSETS.items():
        results = cross_validate(table, variant)[0]
        for form, statement in (("questions", False), ("as keywords", True)):
            summary = summarise([r for r in results if r.statement == statement])
            print(
                f"  {name:<30} {form:<12} " + "  ".join(f"{k} {v:.3f}" for k, v in summary.items())
            )
            rows.append(summary_row(f"{name} | {form}", summary))
    model = fit(table, np.arange(len(table.questions)), SHIPPED)
    data = to_json(model)
    print(json.dumps(data, indent=2))
    if not args.dry_run:
        CALIBRATION_FILE.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {CALIBRATION_FILE}")
        record_section(
            "Calibrator fit",
            "Command: `PYTHONPATH=src .venv/bin/python benchmarks/calibrate.py` (writes "
            "`src/askseed/query/calibration.json`). squad-a-abstain, 5-fold cross-validation by "
            "article (20 corpus articles + 4 off-corpus ones; adversarial questions assigned to "
            "the article their run of ids retrieves most), every figure on the held-out folds, "
            f"each fold's line chosen on its training folds ({ANSWERED_SHARE:.0%} of answerable "
            'questions answered, as questions and as keywords). "as keywords": the same '
            "questions without question words and stopwords, the stand-in for statements. "
            "Features only (no find_answer run): benchmarks/abstain.py has the end-to-end table. "
            '"answered with the right quote": answered and the quote holds the gold answer; '
            '"quote right": the quote holds it, answered or not (`askseed eval`\'s '
            "answer-sentence@1)."
            "\n\n"
            + "\n".join(rows)
            + "\n\n"
            + "\n\n".join((SECOND_PASS, THIRD_PASS, FOURTH_PASS, FIFTH_PASS)),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
