"""The command line, driven in-process with a fake embedder."""

from __future__ import annotations

import json
import os
import sys

import pytest

from askseed import reports
from askseed.config import Settings
from askseed.ui import arguments, cli

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
    assert answer["index"] == {"documents": 1, "chunks": 1, "refreshed": True, "stale": False}
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


def test_index_says_first_when_it_must_read_touched_files(docs, capsys, monkeypatch):
    # A checkout or a copy without dates: every file has new dates and its old size, so each
    # is read to compare it; above HASHING_NOTICE_BYTES that is said before the long read.
    assert run(capsys, "index")[0] == 0
    document = docs / "seeds" / "io.txt"
    os.utime(document, ns=(document.stat().st_atime_ns, document.stat().st_mtime_ns + 10**9))
    monkeypatch.setattr(reports, "HASHING_NOTICE_BYTES", 1)
    code, out, err = run(capsys, "index")
    assert code == 0
    notice, summary = err.splitlines()
    assert notice == f"askseed: {reports.hashing_notice(1, document.stat().st_size)}"
    assert "nothing re-embedded" in summary


def test_unanswerable_question_exits_1(docs, capsys):
    code, out, err = run(capsys, "zebra quantum mortgage?", "--json")
    assert code == 1
    answer = json.loads(out)
    assert answer["answered"] is False and len(answer["passages"]) <= 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["   "], "question is empty"),
        (["\udcff\udcfe heron"], "bytes that are not UTF-8"),  # how Python keeps such argv
        (["question", "--seeds", "missing-folder"], "missing-folder"),
        (["question", "-k", "0"], "-k"),
        (["ask"], "required: question; see askseed ask --help"),
        (["question", "-k", "many"], "argument -k: invalid int value: 'many'"),
        (["question", "--bogus"], "unrecognized arguments: --bogus"),
        (["index", "--wach"], "unrecognized arguments: --wach; see askseed index --help"),
        (["index", "of", "terms"], 'run askseed ask "index of terms"; see askseed index --help'),
        (["chat", "about", "it's"], 'to ask it as a question, run askseed ask "chat about it\'s"'),
        (["eval", "folder", "--system", "best"], "argument --system: invalid choice"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(docs, capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert len(err.splitlines()) == 1 and err.startswith("askseed")


def test_a_question_need_not_be_quoted(docs, capsys):
    """`askseed how high ...` asks what `askseed "how high ..."` asks, options before or after."""
    run(capsys, "index")
    quoted = run(capsys, "how high do the lava fountains reach on Io?", "--json")
    words = run(
        capsys, "--json", "how", "high", "do", "the", "lava", "fountains", "reach", "on", "Io?"
    )
    after = run(
        capsys, "how", "high", "do", "the", "lava", "fountains", "reach", "on", "Io?", "--json"
    )
    assert quoted == words == after
    assert json.loads(quoted[1])["question"] == "how high do the lava fountains reach on Io?"


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


# Command-line edges: options alone open the chat, --version, an index path that is a file,
# and `path:line` as a link on a terminal.


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], ["chat"]),
        (["--seeds", "d", "--index", "i"], ["chat", "--seeds", "d", "--index", "i"]),
        (["--seeds=d", "--follow-links"], ["chat", "--seeds=d", "--follow-links"]),
        (["--ind", "i"], ["chat", "--ind", "i"]),  # argparse's prefixes
        (["--seeds"], ["chat", "--seeds"]),  # the chat's parser says the value is missing
        (["--follow-links=yes"], ["ask", "--follow-links=yes"]),
        (["--seeds", "d", "what is Io?"], ["ask", "--seeds", "d", "what is Io?"]),
        (["what is Io?", "--index", "i"], ["ask", "what is Io?", "--index", "i"]),
        (["--json"], ["ask", "--json"]),
        (["-k", "5"], ["ask", "-k", "5"]),
        (["index", "--watch"], ["index", "--watch"]),
        (["--version"], ["--version"]),
        (["--seeds", "d", "--version"], ["--version"]),
        (["--index=i", "--follow-links", "-V"], ["-V"]),
        (["--seeds", "d", "what is --version?"], ["ask", "--seeds", "d", "what is --version?"]),
    ],
)
def test_with_command(argv, expected):
    assert arguments.with_command(argv) == expected


