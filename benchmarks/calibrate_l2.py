"""The re-ranking's penalty, chosen by nested cross-validation by article.

    PYTHONPATH=src .venv/bin/python benchmarks/calibrate_l2.py [--no-record]

calibrate.py fits both sentence scorers (the first step, the re-ranking of its top 3) as
conditional logits with an L2 penalty on their weights. Picking the re-ranking's penalty by
the held-out figures it is then reported on would flatter it, so here it is picked inside each
fold: for each of calibrate.py's 5 folds of articles, the penalty is chosen by a 4-fold
cross-validation over the OTHER folds' articles (the quote right most often on their
answerable questions), a calibrator is fitted on all of them with it, and measured on the
held-out fold. The figures are those of the procedure, penalty choice included, on articles
that took no part in any choice. The penalty shipped (calibrate.RERANK_L2) is the one the same
choice makes over every article. The first step keeps its penalty (calibrate.py says why).
The penalty is varied on the calibrator of the round that chose it (calibrate.FOURTEENTH), so
that the recorded figures stay reproducible after later rounds change the shipped one.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import calibrate  # noqa: E402
from abstain_data import ANSWERABLE, FeatureTable, summarise  # noqa: E402
from alignment_data import feature_table  # noqa: E402
from record import record_section  # noqa: E402

PENALTIES = (1e-5, 1e-4, 1e-3, 1e-2)


def quote_right(table: FeatureTable, folds: list[np.ndarray], penalty: float) -> float:
    """How often the quote holds the answer, over the answerable questions of `folds`, each
    fold's by a calibrator fitted on the others with this penalty."""
    answerable = np.array([q.kind == ANSWERABLE and not q.statement for q in table.questions])
    right = []
    for held, questions in enumerate(folds):
        train = np.concatenate([f for i, f in enumerate(folds) if i != held])
        model = calibrate.fit(table, train, replace(calibrate.FOURTEENTH, rerank_l2=penalty))
        _, correct = calibrate.best_of(table, model)
        right.append(correct[questions][answerable[questions]])
    return float(np.concatenate(right).mean())


def choose(table: FeatureTable, folds: list[np.ndarray]) -> tuple[float, dict[float, float]]:
    """The penalty whose quote is right most often over these folds (the larger on a tie),
    and each one's figure."""
    figures = {penalty: quote_right(table, folds, penalty) for penalty in PENALTIES}
    return max(PENALTIES, key=lambda penalty: (round(figures[penalty], 4), penalty)), figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-record", action="store_true", help="print, leave BENCHMARKS.md")
    args = parser.parse_args()
    table, _, _ = feature_table()
    folds = calibrate.article_folds(table)
    results, choices = [], []
    for held, questions in enumerate(folds):
        others = [f for i, f in enumerate(folds) if i != held]
        penalty, figures = choose(table, others)
        choices.append(
            f"fold {held + 1}: {penalty:g} ("
            + ", ".join(f"{p:g} {figure:.4f}" for p, figure in figures.items())
            + ")"
        )
        print(choices[-1], flush=True)
        variant = replace(calibrate.FOURTEENTH, rerank_l2=penalty)
        model = calibrate.fit(table, np.concatenate(others), variant)
        results.extend(calibrate.outcomes(table, model, questions))
    rows = calibrate.summary_header("calibrator", "queries")
    fixed, _ = calibrate.cross_validate(table, replace(calibrate.FOURTEENTH, rerank_l2=1e-3))
    for name, outcomes in (
        ("penalty 1e-3 (the thirteenth round's)", fixed),
        ("penalty chosen inside each fold (nested)", results),
    ):
        for form, statement in (("questions", False), ("as keywords", True)):
            summary = summarise([r for r in outcomes if r.statement == statement])
            rows.append(calibrate.summary_row(f"{name} | {form}", summary))
            print(rows[-1], flush=True)
    overall, figures = choose(table, folds)
    said = ", ".join(f"{p:g} {figure:.4f}" for p, figure in figures.items())
    print(f"over every article: {overall:g} ({said}); shipped {calibrate.RERANK_L2:g}")
    if not args.no_record:
        record_section(
            "The re-ranking's penalty, chosen by nested cross-validation",
            "Command: `PYTHONPATH=src .venv/bin/python benchmarks/calibrate_l2.py` (how: the "
            "script's docstring). squad-a-abstain, calibrate.py's 5 folds by article; in each, "
            "the penalty on the re-ranking's weights is chosen among "
            + ", ".join(f"{p:g}" for p in PENALTIES)
            + " by a 4-fold cross-validation over the other folds' articles (quote right on "
            "their answerable questions), and the calibrator fitted with it is measured on the "
            "held-out fold. Each fold's choice, with the inner figures:\n\n"
            + "\n".join(f"- {choice}" for choice in choices)
            + "\n\n"
            + "\n".join(rows)
            + f"\n\nOver every article the same choice gives {overall:g} ({said}); "
            f"askseed ships {calibrate.RERANK_L2:g} (calibrate.RERANK_L2). The nested rows "
            "are the figures to quote for the change: they include the choice itself. "
            "calibrate.py's and abstain.py's held-out figures use the shipped penalty, chosen "
            "over every article, and so flatter it slightly.",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
