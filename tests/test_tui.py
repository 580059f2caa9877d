"""The chat UI, driven with Textual's Pilot against a fake engine (no model, no index)."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest

from askseed.config import Settings
from askseed.engine import AskEngine
from askseed.query.answer import NO_ANSWER, Answer, IndexInfo, Passage
from askseed.reports import Freshness, IndexReport, IndexStatus
from askseed.ui.tui.app import AskseedApp, make_app
from askseed.ui.tui.context import ContextScreen, span_label
from askseed.ui.tui.widgets import ExchangeView, PassageView, describe_status

pytestmark = pytest.mark.anyio  # the async tests run on asyncio, through anyio's plugin

SIZE = (100, 32)
BUILT_AT = 1_700_000_000.0  # 2023-11-14 22:13 UTC

DOCUMENT = [
    "Lupus trial news",
    "",
    "People with severe lupus may no longer need lifelong medication.",
    "A trial led by University College London Hospitals saw five out of six",
    "severe lupus patients achieved remission within months.",
    "Experts called the findings truly groundbreaking.",
    "",
    "The single-dose therapy works by modifying a patient's own immune cells.",
    "It was previously used for cancer.",
    "Each patient received one dose of the modified cells.",
]
STOPWORDS = set(
    [
        "a",
        "an",
        "the",
        "of",
        "by",
        "was",
        "were",
        "with",
        "how",
        "many",
        "what",
        "who",
        "is",
        "it",
        "and",
        "did",
        "do",
        "in",
        "to",
        "for",
    ]
)


def _words(text: str) -> set[str]:
    return {word for word in re.findall(r"[a-z]+", text.lower()) if word not in STOPWORDS}


def _sentences(text: str) -> list[str]:
    return [sentence.strip() for sentence in re.findall(r"[^.]+\.", text)]


class FakeEngine(AskEngine):
    """A keyword matcher over two passages of DOCUMENT, honouring the Engine contract."""

    SOURCE = "lupus.txt"
    PASSAGES = [(3, 6), (8, 10)]  # (start_line, end_line)

    def __init__(self, fresh: bool = True, exists: bool = True, busy: bool = False) -> None:
        self.settings = Settings(seeds=Path("docs"), index=Path("index"))
        self.busy = busy  # another process holds the index's write lock
        self.fresh = fresh
        self.exists = exists
        self.load_gate = threading.Event()
        self.load_gate.set()
        self.load_error: Exception | None = None
        self.asked: list[tuple[str, str | None]] = []
        self.refreshes = 0
        self.progress: list[tuple[int, int]] = []

    def status(self) -> IndexStatus:
        return IndexStatus(
            documents=1 if self.exists else 0,
            chunks=len(self.PASSAGES) if self.exists else 0,
            fresh=self.fresh,
            exists=self.exists,
            built_at=BUILT_AT if self.exists else None,
            changed_files=0 if self.fresh else 1,
        )

    def load(self) -> None:
        self.load_gate.wait(timeout=10)
        if self.load_error:
            raise self.load_error

    def ensure_fresh(self, on_notice=None, on_progress=None, on_warning=None) -> Freshness:
        if self.fresh and self.exists:
            return Freshness(refreshed=False)
        if self.busy:
            return Freshness(refreshed=False, busy=True)
        if on_notice:
            on_notice("updating the index")
        return Freshness(refreshed=True, report=self.refresh(on_progress))

    def refresh(self, on_progress=None, rebuild=False, on_warning=None) -> IndexReport:
        for done in range(1, 4):
            self.progress.append((done, 3))
            if on_progress:
                on_progress(done, 3)
        self.refreshes += 1
        self.fresh = self.exists = True
        return IndexReport(1, 2, 1, 2, 0, 0, 0, 0.1)

    def ask(self, question, k=None, query=None, refreshed=False, retrieval=None) -> Answer:
        self.asked.append((question, query))
        if "explode" in question:
            raise RuntimeError("the index is corrupt")
        passages, best = self._rank(query or question, k or 3)
        answered = best >= 0.5
        return Answer(
            question=question,
            query=query or question,
            answered=answered,
            passages=passages if answered else passages[:1],
            index=IndexInfo(1, len(self.PASSAGES), refreshed=refreshed),
            confidence=0.2 + 0.6 * best,
        )

    def search(self, query, k=10):
        return self._rank(query, k)[0]

    def _rank(self, query: str, k: int) -> tuple[list[Passage], float]:
        """The passages by share of the query's words they hold, and the best share."""
        wanted = _words(query)
        ranked = []
        for start, end in self.PASSAGES:
            text = " ".join(DOCUMENT[start - 1 : end])
            quote = max(_sentences(text), key=lambda sentence: len(wanted & _words(sentence)))
            overlap = len(wanted & _words(text)) / max(1, len(wanted))
            ranked.append((overlap, start, end, text, quote))
        ranked.sort(key=lambda row: -row[0])
        # The confidence grows with the share of the question's words the passage holds.
        passages = [
            Passage(
                rank,
                text,
                quote,
                text.index(quote),
                self.SOURCE,
                start,
                end,
                0.2 + overlap / 2,
                confidence=0.2 + 0.6 * overlap,
            )
            for rank, (overlap, start, end, text, quote) in enumerate(ranked[:k], start=1)
        ]
        return passages, ranked[0][0]

    def context(self, source, start_line, end_line, margin=8, page=None):
        first = max(1, start_line - margin)
        last = min(len(DOCUMENT), end_line + margin)
        return [(line_no, DOCUMENT[line_no - 1]) for line_no in range(first, last + 1)]


