"""The command line: `askseed "question"`, `askseed index [--watch]`, `askseed chat`,
`askseed mcp`, `askseed eval`.

argparse rather than click: it is in the standard library and costs nothing at start-up,
and the one-shot query is meant to be used like grep.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import sys
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

from askseed import __version__
from askseed.config import Settings, load_settings
from askseed.engine import Engine
from askseed.errors import UsageError, user_message
from askseed.query.retrieve import SYSTEMS
from askseed.reports import BUSY_NOTICE, count
from askseed.store.reader import read_catalogue
from askseed.text import is_unicode
from askseed.ui.progress import ProgressLine
from askseed.ui.render import render_answer, render_explanation

COMMANDS = ("ask", "index", "chat", "mcp", "eval")
HELP_FLAGS = ("-h", "--help")
VERSION_FLAGS = ("-V", "--version")
# The flags every command takes: given alone, they open the chat, as no arguments do.
LOCATION_FLAGS = {"--seeds": True, "--index": True, "--follow-links": False}  # takes a value
# query.retrieve.SYSTEMS, named here so that building the parser imports nothing heavy
EVAL_SYSTEMS = ("askseed", "lexical", "dense", "rrf", "rrf-best-sentence", "support-rule")
EXIT_ANSWERED, EXIT_NOT_ANSWERED, EXIT_USAGE = 0, 1, 2


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error on one line, as askseed's other errors are: the usage
    argparse would print above it is one --help away. Its commands' parsers are of this class
    too (add_subparsers makes them so)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}; see {self.prog} --help\n")


def _add_location_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--seeds", type=Path, help="documents folder (default ./seeds, or ASKSEED_SEEDS)"
    )
    parser.add_argument(
        "--index", type=Path, help="index folder (default ./index, or ASKSEED_INDEX)"
    )
    parser.add_argument(
        "--follow-links",
        action="store_true",
        default=None,
        help="follow symlinks that point outside the documents folder",
    )


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or with `only` one command's part of it: building all four
    took several milliseconds of every one-shot question."""
    parser = Parser(
        prog="askseed",
        description="Ask questions of a folder of documents; answers are quoted passages.",
        epilog='Run `askseed "your question"` for a one-shot answer, or `askseed` for the chat.',
    )
    parser.add_argument(
        *VERSION_FLAGS, action="version", version=f"askseed {__version__}", help="print the version"
    )
    commands = parser.add_subparsers(dest="command", metavar="{ask,index,chat,mcp,eval}")
    parser.set_defaults(commands=commands.choices)
    for name, add_command in _COMMAND_PARSERS.items():
        if only is None or name == only:
            add_command(commands)
    return parser


def _add_ask(commands) -> None:
    ask = commands.add_parser("ask", help="answer one question and exit (the default command)")
    # Its words, so that `askseed how many patients recovered` asks as the quoted form does.
    ask.add_argument(
        "question", nargs="+", help="the question (in quotes, the shell leaves ? * ' alone)"
    )
    ask.add_argument("-k", type=int, default=None, metavar="N", help="passages to show (default 3)")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument(
        "--explain",
        action="store_true",
        help="also show the features and the confidence behind answering or refusing",
    )
    _add_location_flags(ask)


def _add_index(commands) -> None:
    index = commands.add_parser("index", help="build the index or bring it up to date")
    index.add_argument("--rebuild", action="store_true", help="start from scratch")
    index.add_argument(
        "--watch",
        action="store_true",
        help="then keep watching the documents folder and update the index after each change "
        "(Ctrl-C stops)",
    )
    _add_location_flags(index)


def _add_chat(commands) -> None:
    chat = commands.add_parser(
        "chat",
        help="open the chat (also: askseed with no question, with or without --seeds and --index)",
    )
    _add_location_flags(chat)


def _add_mcp(commands) -> None:
    mcp = commands.add_parser(
        "mcp",
        help="serve the documents to agents: a Model Context Protocol server on stdin/stdout",
        description="A Model Context Protocol server over stdio, with the tools ask, search, "
        "get and status. Register it with a client as the command `askseed mcp`; see README.",
    )
    _add_location_flags(mcp)


def _add_eval(commands) -> None:
    evaluate = commands.add_parser(
        "eval", help="measure retrieval and answers on a benchmark folder (BEIR layout)"
    )
    evaluate.add_argument("folder", type=Path, help="holds corpus.jsonl, queries.jsonl, qrels/")
    evaluate.add_argument(
        "--index", type=Path, help="index folder (default: a cache folder keyed by the corpus)"
    )
    evaluate.add_argument(
        "--max-queries",
        type=int,
        metavar="N",
        help="at most N queries, each kind (answerable, unanswerable.jsonl's) in proportion",
    )
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument(
        "--system",
        choices=EVAL_SYSTEMS,
        default="askseed",
        help="askseed (default) or a baseline: keywords only, dense only, plain RRF of the two, "
        "or plain RRF quoting the best sentence of its top 3 passages",
    )


