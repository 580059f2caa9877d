"""`askseed mcp`, driven as a client drives it: a subprocess spoken to by the MCP SDK's own
stdio client, on a copy of the seed folder, with the real model."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from askseed.errors import AskseedError
from askseed.query.answer import Passage
from askseed.ui.mcp_server import load_ahead, passage_row

pytestmark = pytest.mark.anyio

REPO = Path(__file__).resolve().parent.parent
QUESTION = "How many lupus patients went into remission?"


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def folder(tmp_path):
    shutil.copytree(REPO / "seeds", tmp_path / "seeds")
    return tmp_path


def server_command() -> list[str]:
    return ["-m", "askseed", "mcp", "--seeds", "seeds", "--index", "index"]


def server_env() -> dict[str, str]:
    return {
        "PYTHONPATH": str(REPO / "src"),
        "HOME": os.environ["HOME"],
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }


@pytest.mark.model
async def test_a_client_lists_asks_reads_and_survives_a_bad_call(folder):
    from mcp import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    params = StdioServerParameters(
        command=sys.executable, args=server_command(), env=server_env(), cwd=folder
    )
    with (folder / "stderr.log").open("w+") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()

            tools = {tool.name: tool for tool in (await session.list_tools()).tools}
            assert set(tools) == {"ask", "search", "get", "status"}
            for tool in tools.values():
                assert tool.description and tool.title
            ask_parameters = tools["ask"].input_schema["properties"]
            assert ask_parameters["question"]["type"] == "string"
            assert ask_parameters["k"]["type"] == "integer"
            assert ask_parameters["k"]["minimum"] == 1

            result = await session.call_tool("ask", {"question": QUESTION})
            assert not result.is_error, result.content
            answer = result.structured_content
            assert answer["answered"] is True
            first = answer["passages"][0]
            assert "five out of six" in first["quote"]
            assert answer["index"]["refreshed"] is True  # built on first use

            result = await session.call_tool(
                "get",
                {
                    "source": first["source"],
                    "start_line": first["start_line"],
                    "end_line": first["end_line"],
                    "context": 2,
                },
            )
            assert not result.is_error, result.content
            lines = result.structured_content["lines"]
            assert lines[0]["number"] == max(1, first["start_line"] - 2)
            assert any("five out of six" in line["text"] for line in lines)

            empty = await session.call_tool("ask", {"question": "   "})
            assert empty.is_error
            assert "question is empty" in empty.content[0].text

            for bad in (
                ("ask", {"question": QUESTION, "k": 0}),
                ("get", {"source": "../secret.txt", "start_line": 1, "end_line": 1}),
                ("get", {"source": "missing.txt", "start_line": 1, "end_line": 1}),
                ("get", {"source": first["source"], "start_line": 5, "end_line": 2}),
            ):
                result = await session.call_tool(*bad)
                assert result.is_error, bad

            # Still serving, with the model loaded: search ranks without abstaining.
            result = await session.call_tool("search", {"query": "zebra mortgage", "k": 2})
            assert not result.is_error
            assert len(result.structured_content["passages"]) == 2
            status = (await session.call_tool("status", {})).structured_content
            assert status["exists"] and not status["stale"] and status["documents"] == 1
        errlog.seek(0)
        logged = errlog.read()
    assert "building it" in logged  # notices go to stderr, never onto the protocol

    # A server started on the index that now exists loads it ahead (load_ahead), and answers
    # as before.
    async with (
        stdio_client(params, errlog=sys.stderr) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        again = (await session.call_tool("ask", {"question": QUESTION})).structured_content
        assert again["answered"] and again["index"]["refreshed"] is False
        assert again["passages"][0]["quote"] == first["quote"]


@pytest.mark.model
def test_nothing_but_protocol_reaches_stdout(folder):
    """Raw lines, read as a client reads them: every line the server writes is JSON-RPC, even
    while it builds the index and loads the model."""
    messages = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "test", "version": "0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "ask", "arguments": {"question": QUESTION}},
        },
    ]
    process = subprocess.Popen(
        [sys.executable, *server_command()],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=folder,
        env=server_env(),
    )
    watchdog = threading.Timer(300, process.kill)
    watchdog.start()
    try:
        for message in messages:
            process.stdin.write(json.dumps(message) + "\n")
        process.stdin.flush()
        replies = []
        while not any(reply.get("id") == 2 for reply in replies):
            line = process.stdout.readline()
            assert line, process.stderr.read()
            replies.append(json.loads(line))  # anything but JSON fails here
        process.stdin.close()
        assert process.wait(timeout=30) == 0
    finally:
        watchdog.cancel()
        process.kill()
    assert all(reply["jsonrpc"] == "2.0" for reply in replies)
    answer = next(reply for reply in replies if reply.get("id") == 2)["result"]
    assert "five out of six" in answer["structuredContent"]["passages"][0]["quote"]
    assert "building it" in process.stderr.read()


def test_passage_rows_are_the_json_answers_rows():
    plain = Passage(1, "A b.", "A b.", 0, "a.txt", 3, 4, 0.5)
    assert passage_row(plain) == {
        "rank": 1,
        "text": "A b.",
        "quote": "A b.",
        "source": "a.txt",
        "start_line": 3,
        "end_line": 4,
        "score": 0.5,
        "confidence": 0.0,
    }
    assert passage_row(Passage(1, "A b.", "A b.", 0, "a.pdf", 3, 4, 0.5, page=2))["page"] == 2


# The tools in process, through the SDK's own call path, with the fake embedder: fast checks
# of what a client may send.

IO = "Io orbits Jupiter every forty two hours.\nIts volcanoes erupt lava fountains.\n"


@pytest.fixture
def served(make_settings, fake_engine_factory):
    from askseed.ui.mcp_server import build_server

    settings = make_settings()
    (settings.seeds / "io.txt").write_text(IO, encoding="utf-8")
    (settings.seeds.parent / "secret.txt").write_text("not a document\n", encoding="utf-8")
    (settings.seeds / ".env").write_text("TOKEN=hidden\n", encoding="utf-8")
    (settings.seeds / "key.pem").write_text("not a format askseed reads\n", encoding="utf-8")
    (settings.seeds / "out").symlink_to(settings.seeds.parent)
    return build_server(fake_engine_factory(settings))


async def call(server, name: str, **arguments):
    result = await server.call_tool(name, arguments)
    assert not result.is_error, result.content
    return result.structured_content


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("ask", {"question": " \n "}, "question is empty"),
        ("ask", {"question": "Io?", "k": 0}, "k must be from 1 to 20, not 0"),
        ("ask", {"question": "Io?", "k": 21}, "k must be from 1 to 20, not 21"),
        ("search", {"query": ""}, "query is empty"),
        ("search", {"query": "Io", "k": 51}, "k must be from 1 to 50, not 51"),
        ("get", {"source": "../secret.txt", "start_line": 1, "end_line": 1}, "outside"),
        ("get", {"source": "/etc/passwd", "start_line": 1, "end_line": 1}, "outside"),
        ("get", {"source": "missing.txt", "start_line": 1, "end_line": 1}, "not a document"),
        ("get", {"source": ".env", "start_line": 1, "end_line": 1}, "outside"),
        ("get", {"source": "key.pem", "start_line": 1, "end_line": 1}, "not a document"),
        ("get", {"source": "out/secret.txt", "start_line": 1, "end_line": 1}, "links outside"),
        ("get", {"source": "io.txt", "start_line": 2, "end_line": 1}, "before start_line"),
        ("get", {"source": "io.txt", "start_line": 0, "end_line": 1}, "start_line must be at"),
        ("get", {"source": "io.txt", "start_line": 1, "end_line": 1, "page": 0}, "page must"),
        ("ask", {"question": "Io?", "k": "three"}, "^k: input should be a valid integer, "),
        ("ask", {"question": "Io?", "k": 2.5}, "fractional part, not 2.5$"),
        ("ask", {"k": 2}, "^question is missing$"),
        ("ask", {"question": "Io \ud800?"}, "lone surrogate"),
        ("get", {"source": "io.txt", "start_line": 40, "end_line": 41}, "no line 40"),
        ("get", {"source": "io.txt", "start_line": 1, "end_line": 1, "context": 500}, "0 to 200"),
    ],
)
async def test_bad_arguments_are_tool_errors(served, name, arguments, message):
    from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError

    await call(served, "status")  # builds nothing: the index does not exist yet
    with pytest.raises(ToolError, match=message) as raised:
        await served.call_tool(name, arguments)
    assert not isinstance(raised.value, UnexpectedToolError)  # anticipated, not a crash
    assert "\n" not in str(raised.value)


async def test_tools_answer_read_and_report(served):
    status = await call(served, "status")
    assert status["exists"] is False and status["built_at"] is None

    answer = await call(served, "ask", question="How often does Io orbit Jupiter?", k=2)
    assert answer["answered"] and answer["index"]["refreshed"]  # the index was built first
    assert answer["passages"][0]["source"] == "io.txt"
    # As `askseed ask --json` gives them: the answer's confidence is its first passage's.
    assert answer["confidence"] == answer["passages"][0]["confidence"] > 0

    missed = await call(served, "ask", question="zebra mortgage quantum?")
    found = await call(served, "search", query="zebra mortgage quantum?", k=5)
    assert not missed["answered"] and found["passages"]  # search never abstains

    lines = await call(served, "get", source="io.txt", start_line=2, end_line=2, context=0)
    assert lines["lines"] == [{"number": 2, "text": "Its volcanoes erupt lava fountains."}]

    status = await call(served, "status")
    assert status["exists"] and not status["stale"] and status["documents"] == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", status["built_at"])


async def test_a_server_started_before_its_index_loads_once_a_call_has_built_it(
    make_settings, fake_engine_factory, monkeypatch
):
    from askseed.ui.mcp_server import build_server

    settings = make_settings()
    (settings.seeds / "io.txt").write_text(IO, encoding="utf-8")
    engine = fake_engine_factory(settings)
    loads = []
    load = engine.load
    monkeypatch.setattr(engine, "load", lambda: loads.append(load()))
    server = build_server(engine, loaded=False)  # as serve() does when no index exists
    await call(server, "status")
    assert loads == []  # a status call builds nothing
    await call(server, "ask", question="How often does Io orbit Jupiter?")
    assert len(loads) == 1  # the call built the index, then the engine loaded it
    await call(server, "ask", question="What do its volcanoes erupt?")
    await call(server, "search", query="lava", k=1)
    assert len(loads) == 1


def test_ctrl_c_stops_a_server_run_by_hand(folder):
    process = subprocess.Popen(
        [sys.executable, *server_command()],
        stdin=subprocess.PIPE,  # left open: no end of input to stop on
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=folder,
        env=server_env(),
    )
    try:
        assert "serving" in process.stderr.readline()
        time.sleep(0.5)  # into the SDK's loop
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        assert "stopped serving" in process.stderr.read()
        assert process.stdout.read() == ""
    finally:
        process.kill()


class LoadingEngine:
    """What load_ahead calls of an engine: load()."""

    def __init__(self, fails: Exception | None = None):
        self.fails, self.loads = fails, 0

    def load(self) -> None:
        self.loads += 1
        if self.fails is not None:
            raise self.fails


@pytest.mark.parametrize(
    "fails",
    [
        None,  # the warm path before the first question
        AskseedError("the model is missing"),  # left to the first call to report
        RuntimeError("a broken export"),
    ],
)
def test_the_server_loads_ahead_and_leaves_failures_to_the_first_call(fails):
    engine = LoadingEngine(fails)
    load_ahead(engine)  # never raises: it runs on a thread of its own
    assert engine.loads == 1


def test_a_missing_documents_folder_stops_the_server_before_it_serves(tmp_path, capsys):
    from askseed.ui import cli

    code = cli.main(["mcp", "--seeds", str(tmp_path / "missing"), "--index", str(tmp_path / "i")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.splitlines() == [
        f"askseed: error: documents folder {tmp_path / 'missing'} does not exist: "
        "create it or pass --seeds DIR"
    ]
