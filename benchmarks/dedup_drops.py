"""Which sentences deduplication drops, on real text: to check that a change keeps them.

    .venv/bin/python benchmarks/dedup_drops.py --out before.tsv   # with the old code
    .venv/bin/python benchmarks/dedup_drops.py --out after.tsv    # with the new code
    diff before.tsv after.tsv

Runs the indexer's steps (split_sentences, then drop_duplicates against one store of seen
sentences) over the seed folder, SciFact's 5,183 abstracts and SQuAD-A's 1,048 paragraphs, in
that order, then over edited copies of 3,000 real SQuAD-A sentences of 8 words or more (a
fixed sample): one word replaced, inserted or deleted (near-duplicates, Jaccard about 0.8, the
threshold) and two words replaced (kept). Real corpora repeat themselves little, so the edited
copies are what exercises the near-duplicate estimate at its threshold. Writes one line per
dropped sentence (corpus, document, position, text) and prints the counts.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from pathlib import Path

from _common import DATA, REPO

from askseed.eval.beir import read_corpus
from askseed.ingest.dedup import MemorySeen, drop_duplicates
from askseed.ingest.sentences import Sentence, split_sentences

EDITED = 3000


def documents():
    for path in sorted((REPO / "seeds").iterdir()):
        yield "seed", path.name, path.read_text(encoding="utf-8")
    for name in ("scifact", "squad-a"):
        for doc_id, text in read_corpus(DATA / name):
            yield name, doc_id, text


def edited_copies(sentences: list[str]):
    """(kind, text) for each sampled sentence: four edits, each a document of its own."""
    rng = random.Random(0)
    long = [s for s in sentences if len(s.split()) >= 8]
    for number, text in enumerate(rng.sample(long, min(EDITED, len(long)))):
        words = text.split()
        at, other = rng.sample(range(len(words)), 2)
        replaced = words.copy()
        replaced[at] = "zebra"
        yield f"replace-{number}", " ".join(replaced)
        yield f"insert-{number}", " ".join(words[:at] + ["zebra"] + words[at:])
        yield f"delete-{number}", " ".join(words[:at] + words[at + 1 :])
        replaced[other] = "quartz"
        yield f"replace2-{number}", " ".join(replaced)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    seen = MemorySeen()
    counts: Counter[str] = Counter()
    squad: list[str] = []
    with args.out.open("w") as out:
        for corpus, doc_id, text in documents():
            sentences = split_sentences(text)
            if corpus == "squad-a":
                squad.extend(sentence.text for sentence in sentences)
            kept, dropped = drop_duplicates(sentences, seen)
            counts[corpus] += dropped
            kept_ids = {id(sentence) for sentence in kept}
            for position, sentence in enumerate(sentences):
                if id(sentence) not in kept_ids:
                    out.write(f"{corpus}\t{doc_id}\t{position}\t{sentence.text}\n")
        for doc_id, text in edited_copies(squad):
            kept, dropped = drop_duplicates([Sentence(text, 0, len(text))], seen)
            counts[doc_id.split("-")[0]] += dropped
            if dropped:
                out.write(f"edited\t{doc_id}\t0\t{text}\n")
    print(", ".join(f"{name} {count}" for name, count in counts.items()), "dropped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