def test_location_flags_alone_open_the_chat(docs, capsys, monkeypatch):
    from askseed.ui.tui.app import AskseedApp

    opened = []
    monkeypatch.setattr(AskseedApp, "run", lambda app: opened.append(app.settings))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    code, out, err = run(capsys, "--seeds", "seeds", "--index", "elsewhere")
    assert code == 0, err
    assert [(settings.seeds.name, settings.index.name) for settings in opened] == [
        ("seeds", "elsewhere")
    ]


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(capsys, flag):
    from askseed import __version__

    code, out, err = run(capsys, flag)
    assert code == 0
    assert out.strip() == f"askseed {__version__}"


@pytest.mark.parametrize(
    "argv", [["what is Io?"], ["index"], ["chat"], [], ["index", "--watch"], ["mcp"]]
)
def test_an_index_path_that_is_a_file_is_said_once(docs, capsys, argv):
    (docs / "not-a-folder").write_text("")
    code, out, err = run(capsys, *argv, "--index", "not-a-folder")
    assert code == 2
    assert err.strip().splitlines() == [
        "askseed: error: the index path not-a-folder is a file, not a folder: pass --index "
        "with a folder (askseed creates it if it is missing)"
    ]


def test_path_line_is_a_link_on_a_terminal_only(docs, capsys, monkeypatch):
    import socket

    cli.main(["index"])
    capsys.readouterr()
    code, out, err = run(capsys, "Io lava fountains kilometres")
    assert code == 0 and "seeds/io.txt:2" in out and "\x1b" not in out  # a pipe: plain text

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    code, out, err = run(capsys, "Io lava fountains kilometres")
    url = f"file://{socket.gethostname()}{(docs / 'seeds' / 'io.txt').resolve().as_posix()}"
    assert f"\x1b]8;;{url}\x1b\\seeds/io.txt:2\x1b]8;;\x1b\\" in out


@pytest.mark.parametrize(
    ("name", "encoded"),
    [("io.txt", "io.txt"), ("a b%.txt", "a%20b%25.txt"), ("été #1.md", "%C3%A9t%C3%A9%20%231.md")],
)
def test_file_urls_name_the_host_and_encode_the_path(tmp_path, name, encoded):
    import socket

    from askseed.ui.render import file_url, hyperlink

    url = file_url(tmp_path / name)
    assert url == f"file://{socket.gethostname()}{tmp_path.as_posix()}/{encoded}"
    assert hyperlink("shown", url) == f"\x1b]8;;{url}\x1b\\shown\x1b]8;;\x1b\\"


