"""The command line: `askseed "question"`, `askseed index`, `askseed chat`.

argparse rather than click: it is in the standard library and costs nothing at start-up,
and the one-shot query is meant to be used like grep.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

COMMANDS = ("ask", "index", "chat", "eval")
# search.SYSTEMS, named here so that building the parser imports nothing heavy
EVAL_SYSTEMS = ("askseed", "lexical", "dense", "rrf", "rrf-best-sentence")
EXIT_ANSWERED, EXIT_NOT_ANSWERED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


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
    parser = argparse.ArgumentParser(
        prog="askseed",
        description="Ask questions of a folder of documents; answers are quoted passages.",
        epilog='Run `askseed "your question"` for a one-shot answer, or `askseed` for the chat.',
    )
    commands = parser.add_subparsers(dest="command", metavar="{ask,index,chat,eval}")
    for name, add_command in _COMMAND_PARSERS.items():
        if only is None or name == only:
            add_command(commands)
    return parser


def _add_ask(commands) -> None:
    ask = commands.add_parser("ask", help="answer one question and exit (the default command)")
    ask.add_argument("question", help="the question, in quotes")
    ask.add_argument("-k", type=int, default=None, metavar="N", help="passages to show (default 3)")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    _add_location_flags(ask)


def _add_index(commands) -> None:
    index = commands.add_parser("index", help="build the index or bring it up to date")
    index.add_argument("--rebuild", action="store_true", help="start from scratch")
    _add_location_flags(index)


def _add_chat(commands) -> None:
    chat = commands.add_parser("chat", help="open the chat (also: askseed with no arguments)")
    _add_location_flags(chat)


def _add_eval(commands) -> None:
    evaluate = commands.add_parser(
        "eval", help="measure retrieval and answers on a benchmark folder (BEIR layout)"
    )
    evaluate.add_argument("folder", type=Path, help="holds corpus.jsonl, queries.jsonl, qrels/")
    evaluate.add_argument(
        "--index", type=Path, help="index folder (default: a cache folder keyed by the corpus)"
    )
    evaluate.add_argument("--max-queries", type=int, metavar="N", help="only the first N queries")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument(
        "--system",
        choices=EVAL_SYSTEMS,
        default="askseed",
        help="askseed (default) or a baseline: keywords only, dense only, plain RRF of the two, "
        "or plain RRF quoting the best sentence of its top 3 passages",
    )


_COMMAND_PARSERS = {"ask": _add_ask, "index": _add_index, "chat": _add_chat, "eval": _add_eval}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        argv = ["chat"]
    elif argv[0] not in COMMANDS and argv[0] not in ("-h", "--help"):
        argv = ["ask", *argv]
    parser = build_parser(only=argv[0] if argv[0] in COMMANDS else None)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return EXIT_USAGE if exit_.code else 0
    try:
        settings = _settings(args) if args.command != "eval" else None
        if args.command == "ask":
            return _ask(args, settings)
        if args.command == "index":
            return _index(args, settings)
        if args.command == "chat":
            return _chat(settings)
        if args.command == "eval":
            return _eval(args)
    except BrokenPipeError:
        # The reader went away (`askseed "q" | head`): like grep, stop quietly.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("askseed: interrupted; the index is unchanged", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - every failure the user can cause ends here
        return _fail(error)
    return EXIT_USAGE


def _fail(error: Exception) -> int:
    from askseed.errors import user_message

    print(f"askseed: error: {user_message(error)}", file=sys.stderr)
    return EXIT_USAGE


def _settings(args: argparse.Namespace):
    from askseed.config import load_settings

    try:
        return load_settings(
            seeds=args.seeds,
            index=args.index,
            follow_links=args.follow_links,
            top_k=getattr(args, "k", None),
        )
    except ValueError as error:
        raise UsageError(str(error)) from error


def _make_engine(settings):
    from askseed.engine import Engine

    return Engine(settings)


def _index(args: argparse.Namespace, settings) -> int:
    from askseed.progress import ProgressLine

    engine = _make_engine(settings)
    with ProgressLine("indexing") as progress:
        report = engine.refresh(
            on_progress=progress.update, rebuild=args.rebuild, on_warning=progress.warn
        )
    print(report.summary(), file=sys.stderr)
    return 0


def _ask(args: argparse.Namespace, settings) -> int:
    question = " ".join(args.question.split())
    if not question:
        raise UsageError('the question is empty: askseed "your question"')
    if settings.top_k < 1:
        raise UsageError(f"-k must be at least 1, not {settings.top_k}")
    engine = _make_engine(settings)
    refreshed = _refresh_if_needed(engine)
    answer = engine.ask(question, refreshed=refreshed)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False))
    else:
        from askseed.render import render_answer

        print(render_answer(answer, settings.seeds, color=sys.stdout.isatty()))
    return EXIT_ANSWERED if answer.answered else EXIT_NOT_ANSWERED


def _refresh_if_needed(engine, say_fresh: bool = False) -> bool:
    """A stale or missing index is brought up to date first, and we say so on stderr.

    A fresh index is only read, never locked, so that several processes can share it."""
    from askseed.store import IndexBusyError

    status = engine.status()
    if status.exists and status.fresh:
        if say_fresh:
            print(
                f"askseed: index up to date: {status.documents} files, {status.chunks} chunks, "
                "nothing re-embedded",
                file=sys.stderr,
            )
        return False
    if status.exists:
        reason = f"{status.changed_files} file(s) changed"
        print(f"askseed: index is stale ({reason}); updating it first", file=sys.stderr)
    else:
        print(f"askseed: no index in {engine.settings.index} yet; building it", file=sys.stderr)
    from askseed.progress import ProgressLine

    try:
        with ProgressLine("indexing") as progress:
            report = engine.refresh(on_progress=progress.update, on_warning=progress.warn)
    except IndexBusyError:
        if not status.exists:
            raise
        print(
            "askseed: another process is updating the index; answering from the current one",
            file=sys.stderr,
        )
        return False
    print(f"askseed: {report.summary()}", file=sys.stderr)
    return True


def _eval(args: argparse.Namespace) -> int:
    from askseed.config import load_settings
    from askseed.evaluate import QueryProgress, prepare_corpus, run_queries
    from askseed.search import SYSTEMS

    if args.max_queries is not None and args.max_queries < 1:
        raise UsageError(f"--max-queries must be at least 1, not {args.max_queries}")
    corpus = prepare_corpus(args.folder, args.index)
    engine = _make_engine(load_settings(seeds=corpus.documents, index=corpus.index))
    _refresh_if_needed(engine, say_fresh=True)  # several evaluations may share one index
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


def _chat(settings) -> int:
    from askseed.tui.app import make_app

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    make_app(settings).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
