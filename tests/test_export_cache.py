"""One ONNX export per machine: a per-user cache shared by every index folder, made once even
by processes starting together, and made again (with a warning) when damaged."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from askseed.config import Settings, cache_dir
from askseed.engine import Engine
from askseed.model import onnx_export
from askseed.model.embedder import EXPORT_VERSION, INT8_VERSION
from askseed.model.export_cache import export_path, open_cached, remove_index_folder_exports
from askseed.model.onnx_runtime import ONNX_FILE, BrokenExportError

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"ASKSEED_CACHE": "/c", "XDG_CACHE_HOME": "/x"}, "/c"),
        ({"ASKSEED_CACHE": "", "XDG_CACHE_HOME": "/x"}, "/x/askseed"),
        ({"XDG_CACHE_HOME": "/x"}, "/x/askseed"),
        ({}, "~/.cache/askseed"),
    ],
)
def test_cache_dir_follows_the_environment(environ, expected):
    assert cache_dir(environ) == Path(expected).expanduser()


def test_an_entry_is_named_by_fingerprint_and_export_version(tmp_path):
    assert export_path(tmp_path, "abc", "7") == tmp_path / "onnx-abc-v7"


class FakeExports:
    """An export is one file saying "ok"; opening checks it as OnnxModel checks the real one."""

    def __init__(self, delay: float = 0.0):
        self.made = 0
        self.delay = delay

    def export(self, target: Path) -> None:
        self.made += 1
        time.sleep(self.delay)
        staging = target.parent / f".{target.name}-staging"
        staging.mkdir(parents=True)
        (staging / ONNX_FILE).write_text("ok")
        if target.exists():
            for path in target.iterdir():
                path.unlink()
            target.rmdir()
        staging.rename(target)

    @staticmethod
    def open(target: Path) -> str:
        text = (target / ONNX_FILE).read_text()  # FileNotFoundError when missing
        if text != "ok":
            raise BrokenExportError(f"{target}: {ONNX_FILE} is truncated")
        return text


def test_a_missing_entry_is_exported_once_without_a_warning(tmp_path, capfd):
    exports = FakeExports()
    target = tmp_path / "onnx-x-v1"
    assert open_cached(target, exports.export, exports.open) == "ok"
    assert open_cached(target, exports.export, exports.open) == "ok"
    assert exports.made == 1
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("damage", ["truncated", "file missing"])
def test_a_damaged_entry_is_rebuilt_with_a_one_line_warning(tmp_path, capfd, damage):
    exports = FakeExports()
    target = tmp_path / "onnx-x-v1"
    exports.export(target)
    if damage == "truncated":
        (target / ONNX_FILE).write_text("o")
    else:
        (target / ONNX_FILE).unlink()
    assert open_cached(target, exports.export, exports.open) == "ok"
    assert exports.made == 2
    [line] = capfd.readouterr().err.splitlines()
    assert line.startswith("askseed: warning: the cached model export is damaged (")
    assert line.endswith("; exporting it again")


def test_processes_starting_together_export_once(tmp_path):
    exports = FakeExports(delay=0.3)
    target = tmp_path / "onnx-x-v1"
    results: list[str] = []

    def start() -> None:
        results.append(open_cached(target, exports.export, exports.open))

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["ok"] * 4
    assert exports.made == 1
    assert [path.name for path in tmp_path.iterdir() if not path.name.endswith(".lock")] == [
        target.name
    ]


def test_old_exports_leave_an_index_folder_but_never_the_cache(tmp_path, monkeypatch):
    cache, index = tmp_path / "cache", tmp_path / "index"
    monkeypatch.setenv("ASKSEED_CACHE", str(cache))
    for folder in (cache, index):
        (folder / "onnx-0123-v1").mkdir(parents=True)
        (folder / "onnx-0123-v1" / ONNX_FILE).write_bytes(b"export")
    (index / "onnx-notes.txt").write_text("a file, not an export")
    # `--index` may name a folder of the user's own: their folders stay, whatever their name.
    for name, files in [("onnx-models", [ONNX_FILE]), ("onnx-0456-v2", [ONNX_FILE, "mine.txt"])]:
        (index / name).mkdir()
        for file in files:
            (index / name / file).write_text("the user's")
    remove_index_folder_exports(index)
    remove_index_folder_exports(cache)  # `--index` pointed at the cache: nothing goes
    assert sorted(path.name for path in index.iterdir()) == [
        "onnx-0456-v2",
        "onnx-models",
        "onnx-notes.txt",
    ]
    assert (cache / "onnx-0123-v1" / ONNX_FILE).exists()


@pytest.mark.model
def test_two_index_folders_share_one_export_and_a_damaged_one_is_rebuilt(
    tmp_path, monkeypatch, capfd
):
    cache = tmp_path / "cache"
    monkeypatch.setenv("ASKSEED_CACHE", str(cache))
    exported: list[Path] = []
    real_export = onnx_export.export_onnx

    def counting_export(model_dir, target):
        exported.append(target)
        return real_export(model_dir, target)

    monkeypatch.setattr(onnx_export, "export_onnx", counting_export)
    question = "How many lupus patients went into remission?"

    def ask_in(folder: str) -> str:
        engine = Engine(Settings(seeds=REPO / "seeds", index=tmp_path / folder))
        try:
            engine.refresh()
            return engine.ask(question).passages[0].quote
        finally:
            engine.close()

    # An export that askseed's first versions made inside the index folder: deleted.
    (tmp_path / "index-1" / "onnx-0123-v1").mkdir(parents=True)
    (tmp_path / "index-1" / "onnx-0123-v1" / ONNX_FILE).write_bytes(b"old")
    first, second = ask_in("index-1"), ask_in("index-2")
    assert "five out of six" in first and first == second
    [entry] = exported
    assert entry.parent == cache
    assert not list((tmp_path / "index-1").glob("onnx-*"))
    assert "warning" not in capfd.readouterr().err

    model_file = entry / ONNX_FILE
    model_file.write_bytes(model_file.read_bytes()[:1000])  # truncated
    assert ask_in("index-3") == first
    assert exported == [entry, entry]
    warnings = [line for line in capfd.readouterr().err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "cached model export is damaged" in warnings[0]


@pytest.mark.model
def test_the_int8_copy_is_made_once_beside_the_export_and_rebuilt_when_damaged(
    tmp_path, monkeypatch, capfd
):
    """The alignment's int8 copy of the model (model/int8_export.py), which long-lived
    processes read with, is another entry of the same cache: made from the float32 export
    once, shared by index folders, and made again with a warning when damaged, without
    exporting (or importing torch) again."""
    from askseed.model import int8_export

    cache = tmp_path / "cache"
    monkeypatch.setenv("ASKSEED_CACHE", str(cache))
    made: list[Path] = []
    real_quantize = int8_export.quantize_export

    def counting_quantize(source, target):
        made.append(target)
        return real_quantize(source, target)

    monkeypatch.setattr(int8_export, "quantize_export", counting_quantize)
    question = "How many lupus patients went into remission?"

    def ask_in(folder: str) -> str:
        engine = Engine(Settings(seeds=REPO / "seeds", index=tmp_path / folder))
        try:
            engine.refresh()
            engine.load()  # as the chat does: a one-shot question reads in float32 only
            return engine.ask(question).passages[0].quote
        finally:
            engine.close()

    first, second = ask_in("index-1"), ask_in("index-2")
    assert "five out of six" in first and first == second
    [entry] = made
    assert entry.parent == cache and entry.name.endswith(f"-{INT8_VERSION}")
    assert sorted(path.name for path in cache.glob("onnx-*")) == [
        entry.name.removesuffix(f"-{INT8_VERSION}"),
        entry.name,
    ]
    assert "warning" not in capfd.readouterr().err

    # An int8 copy an earlier version made (SUPERSEDED_INT8_VERSIONS), which nothing reads
    # now: deleted, lock file too, when the current copy is made again.
    stale = export_path(
        cache, entry.name.removeprefix("onnx-").split("-v")[0], f"{EXPORT_VERSION}-int8"
    )
    stale.mkdir()
    (stale / ONNX_FILE).write_bytes(b"old")
    (cache / f".{stale.name}.lock").touch()
    (entry / ONNX_FILE).write_bytes((entry / ONNX_FILE).read_bytes()[:1000])  # truncated
    exported: list[Path] = []
    monkeypatch.setattr(onnx_export, "export_onnx", lambda *args: exported.append(args))
    assert ask_in("index-3") == first
    assert made == [entry, entry] and not exported
    assert not stale.exists() and not (cache / f".{stale.name}.lock").exists()
    warnings = [line for line in capfd.readouterr().err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "cached model export is damaged" in warnings[0]
