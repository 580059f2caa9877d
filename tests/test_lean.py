"""The one-shot query stays lean: no torch, transformers, sentence-transformers, textual,
or chat on the path of `askseed "question"` against a fresh index."""

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
LAZY_OWN = ("askseed.ui.tui",)

PROBE = """
import json, sys
from askseed.ui import cli
code = cli.main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


@pytest.mark.model
def test_one_shot_query_imports_no_heavy_module(tmp_path):
    index = tmp_path / "index"
    Engine(Settings(seeds=REPO / "seeds", index=index)).refresh()

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
