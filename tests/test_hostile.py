"""`askseed index` on a folder full of trouble: it finishes, names each problem once, and every
good file can be asked about. Also PDF sources: page and line within the page, end to end."""

from __future__ import annotations

import contextlib
import io
import json
import re

import pytest

from askseed.ui import cli
from hostile import GOOD_SENTENCES, SILENT, build_hostile_folder, make_pdf

WARNING = re.compile(r"askseed: warning: (?:skipped )?(?P<rel>.+?): (?P<reason>.+)")


def run_cli(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main([str(arg) for arg in argv])
    return code, out.getvalue(), err.getvalue()


@contextlib.contextmanager
def engine_with(embedder):
    from askseed.engine import Engine

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cli, "_make_engine", lambda settings: Engine(settings, embedder=embedder))
        yield


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """The hostile folder indexed once with the fake embedder: (folders, expected, result)."""
    from conftest import FakeEmbedder

    root = tmp_path_factory.mktemp("hostile") / "docs"
    expected = build_hostile_folder(root)
    index = root.parent / "index"
    with engine_with(FakeEmbedder()):
        result = run_cli("index", "--seeds", root, "--index", index)
    return root, index, expected, result


def test_indexing_finishes_with_exit_code_0(hostile_run):
    *_, (code, out, err) = hostile_run
    assert code == 0, err
    assert out == "" and "Traceback" not in err


def test_each_troubled_file_gets_exactly_one_warning_naming_it_and_the_reason(hostile_run):
    _, _, expected, (_, _, err) = hostile_run
    *warnings, summary = err.splitlines()
    by_file: dict[str, list[str]] = {}
    for line in warnings:
        match = WARNING.fullmatch(line)
        assert match, line
        by_file.setdefault(match["rel"], []).append(match["reason"])
    assert by_file.keys() == expected.keys()
    for rel, keyword in expected.items():
        [reason] = by_file[rel]
        assert keyword.lower() in reason.lower(), (rel, reason)


def test_the_summary_counts_the_skipped_files(hostile_run):
    _, _, expected, (_, _, err) = hostile_run
    *warnings, summary = err.splitlines()
    skipped = [line for line in warnings if line.startswith("askseed: warning: skipped ")]
    # Files read with a legacy encoding are warned about, but not skipped.
    assert len(skipped) == len(expected) - 3
    assert f"{len(skipped)} skipped" in summary
    assert summary.startswith(f"indexed {len(GOOD_SENTENCES) + 2} files")  # + two links


@pytest.mark.parametrize("rel", GOOD_SENTENCES)
def test_every_good_file_is_answerable(hostile_run, rel):
    from conftest import FakeEmbedder

    root, index, _, _ = hostile_run
    with engine_with(FakeEmbedder()):
        code, out, err = run_cli(
            "ask", GOOD_SENTENCES[rel], "--json", "--seeds", root, "--index", index
        )
    assert code == 0, err
    answer = json.loads(out)
    assert not answer["index"]["refreshed"]  # skipped files do not make the index look stale
    top = answer["passages"][0]
    assert top["quote"] == GOOD_SENTENCES[rel]
    assert top["source"] in (rel, "inside-link.txt")


def test_hidden_files_boilerplate_and_outside_links_never_reach_the_index(hostile_run):
    from askseed.store.reader import IndexReader
    from hostile import ARTICLE_BOILERPLATE

    _, index, _, _ = hostile_run
    with IndexReader(index) as reader:
        sources = set(reader.files())
        text = " ".join(chunk.text for chunk in reader.chunks_by_id(list(range(1, 500))).values())
    assert not sources & set(SILENT)
    assert not any(part.startswith(".") for source in sources for part in source.split("/"))
    assert "Outside the folder" not in text and "safe code" not in text
    for phrase in ARTICLE_BOILERPLATE:
        assert phrase not in text, phrase


def test_a_second_run_re_reads_nothing_and_repeats_only_the_folder_warnings(hostile_run):
    from conftest import FakeEmbedder

    root, index, expected, _ = hostile_run
    embedder = FakeEmbedder()
    with engine_with(embedder):
        code, _, err = run_cli("index", "--seeds", root, "--index", index)
    assert code == 0 and embedder.encoded == []
    *warnings, summary = err.splitlines()
    assert summary.startswith("index up to date") and f"({len(warnings)} skipped" in summary
    warned = {WARNING.fullmatch(line)["rel"] for line in warnings}
    # Found while walking the folder, so reported every time; files that could not be read
    # are remembered and left alone until they change.
    found_by_walking = {
        "loop",
        "self-loop.txt",
        "broken-link.txt",
        "outside-file.txt",
        "outside-folder",
        "pipe.txt",
        "bad\\x0aname.txt",
        "caf\\xe9.txt",
    }
    assert warned == found_by_walking


