"""askseed mcp: the documents, served to agents over the Model Context Protocol on stdio.

Built on the official SDK's MCPServer, which owns the protocol. One engine serves every call,
so the model and the index stay loaded between calls; calls run one at a time, as in the
chat, so that two questions never update the index at once. The protocol owns stdout (while
it serves, the SDK points file descriptor 1 at stderr, so a stray print cannot corrupt it);
askseed's notices and the SDK's logs go to stderr.

Every tool checks its arguments and turns any failure into a tool error with askseed's
one-line message: a bad call never ends the server.
"""

import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Annotated, NotRequired, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field, ValidationError

# pydantic reads a TypedDict's fields for the tools' output schemas only from this one on 3.11
from typing_extensions import TypedDict

from askseed import __version__
from askseed.engine import AskEngine
from askseed.errors import user_line
from askseed.ingest.listing import check_documents_folder
from askseed.query.answer import Passage
from askseed.reports import BUSY_NOTICE, Freshness
from askseed.text import is_unicode

MAX_ASK_K = 20
MAX_SEARCH_K = 50
MAX_CONTEXT = 200

INSTRUCTIONS = """\
askseed answers questions about one folder of documents by quoting them, offline.
`ask` returns the passages that answer a question, each with the sentence that answers it
(`quote`) and where it is (`source`, `start_line`, `page` for a PDF), or `answered: false`
when the documents do not answer. `search` returns ranked passages without that decision.
`get` reads the lines around a passage. Quote the documents; do not add to them."""


class PassageRow(TypedDict):
    rank: int
    text: str
    quote: str  # the sentence that answers best, verbatim from text
    source: str  # path relative to the documents folder
    start_line: int
    end_line: int
    score: float  # the passage's cosine to the question: what retrieval saw, not a probability
    confidence: float  # estimated probability that `quote` answers the question
    page: NotRequired[int]  # for a PDF: lines count from the top of this page


class IndexRow(TypedDict):
    documents: int
    chunks: int
    refreshed: bool  # this call built or updated the index
    stale: bool  # the folder changed, but another process is updating the index: as committed


class AskResult(TypedDict):
    question: str
    answered: bool
    confidence: float  # the first passage's: askseed answers when it reaches its line
    passages: list[PassageRow]
    index: IndexRow


class SearchResult(TypedDict):
    query: str
    passages: list[PassageRow]


class LineRow(TypedDict):
    number: int
    text: str


class GetResult(TypedDict):
    source: str
    page: NotRequired[int]
    start_line: int  # of the lines returned, which include `context` around the range asked
    end_line: int
    lines: list[LineRow]


class StatusResult(TypedDict):
    documents_folder: str
    index_folder: str
    exists: bool
    documents: int
    chunks: int
    built_at: str | None  # ISO 8601, UTC
    stale: bool  # files were added, changed or removed since the index was built
    changed_files: int


def passage_row(passage: Passage) -> PassageRow:
    return PassageRow(**passage.to_json())  # the row `askseed ask --json` prints


def log(message: str) -> None:
    print(f"askseed: {message}", file=sys.stderr, flush=True)


Result = TypeVar("Result")


