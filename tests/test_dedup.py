"""Exact and near-duplicate sentence removal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from askseed.ingest.dedup import (
    DEFAULT_NEAR_THRESHOLD,
    NUM_BANDS,
    NUM_HASHES,
    SIGNATURE_BITS,
    MemorySeen,
    _any_similar,
    drop_duplicates,
    duplicate_key,
    minhash,
    minhash_signature,
    similarity,
)
from askseed.ingest.sentences import Sentence, split_sentences

SEED = Path(__file__).resolve().parent.parent / "seeds" / "000_f4df355921fbd67a.txt"

TRIAL = (
    "A trial led by University College London Hospitals saw five out of six severe lupus "
    "patients achieve remission within months."
)
COUNCIL = (
    "The council approved the new budget for schools and libraries on Tuesday evening after a "
    "long debate in the town hall."
)


def as_sentences(texts: list[str]) -> list[Sentence]:
    return [Sentence(text, 0, len(text)) for text in texts]


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Hello world.", "Hello world.", True),
        ("Hello world.", "hello WORLD", True),
        ("Hello,   world!", "Hello world", True),
        ("“Quoted” text — here.", '"quoted" text here', True),
        ("Hello world.", "Hello there world.", False),
        ("Yes.", "No.", False),
    ],
)
def test_duplicate_key(a: str, b: str, same: bool) -> None:
    assert (duplicate_key(a) == duplicate_key(b)) is same
    assert -(2**63) <= duplicate_key(a) < 2**63  # an SQLite INTEGER


def test_signature_shape_and_determinism() -> None:
    signature = minhash_signature(TRIAL)
    assert signature is not None and len(signature) == NUM_HASHES * SIGNATURE_BITS // 8 == 64
    assert minhash_signature(TRIAL) == signature
    assert minhash_signature(TRIAL.upper()) == signature
    assert similarity(signature, signature) == 1.0


@pytest.mark.parametrize("text", ["Yes.", "A short title", "Seven words are not quite enough here"])
def test_short_sentences_have_no_signature(text: str) -> None:
    assert minhash_signature(text) is None


def test_bands_fit_four_byte_sqlite_integers() -> None:
    bands = minhash(TRIAL).bands
    assert len(bands) == NUM_BANDS
    assert all(-(2**31) <= band < 2**31 for band in bands)
    assert len(set(bands)) == NUM_BANDS


def signature_of(agreeing: int) -> tuple[bytes, bytes]:
    """Two signatures whose first `agreeing` values are equal and the rest all differ."""
    left = np.arange(NUM_HASHES, dtype=np.uint8)
    right = left.copy()
    right[agreeing:] += 128
    return left.tobytes(), right.tobytes()


@pytest.mark.parametrize(
    ("agreeing", "expected"),
    [
        (64, 1.0),
        # An unrelated pair still agrees on 1 value in 256 by chance: the estimate discounts it.
        (0, 0.0),
        (1, (1 / 64 - 1 / 256) / (1 - 1 / 256)),
        (32, (0.5 - 1 / 256) / (1 - 1 / 256)),
        (52, (52 / 64 - 1 / 256) / (1 - 1 / 256)),
    ],
)
def test_similarity_is_corrected_for_chance_agreement(agreeing: int, expected: float) -> None:
    assert similarity(*signature_of(agreeing)) == pytest.approx(expected)


@pytest.mark.parametrize(("agreeing", "near"), [(52, True), (51, False), (64, True), (0, False)])
def test_the_threshold_needs_the_same_agreements_as_full_minima(agreeing: int, near: bool) -> None:
    # 0.8 of 64 full 32-bit minima is 51.2, so 52 agree; the 8-bit estimate keeps that line.
    new, stored = signature_of(agreeing)
    assert _any_similar(new, [stored], DEFAULT_NEAR_THRESHOLD) is near


@pytest.mark.parametrize(
    ("a", "b", "near"),
    [
        # One word replaced in a long sentence: a near-duplicate.
        (TRIAL, TRIAL.replace("achieve", "reach"), True),
        (COUNCIL, COUNCIL.replace("Tuesday", "Wednesday"), True),
        # One word inserted or removed.
        (COUNCIL, COUNCIL.replace("the new budget", "the new annual budget"), True),
        (TRIAL, TRIAL.replace("severe ", ""), True),
        # Same topic, different claim (two or more edits): kept.
        (TRIAL, TRIAL.replace("five out of", "none of the").replace("months", "a year"), False),
        (COUNCIL, COUNCIL.replace("approved", "rejected").replace("schools", "roads"), False),
        (
            "Patients with severe lupus in the UK have achieved remission following treatment.",
            "Patients with severe lupus in the US have not achieved remission following treatment.",
            False,
        ),
        # One flipped word in a mid-length sentence is kept: it may be a contrary claim.
        (
            "The company said revenue rose by ten percent in the third quarter of the year.",
            "The company said revenue fell by ten percent in the third quarter of the year.",
            False,
        ),
        # Unrelated sentences.
        (TRIAL, COUNCIL, False),
    ],
)
def test_near_duplicates(a: str, b: str, near: bool) -> None:
    kept, dropped = drop_duplicates(as_sentences([a, b]), MemorySeen())
    assert dropped == (1 if near else 0)
    assert [sentence.text for sentence in kept] == ([a] if near else [a, b])


@pytest.mark.parametrize(
    ("texts", "kept", "dropped"),
    [
        ([], [], 0),
        (["Yes.", "Yes.", "yes!"], ["Yes."], 2),
        (["Title", "Body text.", "TITLE"], ["Title", "Body text."], 1),
        ([TRIAL, TRIAL.lower(), TRIAL.replace(",", "")], [TRIAL], 2),
        ([TRIAL, COUNCIL, TRIAL, COUNCIL], [TRIAL, COUNCIL], 2),
        # An exact copy of a dropped near-duplicate is dropped too.
        ([TRIAL, TRIAL.replace("achieve", "reach"), TRIAL.replace("achieve", "reach")], [TRIAL], 2),
    ],
)
def test_drop_duplicates_within_a_list(texts: list[str], kept: list[str], dropped: int) -> None:
    result, count = drop_duplicates(as_sentences(texts), MemorySeen())
    assert [sentence.text for sentence in result] == kept
    assert count == dropped


def test_duplicates_across_calls_keep_the_first_file() -> None:
    seen = MemorySeen()
    first, dropped_first = drop_duplicates(as_sentences([TRIAL, "Intro."]), seen)
    second, dropped_second = drop_duplicates(
        as_sentences(["Intro.", TRIAL.replace("achieve", "reach"), COUNCIL]), seen
    )
    assert [s.text for s in first] == [TRIAL, "Intro."] and dropped_first == 0
    assert [s.text for s in second] == [COUNCIL] and dropped_second == 2
    # A separate store knows nothing of the first call.
    fresh, dropped_fresh = drop_duplicates(as_sentences(["Intro."]), MemorySeen())
    assert len(fresh) == 1 and dropped_fresh == 0


def test_kept_sentences_keep_their_offsets() -> None:
    sentences = [Sentence("One.", 0, 4), Sentence("Two.", 5, 9), Sentence("one", 10, 13)]
    kept, _ = drop_duplicates(sentences, MemorySeen())
    assert kept == sentences[:2]


def test_seed_article_copy_is_dropped() -> None:
    sentences = split_sentences(SEED.read_text(encoding="utf-8"))
    kept, dropped = drop_duplicates(sentences, MemorySeen())
    assert dropped == 5  # the article's five sentences appear twice
    assert sum("five out of six" in sentence.text for sentence in kept) == 1
    assert len(kept) == len(sentences) - 5
