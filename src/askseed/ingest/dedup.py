"""Drop repeated sentences: exact repeats by a normalised key, near repeats by MinHash + LSH.

Scraped pages repeat themselves (the same article twice, the same paragraph on every page);
indexing each copy wastes space and fills the top results with the same passage. The first
occurrence wins, within one document and across every document sharing one `SeenSentences`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple, Protocol

import numpy as np

if TYPE_CHECKING:
    from askseed.ingest.sentences import Sentence

_WORD = re.compile(r"\w+")

# Near-duplicate tuning, checked against the pairs in tests/test_dedup.py.
# Shingles are word pairs: single words ignore order and make "X beat Y" equal to "Y beat X";
# pairs keep some order and still leave most shingles of a long sentence intact after an edit.
# One inserted word in an n-word sentence keeps n-2 of n+1 distinct pairs (Jaccard 0.8 at
# 14 words); one replaced word keeps n-3 of n+1 (0.8 at 19 words). A one-word change can flip
# a claim ("revenue rose" / "revenue fell", Jaccard 0.75 at 15 words) and dropping a contrary
# claim is worse than indexing a near copy, so the threshold stays at a conservative 0.8:
# re-published copies with a word inserted, dropped or replaced in a long sentence go, while
# sentences differing in two places ("five" -> "none", "UK" -> "US": 0.5-0.6) stay. Below 8
# words one edit already moves Jaccard under 0.6, so short sentences only get exact dedup
# (titles and "Yes." repeat legitimately anyway).
MIN_NEAR_WORDS = 8
DEFAULT_NEAR_THRESHOLD = 0.8
# 64 hashes estimate Jaccard within about +-0.05 (one standard deviation at 0.8).
# 6 bands of 4 rows (24 of the 64 hashes) make a pair a candidate with probability
# 1 - (1 - J**4)**6: 0.96 at J=0.8, 0.99 at 0.85, 0.11 at 0.37, a typical pair of templated
# sentences ("Room 12 is on floor 3" / "Room 40 is on floor 2"). The 10 bands of 6 rows used
# before found as many pairs at the threshold (0.95 at J=0.8) and fewer at 0.37 (0.03), for
# 10 rows a sentence in the band table instead of 6: on SciFact, SQuAD-A and 12,000 edited
# SQuAD-A sentences the same sentences are dropped but for 0.5% of the edited ones, and
# 20,000 templated sentences take 6.6 s instead of 5.2 (benchmarks/dedup_drops.py;
# BENCHMARKS.md, "Bytes per chunk, third pass"). Candidates are then checked on their
# signatures, so a spurious one costs time, never a wrong drop.
NUM_HASHES = 64
NUM_BANDS = 6
_ROWS_PER_BAND = 4
# b-bit MinHash (Li and König, 2010): the store keeps only the low SIGNATURE_BITS of each
# 32-bit minimum, 64 bytes a sentence instead of 256. Two different minima then agree by
# chance with probability 2**-SIGNATURE_BITS, which `similarity` corrects for; at the 0.8
# threshold the corrected estimate needs the same 52 of 64 agreements as the full values,
# and a pair just below it crosses only when one of its ~13 differing minima collides (about
# 5%, within the estimate's own +-0.05). Templated text, where a sentence meets many
# candidates just under the line, adds those chances up: 0.5% more of such sentences are
# dropped (BENCHMARKS.md, "Bytes per chunk, third pass"). Bands are computed from the full
# minima before they are cut.
SIGNATURE_BITS = 8
_CHANCE = 2.0**-SIGNATURE_BITS
_STORED = np.dtype(f"<u{SIGNATURE_BITS // 8}")
# Signatures are computed for this many sentences at a time to bound the memory of the
# (shingles x hashes) table: about 20 shingles x 64 hashes x 8 bytes per sentence.
_BATCH_SENTENCES = 512


def _seeded_uint64(label: str, count: int) -> np.ndarray:
    # Derived from blake2b rather than a random generator so signatures stay identical across
    # numpy versions and machines: stored signatures must remain comparable.
    values = [_hash64(f"{label}:{i}") for i in range(count)]
    return np.array(values, dtype=np.uint64)


@lru_cache(maxsize=1 << 17)
def _hash64(word: str) -> int:
    # Cached: words follow Zipf's law, so most lookups are repeats.
    return int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")


# Multiply-add hashing modulo 2**64 with odd multipliers: a universal family; the high 32 bits
# of each minimum form the signature.
_MULTIPLIERS = _seeded_uint64("askseed-minhash-a", NUM_HASHES) | np.uint64(1)
_INCREMENTS = _seeded_uint64("askseed-minhash-b", NUM_HASHES)
_PAIR_MIX = np.uint64(0x9E3779B97F4A7C15)  # combines the two word hashes of a shingle
_BAND_MIX = _seeded_uint64("askseed-band", NUM_BANDS * _ROWS_PER_BAND).reshape(NUM_BANDS, -1)


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def duplicate_key(text: str) -> int:
    """Exact-duplicate key, a signed 64-bit integer (an SQLite INTEGER, 8 bytes): ignores
    case, punctuation and whitespace differences."""
    canonical = " ".join(_words(text))
    digest = hashlib.blake2b(canonical.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


class MinHash(NamedTuple):
    """A sentence's near-duplicate fingerprint: what the store keeps, and its LSH band keys."""

    signature: bytes  # the low SIGNATURE_BITS of each of the NUM_HASHES minima
    bands: list[int]  # NUM_BANDS keys, from the full minima