class AskseedTools:
    """The tools' work, on one engine, one call at a time."""

    def __init__(self, engine: AskEngine, loaded: bool = True) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        # Whether the engine is on the warm path (load_ahead). A server started before its
        # index exists gets there once its first call has built the index.
        self._loaded = loaded

    def _call(self, work: Callable[[], Result]) -> Result:
        with self._lock:
            try:
                return work()
            except ToolError:
                raise
            except Exception as error:  # noqa: BLE001 - the client reads it; the server goes on
                raise ToolError(user_line(error)) from error

    def _ensure_fresh(self) -> Freshness:
        """As `askseed "question"` does: a stale index is brought up to date first."""
        freshness = self.engine.ensure_fresh(on_notice=log, on_warning=log)
        if freshness.busy:
            log(BUSY_NOTICE)
        if freshness.report is not None:
            log(freshness.report.summary())
        if freshness.refreshed and not self._loaded:
            self._loaded = True
            load_ahead(self.engine)
        return freshness

    def ask(self, question: str, k: int) -> AskResult:
        question = _one_line(question, "question", "the question to answer from the documents")
        check_range("k", k, 1, MAX_ASK_K)

        def work() -> AskResult:
            freshness = self._ensure_fresh()
            answer = self.engine.ask(question, k=k, refreshed=freshness.refreshed)
            if freshness.busy:
                answer = answer.from_stale_index()
            return AskResult(**answer.to_json())  # what `askseed ask --json` prints

        return self._call(work)

    def search(self, query: str, k: int) -> SearchResult:
        query = _one_line(query, "query", "the words to search the documents for")
        check_range("k", k, 1, MAX_SEARCH_K)

        def work() -> SearchResult:
            self._ensure_fresh()
            passages = self.engine.search(query, k=k)
            return SearchResult(query=query, passages=[passage_row(p) for p in passages])

        return self._call(work)

    def get(
        self, source: str, start_line: int, end_line: int, context: int, page: int | None
    ) -> GetResult:
        check_range("start_line", start_line, 1)
        check_range("end_line", end_line, 1)
        check_range("context", context, 0, MAX_CONTEXT)
        if page is not None:
            check_range("page", page, 1)
        if end_line < start_line:
            raise ToolError(f"end_line ({end_line}) is before start_line ({start_line})")

        def work() -> GetResult:
            numbered = self.engine.context(source, start_line, end_line, context, page=page)
            if not numbered:
                raise ToolError(f"{source} has no line {start_line}: it is shorter than that")
            result = GetResult(
                source=source,
                start_line=numbered[0][0],
                end_line=numbered[-1][0],
                lines=[LineRow(number=number, text=text) for number, text in numbered],
            )
            if page is not None:
                result["page"] = page
            return result

        return self._call(work)

    def status(self) -> StatusResult:
        def work() -> StatusResult:
            status = self.engine.status()
            built = status.built_at
            return StatusResult(
                documents_folder=str(self.engine.settings.seeds),
                index_folder=str(self.engine.settings.index),
                exists=status.exists,
                documents=status.documents,
                chunks=status.chunks,
                built_at=None
                if built is None
                else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(built)),
                stale=status.exists and not status.fresh,
                changed_files=status.changed_files,
            )

        return self._call(work)


def within(low: int, high: int | None = None) -> dict:
    """Bounds for a parameter's schema, so that clients and models see them. They are
    checked by check_range, which says in one line what is wrong, where pydantic's own
    check would answer with a validation report."""
    bounds = {"minimum": low} if high is None else {"minimum": low, "maximum": high}
    return {"json_schema_extra": bounds}


def check_range(name: str, value: int, low: int, high: int | None = None) -> None:
    if value < low or (high is not None and value > high):
        allowed = f"at least {low}" if high is None else f"from {low} to {high}"
        raise ToolError(f"{name} must be {allowed}, not {value}")


def _one_line(text: str, name: str, wanted: str) -> str:
    text = " ".join(text.split())
    if not text:
        raise ToolError(f"the {name} is empty: pass {wanted}")
    if not is_unicode(text):
        raise ToolError(f"the {name} holds a lone surrogate (\\ud800 to \\udfff): pass text")
    return text


class OneLineServer(MCPServer):
    """The SDK's server, with an argument of the wrong type said in one line, as askseed's
    own checks say theirs: the SDK passes pydantic's validation report on, several lines
    and a link per error."""

    async def call_tool(self, name, arguments, context=None):
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as error:
            if not isinstance(error.__cause__, ValidationError):
                raise
            raise ToolError(validation_line(error.__cause__)) from error.__cause__


def validation_line(error: ValidationError) -> str:
    """pydantic's errors as one line: each argument named, with what was wrong with it."""
    problems = []
    for problem in error.errors():
        name = ".".join(str(part) for part in problem["loc"]) or "arguments"
        message = problem["msg"][0].lower() + problem["msg"][1:]
        if problem["type"] == "missing":
            problems.append(f"{name} is missing")
        else:
            problems.append(f"{name}: {message}, not {problem.get('input')!r}")
    return "; ".join(problems)


READ_ONLY = ToolAnnotations(readOnlyHint=True, openWorldHint=False, idempotentHint=True)


