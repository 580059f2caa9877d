"""The command line's grammar: its commands and their flags, and how bare words become a
question (`askseed how many patients recovered` asks; `askseed` alone opens the chat).

argparse rather than click: it is in the standard library and costs nothing at start-up,
and the one-shot query is meant to be used like grep. A one-shot question builds only its
own command's parser.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path
from typing import NoReturn

from askseed import __version__
from askseed.query.retrieve import SYSTEMS

COMMANDS = ("ask", "index", "chat", "mcp", "eval")
HELP_FLAGS = ("-h", "--help")
VERSION_FLAGS = ("-V", "--version")
# The flags every command takes: given alone, they open the chat, as no arguments do.
LOCATION_FLAGS = {"--seeds": True, "--index": True, "--follow-links": False}  # takes a value
EVAL_SYSTEMS = tuple(SYSTEMS)
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
    """The whole command line, or with `only` one command's part of it: building all five
    took several milliseconds of every one-shot question."""
    parser = Parser(
        prog="askseed",
        description="Ask questions of a folder of documents; answers are quoted passages.",
        epilog='Run `askseed "your question"` for a one-shot answer, or `askseed` for the chat.',
    )
    parser.add_argument(
        *VERSION_FLAGS, action="version", version=f"askseed {__version__}", help="print the version"
    )
    commands = parser.add_subparsers(dest="command", metavar="{" + ",".join(COMMANDS) + "}")
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
        "plain RRF quoting the best sentence of its top 3 passages, or askseed deciding by "
        "its older support rule",
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
