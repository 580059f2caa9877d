"""Word (.docx) files, read with python-docx: one line per paragraph, so that a passage's line
is its paragraph's number.

Every paragraph of the body counts, in order, empty ones included (and those inside content
controls); headings and list items are paragraphs too, and each table row is one line, its
cells between `|` as in a Markdown table.
Page headers and footers are not part of the body, so they never reach the text.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

from askseed.ingest.archive import zip_names
from askseed.ingest.document import Document, SkipFile

# List items keep a bullet, as Word shows them: a list of short items then stays a list of
# items instead of being read as one sentence running over several lines.
BULLET = "• "


def read_docx(data: bytes) -> Document:
    import docx

    if "word/document.xml" not in zip_names(data, "Word file"):
        raise SkipFile("unreadable Word file: no word/document.xml inside (not a .docx?)")
    try:
        document = docx.Document(io.BytesIO(data))
        lines = list(_lines(document))
    # A parser of untrusted bytes can fail in any way; all of them mean "cannot read it".
    except Exception as error:
        raise SkipFile(f"unreadable Word file: {error or type(error).__name__}") from error
    if not any(line.strip() for line in lines):
        raise SkipFile("no text in the Word file")
    return Document("\n".join(lines))


def _lines(document) -> Iterator[str]:
    yield from _block_lines(document.element.body, document)


def _block_lines(container, parent) -> Iterator[str]:
    """The lines of a body's paragraphs and tables in order, including those inside content
    controls (w:sdt: cover pages, tables of contents, template fields), which python-docx's
    own iteration passes over."""
    from docx.oxml.ns import qn
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for element in container.iterchildren():
        if element.tag == qn("w:p"):
            yield _paragraph_line(Paragraph(element, parent))
        elif element.tag == qn("w:tbl"):
            yield from _table_rows(Table(element, parent))
        elif element.tag == qn("w:sdt"):
            for content in element.iterchildren(qn("w:sdtContent")):
                yield from _block_lines(content, parent)


def _paragraph_line(paragraph) -> str:
    # A line break or tab inside a paragraph is layout; the paragraph stays one line.
    text = " ".join(paragraph.text.split())
    if text and _is_list_item(paragraph):
        return BULLET + text
    return text


def _is_list_item(paragraph) -> bool:
    properties = paragraph._p.pPr
    if properties is not None and properties.numPr is not None:
        return True
    style = paragraph.style
    return style is not None and (style.name or "").startswith("List")


def _table_rows(table) -> Iterator[str]:
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell is listed once per column it spans
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(cell.text.split()))
        yield "| " + " | ".join(cells) + " |" if any(cells) else ""
