"""The command line: `askseed "question"`, `askseed index [--watch]`, `askseed chat`,
`askseed mcp`, `askseed eval`, each run here, with their messages and exit codes; what the
words mean is arguments.py's.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys

from askseed.config import Settings, load_settings
from askseed.engine import Engine
from askseed.errors import UsageError, user_message
from askseed.query.retrieve import SYSTEMS
from askseed.reports import BUSY_NOTICE, count
from askseed.store.reader import read_catalogue
from askseed.text import is_unicode
from askseed.ui.arguments import (
    COMMANDS,
    EXIT_ANSWERED,
    EXIT_NOT_ANSWERED,
    EXIT_USAGE,
    build_parser,
    unrecognized,
    with_command,
)
from askseed.ui.progress import ProgressLine, QueryProgress
from askseed.ui.render import render_answer, render_explanation


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
        files = read_catalogue(settings.index).files
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
                on_progress=progress.update,
                rebuild=args.rebuild,
                on_warning=progress.warn,
                on_notice=progress.note,
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
        answer = answer.from_stale_index()
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
    from askseed.eval.runner import prepare_corpus, run_queries  # see _watch

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