_COMMAND_PARSERS = {
    "ask": _add_ask,
    "index": _add_index,
    "chat": _add_chat,
    "mcp": _add_mcp,
    "eval": _add_eval,
}


def with_command(argv: list[str]) -> list[str]:
    """The arguments with their command named: a question alone means `ask`, nothing or
    only --seeds/--index/--follow-links means the chat."""
    if argv and (argv[0] in COMMANDS or argv[0] in HELP_FLAGS + VERSION_FLAGS):
        return argv
    version = [flag for flag in argv if flag in VERSION_FLAGS]
    if version and only_location_flags([flag for flag in argv if flag not in VERSION_FLAGS]):
        return version[:1]  # `askseed --seeds X --version` asks for the version, not a question
    if only_location_flags(argv):
        return ["chat", *argv]
    return ["ask", *argv]


def only_location_flags(argv: list[str]) -> bool:
    """Whether argv is nothing but location flags and their values (argparse's unambiguous
    prefixes and --flag=value forms included)."""
    position = 0
    while position < len(argv):
        name, has_value, _ = argv[position].partition("=")
        matches = [flag for flag in LOCATION_FLAGS if len(name) > 2 and flag.startswith(name)]
        if not name.startswith("--") or len(matches) != 1:
            return False
        takes_value = LOCATION_FLAGS[matches[0]]
        if has_value and not takes_value:
            return False
        position += 2 if takes_value and not has_value else 1
    return True  # a flag missing its value goes to the chat's parser, which says so


def unrecognized(argv: list[str], extra: list[str]) -> str:
    """argparse's complaint, with the way out when the words were a question that begins
    with a command's name (`askseed index of terms`): only `ask` takes such a question."""
    message = f"unrecognized arguments: {' '.join(extra)}"
    if argv[0] == "ask" or any(word.startswith("-") for word in argv):
        return message
    return f"{message}; to ask it as a question, run askseed ask {shell_quoted(' '.join(argv))}"


def shell_quoted(text: str) -> str:
    """`text` as one shell word, in double quotes when that needs no escape (questions hold
    apostrophes, which shlex.quote would spell '"'"')."""
    if any(character in text for character in '"$`\\!'):
        return shlex.quote(text)
    return f'"{text}"'


def main(argv: list[str] | None = None) -> int:
    argv = with_command(list(sys.argv[1:] if argv is None else argv))
    parser = build_parser(only=argv[0] if argv[0] in COMMANDS else None)
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # said by the command's parser, whose --help lists its flags
            args.commands[args.command].error(unrecognized(argv, extra))
    except SystemExit as exit_:
        return EXIT_USAGE if exit_.code else 0
    settings = None
    try:
        settings = _settings(args) if args.command != "eval" else None
        if args.command == "ask":
            return _ask(args, settings)
        if args.command == "index":
            return _index(args, settings)
        if args.command == "chat":
            return _chat(settings)
        if args.command == "mcp":
            return _mcp(settings)
        if args.command == "eval":
            return _eval(args)
    except BrokenPipeError:
        # The reader went away (`askseed "q" | head`): like grep, stop quietly.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print(f"askseed: interrupted; {what_is_kept(settings)}", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - every failure the user can cause ends here
        return _fail(error)
    return EXIT_USAGE


def run() -> None:
    """The `askseed` command: main(), then an exit that skips the interpreter's teardown.

    Tearing down onnxruntime, FAISS and numpy costs ~45 ms, a sixth of a one-shot question,
    and frees nothing the system would not: by the time main() returns, every answer is
    printed and every index write committed (the store's commits are atomic, so even a kill
    loses nothing). Only the output buffers need flushing first.
    """
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):  # the reader went away, or main() closed stderr
        pass
    os._exit(code)


def what_is_kept(settings: Settings | None) -> str:
    """What an interrupted command leaves: a build commits in batches, so an interrupted one
    keeps the files of the batches it committed (and a question's update likewise)."""
    if settings is None:
        return "nothing was written"
    try:
        _, files, _ = read_catalogue(settings.index)
    except Exception:  # noqa: BLE001 - a damaged index is reported by the next command
        return "run askseed index to check the index"
    if not files:
        return "nothing is indexed yet: askseed index builds the index"
    return (
        f"the index holds {count(len(files), 'file')} as last committed: "
        "askseed index brings it up to date"
    )


def _fail(error: Exception) -> int:
    print(f"askseed: error: {user_message(error)}", file=sys.stderr)
    return EXIT_USAGE


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(
        seeds=args.seeds,
        index=args.index,
        follow_links=args.follow_links,
        top_k=getattr(args, "k", None),
    )


def _make_engine(settings: Settings) -> Engine:
    return Engine(settings)


