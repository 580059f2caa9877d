"""Two contrasts between a question and a sentence, measured on calibrate.py's held-out folds.

    PYTHONPATH=src .venv/bin/python benchmarks/calibrate_contrasts.py [--no-record]

SQuAD 2.0's unanswerable questions were written against a paragraph, to look answerable
from it. Two of the ways they were written leave a trace a word list can see:
- a negation put in ("What is *not* recognised as a general principle ...?" of a sentence
  saying what is): the question holds a negation (not, no, never, n't ...) and the sentence
  none (features.py's `lacks_negation`);
- a name or a number swapped ("Where in Katyn are ... objects found?" of a sentence about a
  Warsaw museum): some of the question's names and numbers are not in the sentence
  (`lacks_names`; the question features ask the same of the first passage and of all the
  candidates, never of one sentence).
Each is tried as a sentence feature (read by the first step and the re-ranking, so it may
change which sentence is the quote), as a feature of the quote read by the answerable heads,
and as both, on top of the fourteenth round's calibrator (calibrate.FOURTEENTH). Every
figure is on held-out articles, questions only (not their keyword forms).

Then the shipped choice against the fourteenth round's on other splits of the articles (4
and 6 folds, and three random 5-fold splits), since the off-corpus figure depends much on
which fold the 4 off-corpus articles fall in.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import calibrate  # noqa: E402
from abstain_data import FeatureTable  # noqa: E402
from alignment_data import feature_table  # noqa: E402
from calibrate_probes import held_out  # noqa: E402
from record import record_section  # noqa: E402

from askseed.query.alignment import ALIGNMENT_FEATURES  # noqa: E402

CONTRASTS = calibrate.CONTRASTS


@contextlib.contextmanager
def quote_reads(names: tuple[str, ...]):
    """calibrate.py's heads may read these FEATURES of the quote, for as long as a fit runs."""
    saved = calibrate.QUOTE_SENTENCE_FEATURES, calibrate.QUOTE_FEATURES
    calibrate.QUOTE_SENTENCE_FEATURES = names
    calibrate.QUOTE_FEATURES = (*ALIGNMENT_FEATURES, *names)
    try:
        yield
    finally:
        calibrate.QUOTE_SENTENCE_FEATURES, calibrate.QUOTE_FEATURES = saved


def variants() -> dict[str, calibrate.Variant]:
    before = calibrate.FOURTEENTH
    found = {"the fourteenth round's calibrator": before}
    for names in (("lacks_negation",), ("lacks_names",), CONTRASTS):
        sentence = (*before.sentence, *names)
        choice = replace(before, sentence=sentence, rerank=(*sentence, *ALIGNMENT_FEATURES))
        label = " + ".join(names)
        found[f"{label}: choice"] = choice
        found[f"{label}: heads"] = replace(before, quote=(*before.quote, *names))
        found[f"{label}: choice and heads"] = replace(choice, quote=(*before.quote, *names))
    found["both: choice; lacks_negation: heads (shipped)"] = calibrate.SHIPPED
    return found


def random_folds(table: FeatureTable, seed: int, folds: int = calibrate.FOLDS) -> list:
    """Question indices per fold: whole articles, dealt out in a random order."""
    articles = sorted({question.article for question in table.questions})
    random.Random(seed).shuffle(articles)
    fold_of = {article: at % folds for at, article in enumerate(articles)}
    return [
        np.array([i for i, q in enumerate(table.questions) if fold_of[q.article] == fold])
        for fold in range(folds)
    ]


def other_splits(table: FeatureTable) -> dict[str, list]:
    """Splits of the articles besides calibrate.py's 5 folds: the off-corpus figure depends
    much on which fold the 4 off-corpus articles fall in."""
    return {
        "4 folds": calibrate.article_folds(table, 4),
        "6 folds": calibrate.article_folds(table, 6),
        **{f"random 5 folds ({seed})": random_folds(table, seed) for seed in (1, 2, 3)},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-record", action="store_true", help="print, leave BENCHMARKS.md")
    args = parser.parse_args()
    table, _, _ = feature_table()
    rows = calibrate.summary_header("calibrator")
    with quote_reads(CONTRASTS):
        for name, variant in variants().items():
            rows.append(calibrate.summary_row(name, held_out(table, variant)))
            print(rows[-1], flush=True)
    other = calibrate.summary_header("split", "calibrator")
    for split, folds in other_splits(table).items():
        for name, variant in (("fourteenth", calibrate.FOURTEENTH), ("shipped", calibrate.SHIPPED)):
            other.append(
                calibrate.summary_row(
                    f"{split} | {name}", calibrate.held_out_questions(table, variant, folds)
                )
            )
            print(other[-1], flush=True)
    if not args.no_record:
        record_section(
            "Contrasts with the question: a negation, names and numbers",
            "Command: `PYTHONPATH=src .venv/bin/python benchmarks/calibrate_contrasts.py` "
            "(what each row is: the script's docstring). squad-a-abstain, calibrate.py's 5 "
            "folds by article, every figure on held-out articles, questions only.\n\n"
            + "\n".join(rows)
            + "\n\nOther splits of the articles, the same way:\n\n"
            + "\n".join(other),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
