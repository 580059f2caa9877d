"""Web chrome that survives extraction: navigation boxes laid out as tables, lists of links
inside the article, menus of `|`-separated links. Dropped by general rules (link density in the
HTML, the shape of `|` rows in the text), while data tables and lists of plain items stay."""

from __future__ import annotations

import json

import pytest

from askseed.ingest.html import drop_link_boxes, read_html
from askseed.ingest.sentences import split_sentences
from test_hostile import engine_with, run_cli


def links(*titles: str) -> str:
    return "".join(f'<li><a href="/wiki/{n}">{title}</a></li>' for n, title in enumerate(titles))


def navbox_row(heading: str, *titles: str) -> str:
    return f"<tr><th>{heading}</th><td><ul>{links(*titles)}</ul></td></tr>"


ANSWER = "Volunteers counted eleven otter holts along the Lowmoor estuary in the spring of 2024."
NAVBOX_PAGE = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Otters of the Lowmoor estuary - Wildpedia</title></head><body>
<div id="content"><h1>Otters of the Lowmoor estuary</h1>
<p>{ANSWER} The holts were found in the reed beds and under the roots of alders near the old
mill, and the count is the highest since the survey began.</p>
<ul>{links("Grey heron", "Little egret", "Kingfisher", "Water vole", "Eurasian otter")}</ul>
<p>The trust plans to repeat the count every spring, and asks walkers to keep dogs on leads
near the river bank between March and July.</p>
<h2>Survey results</h2>
<table><tr><th>Year</th><th>Holts</th></tr><tr><td>2022</td><td>7</td></tr>
<tr><td>2024</td><td>11</td></tr></table>
<h2>What to bring</h2>
<ul><li>Binoculars</li><li>Boots</li><li>A warm hat</li></ul>
<table><tr><th colspan="2">Mammals of the British Isles</th></tr>
{navbox_row("Mustelids", "Eurasian otter", "Badger", "Pine marten", "Stoat")}
{navbox_row("Rodents", "Water vole", "Red squirrel", "Harvest mouse", "Dormouse")}
{navbox_row("Wildlife-watching venues", "Lowmoor", "Old Mill", "Sea Wall")}
</table>
<p><a href="/p/1">Lowmoor</a> | <a href="/p/2">Old Mill</a> | <a href="/p/3">North Sandbank</a>
| <a href="/p/4">Harbour Wall and Slipway Area</a> | | <a href="/p/5">Sea Wall</a></p>
</div></body></html>"""
CHROME = (
    "Mammals of the British Isles",
    "Mustelids",
    "Rodents",
    "Wildlife-watching venues",
    "Pine marten",
    "Little egret",
    "North Sandbank",
)
CONTENT = (
    ANSWER,
    "The trust plans to repeat the count every spring",
    "| 2024 | 11 |",
    "Binoculars",
    "A warm hat",
)


def page_sentences() -> list[str]:
    return [sentence.text for sentence in split_sentences(read_html(NAVBOX_PAGE.encode()).text)]


def test_navigation_boxes_do_not_reach_the_sentences():
    text = " ".join(page_sentences())
    for chrome in CHROME:
        assert chrome not in text, chrome
    for content in CONTENT:
        assert content in text, content


PROSE_LINKS = "".join(
    f"<li><a>Site {n}</a> is where the plovers nest each year</li>" for n in range(5)
)
LINK_TABLE = "".join(f"<td><a>{word}</a></td>" for word in ("One", "Two", "Three", "Four"))


@pytest.mark.parametrize(
    ("html", "kept", "dropped"),
    [
        (f"<ul>{links('Apple', 'Pear', 'Plum', 'Quince')}</ul><p>Body</p>", "Body", "Quince"),
        (f"<ul>{links('Alpha', 'Beta', 'Gamma')}</ul>", "Gamma", None),  # too few links
        (f"<ul>{PROSE_LINKS}</ul>", "plovers nest", None),  # links inside prose
        (f"<table><tr>{LINK_TABLE}</tr></table><p>Body</p>", "Body", "Three"),
    ],
    ids=["link-list", "short-list-kept", "links-inside-prose-kept", "link-table"],
)
def test_drop_link_boxes(html, kept, dropped):
    from lxml import html as lxml_html

    tree = lxml_html.document_fromstring(f"<html><body>{html}</body></html>")
    drop_link_boxes(tree)
    text = tree.text_content()
    assert kept in text
    assert dropped is None or dropped not in text


def test_navigation_box_page_answers_without_chrome(tmp_path, fake_embedder, monkeypatch):
    monkeypatch.setenv("ASKSEED_CHUNK_TOKENS", "24")  # the fake embedder counts words + 2
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "otters.html").write_text(NAVBOX_PAGE)
    location = ["--seeds", docs, "--index", tmp_path / "index", "-k", "20"]
    with engine_with(fake_embedder):
        code, out, err = run_cli("ask", ANSWER, "--json", *location)
    assert code == 0, err
    passages = json.loads(out)["passages"]
    # The passage may open with the heading above; the quote is on line 3.
    assert passages[0]["quote"] == ANSWER
    assert passages[0]["start_line"] <= 3 <= passages[0]["end_line"]
    shown = " ".join(passage["text"] for passage in passages)
    for chrome in CHROME:
        assert chrome not in shown, chrome
    assert "Binoculars" in shown


@pytest.mark.model
def test_navigation_box_page_with_the_real_model(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "otters.html").write_text(NAVBOX_PAGE)
    location = ["--seeds", docs, "--index", tmp_path / "index", "-k", "5"]
    code, out, err = run_cli("ask", "How many otter holts were counted?", "--json", *location)
    assert code == 0, err
    answer = json.loads(out)
    top = answer["passages"][0]
    assert answer["answered"] and top["quote"] == ANSWER
    assert top["source"] == "otters.html" and top["start_line"] <= 3 <= top["end_line"]
    assert "page" not in top
    for passage in answer["passages"]:
        for chrome in CHROME:
            assert chrome not in passage["text"], passage