def build_server(engine: AskEngine, loaded: bool = True) -> MCPServer:
    """The MCP server over `engine`; `loaded` says whether the engine is loaded already, or
    will be when its index exists (serve's load_ahead)."""
    tools = AskseedTools(engine, loaded)
    server = OneLineServer(
        "askseed",
        title="askseed",
        version=__version__,
        instructions=INSTRUCTIONS,
        log_level="WARNING",  # the SDK logs every request at INFO
    )

    @server.tool(title="Ask the documents", annotations=READ_ONLY)
    def ask(
        question: Annotated[str, Field(description="The question, in plain words.")],
        k: Annotated[
            int, Field(description="How many passages to return at most.", **within(1, MAX_ASK_K))
        ] = 3,
    ) -> AskResult:
        """Answer a question from the documents by quoting them, as `askseed ask --json` does.

        Returns `answered` and the passages, best first: each has the passage `text`, the
        sentence that answers best (`quote`), its `source` file, `start_line`/`end_line`,
        `page` for a PDF, `confidence` (the estimated probability that the quote answers
        the question) and `score` (cosine similarity, 0 to 1: what retrieval saw). The
        answer's own `confidence` is its first passage's. When the documents do not answer,
        `answered` is false and at most one passage is returned: the nearest miss, which is
        not an answer. The index is brought up to date first if the folder changed.
        """
        return tools.ask(question, k)

    @server.tool(title="Search the documents", annotations=READ_ONLY)
    def search(
        query: Annotated[str, Field(description="Words or a question to search for.")],
        k: Annotated[
            int, Field(description="How many passages to return.", **within(1, MAX_SEARCH_K))
        ] = 10,
    ) -> SearchResult:
        """Ranked passages for a query, with their best sentence quoted, and no decision
        whether they answer it: for reading more than `ask` returns. Passages have the same
        fields as `ask`'s."""
        return tools.search(query, k)

    @server.tool(title="Read lines of a document", annotations=READ_ONLY)
    def get(
        source: Annotated[str, Field(description="A document's `source`, as a passage gives it.")],
        start_line: Annotated[int, Field(description="First line wanted (from 1).", **within(1))],
        end_line: Annotated[int, Field(description="Last line wanted.", **within(1))],
        context: Annotated[
            int,
            Field(description="Extra lines to return before and after.", **within(0, MAX_CONTEXT)),
        ] = 8,
        page: Annotated[
            int | None,
            Field(
                description="For a PDF: the page the lines count from, as passages give.",
                **within(1),
            ),
        ] = None,
    ) -> GetResult:
        """Numbered lines of one document: `start_line` to `end_line` with `context` lines
        around them, as they are in the file now. Only a document askseed would index can be
        read: a path outside the documents folder, or to a hidden file, is refused."""
        return tools.get(source, start_line, end_line, context, page)

    @server.tool(title="Index status", annotations=READ_ONLY)
    def status() -> StatusResult:
        """What the index holds: its folders, how many documents and chunks, when it was
        built, and whether it is stale (the folder changed since; the next `ask` or `search`
        updates it first)."""
        return tools.status()

    return server


def serve(engine: AskEngine) -> None:
    """Serve on stdin/stdout until the client closes stdin, or Ctrl-C."""
    # A bad --seeds or --index fails here, as one line, before serving: an agent cannot
    # pass another folder, and every call would fail.
    check_documents_folder(engine.settings.seeds)
    status = engine.status()
    log(f"serving {engine.settings.seeds} over MCP on stdin/stdout, for an MCP client")
    signal.signal(signal.SIGINT, _stop_at_once)
    if status.exists:  # otherwise the first call builds the index
        threading.Thread(
            target=load_ahead, args=(engine,), name="askseed-load", daemon=True
        ).start()
    build_server(engine, loaded=status.exists).run("stdio")


def load_ahead(engine: AskEngine) -> None:
    """Load the model and read the vector files ahead while the client starts up, as the chat
    does, so that the first question does not pay for them and every question gets the warm
    path (Engine.load). The engine's lock makes a call that comes first wait for it."""
    try:
        engine.load()
    except Exception:  # noqa: BLE001 - the first call meets it again and returns it as a tool error
        return


def _stop_at_once(signum: int, frame: object) -> None:
    """Ctrl-C, when the server was started by hand. Left to asyncio, it would cancel the
    server and then wait for the thread reading stdin, until the next line or end of input.
    Leaving at once is safe: an index update takes effect only at its final commit."""
    log("stopped serving")
    sys.stderr.flush()
    os._exit(0)
