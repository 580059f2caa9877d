"""askseed makes no network connection: with sockets blocked, it indexes and answers.

Blocking raises on any attempt and also records it, so a library that catches the error and
carries on (as model hubs do when offline) still fails the test. Local (AF_UNIX) sockets are
left alone: they never leave the machine.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from hostile import ARTICLE_HTML, make_pdf

REPO = Path(__file__).resolve().parent.parent
QUESTION = "How many lupus patients went into remission?"


class NetworkBlocked(OSError):
    pass


def block_network(patch) -> list[object]:
    """Make every network connection and name lookup fail; returns the attempts, as made."""
    attempts: list[object] = []
    connect, connect_ex = socket.socket.connect, socket.socket.connect_ex

    def refuse(what):
        attempts.append(what)
        raise NetworkBlocked(f"network blocked by the test: {what!r}")

    def guarded(original):
        def call(self, address, *args):
            if self.family == getattr(socket, "AF_UNIX", None):
                return original(self, address, *args)
            return refuse(address)

        return call

    patch.setattr(socket.socket, "connect", guarded(connect))
    patch.setattr(socket.socket, "connect_ex", guarded(connect_ex))
    patch.setattr(socket, "create_connection", lambda address, *a, **k: refuse(address))
    patch.setattr(socket, "getaddrinfo", lambda host, *a, **k: refuse(host))
    patch.setattr(socket, "gethostbyname", refuse)
    return attempts


def make_documents(folder: Path) -> None:
    folder.mkdir(parents=True)
    shutil.copy(REPO / "seeds" / "000_f4df355921fbd67a.txt", folder / "article.txt")
    (folder / "ferry.html").write_text(ARTICLE_HTML % "The ferry leaves at noon.")
    (folder / "survey.pdf").write_bytes(make_pdf(["Survey", "Five young kingfishers fledged."]))


def test_the_blocker_blocks(monkeypatch):
    attempts = block_network(monkeypatch)
    with pytest.raises(NetworkBlocked):
        socket.create_connection(("127.0.0.1", 9))
    with pytest.raises(NetworkBlocked), socket.socket() as raw:
        raw.connect(("127.0.0.1", 9))
    assert len(attempts) == 2


def test_indexing_and_asking_make_no_connection(tmp_path, monkeypatch, fake_embedder):
    """Everything but the model (which the next test covers): readers, store, search."""
    from askseed.engine import Engine
    from askseed.ui import cli

    make_documents(tmp_path / "docs")
    monkeypatch.setattr(cli, "_make_engine", lambda s: Engine(s, embedder=fake_embedder))
    location = ["--seeds", str(tmp_path / "docs"), "--index", str(tmp_path / "index")]
    attempts = block_network(monkeypatch)

    assert cli.main(["index", *location]) == 0
    assert cli.main([QUESTION, *location]) == 0
    assert attempts == []


@pytest.mark.model
def test_the_real_model_indexes_and_answers_with_no_connection(tmp_path):
    """In a fresh process without the offline variables the test suite sets, so it is askseed
    itself that keeps the model libraries off the network."""
    make_documents(tmp_path / "docs")
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    }
    command = [sys.executable, __file__, str(tmp_path / "docs"), str(tmp_path / "index")]

    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)

    assert result.returncode == 0, result.stderr
    assert "network blocked" not in result.stderr
    answer = json.loads(result.stdout)
    assert answer["answered"]
    assert "five out of six" in answer["passages"][0]["quote"]


def index_and_ask_offline(docs: str, index: str) -> int:
    from askseed.ui import cli

    with pytest.MonkeyPatch.context() as patch:
        attempts = block_network(patch)
        location = ["--seeds", docs, "--index", index]
        codes = [cli.main(["index", *location]), cli.main([QUESTION, "--json", *location])]
    if attempts:
        print(f"network blocked: {attempts}", file=sys.stderr)
        return 3
    return max(codes)


if __name__ == "__main__":
    sys.exit(index_and_ask_offline(*sys.argv[1:]))