def test_an_interrupted_build_says_what_it_kept(docs, capsys, monkeypatch):
    """A build commits in batches: Ctrl-C says how many files the index kept, not that it
    is unchanged."""
    from askseed.ingest import indexer

    for number in range(6):
        (docs / "seeds" / f"note{number}.txt").write_text(
            f"Note {number} says the heron colony had {number} nests.\n", encoding="utf-8"
        )
    monkeypatch.setattr(indexer, "EMBED_BATCH", 1)
    monkeypatch.setattr(indexer, "COMMIT_CHUNKS", 1)
    monkeypatch.setattr(indexer, "SAVE_SHARE", 0)
    prepare = indexer._prepare_file
    calls = []

    def interrupted_at_the_fifth(*args, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return prepare(*args, **kwargs)

    monkeypatch.setattr(indexer, "_prepare_file", interrupted_at_the_fifth)
    code, out, err = run(capsys, "index")
    assert code == 130
    assert err.splitlines()[-1] == (
        "askseed: interrupted; the index holds 4 files as last committed: "
        "askseed index brings it up to date"
    )


def test_an_interrupted_first_question_says_nothing_is_indexed(docs, capsys, monkeypatch):
    from askseed.ingest import indexer

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(indexer, "_prepare_file", interrupted)
    code, out, err = run(capsys, "how high do the lava fountains reach?")
    assert code == 130
    assert err.splitlines()[-1] == (
        "askseed: interrupted; nothing is indexed yet: askseed index builds the index"
    )


@pytest.mark.parametrize("argv", [[], ["chat"]])
def test_the_chat_without_a_terminal_points_to_the_one_shot_question(docs, capsys, argv):
    code, out, err = run(capsys, *argv)  # pytest's stdin and stdout are not terminals
    assert code == 2 and out == ""
    assert err.splitlines() == [
        'askseed: error: the chat needs a terminal: in a script, ask askseed "question" --json'
    ]


@pytest.mark.parametrize(
    ("names", "refused"),
    [
        ([], False),
        ([".gitkeep", ".DS_Store"], False),
        (["meta.sqlite", "thesis.docx"], False),  # an index: whatever else is there stays
        (["write.lock", "vectors-1.1.faiss", "vectors-2.3.ivf.tmp", "onnx-0a1b-v1"], False),
        (["thesis.docx"], True),
        (["sub/"], True),
        (["meta.sqlite.bak"], True),
        (["vectors-2024.csv"], True),  # askseed would delete it as one of its vector files
    ],
)
def test_an_index_folder_of_other_files_is_refused(tmp_path, names, refused):
    from askseed.store.folder import ForeignFolderError, check_index_folder

    for name in names:
        if name.endswith("/"):
            (tmp_path / name).mkdir()
        else:
            (tmp_path / name).write_text("")
    if refused:
        with pytest.raises(ForeignFolderError, match="pass --index with a new or empty folder"):
            check_index_folder(tmp_path)
    else:
        check_index_folder(tmp_path)


@pytest.mark.parametrize("argv", [["what is Io?"], ["index"], ["mcp"]])
def test_an_index_folder_of_other_files_is_left_as_it_is(docs, capsys, argv):
    (docs / "mine").mkdir()
    (docs / "mine" / "notes.txt").write_text("my notes")
    code, out, err = run(capsys, *argv, "--index", "mine")
    assert code == 2
    assert err.splitlines() == [
        "askseed: error: the index folder mine holds files that are not askseed's (notes.txt): "
        "pass --index with a new or empty folder"
    ]
    assert [path.name for path in (docs / "mine").iterdir()] == ["notes.txt"]


def test_a_missing_documents_folder_makes_no_index_folder(docs, capsys):
    code, out, err = run(capsys, "index", "--seeds", "nowhere", "--index", "new-index")
    assert code == 2 and "documents folder nowhere does not exist" in err
    assert not (docs / "new-index").exists()


def test_a_folder_of_unreadable_files_says_so(docs, capsys):
    (docs / "bad").mkdir()
    (docs / "bad" / "a.txt").write_bytes(b"\x00\x01")
    (docs / "bad" / "b.md").write_text("")
    code, out, err = run(capsys, "index", "--seeds", "bad", "--index", "bad-index")
    assert code == 2
    assert err.splitlines()[-1] == (
        "askseed: error: no readable documents in bad (2 files could not be read, as said "
        "above): add .docx, .epub, .htm, .html, .md, .pdf, .txt files, or pass --seeds DIR"
    )


def test_an_answer_from_an_index_another_process_is_updating_says_it_is_stale(docs, capsys):
    import fcntl
    import os

    run(capsys, "index")
    (docs / "seeds" / "new.txt").write_text("Europa has an ocean under its ice.\n")
    lock = os.open(docs / "index" / "write.lock", os.O_RDWR)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)  # as another askseed updating the index would
        code, out, err = run(capsys, "how high do the lava fountains reach on Io?", "--json")
    finally:
        os.close(lock)
    assert json.loads(out)["index"] == {
        "documents": 1,
        "chunks": 1,
        "refreshed": False,
        "stale": True,
    }
    assert "another process is updating the index; answering from the current one" in err
