"""HTML pages (and EPUB chapters): the main content, found by trafilatura, one block a line."""

from __future__ import annotations

import re

from askseed.ingest.decoding import declared_charset, text_from_bytes
from askseed.ingest.document import Document, SkipFile, captured_logs


def read_html(data: bytes) -> Document:
    html, warnings = html_from_bytes(data)
    text = extract_main_text(html)
    if not text:
        raise SkipFile("no main text found in the HTML page")
    return Document(text, warnings=warnings)


def html_from_bytes(data: bytes) -> tuple[str, tuple[str, ...]]:
    """The markup as text, in the encoding the page declares when UTF-8 does not fit."""
    return text_from_bytes(data, declared_charset(data[:4096]))


def extract_main_text(html: str) -> str:
    """The page's main content, without navigation, banners, footers or comments."""
    import trafilatura

    if "<html" not in html[:4096].lower():
        # trafilatura gives up on bare fragments like "<p>note</p>"; a wrapper rescues them.
        html = f"<html><body>{html}</body></html>"
    # It logs parse trouble at ERROR level, which Python would print on the user's terminal.
    with captured_logs("trafilatura", "htmldate", "courlan"):
        tree = trafilatura.utils.load_html(html)
        if tree is None:
            return ""
        drop_link_boxes(tree)
        text = trafilatura.extract(tree, include_comments=False, include_tables=True)
    # One block (heading, paragraph, table row) per line; a blank line between blocks keeps
    # a heading from being read as the start of the paragraph below it.
    return re.sub(r"\n+", "\n\n", text.strip()) if text else ""


# A list, table or menu is navigation when most of its words are link text: "See also" boxes,
# navigation boxes laid out as tables, lists of sections. trafilatura drops most of them, but
# not inside a table or the article; a box of fewer links is left alone.
MIN_BOX_LINKS = 4
MIN_BOX_LINK_SHARE = 0.7
_BOX_TAGS = ("ul", "ol", "dl", "table", "nav", "menu")


def drop_link_boxes(tree) -> None:
    """Remove, in place, every list, table or menu of `tree` made mostly of links."""
    for element in list(tree.iter(*_BOX_TAGS)):
        links = [len(link.text_content().split()) for link in element.iter("a")]
        if len(links) < MIN_BOX_LINKS:
            continue
        words = len(element.text_content().split())
        if sum(links) >= MIN_BOX_LINK_SHARE * words and element.getparent() is not None:
            element.drop_tree()  # keeps the text that follows the element