def _index(args: argparse.Namespace, settings: Settings) -> int:
    engine = _make_engine(settings)
    try:
        with ProgressLine("indexing") as progress:
            report = engine.refresh(
                on_progress=progress.update, rebuild=args.rebuild, on_warning=progress.warn
            )
    except KeyboardInterrupt:
        if not args.watch:
            raise
        # Ctrl-C is how a watch ends, even this early.
        print(f"askseed: stopped; {what_is_kept(settings)}", file=sys.stderr)
        return 0
    print(report.summary(), file=sys.stderr)
    if args.watch:
        return _watch(engine)
    return 0


def _watch(engine: Engine) -> int:
    """Follow the documents folder until Ctrl-C: one line per update, on stderr."""
    # Each command's own modules load when it runs, as the chat's and the MCP server's do: a
    # one-shot question, the command run most, pays for none of them (tests/test_lean.py).
    from askseed.watch import WatchUpdate, follow_folder

    def watching() -> None:
        seeds = engine.settings.seeds
        print(f"askseed: watching {seeds} for changes (Ctrl-C stops)", file=sys.stderr, flush=True)

    def warn(message: str) -> None:
        print(f"askseed: warning: {message}", file=sys.stderr, flush=True)

    def updated(update: WatchUpdate) -> None:
        print(f"askseed: {update.summary()}", file=sys.stderr, flush=True)

    # A service manager stops a watch with SIGTERM: it ends as Ctrl-C does, with its line.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        follow_folder(engine, updated, on_warning=warn, on_watching=watching)
    except KeyboardInterrupt:
        # An update takes effect at its final commit: stopped earlier, it left no trace.
        print(
            "askseed: stopped watching; the index is up to date as of the last update",
            file=sys.stderr,
        )
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    question = " ".join(" ".join(args.question).split())
    if not question:
        raise UsageError('the question is empty: askseed "your question"')
    if not is_unicode(question):
        raise UsageError("the question holds bytes that are not UTF-8: ask it in UTF-8 text")
    if settings.top_k < 1:
        raise UsageError(f"-k must be at least 1, not {settings.top_k}")
    engine = _make_engine(settings)
    freshness = _ensure_fresh(engine)
    answer = engine.ask(question, refreshed=freshness.refreshed)
    if freshness.busy:
        answer = replace(answer, index=replace(answer.index, stale=True))
    if args.json:
        print(json.dumps(answer.to_json(explain=args.explain), ensure_ascii=False))
    else:
        terminal = sys.stdout.isatty()
        print(render_answer(answer, settings.seeds, color=terminal, links=terminal))
        if args.explain:
            print("\n" + render_explanation(answer))
    return EXIT_ANSWERED if answer.answered else EXIT_NOT_ANSWERED


def _ensure_fresh(engine: Engine):
    """engine.ensure_fresh, told on stderr: why it updates, its progress, and its summary."""
    with ProgressLine("indexing") as progress:

        def notice(message: str) -> None:
            print(f"askseed: {message}", file=sys.stderr)

        freshness = engine.ensure_fresh(
            on_notice=notice, on_progress=progress.update, on_warning=progress.warn
        )
    if freshness.busy:
        print(f"askseed: {BUSY_NOTICE}", file=sys.stderr)
    if freshness.report is not None:
        print(f"askseed: {freshness.report.summary()}", file=sys.stderr)
    return freshness


def _eval(args: argparse.Namespace) -> int:
    from askseed.eval.runner import QueryProgress, prepare_corpus, run_queries  # see _watch

    if args.max_queries is not None and args.max_queries < 1:
        raise UsageError(f"--max-queries must be at least 1, not {args.max_queries}")
    corpus = prepare_corpus(args.folder, args.index)
    engine = _make_engine(load_settings(seeds=corpus.documents, index=corpus.index))
    # Several evaluations may share one index: say when it is already up to date.
    freshness = _ensure_fresh(engine)
    if not freshness.refreshed and not freshness.busy:
        status = engine.status()
        print(
            f"askseed: index up to date: {count(status.documents, 'file')}, "
            f"{count(status.chunks, 'chunk')}, nothing re-embedded",
            file=sys.stderr,
        )
    result = run_queries(
        engine,
        corpus,
        args.max_queries,
        SYSTEMS[args.system],
        on_progress=QueryProgress(sys.stderr),
        name=args.system,
    )
    print(json.dumps(result.to_json()) if args.json else result.summary())
    return 0


def _chat(settings: Settings) -> int:
    # Textual takes a while to import, and only the chat needs it.
    from askseed.ui.tui.app import make_app

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    app = make_app(settings)  # a bad --seeds or --index is said first
    # Without a terminal Textual would draw its screens into a pipe and read piped text as
    # keystrokes, and wait there: `echo question | askseed` would hang.
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError('the chat needs a terminal: in a script, ask askseed "question" --json')
    app.run()
    return 0


def _mcp(settings: Settings) -> int:
    # The MCP SDK takes a while to import, and only this command needs it.
    from askseed.ui.mcp_server import serve

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    serve(_make_engine(settings))
    return 0


if __name__ == "__main__":
    run()