def test_a_huge_file_is_skipped_without_being_read(tmp_path, monkeypatch, fake_embedder):
    from askseed.ingest import readers

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "note.txt").write_text("A small note about herons.\n")
    with open(docs / "huge.txt", "wb") as handle:
        handle.truncate(100 * 1024 * 1024)
    read = []  # a file is read, and hashed, once: by readers.read_bytes
    real_read_bytes = readers.read_bytes
    monkeypatch.setattr(
        readers, "read_bytes", lambda path: read.append(path.name) or real_read_bytes(path)
    )

    with engine_with(fake_embedder):
        code, _, err = run_cli("index", "--seeds", docs, "--index", tmp_path / "index")

    assert code == 0
    assert "skipped huge.txt: file too large (100 MB; the limit is 64 MB)" in err
    assert read == ["note.txt"]


# --- PDF: page and line within the page ------------------------------------------------------

# One sentence a line, each long enough to fill a chunk of its own (see the fixture), so a
# passage starts at the sentence that answers.
PDF_PAGES = [
    "The estuary trust publishes its harbour survey every spring.\n"
    "Volunteers counted every bird from the sea wall on foot.",
    "Grey seals hauled out on the north sandbank in June.\n"
    "Common seals stayed away from the harbour all summer long.",
    "The spring count began before dawn on the first Sunday.\n"
    "Small waders gathered on the mud below the old boathouse.\n"
    "The avocets nested on the new scrape for the first time.",
]


@pytest.fixture
def pdf_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("ASKSEED_CHUNK_TOKENS", "16")  # the fake embedder counts words + 2
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "survey.pdf").write_bytes(make_pdf(PDF_PAGES))
    (docs / "plain.txt").write_text(
        "The river keeper walks the bank every morning at seven.\n"
        "The otters are back on the river after twenty years away.\n"
    )
    return docs


@pytest.mark.parametrize(
    ("question", "source", "page", "line"),
    [
        ("The avocets nested on the new scrape for the first time.", "survey.pdf", 3, 3),
        ("Common seals stayed away from the harbour all summer long.", "survey.pdf", 2, 2),
        ("Grey seals hauled out on the north sandbank in June.", "survey.pdf", 2, 1),
        ("Volunteers counted every bird from the sea wall on foot.", "survey.pdf", 1, 2),
        ("The otters are back on the river after twenty years away.", "plain.txt", None, 2),
    ],
)
def test_pdf_passages_show_page_and_line_within_the_page(
    pdf_folder, fake_embedder, question, source, page, line
):
    location = ["--seeds", pdf_folder, "--index", pdf_folder.parent / "index"]
    with engine_with(fake_embedder):
        code, out, err = run_cli("ask", question, "--json", *location)
        assert code == 0, err
        top = json.loads(out)["passages"][0]
        assert top["text"] == question
        assert (top["source"], top.get("page"), top["start_line"]) == (source, page, line)
        assert top["end_line"] == line
        assert ("page" in top) == (page is not None)

        code, out, _ = run_cli("ask", question, *location)
    where = f"{source}:p{page}:{line}" if page else f"{source}:{line}"
    assert re.match(rf"1\. \S*docs/{where}  \([<>]?\d+% confident\)", out), out


def test_context_of_a_pdf_passage_reads_its_own_page(pdf_folder):
    from askseed.config import Settings
    from askseed.engine import Engine

    engine = Engine(Settings(seeds=pdf_folder, index=pdf_folder.parent / "index"))
    lines = dict(engine.context("survey.pdf", 3, 3, margin=0, page=3))
    assert lines == {3: "The avocets nested on the new scrape for the first time."}


@pytest.mark.model
def test_the_hostile_folder_with_the_real_model(tmp_path):
    root = tmp_path / "docs"
    expected = build_hostile_folder(root)
    location = ["--seeds", root, "--index", tmp_path / "index"]

    code, _, err = run_cli("index", *location)

    assert code == 0, err
    assert len(err.splitlines()) == len(expected) + 1
    for rel in ("otters.txt", "report.pdf", "article.html", "legacy-cp1252.txt"):
        code, out, err = run_cli("ask", GOOD_SENTENCES[rel], "--json", *location)
        assert code == 0, err
        top = json.loads(out)["passages"][0]
        assert top["quote"] == GOOD_SENTENCES[rel]