def minhash(text: str) -> MinHash | None:
    """The fingerprint of a sentence's word-pair shingles; None when it is too short."""
    return _minhashes([text])[0]


def minhash_signature(text: str) -> bytes | None:
    found = minhash(text)
    return found.signature if found else None


def _minhashes(texts: list[str]) -> list[MinHash | None]:
    return [
        None if minima is None else MinHash(_cut(minima), lsh_bands(minima))
        for minima in _minima(texts)
    ]


def _cut(minima: np.ndarray) -> bytes:
    return (minima & np.uint32((1 << SIGNATURE_BITS) - 1)).astype(_STORED).tobytes()


def _minima(texts: list[str]) -> list[np.ndarray | None]:
    """NUM_HASHES uint32 minima over each text's word-pair shingles (None when too short),
    with one numpy pass per batch."""
    result: list[np.ndarray | None] = [None] * len(texts)
    for batch_start in range(0, len(texts), _BATCH_SENTENCES):
        rows, word_hashes, shingle_starts = [], [], []
        total_shingles = 0
        for row in range(batch_start, min(batch_start + _BATCH_SENTENCES, len(texts))):
            words = _words(texts[row])
            if len(words) < MIN_NEAR_WORDS:
                continue
            rows.append(row)
            shingle_starts.append(total_shingles)
            total_shingles += len(words)
            word_hashes.extend(map(_hash64, words))
        if not rows:
            continue
        hashes = np.array(word_hashes, dtype=np.uint64)
        # Pair each word with the next; the pair spanning two sentences is the last of each
        # sentence's run and is overwritten by repeating its neighbour (a min is unaffected).
        shingles = np.empty_like(hashes)
        shingles[:-1] = (hashes[:-1] * _PAIR_MIX) ^ hashes[1:]
        ends = np.array(shingle_starts[1:] + [total_shingles]) - 1
        shingles[ends] = shingles[ends - 1]
        mixed = np.multiply.outer(shingles, _MULTIPLIERS)
        mixed += _INCREMENTS  # uint64 arithmetic wraps modulo 2**64, which is the point
        minima = np.minimum.reduceat(mixed, shingle_starts, axis=0) >> np.uint64(32)
        minima = minima.astype(np.uint32)
        for index, row in enumerate(rows):
            result[row] = minima[index]
    return result


