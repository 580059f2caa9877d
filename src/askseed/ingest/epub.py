"""EPUB books, read with ebooklib: each chapter file of the reading order (the spine) is
decoded as HTML is, and the chapters are the Document's pages. A chapter is clean text with no
menus or banners, so all of its blocks are kept (html.block_text), headings included, where
the web page reader's boilerplate removal would drop a chapter's title.

A passage in a book is then `book.epub:ch<n>:<line>`: the n-th document of the spine (cover,
title page and table of contents count, as any EPUB tool lists them), and the line counted
from the top of that chapter's extracted text.
"""

from __future__ import annotations

import io
import warnings
import zipfile

from askseed.ingest.archive import zip_names
from askseed.ingest.document import Document, SkipFile, paged_document
from askseed.ingest.html import block_text, html_from_bytes

# Chapters are separate pages: a sentence never runs on from one into the next.
CHAPTER_SEPARATOR = "\n\n"
# Members of a book with DRM that are encrypted (fonts are often "encrypted" too, harmlessly).
_ENCRYPTION = "META-INF/encryption.xml"


def read_epub(data: bytes) -> Document:
    import ebooklib
    from ebooklib import epub

    names = zip_names(data, "EPUB")
    if "META-INF/container.xml" not in names:
        raise SkipFile("unreadable EPUB: no META-INF/container.xml inside (not an EPUB?)")
    try:
        # ebooklib warns about its own future defaults through `warnings`; not the user's concern.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = epub.read_epub(io.BytesIO(data), {"ignore_ncx": True})
        chapters = []
        for idref, *_ in book.spine:
            item = book.get_item_with_id(idref)
            if item is None or item.get_type() != ebooklib.ITEM_DOCUMENT:
                continue
            # The navigation document is a table of contents: it keeps its place in the
            # numbering, but its text would only repeat the chapter titles.
            is_nav = isinstance(item, epub.EpubNav) or "nav" in (item.properties or [])
            # The file's own bytes: get_content() would re-render them through ebooklib's
            # parser, which empties a chapter it cannot parse instead of saying so.
            content = item.content if isinstance(item.content, bytes) else item.get_content()
            chapters.append((item.get_name(), b"" if is_nav else content))
    # A parser of untrusted bytes can fail in any way; all of them mean "cannot read it".
    except Exception as error:
        raise SkipFile(f"unreadable EPUB: {error or type(error).__name__}") from error
    if not chapters:
        raise SkipFile("unreadable EPUB: its reading order names no chapter")
    if _ENCRYPTION in names and _chapters_encrypted(data, [name for name, _ in chapters]):
        raise SkipFile("DRM-protected EPUB: its chapters are encrypted")
    texts, problems = [], []
    for name, content in chapters:
        if not content.strip():
            texts.append("")
            continue
        try:
            html, _ = html_from_bytes(content)
            texts.append(block_text(html))
        # One unreadable chapter costs that chapter only, whatever the parser raised.
        except Exception as error:
            texts.append("")
            problems.append(f"{name} ({error or type(error).__name__})")
    if not any(text.strip() for text in texts):
        raise SkipFile("no text in the EPUB's chapters")
    notes = [f"could not read chapter(s) {', '.join(problems)}"] if problems else []
    return paged_document(texts, CHAPTER_SEPARATOR, notes)


def _chapters_encrypted(data: bytes, chapter_names: list[str]) -> bool:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        listed = archive.read(_ENCRYPTION).decode("utf-8", errors="replace")
    return any(name.rsplit("/", 1)[-1] in listed for name in chapter_names)
