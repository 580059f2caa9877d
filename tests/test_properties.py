"""Property tests: cleaning, dedup and chunking on arbitrary Unicode never crash, and every
offset they report points at source text that really says what they claim.

Example counts stay modest so the suite stays quick; the text strategy mixes free Unicode with
text built from the pieces the rules look at (sentence ends, glued words, markup, fences,
separators, invisible characters), which finds far more than random code points alone.
"""

from __future__ import annotations

import bisect

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from askseed.ingest.chunk import make_chunks
from askseed.ingest.dedup import MemorySeen, drop_duplicates, duplicate_key
from askseed.ingest.sentences import normalise, split_sentences

PIECES = (
    ". ",
    "! ",
    "? ",
    "… ",
    ".",
    "\n",
    "\n\n",
    "\r\n",
    "\t",
    "```\n",
    "# ",
    "- ",
    "1. ",
    "> ",
    " | ",
    " • ",
    "U.S. ",
    "Dr. ",
    "Fig. 3",
    "preferences.Jump",
    "IndependentNotifications",
    "inThe ",
    "`code`",
    "https://example.org/a.b",
    "\u200b",
    "\u00ad",
    "\ufeff",
    "\x00",
    "\x85",
    "\u2028",
    "ﬁ",  # a ligature NFKC expands
    "①",
    "Ⅻ",
    "ＡＢＣ",  # full width
    "e\u0301",
    "\U0001f600",
    "Sign up",
    "All rights reserved.",
    "©",
)
WORD = st.text(alphabet=st.characters(categories=("L", "N")), min_size=1, max_size=12)
STRUCTURED = st.lists(st.one_of(st.sampled_from(PIECES), WORD, st.just(" ")), max_size=60).map(
    "".join
)
TEXT = st.one_of(st.text(max_size=300), STRUCTURED)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def words_plus_two(text: str) -> int:
    """Like the fake embedder's count: word pieces grow with words, plus [CLS] and [SEP]."""
    return len(text.split()) + 2


@FUZZ
@given(TEXT)
def test_sentences_point_at_text_that_normalises_to_them(raw):
    sentences = split_sentences(raw)
    previous_end = 0
    for sentence in sentences:
        assert sentence.text
        assert previous_end <= sentence.start < sentence.end <= len(raw)
        assert normalise(raw[sentence.start : sentence.end]) == sentence.text
        previous_end = sentence.end


@FUZZ
@given(TEXT)
def test_normalise_is_idempotent(raw):
    once = normalise(raw)
    assert normalise(once) == once


@FUZZ
@given(st.lists(TEXT, min_size=1, max_size=4))
def test_dedup_keeps_each_sentence_once_in_order(documents):
    seen = MemorySeen()
    kept_keys: set[str] = set()
    for raw in documents:
        sentences = split_sentences(raw)
        kept, dropped = drop_duplicates(sentences, seen)
        assert dropped == len(sentences) - len(kept)
        positions = [sentences.index(sentence) for sentence in kept]
        assert positions == sorted(positions)  # a subsequence, in document order
        keys = [duplicate_key(sentence.text) for sentence in kept]
        assert len(set(keys)) == len(keys) and not kept_keys & set(keys)
        kept_keys.update(keys)
        # Everything kept is now known: a second pass drops it all.
        assert drop_duplicates(kept, seen) == ([], len(kept))


@FUZZ
@given(TEXT, st.integers(min_value=1, max_value=40), st.integers(min_value=0, max_value=2))
def test_chunk_offsets_point_at_the_source(raw, max_tokens, overlap):
    sentences, _ = drop_duplicates(split_sentences(raw), MemorySeen())
    chunks = make_chunks(
        sentences, raw, words_plus_two, max_tokens=max_tokens, overlap=overlap, hard_limit=256
    )
    line_starts = [0] + [index + 1 for index, char in enumerate(raw) if char == "\n"]
    covered = set()
    for chunk in chunks:
        assert chunk.text and words_plus_two(chunk.text) <= 256
        assert len(chunk.sentences) == len(chunk.sentence_spans)
        for (start, end), (raw_start, raw_end) in zip(
            chunk.sentences, chunk.sentence_spans, strict=True
        ):
            piece = chunk.text[start:end]
            assert piece and normalise(raw[raw_start:raw_end]) == piece
            covered.add((raw_start, raw_end))
        assert chunk.start == chunk.sentence_spans[0][0]
        assert chunk.end == chunk.sentence_spans[-1][1]
        assert chunk.start_line == bisect.bisect_right(line_starts, chunk.start)
        assert chunk.end_line == bisect.bisect_right(line_starts, max(chunk.start, chunk.end - 1))
    # No sentence text is lost: each kept sentence is covered by its own span or its pieces.
    for sentence in sentences:
        inside = [span for span in covered if sentence.start <= span[0] < sentence.end]
        assert inside, sentence


@FUZZ
@given(st.lists(st.text(alphabet="ab \n", max_size=30), min_size=1, max_size=5))
def test_pdf_lines_count_from_the_top_of_each_page(pages):
    from askseed.ingest.chunk import line_finder as _line_finder
    from askseed.ingest.readers import PAGE_SEPARATOR

    text = PAGE_SEPARATOR.join(pages)
    starts = [sum(len(page) + len(PAGE_SEPARATOR) for page in pages[:n]) for n in range(len(pages))]
    in_page = _line_finder(text, tuple(starts))
    in_text = _line_finder(text, None)
    for start, page in zip(starts, pages, strict=True):
        for offset in range(len(page)):
            assert in_page(start + offset) == page[:offset].count("\n") + 1
            assert in_text(start + offset) == text[: start + offset].count("\n") + 1
