"""The command line, driven in-process with a fake embedder."""

from __future__ import annotations

import json

import pytest

from askseed.config import Settings
from askseed.ui import cli

ARTICLE = (
    "Menu | Home | News | Sport\n"
    "Volcanoes on Io erupt with lava fountains. The fountains reach three hundred kilometres.\n"
    "Io orbits Jupiter every forty two hours.\n"
)


@pytest.fixture
def docs(tmp_path, monkeypatch, fake_embedder):
    from askseed.engine import Engine

    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "io.txt").write_text(ARTICLE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(
        cli, "_make_engine", lambda settings: Engine(settings, embedder=fake_embedder)
    )
    return tmp_path


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_answer_follows_the_contract(docs, capsys):
    code, out, err = run(capsys, "how high do the lava fountains reach on Io?", "--json")
    assert code == 0, err
    answer = json.loads(out)
    assert set(answer) == {"question", "answered", "confidence", "passages", "index"}
    assert answer["answered"] is True
    passage = answer["passages"][0]
    assert set(passage) == {
        "rank",
        "text",
        "quote",
        "source",
        "start_line",
        "end_line",
        "score",
        "confidence",
    }
    assert 0.0 <= passage["confidence"] <= 1.0
    assert answer["confidence"] == passage["confidence"]
    assert passage["source"] == "io.txt" and passage["start_line"] == 2
    assert passage["quote"] in passage["text"]
    assert answer["index"] == {"documents": 1, "chunks": 1, "refreshed": True}
    assert "building it" in err


def test_plain_output_marks_the_quote_and_the_source(docs, capsys):
    cli.main(["index"])
    capsys.readouterr()
    code, out, err = run(capsys, "ask", "Io lava fountains kilometres")
    assert code == 0
    assert "seeds/io.txt:2" in out and "»" in out and "«" in out
    assert err == ""  # a fresh index is not refreshed, and says nothing


def test_index_twice_says_nothing_was_re_embedded(docs, capsys):
    assert run(capsys, "index")[0] == 0
    code, out, err = run(capsys, "index")
    assert code == 0 and "nothing re-embedded" in err


def test_unanswerable_question_exits_1(docs, capsys):
    code, out, err = run(capsys, "zebra quantum mortgage?", "--json")
    assert code == 1
    answer = json.loads(out)
    assert answer["answered"] is False and len(answer["passages"]) <= 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["   "], "question is empty"),
        (["question", "--seeds", "missing-folder"], "missing-folder"),
        (["question", "-k", "0"], "-k"),
        (["ask"], "usage"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(docs, capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_an_empty_documents_folder_is_a_usage_error(docs, capsys):
    (docs / "empty").mkdir()
    code, out, err = run(capsys, "anything?", "--seeds", "empty")
    assert code == 2 and "no readable documents" in err
    assert len(err.strip().splitlines()) <= 2


def test_env_then_flags_override_defaults(monkeypatch, tmp_path):
    from askseed.config import load_settings

    env = {"ASKSEED_SEEDS": str(tmp_path / "a"), "ASKSEED_INDEX": str(tmp_path / "i")}
    assert load_settings(env) == Settings(seeds=tmp_path / "a", index=tmp_path / "i")
    assert load_settings(env, seeds=tmp_path / "b").seeds == tmp_path / "b"
