"""Writing a benchmark's figures into its own section of BENCHMARKS.md."""

from __future__ import annotations

import re
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"
TITLE = (
    "# Benchmarks\n\nEvery figure here is printed and recorded by a script under `benchmarks/`.\n"
)


def record_section(heading: str, body: str, path: Path = BENCHMARKS) -> None:
    """Replace the `## heading` section (or append it), leaving the other sections alone."""
    text = path.read_text(encoding="utf-8") if path.exists() else TITLE
    section = f"## {heading}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section
    path.write_text(text, encoding="utf-8")
