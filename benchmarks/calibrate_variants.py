"""Alternatives to the shipped calibrator that were measured and not shipped (calibrate.py's
"Second pass" notes), on the same held-out folds of squad-a-abstain.

    PYTHONPATH=src .venv/bin/python benchmarks/calibrate_variants.py

1. The question's alignment with EVERY candidate sentence (the three ALIGNMENT_FEATURES) in the
   re-ranking, which then reads all of them, not the top few: what the top few give up.
2. Paraphrase-like training data: each answerable question whose answer sentence is among its
   candidates is copied with the words it shares with that sentence masked from the lexical
   features only (the dense ones stay), and the copies join the training folds; figures are
   on the original held-out questions. (a) both the sentence scorer and the heads see the
   copies; (b) only the answerable heads do, and the line is set on real questions.
3. The alignments of the top 3 sentences (those the re-ranking reads), summed up as question
   features of the answerable heads: the best mean alignment, the best content alignment,
   the mean of the mean alignments, the fewest unmatched pieces. Each fold's top 3 come from
   the first step fitted on its training folds.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import calibrate  # noqa: E402
from abstain_data import ANSWERABLE, FeatureTable, summarise  # noqa: E402
from alignment_data import feature_table  # noqa: E402
from sentence_choice import shares, top_rows  # noqa: E402

from askseed.query.features import FEATURES, QUESTION_FEATURES  # noqa: E402
from askseed.query.scoring import term_weights  # noqa: E402
from askseed.query.wording import question_names, text_tokens  # noqa: E402
from askseed.store.reader import IndexReader  # noqa: E402
from askseed.text import content_terms, sentence_terms  # noqa: E402

SENTENCE = {name: index for index, name in enumerate(FEATURES)}
QUESTION = {name: index for index, name in enumerate(QUESTION_FEATURES)}


def report(
    name: str, table: FeatureTable, originals: int, variant: calibrate.Variant = calibrate.SHIPPED
) -> None:
    results, _ = calibrate.cross_validate(table, variant)
    order = np.concatenate(calibrate.article_folds(table))
    kept = [result for result, index in zip(results, order, strict=True) if index < originals]
    for form, statement in (("questions", False), ("as keywords", True)):
        summary = summarise([r for r in kept if r.statement == statement])
        print(f"{name:<40} {form:<12} " + "  ".join(f"{k} {v:.3f}" for k, v in summary.items()))


def masked_copies(table: FeatureTable, reader: IndexReader) -> FeatureTable:
    """The table with a paraphrase-like copy of every answerable question (see the docstring)."""
    chunks = max(reader.chunks, 1)
    starts = np.r_[0, np.flatnonzero(np.diff(table.question)) + 1]
    ends = np.r_[starts[1:], len(table.question)]
    spans = {int(table.question[s]): (s, e) for s, e in zip(starts, ends, strict=True)}
    extra_x, extra_q, extra_z, extra_y, owners, questions = [], [], [], [], [], []
    for index, question in enumerate(table.questions):
        if question.kind != ANSWERABLE or question.statement or index not in spans:
            continue
        start, end = spans[index]
        gold_rows = np.flatnonzero(table.y[start:end] > 0)
        if not len(gold_rows):
            continue
        gold = table.texts[table.text[start + gold_rows[0]]]
        terms = content_terms(question.text)
        kept = sorted(terms - sentence_terms(gold))
        if len(kept) == len(terms):
            continue
        frequencies = reader.document_frequencies(kept)
        weights = {t: math.log((chunks + 1) / (frequencies.get(t, 0) + 0.5)) for t in kept}
        total = sum(weights.values())

        def share(found, weights=weights, total=total) -> float:
            return sum(w for t, w in weights.items() if t in found) / total if total else 0.0

        texts = [table.texts[table.text[row]] for row in range(start, end)]
        row_terms = [sentence_terms(text) for text in texts]
        local = term_weights(set(kept), row_terms)
        local_total = sum(local.values())
        positions = np.round(np.expm1(table.x[start:end, SENTENCE["rank"]])).astype(int)
        passage_terms = {
            p: frozenset().union(*(t for t, q in zip(row_terms, positions, strict=True) if q == p))
            for p in set(positions)
        }
        x = table.x[start:end].copy()
        for row, found in enumerate(row_terms):
            x[row, SENTENCE["coverage"]] = share(found)
            x[row, SENTENCE["local_coverage"]] = (
                sum(local[t] for t in kept if t in found) / local_total if local_total else 0.0
            )
            x[row, SENTENCE["passage_coverage"]] = share(passage_terms[positions[row]])
        q = table.q[index].copy()
        absent = {t for t in kept if not frequencies.get(t, 0)}
        q[QUESTION["absent"]] = share(absent)
        q[QUESTION["absent_words"]] = min(len(absent), 3)
        q[QUESTION["best_coverage"]] = x[:, SENTENCE["coverage"]].max()
        q[QUESTION["best_passage_coverage"]] = x[:, SENTENCE["passage_coverage"]].max()
        names = question_names(question.text) - text_tokens(gold)
        top = frozenset().union(
            *(text_tokens(t) for t, p in zip(texts, positions, strict=True) if p == 0)
        )
        pool = frozenset().union(*(text_tokens(t) for t in texts))
        q[QUESTION["names_missing_top"]] = len(names - top) / len(names) if names else 0.0
        q[QUESTION["names_missing"]] = len(names - pool) / len(names) if names else 0.0
        questions.append(dataclasses.replace(question, id=question.id + "~masked"))
        extra_x.append(x)
        extra_q.append(q)
        extra_z.append(table.z[start:end])
        extra_y.append(table.y[start:end])
        owners.append(np.full(end - start, len(table.questions) + len(questions) - 1))
    print(f"{len(questions)} masked copies", file=sys.stderr)
    return FeatureTable(
        table.questions + questions,
        np.vstack([table.x, *extra_x]),
        np.concatenate([table.y, *extra_y]),
        np.concatenate([table.question, *owners]),
        np.vstack([table.q, np.array(extra_q)]),
        table.texts,
        table.text,
        np.vstack([table.z, *extra_z]),
    )


def heads_only(originals: int):
    """calibrate.fit where the copies teach the answerable heads only: the sentence scorer
    and the line see real questions alone."""
    fit_choice, fit = calibrate.fit_choice, calibrate.fit

    def choice(x, y, owner, *args):
        keep = owner < originals
        return fit_choice(x[keep], y[keep], owner[keep], *args)

    def fit_real_line(table, questions, *args):
        with_copies = questions
        calibrate.fit_choice = choice
        try:
            model = fit(table, with_copies, *args)
        finally:
            calibrate.fit_choice = fit_choice
        answerable = np.array([q.kind == ANSWERABLE for q in table.questions])
        statements = calibrate.statements(table)
        confidences = calibrate.question_confidences(table, model)
        lines = []
        for statement in (False, True):
            chosen = with_copies[
                answerable[with_copies]
                & (statements[with_copies] == statement)
                & (with_copies < originals)
            ]
            quantile = np.quantile(confidences[chosen], 1 - calibrate.ANSWERED_SHARE)
            lines.append(np.floor(quantile * 1000) / 1000)
        return dataclasses.replace(model, line=float(min(lines)))

    return fit_real_line


TOP_ALIGNMENTS = (  # name, ALIGNMENT_FEATURES column, how the top 3 are summed up
    ("top_alignment_max", 0, np.fmax),
    ("top_content_max", 1, np.fmax),
    ("top_alignment_mean", 0, None),
    ("top_unmatched_min", 5, np.fmin),
)


def top_alignments(table: FeatureTable, model: calibrate.Fit) -> np.ndarray:
    """Per question, TOP_ALIGNMENTS over the RERANK_TOP rows of `model`'s first step."""
    chosen = top_rows(table, shares(table, model.scores(table.x)), 3)
    order = np.argsort(table.question, kind="stable")
    owners = table.question[order]
    starts = np.r_[0, np.flatnonzero(owners[1:] != owners[:-1]) + 1]
    columns = np.zeros((len(table.questions), len(TOP_ALIGNMENTS)))
    for place, (_, column, reduce) in enumerate(TOP_ALIGNMENTS):
        values = np.where(chosen, table.z[:, column], np.nan)[order]
        if reduce is None:
            total = np.add.reduceat(np.nan_to_num(values), starts)
            summed = total / np.maximum(np.add.reduceat(~np.isnan(values), starts), 1)
        else:
            empty = -np.inf if reduce is np.fmax else np.inf
            summed = reduce.reduceat(np.nan_to_num(values, nan=empty), starts)
        columns[owners[starts], place] = np.where(np.isfinite(summed), summed, 0.0)
    return columns


