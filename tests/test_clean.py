"""Sentence splitting and boilerplate removal: table tests, fixtures and the seed."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from askseed.ingest.sentences import Sentence, normalise, split_sentences

FIXTURES = Path(__file__).parent / "fixtures" / "text"
SEED = Path(__file__).resolve().parent.parent / "seeds" / "000_f4df355921fbd67a.txt"


def texts(raw: str) -> list[str]:
    return [sentence.text for sentence in split_sentences(raw)]


def assert_offsets_true(raw: str, sentences: list[Sentence]) -> None:
    previous_end = 0
    for sentence in sentences:
        assert previous_end <= sentence.start < sentence.end <= len(raw)
        assert normalise(raw[sentence.start : sentence.end]) == sentence.text
        assert raw[sentence.start : sentence.end] == raw[sentence.start : sentence.end].strip()
        previous_end = sentence.end


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("plain", "plain"),
        ("  many   spaces\tand\nlines  ", "many spaces and lines"),
        ("zero\u200bwidth\ufeff", "zerowidth"),
        ("soft\u00adhyphen", "softhyphen"),
        ("bell\x07char", "bellchar"),
        ("ﬁne ligature", "fine ligature"),
        ("full\u3000width　Ａ", "full width A"),
        ("non\u00a0breaking", "non breaking"),
        ("", ""),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("One. Two! Three? Four", ["One.", "Two!", "Three?", "Four"]),
        ("Wait… Then it rained.", ["Wait...", "Then it rained."]),  # NFKC expands "…"
        ('He said "stop." Then he left.', ['He said "stop."', "Then he left."]),
        ("It ended (finally.) Next one.", ["It ended (finally.)", "Next one."]),
        ("Dr. Smith met Mrs. Jones.", ["Dr. Smith met Mrs. Jones."]),
        ("Born in the U.K. and raised there.", ["Born in the U.K. and raised there."]),
        ("Use e.g. salt. Or pepper.", ["Use e.g. salt.", "Or pepper."]),
        ("It costs 3.5 dollars. Cheap.", ["It costs 3.5 dollars.", "Cheap."]),
        ("See Fig. 3 for details.", ["See Fig. 3 for details."]),
        ("J. R. Tolkien wrote it.", ["J. R. Tolkien wrote it."]),
        ("Funded by the NHS. This is new.", ["Funded by the NHS.", "This is new."]),
        ("approx. five people came.", ["approx. five people came."]),
        ("Title line\nBody one. Body two.", ["Title line", "Body one.", "Body two."]),
        ("First para.\n\nSecond para.", ["First para.", "Second para."]),
        ("a line that wraps\nonto the next one.", ["a line that wraps onto the next one."]),
        ("Ends here.\nnext line starts lower.", ["Ends here.", "next line starts lower."]),
        (
            "# Heading\n- item one\n* item two\n1. numbered",
            ["Heading", "item one", "item two", "numbered"],
        ),
        ("", []),
        ("\n\n   \n", []),
    ],
)
def test_split_sentences(raw: str, expected: list[str]) -> None:
    assert texts(raw) == expected
    assert_offsets_true(raw, split_sentences(raw))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # Terminal punctuation glued to a capitalised word is a boundary; the sentence glued
        # on one side only is prose and is kept.
        ("It rained all day.The match was off.", ["It rained all day.", "The match was off."]),
        # Paragraphs whose spacing was lost: glued by punctuation on both sides is still prose.
        (
            "One paragraph ends here.A short paragraph stands alone.The third one starts.",
            [
                "One paragraph ends here.",
                "A short paragraph stands alone.",
                "The third one starts.",
            ],
        ),
        # Legitimate mixed case stays whole.
        ("I bought an iPhone at McDonald's.", ["I bought an iPhone at McDonald's."]),
        ("She codes JavaScript for YouTube.", ["She codes JavaScript for YouTube."]),
        ("He earned a PhD in the U.S. last year.", ["He earned a PhD in the U.S. last year."]),
        ("Bind onClick and isValid in React.", ["Bind onClick and isValid in React."]),
        ("Call `getElementById` to find it.", ["Call `getElementById` to find it."]),
        ("Set obj.someLongPropertyName first.", ["Set obj.someLongPropertyName first."]),
        (
            "Visit https://example.com/SomePathHereThatIsLong today.",
            ["Visit https://example.com/SomePathHereThatIsLong today."],
        ),
    ],
)
def test_glued_boundaries_and_mixed_case(raw: str, expected: list[str]) -> None:
    assert texts(raw) == expected
    assert_offsets_true(raw, split_sentences(raw))


@pytest.mark.parametrize(
    ("raw", "kept", "dropped"),
    [
        # A long glued run of menu words is cut and the pieces are dropped as chrome; the
        # prose sentence glued to the end of the menu is kept.
        (
            "HomeWorldBusinessTechnologyScienceThe committee published its report on Monday.",
            ["The committee published its report on Monday."],
            ["Home", "Technology"],
        ),
        # Glued on both sides: chrome even with a period.
        (
            "Real prose opens the page. Continue to the next pageNotifications are sent "
            "to subscribers.Back to menu",
            ["Real prose opens the page."],
            ["Continue", "Notifications", "Back to menu"],
        ),
        # A prompt glued before a sentence opener ("inThe") is cut off.
        ("Log inThe museum reopens in May.", ["The museum reopens in May."], ["Log in"]),
        # Navigation lines.
        ("Home | News | Sport | Weather\nThe storm passed overnight.", None, ["Home"]),
        ("Home » Blog » Recipes\nBody.", ["Body."], ["Recipes"]),
        ("Home\tNews\tContact\nBody.", ["Body."], ["News"]),
        ("Terms / Privacy / Help\nBody.", ["Body."], ["Terms"]),
        # Short prompts from a generic lexicon.
        ("Subscribe to our newsletter\nBody.", ["Body."], ["Subscribe"]),
        ("We use cookies to personalise content.\nBody.", ["Body."], ["cookies"]),
        ("© 2024 Example Media. All rights reserved.\nBody.", ["Body."], ["rights"]),
        ("Share on Facebook\nSkip to content\nBody.", ["Body."], ["Share", "Skip"]),
        ("----\n***\nBody.", ["Body."], ["---"]),
    ],
)
def test_boilerplate_is_dropped(raw: str, kept: list[str] | None, dropped: list[str]) -> None:
    result = texts(raw)
    if kept is not None:
        assert result == kept
    for fragment in dropped:
        assert not any(fragment in sentence for sentence in result), result
    assert_offsets_true(raw, split_sentences(raw))


NAVBOX_ROW = (
    "t-distributed stochastic neighbor embedding | Machine learning and data mining | "
    "| Machine-learning venues |"
)


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        # The residue: short fragments between `|`, with a gap, not a framed table.
        pytest.param(f"Body.\n\n{NAVBOX_ROW}\n\nMore.", ["Body.", "More."], id="navbox-line"),
        pytest.param(
            "Body.\n\n| Machine learning and data mining | |\n\n|---|---|\n\n| Paradigms | |"
            "\n\n| Dimensionality reduction | |",
            ["Body."],
            id="navbox-table-with-empty-cells",
        ),
        pytest.param(
            "| Home | News | Sport | Weather | Travel | Culture | Science | Local news |\nBody.",
            ["Body."],
            id="menu-laid-out-as-one-wide-row",
        ),
        pytest.param(
            "Places Lowmoor | Old Mill | North Sandbank | Harbour Wall and Slipway Area | "
            "| Sea Wall\nBody.",
            ["Body."],
            id="menu-line-with-long-items",
        ),
        # Data tables stay: figures, filled cells, or prose in a cell.
        pytest.param(
            "| Parameter | Typical value |\n|---|---|\n| Perplexity | 5 to 50 |",
            ["| Parameter | Typical value |", "| Perplexity | 5 to 50 |"],
            id="table-with-figures",
        ),
        pytest.param(
            "| Species | Habitat |\n|---|---|\n| Otter | River banks |\n| Heron | Reed beds |",
            ["| Species | Habitat |", "| Otter | River banks |", "| Heron | Reed beds |"],
            id="filled-text-table",
        ),
        pytest.param(
            "| Term | Meaning |\n| Holt | An otter's den, often under the roots of a tree |"
            "\n| Spraint | |",
            [
                "| Term | Meaning |",
                "| Holt | An otter's den, often under the roots of a tree |",
                "| Spraint | |",
            ],
            id="prose-in-a-cell",
        ),
        pytest.param(
            "Species | Habitat | Status\n--- | --- | ---\nOtter | River banks | Common",
            ["Species | Habitat | Status", "Otter | River banks | Common"],
            id="markdown-table-without-outer-pipes",
        ),
        pytest.param("Page 1 | 2 | 3 | Next\nBody.", ["Body."], id="pagination-line"),
        pytest.param(
            "| Mon | Tue | Wed | Thu | Fri | Sat |\n| Ann | Bob | Cy | Di | Ed | Flo |",
            ["| Mon | Tue | Wed | Thu | Fri | Sat |", "| Ann | Bob | Cy | Di | Ed | Flo |"],
            id="rota-of-names-kept",
        ),
        # A navigation box right after a data table is judged on its own.
        pytest.param(
            "| Rate | 200 |\n|---|---|\n| Size | 50 |\n| Venues | |\n|---|---|\n| Paradigms | |",
            ["| Rate | 200 |", "| Size | 50 |"],
            id="data-table-then-navbox",
        ),
    ],
)
def test_navigation_tables_are_dropped_and_data_tables_kept(raw: str, kept: list[str]) -> None:
    assert texts(raw) == kept
    assert_offsets_true(raw, split_sentences(raw))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # A page break (a line of only a form feed, between PDF pages) does not end a sentence.
        (
            "The news reached the\n\n\f\n\ncapital at dusk.",
            ["The news reached the capital at dusk."],
        ),
        (
            "Ends here.\n\f\nnext page starts lower case.",
            ["Ends here.", "next page starts lower case."],
        ),
        ("Heading\n\f\nBody text.", ["Heading", "Body text."]),
        # A blank line without a page break still ends the block.
        ("The news reached the\n\ncapital at dusk.", ["The news reached the", "capital at dusk."]),
    ],
)
def test_sentences_run_on_over_a_page_break(raw: str, expected: list[str]) -> None:
    assert texts(raw) == expected
    assert_offsets_true(raw, split_sentences(raw))


@pytest.mark.parametrize(
    "sentence",
    [
        # Topics the prompt lexicon mentions, in article prose, survive.
        "Researchers found that cookies stored by advertisers can follow users across many sites.",
        "Readers who subscribe to more than three newsletters open fewer than half of them.",
        "How to bake cookies",
        "Privacy",
        "The journalist asked readers to log in their observations every morning for a month.",
    ],
)
def test_article_sentences_about_boilerplate_topics_survive(sentence: str) -> None:
    assert texts(sentence) == [sentence]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "markdown_note.md",
            [
                "Field notes: sourdough starter",
                "Feeding schedule for the starter, kept since Jan. 2023 by Dr. Okafor.",
                "The starter doubles in 6.5 hours at 24 °C, e.g. on a warm kitchen shelf.",
                "Observations",
                "Rye flour makes it rise faster than white flour.",
                "A thin layer of grey liquid means it is hungry, not spoiled.",
                "Discard half, then feed equal weights of flour and water.",
                "Bakers have long known that cookies baked from a discarded starter taste "
                "slightly sour, and the",
                "tang gets stronger the longer the starter sits between feedings.",
                "| Day | Rise |",
                "| 1 | 20% |",
                "ratio = flour / water # keep near 1.0",
            ],
        ),
        (
            "scraped_blog.txt",
            [
                "The quiet comeback of the mechanical keyboard.",
                "Sales of mechanical keyboards rose sharply last year, according to two retailers.",
                "Enthusiasts say the appeal is tactile: each key press gives a clear, audible "
                "click.",
                "Reviewers noted that prices have fallen as more manufacturers entered the market.",
                "A second paragraph on its own line says that switch types differ mostly in feel "
                "and noise.",
            ],
        ),
        (
            "plain_products.txt",
            [
                "Product notes",
                "The team moved the site from WordPress to a static generator in 2021.",
                "We still publish short clips on YouTube and post updates on LinkedIn and GitHub.",
                "Our iPhone and iPad apps share one JavaScript codebase; the PlayStation port "
                "does not.",
                "Mr. Tanaka, who holds a PhD from the U.K. branch of the institute, leads the "
                "effort.",
                "Version 3.5 shipped on time.",
                "Version 4.0 slipped by two weeks!",
                "Why did it slip?",
                "The vendor's SDK changed its licence terms.",
                "This paragraph is hard-wrapped at a narrow width, as plain text files often are, "
                "so one sentence runs across three lines and should come out as a single sentence "
                "without losing any words.",
                "Burgers from McDonald's were ordered for the launch party, and nobody complained.",
            ],
        ),
    ],
)
def test_fixture_documents(name: str, expected: list[str]) -> None:
    raw = (FIXTURES / name).read_text(encoding="utf-8")
    sentences = split_sentences(raw)
    assert [sentence.text for sentence in sentences] == expected
    assert_offsets_true(raw, sentences)


def test_plain_text_loses_no_words() -> None:
    raw = (FIXTURES / "plain_products.txt").read_text(encoding="utf-8")
    assert " ".join(texts(raw)).split() == raw.split()


@pytest.fixture(scope="module")
def seed_sentences() -> tuple[str, list[Sentence]]:
    raw = SEED.read_text(encoding="utf-8")
    return raw, split_sentences(raw)


@pytest.mark.parametrize(
    "chrome",
    [
        "Thank you for registering",
        "Notifications can be managed",
        "Jump to content",
        "Please refresh",
        "AllNewsSport",
        "Stay up to date with notifications",
        "In full",
    ],
)
def test_seed_chrome_is_dropped(seed_sentences, chrome: str) -> None:
    _, sentences = seed_sentences
    assert not any(chrome in sentence.text for sentence in sentences)


@pytest.mark.parametrize(
    "article",
    [
        "Patients with severe lupus in the UK have achieved remission following a pioneering "
        "“immune reset” treatment using CAR T-cell therapy on the NHS.",
        "This marks the first time CAR T-cell therapy, previously used for cancer,",
        "The single-dose therapy works by genetically modifying a patient's own cells",
        "saw five out of six severe lupus patients achieve remission within months.",
        "Experts describe the findings as “truly groundbreaking,”",
        "Groundbreaking therapy could revolutionise treatment for lupus",
        "CAR T-cell therapy achieved remission in 5 of 6 lupus patients",
        "Signals cell-engineering maturation",
    ],
)
def test_seed_article_sentences_are_kept(seed_sentences, article: str) -> None:
    _, sentences = seed_sentences
    assert any(article in sentence.text for sentence in sentences)


def test_seed_offsets_are_true(seed_sentences) -> None:
    raw, sentences = seed_sentences
    assert_offsets_true(raw, sentences)
    # The article appears twice: each of its sentences is found twice (dedup comes later).
    assert sum("five out of six" in sentence.text for sentence in sentences) == 2


_PIECES = list("aZ.!?… \n\t|•»/`@:#-*>\"')(”’\u200b\u00a0ﬁ") + ["Ab", "cD", "e.g.", "Dr.", "3.5"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=80).map("".join))
def test_any_text_gives_ordered_true_offsets(raw: str) -> None:
    assert_offsets_true(raw, split_sentences(raw))
