"""What an index folder's bytes are spent on, per chunk: SQLite table by table, and vectors.

    .venv/bin/python benchmarks/disk_usage.py INDEX [INDEX ...]

Reads SQLite's dbstat table (the pages each table and index takes, slack included) and the
size of the vectors file, and divides by the number of chunks. Prints one Markdown table,
a column per index, for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path

POSTINGS = "keyword search: common words' postings (large indexes only)"
GROUPS = {  # SQLite object -> what it is for
    "chunks": "chunks: text, spans, sentence vectors",
    "chunks_by_file": "chunks: index by file",
    "sentence_keys": "dedup: sentence keys and signatures",
    "sentence_keys_by_key": "dedup: indexes",
    "sentence_keys_by_file": "dedup: indexes",
    "sentence_bands": "dedup: LSH bands",
    "sentence_bands_by_band": "dedup: LSH bands",
    "dropped_keys": "dedup: dropped keys",
    "dropped_keys_by_key": "dedup: dropped keys",
    "lexical_fts_content": "keyword search: FTS5 copy of the text",
    "lexical_fts_data": "keyword search: FTS5 index",
    "keyword_postings": POSTINGS,
    "sqlite_autoindex_keyword_postings_1": POSTINGS,
    "keyword_postings_state": POSTINGS,
}


def breakdown(index: Path) -> dict[str, float]:
    with sqlite3.connect(f"file:{index / 'meta.sqlite'}?mode=ro", uri=True) as db:
        (chunks,) = db.execute("SELECT count(*) FROM chunks").fetchone()
        (text,) = db.execute("SELECT sum(length(CAST(text AS BLOB))) FROM chunks").fetchone()
        sizes: dict[str, float] = {"chunk text itself (inside chunks)": text / chunks}
        for name, size in db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
            group = GROUPS.get(name, "other tables (files, manifest, FTS5 bookkeeping)")
            sizes[group] = sizes.get(group, 0) + size / chunks
    flat = sum(path.stat().st_size for path in index.glob("vectors-*.faiss"))
    sizes["vectors file (FAISS flat)"] = flat / chunks
    # Indexes above the approximate threshold keep an IVF beside each large segment.
    approximate = sum(path.stat().st_size for path in index.glob("vectors-*.ivf"))
    sizes["approximate index (FAISS IVF, large indexes only)"] = approximate / chunks
    database = (index / "meta.sqlite").stat().st_size
    sizes["total on disk"] = (database + flat + approximate) / chunks
    sizes["total beyond the chunk text"] = sizes["total on disk"] - text / chunks
    sizes["chunks"] = chunks
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("indexes", type=Path, nargs="+")
    args = parser.parse_args(argv)
    columns = [breakdown(index) for index in args.indexes]
    rows = list(dict.fromkeys(name for column in columns for name in column))
    print("| bytes per chunk | " + " | ".join(str(i) for i in args.indexes) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for name in rows:
        cells = [f"{column.get(name, 0):,.0f}" for column in columns]
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