def lsh_bands(minima: np.ndarray) -> list[int]:
    """One key per band: sentences sharing any key are near-duplicate candidates.

    Keys are signed 32-bit, 4 bytes as an SQLite INTEGER: two unrelated bands sharing a key
    (about one lookup in 400 at 10 million stored sentences) only add a candidate, which its
    signature then rejects. Each band mixes its rows with its own constants so that equal rows
    in different bands do not collide."""
    rows = minima[: NUM_BANDS * _ROWS_PER_BAND].astype(np.uint64).reshape(NUM_BANDS, -1)
    keys = (rows * _BAND_MIX).sum(axis=1, dtype=np.uint64) >> np.uint64(32)  # wraps mod 2**64
    return keys.astype(np.uint32).view(np.int32).tolist()


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of two signatures' shingle sets, corrected for minima
    that agree by chance in their low bits."""
    if len(a) != len(b):
        raise ValueError(f"signatures differ in size: {len(a)} and {len(b)} bytes")
    left, right = np.frombuffer(a, _STORED), np.frombuffer(b, _STORED)
    agree = np.count_nonzero(left == right) / len(left)
    return max(0.0, (agree - _CHANCE) / (1 - _CHANCE))


def _agreements_needed(threshold: float) -> float:
    """The agreements out of NUM_HASHES at which similarity() reaches the threshold."""
    return NUM_HASHES * (threshold + (1 - threshold) * _CHANCE)


def _any_similar(signature: bytes, candidates: Iterable[bytes], threshold: float) -> bool:
    """similarity(signature, c) >= threshold for some candidate, checked in one numpy pass:
    templated text ("Room 1 is free", "Room 2 is free") can yield thousands of candidates."""
    joined = b"".join(candidates)
    if not joined:
        return False
    others = np.frombuffer(joined, dtype=_STORED).reshape(-1, NUM_HASHES)
    matches = np.count_nonzero(others == np.frombuffer(signature, dtype=_STORED), axis=1)
    return bool(matches.max() >= _agreements_needed(threshold) - 1e-9)


class SeenSentences(Protocol):
    """What deduplication needs from storage."""

    def has_key(self, key: int) -> bool: ...

    def near_candidates(self, bands: list[int]) -> Iterable[bytes]:
        """Signatures of stored sentences sharing at least one band key."""
        ...

    def add(self, key: int, signature: bytes | None, bands: list[int]) -> None: ...


class MemorySeen:
    """SeenSentences kept in memory: for tests and one-off runs."""

    def __init__(self) -> None:
        self._keys: set[int] = set()
        self._by_band: dict[int, list[bytes]] = {}

    def has_key(self, key: int) -> bool:
        return key in self._keys

    def near_candidates(self, bands: list[int]) -> Iterable[bytes]:
        found: dict[bytes, None] = {}  # ordered and without repeats
        for band in bands:
            for signature in self._by_band.get(band, ()):
                found[signature] = None
        return found.keys()

    def add(self, key: int, signature: bytes | None, bands: list[int]) -> None:
        self._keys.add(key)
        if signature is not None:
            for band in bands:
                self._by_band.setdefault(band, []).append(signature)

    def __len__(self) -> int:
        return len(self._keys)


def drop_duplicates(
    sentences: list[Sentence],
    seen: SeenSentences,
    near_threshold: float = DEFAULT_NEAR_THRESHOLD,
) -> tuple[list[Sentence], int]:
    """Sentences not seen before (exactly or nearly), and how many were dropped.

    Kept sentences are recorded in `seen`, so later calls drop their repeats too."""
    kept: list[Sentence] = []
    dropped = 0
    fingerprints = _minhashes([sentence.text for sentence in sentences])
    for sentence, fingerprint in zip(sentences, fingerprints, strict=True):
        key = duplicate_key(sentence.text)
        if seen.has_key(key):
            dropped += 1
            continue
        signature, bands = fingerprint or (None, [])
        if signature is not None and _any_similar(
            signature, seen.near_candidates(bands), near_threshold
        ):
            # Remember the key alone: exact copies of this variant are then dropped cheaply,
            # and the store keeps one signature per family of near-duplicates.
            seen.add(key, None, [])
            dropped += 1
            continue
        seen.add(key, signature, bands)
        kept.append(sentence)
    return kept, dropped
