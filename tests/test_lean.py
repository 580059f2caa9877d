"""The one-shot query stays lean: no torch, transformers, sentence-transformers, textual,
or chat on the path of `askseed "question"` against a fresh index, and none of askseed's own
ingestion pipeline, evaluation or watching either."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from askseed.config import Settings
from askseed.engine import Engine

REPO = Path(__file__).resolve().parent.parent
HEAVY = (
    "torch",
    "transformers",
    "sentence_transformers",
    "textual",
    "rich",
    "click",
    "trafilatura",
    "pypdf",
)
LAZY_OWN = (
    "askseed.ui.tui",
    "askseed.ui.mcp_server",
    "askseed.ingest.indexer",
    "askseed.ingest.readers",
    "askseed.ingest.chunk",
    "askseed.ingest.dedup",
    "askseed.store.writer",
    "askseed.eval",
    "askseed.watch",
    "askseed.model.onnx_export",
    "askseed.model.int8_export",
)

PROBE = """
import json, sys
from askseed.ui import cli
code = cli.main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory) -> Path:
    index = tmp_path_factory.mktemp("lean") / "index"
    engine = Engine(Settings(seeds=REPO / "seeds", index=index))
    engine.refresh()
    # The model's exports, made once per machine (and importing the exporters), are made now:
    # the probe measures the path of every question after the first.
    engine.ask("What is lupus?")
    engine.close()
    return index


@pytest.mark.model
def test_one_shot_query_imports_no_heavy_module(seed_index):
    index = seed_index

    result = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            "How many lupus patients went into remission?",
            "--index",
            str(index),
            "--json",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )

    report = json.loads(result.stderr.strip().splitlines()[-1])
    assert report["code"] == 0, result.stderr
    assert "five out of six" in json.loads(result.stdout)["passages"][0]["quote"]
    loaded = set(report["modules"])
    assert not {name for name in loaded if name.split(".")[0] in HEAVY}
    assert not {name for name in loaded for own in LAZY_OWN if name.startswith(own)}


@pytest.mark.model
@pytest.mark.parametrize(
    ("question", "code", "quoted"),
    [
        ("How many lupus patients went into remission?", 0, "five out of six"),
        ("Who won the 1998 football world cup?", 1, None),
    ],
)
def test_the_command_prints_everything_and_its_code_before_its_quick_exit(
    seed_index, question, code, quoted
):
    # `python -m askseed` runs what the installed `askseed` command runs: cli.run, which ends
    # the process without the interpreter's teardown once main() returns.
    result = subprocess.run(
        [sys.executable, "-m", "askseed", question, "--index", str(seed_index), "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )

    assert result.returncode == code, result.stderr
    answer = json.loads(result.stdout)  # the whole document arrived through the pipe
    assert answer["answered"] is (code == 0)
    if quoted:
        assert quoted in answer["passages"][0]["quote"]
