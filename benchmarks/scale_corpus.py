"""The corpus and the stand-in embedder of benchmarks/scale.py.

Texts: every sentence is the first half of one real SciFact sentence joined to the second
half of another, so the words, sentence lengths and keyword statistics are those of real
abstracts, yet no two sentences are alike enough for askseed's dedup to drop one (exact repeats
and word-pair Jaccard >= 0.8 are dropped; two sentences sharing one half are near 0.5).

Vectors: a stand-in typed against askseed's Embedder maps each text, by its hash, to a real
all-MiniLM-L6-v2 vector (of a SciFact or SQuAD chunk, read from an existing index), plus a
smaller share of a second real vector and a little Gaussian noise, normalised. Random
Gaussian vectors would make approximate search look far worse than it is on real text; the
second real vector keeps the perturbation inside the space real vectors occupy. It reports
the real model's name and fingerprint, so that `askseed` with the real model finds the index
fresh and answers a real question from it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from askseed.config import cache_dir
from askseed.ingest.dedup import (
    NUM_HASHES,
    SIGNATURE_BITS,
    MemorySeen,
    drop_duplicates,
    duplicate_key,
    minhash_signature,
)
from askseed.ingest.sentences import split_sentences
from askseed.model.embedder import Embedder, PooledVectors
from askseed.store.segments import read_segments, read_tombstones
from askseed.store.vectors import live_slices

# Where real vectors are read from, beside the repository and in askseed's cache (never
# copied into the repository): a SciFact index, and those `askseed eval` keeps for SQuAD-A.
SCIFACT_INDEX = Path(__file__).resolve().parent.parent.parent / "scifact-final-index"
SECOND_SHARE = 0.35  # of a second real vector, added to the first
NOISE_NORM = 0.10  # expected length of the Gaussian noise added to a unit vector
NOISE_ROWS = 4096
SENTENCES_PER_PARAGRAPH = 4
FILES_PER_FOLDER = 1000
# Sentences of 16 words or more: each half has the 8 words askseed's near-duplicate test needs.
MIN_WORDS, MAX_WORDS = 16, 45
# Halves this alike (estimated Jaccard of word pairs) are never both kept, within HALF_WINDOW
# of each other in the pool: one left half meets a run of neighbouring right halves (and one
# right half a run of lefts), and SciFact holds near-twin sentences ("24% at 1 year" / "40% at
# 1 year") that would make two near-twin sentences out of one left half.
HALF_SIMILARITY = 0.4
HALF_WINDOW = 1000


# --- texts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SentencePool:
    """Halves of real sentences: sentence n joins lefts[n % L] to a right half that differs
    for every n sharing that left half (n < L * R)."""

    lefts: tuple[str, ...]
    rights: tuple[str, ...]

    def sentence(self, number: int) -> str:
        left = number % len(self.lefts)
        right = (number // len(self.lefts) + 7 * left + 1) % len(self.rights)
        return f"{self.lefts[left]} {self.rights[right]}"

    @property
    def capacity(self) -> int:
        return len(self.lefts) * len(self.rights)


def _clean(sentence: str) -> bool:
    """Prose with one full stop, at the end: joined halves then stay one sentence to the
    splitter ("p < 0.05." or "et al." inside a half could end it early, "vitamin D." at the
    end reads as an initial and runs on into the next)."""
    words = sentence.split()
    return (
        MIN_WORDS <= len(words) <= MAX_WORDS
        and sentence.endswith(".")
        and len(words[-1]) > 3
        and not any(mark in sentence[:-1] for mark in ".?!;:\"'[]{}")
        and sentence[0].isupper()
        and sentence.count("(") == sentence.count(")") == 0
    )


def sentence_pool(abstracts: list[str]) -> SentencePool:
    """Halves of the clean sentences of these texts: sentences distinct to askseed's dedup,
    halves distinct, and no two halves near each other in the pool alike (HALF_SIMILARITY)."""
    seen = MemorySeen()
    lefts: dict[str, str] = {}
    rights: dict[str, str] = {}
    for abstract in abstracts:
        sentences = [s for s in split_sentences(abstract) if _clean(s.text)]
        kept, _ = drop_duplicates(sentences, seen)
        for sentence in kept:
            words = sentence.text.split()
            middle = len(words) // 2
            left, right = " ".join(words[:middle]), " ".join(words[middle:])
            left_key, right_key = duplicate_key(left), duplicate_key(right)
            if left_key not in lefts and right_key not in rights:
                lefts[left_key], rights[right_key] = left, right
    return SentencePool(_unlike(list(lefts.values())), _unlike(list(rights.values())))


def _unlike(halves: list[str]) -> tuple[str, ...]:
    """The halves, less any alike to one of the HALF_WINDOW kept before it."""
    kept: list[str] = []
    stored = np.dtype(f"<u{SIGNATURE_BITS // 8}")  # dedup keeps the low bits of each value
    signatures = np.zeros((len(halves), NUM_HASHES), dtype=stored)
    for half in halves:
        signature = minhash_signature(half)
        if signature is None:  # under askseed's 8 words: too short to be told apart safely
            continue
        row = np.frombuffer(signature, dtype=stored)
        recent = signatures[max(0, len(kept) - HALF_WINDOW) : len(kept)]
        if len(recent) and (recent == row).sum(axis=1).max() >= HALF_SIMILARITY * NUM_HASHES:
            continue
        signatures[len(kept)] = row
        kept.append(half)
    return tuple(kept)


def scifact_pool(corpus: Path, limit: int | None = None) -> SentencePool:
    abstracts = []
    with open(corpus, encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            if limit is not None and number >= limit:
                break
            abstracts.append(json.loads(line)["text"])
    return sentence_pool(abstracts)


def document_text(pool: SentencePool, first: int, count: int) -> str:
    """Sentences first .. first + count - 1, in paragraphs."""
    paragraphs = [
        " ".join(
            pool.sentence(n)
            for n in range(start, min(start + SENTENCES_PER_PARAGRAPH, first + count))
        )
        for start in range(first, first + count, SENTENCES_PER_PARAGRAPH)
    ]
    return "\n\n".join(paragraphs) + "\n"


def write_corpus(folder: Path, pool: SentencePool, files: int, sentences_per_file: int) -> int:
    """`files` text files of distinct sentences, FILES_PER_FOLDER to a folder; returns the
    bytes written. Files already there (a run stopped half way) are rewritten alike."""
    if files * sentences_per_file > pool.capacity:
        raise SystemExit(f"the sentence pool holds {pool.capacity} sentences, not enough")
    written = 0
    for number in range(files):
        path = folder / f"{number // FILES_PER_FOLDER:04}" / f"doc-{number:07}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        text = document_text(pool, number * sentences_per_file, sentences_per_file)
        path.write_text(text, encoding="utf-8")
        written += len(text.encode())
    return written


# --- vectors ------------------------------------------------------------------------------


NO_VECTORS = (
    f"no index of real MiniLM vectors: neither {SCIFACT_INDEX} nor an `askseed eval` index of "
    "scifact or squad-a-abstain in askseed's cache (run `askseed eval ../shared/eval/scifact`)"
)


# The indexes `askseed eval` keeps in askseed's cache, best first. The benchmark asks SciFact
# claims: over vectors of SQuAD chunks they are far from every chunk (median top-1 cosine 0.30,
# against 0.71 over SciFact's), and approximate search finds fewer of their exact top 10.
EVAL_INDEXES = ("scifact-*/index", "squad-a-abstain-*/index")


def vector_indexes(sources: tuple[Path, ...] | None = None) -> list[Path]:
    """askseed index folders holding real MiniLM vectors: SciFact's where there is one, else
    SQuAD-A's. One source only, and only finished builds, so that the stand-in's vectors do
    not depend on how far an `askseed eval` running beside the benchmark has got."""
    for source in sources or (SCIFACT_INDEX, cache_dir() / "eval"):
        groups = [[source]] if (source / "meta.sqlite").exists() else []
        if source.is_dir():
            groups += [sorted(source.glob(pattern)) for pattern in EVAL_INDEXES]
        for group in groups:
            found = [index for index in group if _finished(index)]
            if found:
                return found
    return []


def _finished(index: Path) -> bool:
    """An index whose first build committed (its manifest names the model) and that no
    `askseed index` is updating now (its write lock is free)."""
    import fcntl

    if not (index / "meta.sqlite").exists():
        return False
    uri = f"file:{index / 'meta.sqlite'}?mode=ro"
    try:
        with sqlite3.connect(uri, uri=True) as db:
            manifest = dict(db.execute("SELECT key, value FROM manifest"))
    except sqlite3.Error:
        return False
    if "model" not in manifest:
        return False
    lock = index / "write.lock"
    if not lock.exists():
        return True
    with open(lock, "rb") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
    return True


def read_vectors(index: Path) -> np.ndarray:
    """The live chunk vectors of an askseed index, from every segment file its store names
    (8-bit codes decoded, or float16 as an older askseed wrote them)."""
    uri = f"file:{index / 'meta.sqlite'}?mode=ro"
    with sqlite3.connect(uri, uri=True) as db:
        manifest = dict(db.execute("SELECT key, value FROM manifest"))
        if manifest.get("model") != "all-MiniLM-L6-v2":
            raise ValueError(f"{index} was not built with all-MiniLM-L6-v2")
        segments = read_segments(db)
        dead = read_tombstones(db)
    parts = [
        vectors.astype(np.float16)
        for segment in segments
        for _, vectors in live_slices(index / segment.name, dead.get(segment.name))
    ]
    return np.vstack(parts) if parts else np.zeros((0, 384), np.float16)


def real_vectors(indexes: list[Path]) -> np.ndarray:
    """Every chunk vector of these indexes, as float16 (half the stand-in's memory)."""
    if not indexes:
        raise FileNotFoundError(NO_VECTORS)
    return np.vstack([read_vectors(index) for index in indexes])


class StandInEmbedder(Embedder):
    """Each text's vector is fixed by its hash: a real vector, a share of another, noise.

    Fast enough to leave the build time to askseed's own code, and timed (`seconds`) so the
    benchmark can subtract what it spends. Token counts are the real tokenizer's, passed in,
    so chunks have their real sizes.
    """

    dim = 384

    def __init__(self, pool: np.ndarray, name: str, fingerprint: str, count_tokens, seed: int = 0):
        self.name = name
        self.fingerprint = fingerprint
        self._pool = pool
        self._count_tokens = count_tokens
        noise = np.random.default_rng(seed).standard_normal((NOISE_ROWS, pool.shape[1]))
        self._noise = (noise * NOISE_NORM / np.sqrt(pool.shape[1])).astype(np.float32)
        self.seconds = 0.0  # spent producing vectors
        self.texts = 0

    def count_tokens(self, texts: list[str]) -> list[int]:
        return self._count_tokens(texts)

    def encode(self, texts: list[str]) -> np.ndarray:
        started = time.perf_counter()
        digests = [hashlib.blake2b(text.encode(), digest_size=12).digest() for text in texts]
        keys = np.frombuffer(b"".join(digests), dtype="<u4").reshape(-1, 3).astype(np.int64)
        size = len(self._pool)
        vectors = self._pool[keys[:, 0] % size].astype(np.float32)
        vectors += SECOND_SHARE * self._pool[keys[:, 1] % size].astype(np.float32)
        vectors += self._noise[keys[:, 2] % NOISE_ROWS]
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        self.seconds += time.perf_counter() - started
        self.texts += len(texts)
        return vectors.reshape(len(texts), self.dim)

    def encode_sentences(self, texts: list[str]) -> np.ndarray:
        return self.encode(texts)

    def encode_spans(self, texts: list[str], spans: list[list[tuple[int, int]]]) -> PooledVectors:
        pieces = [
            text[start:end]
            for text, text_spans in zip(texts, spans, strict=True)
            for start, end in text_spans
        ]
        everything = self.encode(list(texts) + pieces)
        pooled, offset = [], len(texts)
        for text_spans in spans:
            pooled.append(everything[offset : offset + len(text_spans)])
            offset += len(text_spans)
        return PooledVectors(everything[: len(texts)], pooled)