def report_top_alignments(table: FeatureTable) -> None:
    names = tuple(name for name, _, _ in TOP_ALIGNMENTS)
    question_features, q = calibrate.QUESTION_FEATURES, table.q
    calibrate.QUESTION_FEATURES = question_features + names
    variant = dataclasses.replace(calibrate.SHIPPED, question=question_features + names)
    first_step = dataclasses.replace(calibrate.SHIPPED, top=0)
    results = []
    try:
        for held_out, questions in enumerate(folds := calibrate.article_folds(table)):
            train = np.concatenate([f for i, f in enumerate(folds) if i != held_out])
            table.q = np.column_stack(
                [q, top_alignments(table, calibrate.fit(table, train, first_step))]
            )
            results.extend(
                calibrate.outcomes(table, calibrate.fit(table, train, variant), questions)
            )
    finally:
        calibrate.QUESTION_FEATURES, table.q = question_features, q
    for form, statement in (("questions", False), ("as keywords", True)):
        summary = summarise([r for r in results if r.statement == statement])
        print(
            f"{'top 3 alignments, question features':<40} {form:<12} "
            + "  ".join(f"{k} {v:.3f}" for k, v in summary.items())
        )


def main() -> int:
    table, engine, _ = feature_table()
    originals = len(table.questions)
    report("shipped", table, originals)
    every = dataclasses.replace(calibrate.SHIPPED, top=10_000)
    report("alignment of every sentence", table, originals, every)
    report_top_alignments(table)
    masked = masked_copies(table, IndexReader(engine.settings.index))
    report("masked copies, both fits", masked, originals)
    fit = calibrate.fit
    calibrate.fit = heads_only(originals)
    try:
        report("masked copies, answerable heads only", masked, originals)
    finally:
        calibrate.fit = fit
    return 0


if __name__ == "__main__":
    sys.exit(main())
