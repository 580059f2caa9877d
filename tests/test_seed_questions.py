"""Acceptance: questions a new user would ask of the seed, written before any tuning.

The seed is one news article about a CAR T-cell trial for lupus. The answerable questions are
paraphrases: they avoid the article's own words where a user would, so that they test meaning,
not shared words. The unanswerable ones are on the article's topic (cost, side effects, the
patients' ages...), which the article never covers, so that sharing "CAR T-cell", "trial" or
"lupus" with the documents is not enough to be answered. Keyword queries and claims are not
questions, and must be answered when the article covers them.

These questions were written before the calibrator was fitted and were never used to fit it
(benchmarks/calibrate.py fits on squad-a-abstain only).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from askseed.config import Settings
from askseed.engine import Engine

REPO = Path(__file__).resolve().parent.parent
TITLE = "Groundbreaking therapy could revolutionise treatment for lupus"

pytestmark = pytest.mark.model

# (question, fragments: the quote must hold one of them)
ANSWERABLE = [
    ("What did experts call the results?", ("truly groundbreaking",)),
    ("Is it a one-off treatment or ongoing?", ("single-dose",)),
    ("How many people in the study went into remission?", ("five out of six", "5 of 6")),
    ("Did every patient respond to the treatment?", ("five out of six", "5 of 6")),
    ("Which institutions ran the study?", ("University College London",)),
    ("What illness was the therapy used against before?", ("previously used for cancer",)),
    ("How does the treatment reprogram the body?", ("genetically modifying",)),
    ("How quickly did the patients respond?", ("within months",)),
    ("Do we need bigger trials to confirm this?", ("larger studies are needed",)),
    ("Could patients stop taking drugs for the rest of their lives?", ("lifelong medication",)),
    ("Is this the first use of the therapy for lupus in Britain?", ("first time",)),
    ("Whose cells are altered by the therapy?", ("patient's own cells",)),
    ("What does the immune system learn to do after the therapy?", ("recognise and attack",)),
    ("Could this therapy cure the disease?", ("potential cure", "offer a cure")),
    ("Which health service offered the treatment?", ("on the NHS", "NHS trial", "NHS Found")),
    ("What nickname is given to the treatment?", ("immune reset",)),
    ("What change in healthcare could this signal?", ("paradigm shift",)),
    ("What does the result say about cell engineering?", ("cell-engineering maturation",)),
    ("Which hospital trust took part?", ("NHS Foundation Trust",)),
    ("Is this the first time it was tried on an autoimmune disease?", ("first autoimmune",)),
    ("What outcome did the patients have?", ("remission",)),
    ("How is the therapy given: one dose or many?", ("single-dose",)),
    ("What kind of cells does the reprogrammed immune system go after?", ("problematic cells",)),
    ("Who called the findings groundbreaking?", ("Experts describe",)),
    ("How many patients were treated in the trial?", ("five out of six", "5 of 6")),
    ("How serious was the illness of the patients who were treated?", ("severe lupus",)),
    ("Where did the trial take place?", ("University College London", "in the UK", "UK NHS")),
]

NEAR_TOPIC_UNANSWERABLE = [
    "How much does the CAR T-cell treatment cost?",
    "What are the side effects of the therapy?",
    "How old were the patients in the trial?",
    "When will the treatment be widely available?",
    "Which company manufactures the CAR T-cell product?",
    "What is the name of the lead researcher?",
    "Has the therapy been approved in the United States?",
    "How many women took part in the trial?",
    "How long does a patient stay in hospital for the treatment?",
    "What symptoms does lupus cause?",
    "How many people in the UK have lupus?",
    "Did any patient die during the trial?",
]

# Not questions: a few keywords or a claim. Each is covered by the article, so it is answered.
KEYWORD_QUERIES = [
    ("lupus CAR T-cell remission", ("remission",)),
    ("single-dose therapy", ("single-dose",)),
    ("UCLH lupus trial", ("UCLH",)),
    ("immune reset", ("immune reset",)),
    ("CAR T-cell therapy cures lupus", ("lupus",)),
    ("five of six patients in remission", ("five out of six", "5 of 6")),
]


# What the shipped calibrator reaches (BENCHMARKS.md, "Abstention and confidence"); the
# issue's targets are all paraphrases and 80% of near-topic questions. The calibrator is
# fitted on SQuAD, whose questions share many words with their paragraph: a paraphrase that
# shares few (cosine 0.3-0.5 to its sentence) looks to it like a question the documents do
# not answer. These floors catch a regression; the targets are not met. The quote's
# token-level alignment with the question (query/alignment.py) raised the first from 12;
# re-ranking the top 3 sentences by it (calibration.py) left both where they were.
PARAPHRASED_ANSWERED_FLOOR = 14  # of 27, with the right quote
NEAR_TOPIC_REFUSED_FLOOR = 0.75


@pytest.fixture(scope="module")
def seed_engine(tmp_path_factory):
    settings = Settings(seeds=REPO / "seeds", index=tmp_path_factory.mktemp("seed-index"))
    engine = Engine(settings)
    engine.refresh()
    return engine


def quotes_the_answer(engine, question: str, fragments: tuple[str, ...]) -> bool:
    answer = engine.ask(question)
    quote = answer.passages[0].quote
    return answer.answered and any(fragment in quote for fragment in fragments)


@pytest.mark.parametrize(("query", "fragments"), KEYWORD_QUERIES)
def test_keyword_queries_are_answered_with_the_right_quote(seed_engine, query, fragments):
    answer = seed_engine.ask(query)
    assert answer.answered, f"refused ({answer.confidence:.0%}): {answer.passages[0].quote}"
    assert any(fragment in answer.passages[0].quote for fragment in fragments)


def test_paraphrased_questions_answered_with_the_right_quote(seed_engine):
    right = [q for q, fragments in ANSWERABLE if quotes_the_answer(seed_engine, q, fragments)]
    assert len(right) >= PARAPHRASED_ANSWERED_FLOOR, right


def test_near_topic_questions_are_mostly_refused(seed_engine):
    answered = [q for q in NEAR_TOPIC_UNANSWERABLE if seed_engine.ask(q).answered]
    refused = 1 - len(answered) / len(NEAR_TOPIC_UNANSWERABLE)
    assert refused >= NEAR_TOPIC_REFUSED_FLOOR, f"answered: {answered}"


def test_the_issue_cost_question_is_refused(seed_engine):
    answer = seed_engine.ask("How much does the CAR T-cell treatment cost?")
    assert not answer.answered
    assert answer.evidence.question_features["type_nowhere"] == 1.0


@pytest.mark.parametrize(("question", "_"), ANSWERABLE + KEYWORD_QUERIES)
def test_the_title_line_is_never_the_quote(seed_engine, question, _):
    assert seed_engine.ask(question, k=5).passages[0].quote != TITLE


@pytest.mark.xfail(
    strict=True,
    reason="issue 11 example not met: 12% confident, below the line (the quote is right)",
)
def test_the_issue_experts_question_is_answered(seed_engine):
    assert quotes_the_answer(seed_engine, "What did experts call the results?", ("truly",))


@pytest.mark.xfail(
    strict=True,
    reason="issue 11 example not met: the first sentence ('Patients with severe lupus ...')"
    " is quoted; the single-dose sentence is not among the 3 re-ranked",
)
def test_a_one_off_question_quotes_the_single_dose_sentence(seed_engine):
    answer = seed_engine.ask("Is it a one-off treatment or ongoing?")
    assert "single-dose" in answer.passages[0].quote