def chat(engine: FakeEngine | None = None) -> AskseedApp:
    return make_app(Settings(seeds=Path("docs")), engine=engine or FakeEngine())


async def settle(pilot) -> None:
    """Let workers finish and the messages they post be handled (they may start more). The
    folder's watcher runs until the app closes: it is not waited for."""
    for _ in range(4):
        busy = [worker for worker in pilot.app.workers if worker.group != "watch"]
        if busy:
            await pilot.app.workers.wait_for_complete(busy)
        await pilot.pause()


async def wait_until(pilot, condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.05)


async def ask(pilot, question: str) -> None:
    await pilot.click("#question")
    await pilot.press(*question, "enter")
    await settle(pilot)


def header(app: AskseedApp) -> str:
    """The status line as a user sees it: the running activity only shows while busy."""
    text = str(app.query_one("#status-text").render())
    if app.query_one("#activity").display:
        text += " " + str(app.query_one("#activity").render())
    return text


def transcript_text(app: AskseedApp) -> str:
    return "\n".join(
        str(widget.render()) for widget in app.query("#transcript Static, PassageView")
    )


# The app, driven by Pilot.


async def test_answer_quotes_the_passage():
    app = chat()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await ask(pilot, "How many patients achieved remission?")
        passages = list(app.query(PassageView))
        assert passages[0].passage.quote.startswith("A trial led by")
        assert "five out of six" in transcript_text(app)
        assert NO_ANSWER not in transcript_text(app)
        assert "lupus.txt:3" in transcript_text(app)


async def test_unanswerable_question_says_so_and_labels_the_nearest_miss():
    app = chat()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await ask(pilot, "What is the capital of France?")
        assert NO_ANSWER in transcript_text(app)
        passages = list(app.query(PassageView))
        assert len(passages) == 1 and passages[0].has_class("-miss")
        assert "Nearest miss, not an answer" in str(passages[0].render())


