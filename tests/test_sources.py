"""Finding documents in a folder and reading them, against a folder full of trouble."""

from __future__ import annotations

import inspect
import os
import sys
from pathlib import Path

import pytest

from askseed.errors import AskseedError
from askseed.ingest import readers
from askseed.ingest.listing import (
    FORMATS,
    SourceFile,
    SourcesError,
    iter_source_files,
    source_file,
)
from askseed.ingest.readers import READERS, SkipFile, read_document
from hostile import GOOD_SENTENCES, SILENT, build_hostile_folder


def walk(root: Path, **options) -> tuple[list[SourceFile], list[tuple[str, str]]]:
    skips: list[tuple[str, str]] = []
    found = list(
        iter_source_files(root, on_skip=lambda rel, why: skips.append((rel, why)), **options)
    )
    return found, skips


def read_all(root: Path, **options):
    """{rel: Document} for files read, and every (rel, message) a user would see."""
    found, messages = walk(root, **options)
    documents = {}
    for source in found:
        try:
            documents[source.rel] = read_document(source)
        except SkipFile as reason:
            messages.append((source.rel, str(reason)))
            continue
        messages += [(source.rel, warning) for warning in documents[source.rel].warnings]
    return documents, messages


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile") / "docs"
    expected = build_hostile_folder(root)
    documents, messages = read_all(root)
    return root, expected, documents, messages


def test_each_troubled_file_gets_exactly_one_message_with_its_reason(hostile):
    _, expected, _, messages = hostile
    by_file: dict[str, list[str]] = {}
    for rel, message in messages:
        by_file.setdefault(rel, []).append(message)
    assert by_file.keys() == expected.keys()
    for rel, keyword in expected.items():
        [message] = by_file[rel]
        assert keyword.lower() in message.lower(), (rel, message)
        assert "\n" not in message


def test_good_files_are_read_with_their_sentences(hostile):
    _, expected, documents, _ = hostile
    for rel, sentence in GOOD_SENTENCES.items():
        assert sentence in documents[rel].text, rel
        if rel not in expected:
            assert documents[rel].warnings == (), rel


def test_hidden_and_unsupported_files_are_neither_read_nor_reported(hostile):
    _, _, documents, messages = hostile
    seen = set(documents) | {rel for rel, _ in messages}
    for rel in SILENT:
        assert rel not in seen
    assert not any(part.startswith(".") for rel in seen for part in rel.split("/"))


def test_a_symlinked_file_inside_the_folder_is_read_but_a_symlinked_folder_is_not(hostile):
    _, _, documents, _ = hostile
    assert documents["inside-link.txt"].text == documents["otters.txt"].text
    assert not any(rel.startswith("inside-folder-link/") for rel in documents)


def test_walk_is_sorted_and_deterministic(hostile):
    root = hostile[0]
    first = [source.rel for source in walk(root)[0]]
    assert first == sorted(first, key=lambda rel: rel.split("/"))
    assert first == [source.rel for source in walk(root)[0]]


def test_source_files_carry_absolute_paths_and_stat_data(hostile):
    root = hostile[0]
    for source in walk(root)[0]:
        assert source.path.is_absolute()
        assert source.path == root.resolve() / source.rel
        assert source.size == source.path.stat().st_size


def test_follow_links_reads_outside_targets_and_still_stops_at_loops(tmp_path):
    root = tmp_path / "docs"
    build_hostile_folder(root)
    outside = tmp_path / "docs-outside"
    (outside / "nested").mkdir()
    (outside / "nested" / "back-up").symlink_to(outside)  # a loop outside the folder
    (outside / "nested" / "home").symlink_to(root)  # back into the documents folder
    documents, messages = read_all(root, follow_links=True)
    assert "Outside the folder" in documents["outside-file.txt"].text
    assert "Outside the folder" in documents["outside-folder/secret.txt"].text
    assert (
        "outside-folder/nested/back-up",
        "symlink loop (points to a folder that contains it)",
    ) in messages
    assert not any("outside" in message for _, message in messages)
    assert not any(rel.startswith("outside-folder/nested/home/") for rel in documents)


def test_two_links_to_the_same_outside_folder_walk_it_once(tmp_path):
    root, outside = tmp_path / "docs", tmp_path / "elsewhere"
    root.mkdir()
    outside.mkdir()
    (outside / "note.txt").write_text("Shared note.")
    (root / "first").symlink_to(outside)
    (root / "second").symlink_to(outside)
    found, skips = walk(root, follow_links=True)
    assert [source.rel for source in found] == ["first/note.txt"] and skips == []


@pytest.mark.parametrize("make", ["missing", "file", "unreadable"])
def test_unusable_root_raises_a_one_line_sources_error(tmp_path, monkeypatch, make):
    root = tmp_path / "notes"
    if make == "file":
        root.write_text("I am a file")
    if make == "unreadable":
        root.mkdir()
        monkeypatch.setattr(os, "scandir", refuse_to_open("notes"))
    with pytest.raises(SourcesError, match="notes") as caught:
        iter_source_files(root)  # fails at the call, before any iteration
    assert isinstance(caught.value, AskseedError)
    assert "\n" not in str(caught.value)


