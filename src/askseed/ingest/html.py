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


# Elements that start a line of their own; everything else is inline and runs on.
_BLOCK_TAGS = frozenset(
    "address article aside blockquote body caption dd div dl dt figcaption figure footer "  # noqa: SIM905
    "h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section table tbody thead tfoot ul".split()
)
_SKIPPED_TAGS = frozenset(["head", "script", "style", "template", "noscript"])
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def block_text(html: str) -> str:
    """Every block of a clean page (an EPUB chapter: no menus or banners to drop) as a line,
    headings included: a heading, a paragraph, a list item ("- item"), a table row ("| a | b |").
    Blocks are separated by blank lines, as extract_main_text separates them."""
    from lxml import etree
    from lxml import html as lxml_html

    try:
        # lxml refuses a str that still declares its encoding; it was decoded already.
        root = lxml_html.document_fromstring(_XML_DECLARATION.sub("", html, count=1))
    except etree.ParserError:  # "Document is empty": nothing but comments or whitespace
        return ""
    lines: list[str] = []
    words: list[str] = []

    def end_line(marker: str = "") -> None:
        text = " ".join("".join(words).split())
        if text:
            lines.append(marker + text)
        words.clear()

    def walk(element, marker: str) -> None:
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        if tag in _SKIPPED_TAGS or not tag:
            return
        if tag == "tr":
            end_line(marker)
            cells = [" ".join(cell.text_content().split()) for cell in element]
            if any(cells):
                lines.append("| " + " | ".join(cells) + " |")
            return
        if tag == "br":
            words.append(" ")
            return
        block = tag in _BLOCK_TAGS
        if block:
            end_line(marker)
            marker = "- " if tag == "li" else marker if tag == "p" else ""
        words.append(element.text or "")
        for child in element:
            walk(child, marker)
            words.append(child.tail or "")
        if block:
            end_line(marker)

    body = root.find("body")
    walk(body if body is not None else root, "")
    end_line()
    return "\n\n".join(lines)