async def test_follow_up_is_searched_with_the_previous_question():
    engine = FakeEngine()
    app = chat(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await ask(pilot, "Who led the trial?")
        await ask(pilot, "and how many doses?")
        assert engine.asked[-1] == ("and how many doses?", "Who led the trial? and how many doses?")
        rewritten = app.query(".rewritten").last()
        assert str(rewritten.render()) == "searched: Who led the trial? and how many doses?"
        assert [exchange.rewritten for exchange in app.exchanges] == [False, True]


async def test_stale_index_is_updated_before_answering_and_ctrl_r_forces_it():
    engine = FakeEngine(fresh=False)
    app = chat(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "stale" in header(app)
        await ask(pilot, "How many patients achieved remission?")
        assert engine.refreshes == 1 and engine.progress[-1] == (3, 3)
        assert "fresh" in header(app) and "stale" not in header(app)
        assert "five out of six" in transcript_text(app)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert engine.refreshes == 2


async def test_stale_index_being_updated_elsewhere_answers_from_the_current_one():
    app = chat(FakeEngine(fresh=False, busy=True))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await ask(pilot, "How many patients achieved remission?")
        assert "Another process is updating the index" in transcript_text(app)
        assert "five out of six" in transcript_text(app)


async def test_question_asked_while_loading_is_queued_then_answered():
    engine = FakeEngine()
    engine.load_gate.clear()
    app = chat(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"How many patients achieved remission?", "enter")
        await pilot.pause()
        assert "loading" in header(app)
        assert "the question is queued" in transcript_text(app)
        assert engine.asked == []
        engine.load_gate.set()
        await settle(pilot)
        assert "five out of six" in transcript_text(app)
        assert "fresh" in header(app)


async def test_missing_index_is_built_before_loading():
    engine = FakeEngine(exists=False)
    app = chat(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert engine.refreshes == 1
        assert "2 chunks" in header(app)


async def test_engine_that_fails_to_load_keeps_the_chat_alive():
    engine = FakeEngine()
    engine.load_error = FileNotFoundError(2, "No such file or directory", "index/meta.sqlite")
    app = chat(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "could not load: index/meta.sqlite: No such file or directory" in header(app)
        await ask(pilot, "Who led the trial?")
        assert "the engine did not load" in transcript_text(app)
        engine.load_error = None
        await pilot.press("ctrl+r")
        await settle(pilot)
        await ask(pilot, "Who led the trial?")
        assert app.query(PassageView)


async def test_engine_error_while_asking_is_one_line_in_the_transcript():
    app = chat()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await ask(pilot, "Why did it explode?")
        assert "Could not answer: unexpected RuntimeError: the index is corrupt" in transcript_text(
            app
        )
        await ask(pilot, "Who led the trial?")
        assert app.query(PassageView)


async def test_enter_opens_context_and_c_copies_quote_with_source():
    app = chat()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await ask(pilot, "How many patients achieved remission?")
        app.query(PassageView).first().focus()
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ContextScreen)
        quoted = [str(line.render()) for line in screen.query(".context-line.-quoted .line-text")]
        assert len(quoted) == 2 and "five out of six" in quoted[0]
        await pilot.press("c")
        assert app.clipboard == (
            "\u201cA trial led by University College London Hospitals saw five out of six "
            "severe lupus patients achieved remission within months.\u201d (lupus.txt:3)"
        )
        await pilot.press("escape")
        assert not isinstance(app.screen, ContextScreen)


async def test_typing_on_a_passage_goes_to_the_question_box():
    app = chat()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await ask(pilot, "Who led the trial?")
        await pilot.press("tab")
        assert isinstance(app.focused, PassageView)
        await pilot.press(*"who")
        assert app.query_one("#question").value == "who"
        assert app.focused is app.query_one("#question")


async def test_tab_goes_to_the_newest_answer():
    app = chat()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await ask(pilot, "Who led the trial?")
        await ask(pilot, "What is the capital of France?")
        await pilot.press("tab")
        assert app.focused is app.query(PassageView).last()
        assert app.focused.nearest_miss


async def test_clicking_a_passage_opens_its_context():
    app = chat()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await ask(pilot, "How many patients achieved remission?")
        await pilot.click(PassageView)
        await settle(pilot)
        assert isinstance(app.screen, ContextScreen)


async def test_up_and_down_recall_earlier_questions():
    app = chat()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await ask(pilot, "Who led the trial?")
        await ask(pilot, "What is lupus?")
        box = app.query_one("#question")
        await pilot.press(*"draft")
        await pilot.press("up")
        assert box.value == "What is lupus?"
        await pilot.press("up", "up")
        assert box.value == "Who led the trial?"
        await pilot.press("down", "down")
        assert box.value == "draft"


async def test_ctrl_l_clears_the_transcript():
    app = chat()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await ask(pilot, "Who led the trial?")
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert not app.query(ExchangeView) and app.exchanges == []


async def test_ctrl_s_saves_the_transcript_as_markdown(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = chat()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await ask(pilot, "How many patients achieved remission?")
        await pilot.press("ctrl+s")
        await pilot.pause()
    [saved] = tmp_path.glob("askseed-transcript-*.md")
    text = saved.read_text()
    assert "## How many patients achieved remission?" in text
    assert "five out of six" in text and "`lupus.txt:3`" in text


async def test_command_palette_saves_the_transcript(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = chat()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await ask(pilot, "Who led the trial?")
        await pilot.press("ctrl+p")
        await pilot.press(*"save transcript")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause()
    assert list(tmp_path.glob("askseed-transcript-*.md"))


async def test_command_palette_reindexes():
    engine = FakeEngine(fresh=False)
    app = chat(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"re-index documents")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(pilot)
        assert engine.refreshes == 1 and "fresh" in header(app)


# Screenshots. Refresh them with: pytest tests/test_tui.py --snapshot-update


def test_snapshot_first_screen(snap_compare, utc):
    async def loaded(pilot):
        await settle(pilot)

    assert snap_compare(chat(), terminal_size=SIZE, run_before=loaded)


def test_snapshot_answer(snap_compare, utc):
    async def answered(pilot):
        await settle(pilot)
        await ask(pilot, "How many patients achieved remission?")

    assert snap_compare(chat(), terminal_size=SIZE, run_before=answered)


def test_snapshot_context_view(snap_compare, utc):
    async def opened(pilot):
        await settle(pilot)
        await ask(pilot, "How many patients achieved remission?")
        pilot.app.query(PassageView).first().focus()
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(chat(), terminal_size=SIZE, run_before=opened)


def test_snapshot_no_answer(snap_compare, utc):
    async def unanswered(pilot):
        await settle(pilot)
        await ask(pilot, "What is the capital of France?")

    assert snap_compare(chat(), terminal_size=SIZE, run_before=unanswered)


# The pure helpers behind the screens.


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (
            IndexStatus(1, 14, True, True, BUILT_AT),
            "1 document · 14 chunks · fresh · built 2023-11-14 22:13",
        ),
        (
            IndexStatus(3, 1, False, True, None, changed_files=2),
            "3 documents · 1 chunk · stale (2 files changed)",
        ),
        (IndexStatus(0, 0, False, False, None), "no index yet"),
    ],
)
def test_describe_status(status, expected, utc):
    assert describe_status(status).plain == expected


# The real engine and model on the real seed.

REPO = Path(__file__).resolve().parent.parent


async def test_the_chat_picks_up_a_new_file_without_ctrl_r(make_settings, fake_engine_factory):
    settings = make_settings()
    (settings.seeds / "io.txt").write_text("Io orbits Jupiter. Its volcanoes erupt lava.\n")
    app = make_app(settings, engine=fake_engine_factory(settings))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "1 document" in header(app)
        await wait_until(pilot, app.folder.watching.is_set)

        comet = "Halley's comet returns every seventy six years."
        (settings.seeds / "comets.txt").write_text(f"Comets.\n{comet}\n")
        await wait_until(pilot, lambda: "comets.txt added" in header(app))
        await settle(pilot)
        assert "2 documents" in header(app) and "fresh" in header(app)
        assert re.search(r"updated \d\d:\d\d: comets\.txt added", header(app))

        (settings.seeds / ".notes.txt").write_text("A hidden file is no document.\n")
        (settings.seeds / "io.txt").unlink()
        await wait_until(pilot, lambda: "io.txt removed" in header(app))
        await settle(pilot)
        assert "1 document " in header(app)

        await ask(pilot, "How often does Halley's comet return?")
        assert comet in transcript_text(app)


@pytest.mark.model
async def test_real_engine_answers_the_seed_question(tmp_path):
    app = make_app(Settings(seeds=REPO / "seeds", index=tmp_path / "index"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await ask(pilot, "How many patients achieved remission?")
        assert "five out of six" in transcript_text(app)
        assert "fresh" in header(app)


@pytest.mark.parametrize(
    ("source", "start", "end", "page", "label"),
    [
        ("notes.md", 4, 4, None, "line 4"),
        ("notes.md", 4, 9, None, "lines 4-9"),
        ("paper.pdf", 4, 9, 3, "page 3, lines 4-9"),
        ("paper.pdf", 40, 2, 3, "page 3, from line 40"),  # runs onto page 4
        ("book.epub", 7, 7, 2, "chapter 2, line 7"),
    ],
)
def test_context_heading_names_the_page(source, start, end, page, label):
    passage = Passage(1, "text", "text", 0, source, start, end, 0.5, page=page)
    assert span_label(passage) == label
