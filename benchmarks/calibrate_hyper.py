"""calibrate.py's other hyperparameters, tried one at a time: none is worth a nested search.

    PYTHONPATH=src .venv/bin/python benchmarks/calibrate_hyper.py [--no-record]

The fourteenth round chose the re-ranking's penalty by nested cross-validation
(calibrate_l2.py). Two more settings had never been varied: how many of the first step's
sentences the re-ranking reads (RERANK_TOP, 3) and the penalty on the answerable heads'
weights (L2_ANSWERABLE, 1e-3). Each value here is fitted and measured as calibrate.py's
held-out rows are (5 folds by article), so the figures of the best value flatter it: they are
the ceiling of what a nested choice could show. A setting is worth a nested search only if
some value moves one target without costing another; none does (BENCHMARKS.md, the section
this records), so nothing is shipped.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import calibrate  # noqa: E402
from abstain_data import summarise  # noqa: E402
from alignment_data import feature_table  # noqa: E402
from record import record_section  # noqa: E402

VARIANTS = {
    "shipped (re-ranks 3, heads' penalty 1e-3)": calibrate.SHIPPED,
    "re-ranks 2": replace(calibrate.SHIPPED, top=2),
    "re-ranks 4": replace(calibrate.SHIPPED, top=4),
    "heads' penalty 1e-4": replace(calibrate.SHIPPED, heads_l2=1e-4),
    "heads' penalty 1e-2": replace(calibrate.SHIPPED, heads_l2=1e-2),
    "heads' penalty 1e-1": replace(calibrate.SHIPPED, heads_l2=1e-1),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-record", action="store_true", help="print, leave BENCHMARKS.md")
    args = parser.parse_args()
    table, _, _ = feature_table()
    columns = calibrate.SUMMARY_COLUMNS
    rows = ["| calibrator | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for name, variant in VARIANTS.items():
        outcomes, _ = calibrate.cross_validate(table, variant)
        summary = summarise([r for r in outcomes if not r.statement])
        rows.append(f"| {name} | " + " | ".join(f"{v:.3f}" for v in summary.values()) + " |")
        print(rows[-1], flush=True)
    if not args.no_record:
        record_section(
            "The calibrator's other hyperparameters, one at a time",
            "Command: `PYTHONPATH=src .venv/bin/python benchmarks/calibrate_hyper.py` (how: "
            "the script's docstring). squad-a-abstain's questions (not the keyword forms), "
            "held out by article as in calibrate.py; each value chosen here would be chosen on "
            "these same figures, so they are a ceiling, not a result.\n\n" + "\n".join(rows),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
