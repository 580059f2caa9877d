"""`askseed index --watch`: the real command in a subprocess (this file, run as a script: see
the bottom), with the fake embedder in place of the model, on a folder that changes."""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from askseed.store.reader import read_catalogue
from askseed.watch import Burst, Changed, is_watched, what_changed

REPO = Path(__file__).resolve().parent.parent
# A line per update: "askseed: 12:03:04 notes.txt added: indexed 3 files, ..."
UPDATE = re.compile(r"^askseed: \d\d:\d\d:\d\d ")
WITHIN = 10.0  # seconds an update may take to show in the index: "a few seconds", with margin


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/docs/notes.txt", True),
        ("/docs/deep/er/notes.md", True),
        ("/docs/.hidden.txt", False),
        ("/docs/.git/objects/ab", False),
        ("/docs/sub/.cache/x.txt", False),
        ("/docs/idx", False),  # the index, inside the documents folder
        ("/docs/idx/index.sqlite-wal", False),
        ("/docs/idxnot/notes.txt", True),
        ("/elsewhere/notes.txt", False),
    ],
)
def test_is_watched(path, expected):
    assert is_watched(Path(path), Path("/docs"), Path("/docs/idx")) is expected


@pytest.mark.parametrize(
    ("events", "existing", "described"),
    [
        ({}, set(), "changed before watching began"),
        ({"a.txt": {"added"}}, {"a.txt"}, "a.txt added"),
        ({"a.txt": {"added", "modified"}}, {"a.txt"}, "a.txt changed"),
        ({"a.txt": {"modified"}}, {"a.txt"}, "a.txt changed"),
        ({"a.txt": {"added", "deleted"}}, set(), "a.txt removed"),
        ({"a.txt": {"deleted"}, "b.txt": {"added"}}, {"b.txt"}, "a.txt renamed to b.txt"),
        ({"a.txt": {"modified"}, "b.txt": {"added"}}, {"a.txt", "b.txt"}, "2 files changed"),
    ],
)
def test_what_changed(events, existing, described):
    burst = what_changed(events, lambda path: path in existing)
    assert burst.describe() == described


def test_a_burst_lists_its_files_in_order():
    burst = what_changed({"b.txt": {"added"}, "a.txt": {"deleted"}}, lambda path: path != "a.txt")
    assert burst == Burst((Changed("a.txt", "removed"), Changed("b.txt", "added")))


