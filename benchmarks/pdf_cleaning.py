"""What removing page furniture and joining hyphenated words costs, next to pypdf's own text
extraction, on a built PDF: every page has a running header (left and right pages differ), 40
lines of random words, a footer and a page number.

    .venv/bin/python benchmarks/pdf_cleaning.py              # 300 pages
    .venv/bin/python benchmarks/pdf_cleaning.py --pages 1000

Random words are a hard case for the header search: no two body lines are alike, so every
candidate line near a page's top or bottom is compared with those of the nearby pages.
"""

from __future__ import annotations

import argparse
import random
import string
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the PDF builder the tests use

from askseed.ingest import pdf  # noqa: E402
from documents import make_pdf  # noqa: E402


def book(pages: int, lines: int = 40) -> bytes:
    rng = random.Random(1)
    words = [
        "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(2, 9)))
        for _ in range(3000)
    ]
    texts = []
    for number in range(1, pages + 1):
        header = f"{number} THE SIEGE OF VICKSBURG." if number % 2 == 0 else f"THE WEST. {number}"
        body = [" ".join(rng.choice(words) for _ in range(12)) for _ in range(lines)]
        texts.append("\n".join([header, *body, "Harbour Press, Boston", f"- {number} -"]))
    return make_pdf(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300)
    args = parser.parse_args()
    data = book(args.pages)
    cleaning = []
    clean_pages = pdf.clean_pages

    def timed(texts: list[str]) -> list[str]:
        start = time.perf_counter()
        cleaned = clean_pages(texts)
        cleaning.append(time.perf_counter() - start)
        return cleaned

    pdf.clean_pages = timed
    start = time.perf_counter()
    document = pdf.read_pdf(data)
    total = time.perf_counter() - start
    left = sum("SIEGE" in line or "Harbour Press" in line for line in document.text.split("\n"))
    print(
        f"{args.pages} pages: read_pdf {total:.2f} s, of which cleaning {cleaning[0]:.2f} s "
        f"({cleaning[0] / total:.0%}, {1000 * cleaning[0] / args.pages:.2f} ms a page); "
        f"header or footer lines left: {left}"
    )


if __name__ == "__main__":
    main()