def test_a_hidden_root_folder_is_still_walked(tmp_path):
    root = tmp_path / ".notes"
    root.mkdir()
    (root / "a.md").write_text("Hello.")
    assert [source.rel for source in walk(root)[0]] == ["a.md"]


def test_deep_folders_are_walked_without_recursion(tmp_path):
    folder = tmp_path
    for _ in range(200):
        folder = folder / "d"
        folder.mkdir()
    (folder / "deep.txt").write_text("Deep down.")
    old_limit = sys.getrecursionlimit()
    # Leave the walk far fewer frames than the folder is deep.
    sys.setrecursionlimit(len(inspect.stack(0)) + 50)
    try:
        [source] = walk(tmp_path)[0]
    finally:
        sys.setrecursionlimit(old_limit)
    assert source.rel.count("/") == 200


# --- unreadable: simulated, because the tests run as root, who can read anything -------------


def refuse_to_open(folder_name: str):
    real_scandir = os.scandir

    def scandir(path):
        if Path(path).name == folder_name:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    return scandir


def test_unreadable_file_is_skipped_with_permission_denied(tmp_path, monkeypatch):
    path = tmp_path / "locked.txt"
    path.write_text("Secret.")
    real_open = os.open

    def refusing_open(file, flags, *args, **kwargs):
        if Path(file) == path:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)
    [source] = walk(tmp_path)[0]
    with pytest.raises(SkipFile, match="^permission denied$"):
        read_document(source)


def test_unreadable_folder_is_reported_and_the_walk_goes_on(tmp_path, monkeypatch):
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "a.txt").write_text("Inside.")
    (tmp_path / "open.txt").write_text("Outside.")
    monkeypatch.setattr(os, "scandir", refuse_to_open("locked"))
    found, skips = walk(tmp_path)
    assert [source.rel for source in found] == ["open.txt"]
    assert skips == [("locked", "cannot open folder: permission denied")]


def test_really_unreadable_file(tmp_path):
    path = tmp_path / "locked.txt"
    path.write_text("Secret.")
    path.chmod(0)
    if os.access(path, os.R_OK) and os.geteuid() == 0:
        pytest.skip("running as root, who reads files whatever their permissions")
    [source] = walk(tmp_path)[0]
    with pytest.raises(SkipFile, match="permission denied"):
        read_document(source)


# --- files that change under our feet ------------------------------------------------------


@pytest.fixture
def one_file(tmp_path):
    path = tmp_path / "note.txt"
    path.write_text("A note that will not sit still.")
    [source] = walk(tmp_path)[0]
    return path, source


def patch_txt_reader(monkeypatch, path, side_effect):
    """Readers get the bytes, already read: `side_effect(path)` runs as if during the read."""
    real_reader = readers.READERS[".txt"]

    def reader(data):
        document = real_reader(data)
        side_effect(path)
        return document

    monkeypatch.setitem(readers.READERS, ".txt", reader)


def test_file_changed_while_reading(one_file, monkeypatch):
    path, source = one_file
    patch_txt_reader(
        monkeypatch, path, lambda p: p.write_text("Something much longer than before.")
    )
    with pytest.raises(SkipFile, match=r"^changed while reading; will retry next run$"):
        read_document(source)


def test_file_deleted_while_reading(one_file, monkeypatch):
    path, source = one_file
    patch_txt_reader(monkeypatch, path, Path.unlink)
    with pytest.raises(SkipFile, match="deleted while reading"):
        read_document(source)


def test_file_deleted_after_listing(one_file):
    path, source = one_file
    path.unlink()
    with pytest.raises(SkipFile, match="deleted before it could be read"):
        read_document(source)


def test_file_changed_after_listing(one_file):
    path, source = one_file
    path.write_text("Rewritten with different content and length.")
    with pytest.raises(SkipFile, match="changed while reading"):
        read_document(source)


def test_file_replaced_by_a_folder_after_listing(one_file):
    path, source = one_file
    path.unlink()
    path.mkdir()
    with pytest.raises(SkipFile):
        read_document(source)


def test_listed_size_over_the_limit_is_skipped_before_opening(one_file, monkeypatch):
    path, source = one_file
    monkeypatch.setattr(readers, "MAX_FILE_BYTES", 5)
    monkeypatch.setattr(os, "open", lambda *args: pytest.fail("opened a file that is too large"))
    with pytest.raises(SkipFile, match="too large"):
        read_document(source)


def test_a_crashing_reader_costs_one_file_not_the_run(one_file, monkeypatch):
    path, source = one_file

    def broken_reader(path):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setitem(readers.READERS, ".txt", broken_reader)
    with pytest.raises(SkipFile, match="RecursionError"):
        read_document(source)


def test_read_document_names_an_unsupported_type(tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8")
    with pytest.raises(SkipFile, match=r"unsupported file type \.jpg"):
        read_document(source_file(str(path), "photo.jpg", path.stat()))


def test_the_listing_finds_exactly_the_formats_there_is_a_reader_for():
    # The listing knows the suffixes without importing the readers (a question to a fresh
    # index lists the folder but never reads a document): the two must not drift apart.
    assert set(READERS) == FORMATS