class Watcher:
    """`askseed index --watch` running, its stderr read line by line as it comes."""

    def __init__(self, docs: Path, index: Path, command: list[str] | None = None) -> None:
        argv = ["index", "--watch", "--seeds", str(docs), "--index", str(index)]
        self.process = subprocess.Popen(
            command or [sys.executable, __file__, *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            # A shell's background job (`... &`) starts with SIGINT ignored, and Python then
            # leaves it ignored, as a program launched that way should: stop() would hang.
            preexec_fn=_interruptible,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = WITHIN) -> str:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            self.seen.append(line)
            if re.search(pattern, line):
                return line
        pytest.fail(f"no line matching {pattern!r} within {timeout}s; saw {self.seen}")

    def drain(self, seconds: float) -> list[str]:
        """Lines that come within `seconds`."""
        deadline = time.monotonic() + seconds
        got = []
        while (left := deadline - time.monotonic()) > 0:
            try:
                got.append(self.lines.get(timeout=left))
            except queue.Empty:
                break
        self.seen.extend(got)
        return got

    def stop(self, signum: int = signal.SIGINT) -> int:
        self.process.send_signal(signum)
        code = self.process.wait(timeout=30)
        self.drain(0.5)
        return code


def _interruptible() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def indexed(index: Path) -> dict[str, str]:
    """The index's documents and their digests."""
    files = read_catalogue(index).files
    return {rel: record.sha256 for rel, record in files.items()}


def until(condition, what: str) -> float:
    """Seconds until `condition()` holds; fails after WITHIN."""
    started = time.monotonic()
    while time.monotonic() - started < WITHIN:
        if condition():
            return time.monotonic() - started
        time.sleep(0.1)
    pytest.fail(f"{what} did not happen within {WITHIN}s")


def test_watch_follows_adds_edits_deletes_renames_and_bursts(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    index = docs / "idx"  # inside the folder: its own writes must not set off updates
    for name in ("keep", "edit", "gone", "old"):
        (docs / f"{name}.txt").write_text(f"The {name} file talks about {name} things.\n")
    watcher = Watcher(docs, index)
    try:
        watcher.wait_for("watching .* for changes")
        assert set(indexed(index)) == {"keep.txt", "edit.txt", "gone.txt", "old.txt"}

        (docs / "new.txt").write_text("A new file about comets.\n")
        until(lambda: "new.txt" in indexed(index), "adding new.txt")
        watcher.wait_for(r"new\.txt added: indexed 5 files")

        before = indexed(index)["edit.txt"]
        (docs / "edit.txt").write_text("The edit file now talks about asteroids.\n")
        until(lambda: indexed(index).get("edit.txt") != before, "editing edit.txt")

        (docs / "gone.txt").unlink()
        until(lambda: "gone.txt" not in indexed(index), "deleting gone.txt")

        (docs / "old.txt").rename(docs / "renamed.txt")

        def renamed() -> bool:
            files = indexed(index)
            return "renamed.txt" in files and "old.txt" not in files

        until(renamed, "renaming old.txt")

        (docs / ".hidden.txt").write_text("Hidden files are not documents.\n")
        (docs / "bad.pdf").write_bytes(b"%PDF-1.7 this is not really a PDF")
        watcher.wait_for("warning: .*bad.pdf")  # and it keeps watching:
        watcher.drain(1.5)

        updates_before = sum(bool(UPDATE.match(line)) for line in watcher.seen)
        for number in range(50):
            (docs / f"burst{number:02}.txt").write_text(f"Burst file number {number}.\n")
        until(lambda: sum(name.startswith("burst") for name in indexed(index)) == 50, "a burst")
        watcher.drain(3)  # the index's own writes, and anything late, would show here
        updates = sum(bool(UPDATE.match(line)) for line in watcher.seen) - updates_before
        assert 1 <= updates <= 3, watcher.seen
        assert ".hidden.txt" not in indexed(index)
    finally:
        code = watcher.stop()
    assert code == 0, watcher.seen
    assert any("stopped watching" in line for line in watcher.seen)
    assert not any("Traceback" in line for line in watcher.seen)


def test_sigterm_stops_a_watch_as_ctrl_c_does(tmp_path):
    """How a service manager stops it: the same last line, exit 0, not a silent 143."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Herons nest in colonies.\n")
    watcher = Watcher(docs, tmp_path / "index")
    watcher.wait_for("watching .* for changes")
    assert watcher.stop(signal.SIGTERM) == 0
    assert watcher.seen[-1].startswith("askseed: stopped watching"), watcher.seen


@pytest.mark.model
def test_watch_with_the_real_model_answers_from_a_file_added_while_watching(tmp_path):
    """The installed command, no fakes: what the watch indexed answers the next question,
    which finds the index fresh and updates nothing."""
    docs = tmp_path / "seeds"
    shutil.copytree(REPO / "seeds", docs)
    index = tmp_path / "index"
    command = [sys.executable, "-m", "askseed"]
    location = ["--seeds", str(docs), "--index", str(index)]
    watcher = Watcher(docs, index, command=[*command, "index", "--watch", *location])
    try:
        watcher.wait_for("watching .* for changes", timeout=120)  # the first build exports
        comet = "Halley's comet returns to the inner solar system every seventy six years."
        (docs / "comets.txt").write_text(f"Comets\n\n{comet}\n", encoding="utf-8")
        watcher.wait_for(r"comets\.txt added: indexed 2 files")
    finally:
        code = watcher.stop()
    assert code == 0, watcher.seen

    question = "How often does Halley's comet come back?"
    result = subprocess.run(
        [*command, question, "--json", *location], capture_output=True, text=True, timeout=120
    )
    answer = json.loads(result.stdout)
    assert answer["passages"][0]["quote"] == comet
    assert answer["index"]["refreshed"] is False  # the watch had already indexed it


def test_watch_on_a_missing_folder_is_one_line_and_exit_2(tmp_path):
    result = subprocess.run(
        [sys.executable, __file__, "index", "--watch", "--seeds", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "nope" in result.stderr and len(result.stderr.strip().splitlines()) == 1


# --- the subprocess --------------------------------------------------------------------------


def run_with_fake_embedder(argv: list[str]) -> int:
    """The command line as installed, with the fake embedder for the model."""
    from askseed.engine import Engine
    from askseed.ui import cli
    from conftest import FakeEmbedder

    cli._make_engine = lambda settings: Engine(settings, embedder=FakeEmbedder())
    return cli.main(argv)


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.exit(run_with_fake_embedder(sys.argv[1:]))
