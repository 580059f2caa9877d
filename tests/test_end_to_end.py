"""The real model on the real seed: the core promise of askseed, end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from askseed.config import Settings
from askseed.engine import Engine

REPO = Path(__file__).resolve().parent.parent
BOILERPLATE = (
    "Thank you for registering",
    "Notifications can be managed",
    "Please refresh",
    "Jump to content",
    "logged in",
    "AllNews",
)
UNANSWERED = ("What is the boiling point of mercury?", "Who won the 1998 football World Cup?")

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def seed_engine(tmp_path_factory):
    settings = Settings(seeds=REPO / "seeds", index=tmp_path_factory.mktemp("seed-index"))
    engine = Engine(settings)
    engine.refresh()
    return engine


def test_remission_question_quotes_five_out_of_six(seed_engine):
    answer = seed_engine.ask("How many lupus patients went into remission?")
    assert answer.answered
    assert "five out of six" in answer.passages[0].quote


@pytest.mark.parametrize(
    "question",
    [
        "How many lupus patients went into remission?",
        "Who led the trial?",
        "How does the therapy work?",
        "What did experts say about the findings?",
        "What was CAR T-cell therapy used for before?",
        *UNANSWERED,
    ],
)
def test_no_passage_shows_boilerplate_or_repeats_a_sentence(seed_engine, question):
    answer = seed_engine.ask(question, k=5)
    texts = [passage.text for passage in answer.passages]
    for text in texts:
        assert not any(marker in text for marker in BOILERPLATE), text
    sentences = [s for text in texts for s in text.split(". ")]
    assert len(sentences) == len(set(sentences))


@pytest.mark.parametrize("question", UNANSWERED)
def test_questions_the_seed_does_not_answer_abstain(seed_engine, question):
    answer = seed_engine.ask(question)
    assert not answer.answered and len(answer.passages) <= 1


def test_one_shot_command_in_a_fresh_process(tmp_path):
    """What the README's first command does, with the index kept out of the repo."""
    env = {**os.environ, "ASKSEED_INDEX": str(tmp_path / "index")}
    command = [
        sys.executable,
        "-m",
        "askseed.ui.cli",
        "How many lupus patients went into remission?",
    ]
    first = subprocess.run([*command, "--json"], cwd=REPO, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert "building it" in first.stderr
    answer = json.loads(first.stdout)
    assert "five out of six" in answer["passages"][0]["quote"]
    assert answer["passages"][0]["source"] == "000_f4df355921fbd67a.txt"

    second = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    assert second.returncode == 0 and second.stderr == ""
    assert "»" in second.stdout and "five out of six" in second.stdout
