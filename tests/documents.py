"""Documents the tests build, byte by byte or with the libraries of record: PDFs (with page
furniture, encrypted), Word files and EPUB books. No test relies on a file it did not make."""

from __future__ import annotations

import io


def make_pdf(pages: list[str | None]) -> bytes:
    """A small valid PDF: one page per item, its text in Helvetica, or for None only an image,
    the way a scanned page without a text layer looks."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]  # 2 is filled in below
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )  # object 3
    objects.append(
        b"<< /Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceGray"
        b" /BitsPerComponent 8 /Length 4 >>\nstream\n\x00\x80\x80\xff\nendstream"
    )  # 4
    kids = []
    for text in pages:
        if text is None:
            content = b"q 400 0 0 400 100 300 cm /Scan Do Q"
        else:
            lines = [_pdf_string(line) for line in text.splitlines()]
            content = (
                b"BT /F1 11 Tf 14 TL 72 740 Td "
                + b" T* ".join(b"(" + line + b") Tj" for line in lines)
                + b" ET"
            )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources"
            b" << /Font << /F1 3 0 R >> /XObject << /Scan 4 0 R >> >>"
            b" /Contents %d 0 R >>" % (len(objects))
        )
        kids.append(b"%d 0 R" % len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _pdf_string(text: str) -> bytes:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return escaped.encode("cp1252")


# A scanned book's pages: a running header with the page number (left and right pages differ,
# and OCR misreads a letter of one), a footer and a bare page number. BOOK_BODY[n] holds page
# n+1's own lines, which must survive exactly where they were.
BOOK_BODY = [
    [
        "The siege of Vicksburg began in May, when the Union army reached the city and dug",
        "trenches around its landward side. The defenders had stored grain and salt pork,",
        "and the river batteries kept the gunboats away for many weeks.",
    ],
    [
        "A shell fell near the church and buried itself in the earth without bursting.",
        "The townspeople dug caves into the clay hills, where whole families lived with a",
        "mova-",
        "ble stove and a few chairs until the city surrendered.",
    ],
    [
        "The surrender came on the fourth of July, after forty-seven days of siege.",
        "Grant paroled the garrison rather than sending it north, a well-",
        "known decision that saved his army weeks of work. The news reached the",
    ],
    [
        "capital by telegraph three days later, on the same evening as the news of the",
        "victory at Gettysburg. Historians count the fall of the city as the turning",
        "point of the war in the west, because the Union then held the whole river.",
    ],
]
BOOK_FIRST_PAGE = 50


def book_header(number: int) -> str:
    if number % 2:
        return f"THE CAMPAIGN IN THE WEST. {number}"
    title = "THE SIEGE OF VICKSBUEG." if number == 52 else "THE SIEGE OF VICKSBURG."
    return f"{number} {title}"


BOOK_FOOTER = "Harbour Press, Boston"


def book_pdf() -> bytes:
    """BOOK_BODY as a PDF: each page is header, body lines, footer, page number."""
    pages = []
    for offset, lines in enumerate(BOOK_BODY):
        number = BOOK_FIRST_PAGE + offset
        pages.append("\n".join([book_header(number), *lines, BOOK_FOOTER, f"- {number} -"]))
    return make_pdf(pages)


def encrypted_pdf(
    user_password: str, algorithm: str = "RC4-128", text: str = "Locked words."
) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=io.BytesIO(make_pdf([text])))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def damaged_encryption_pdf() -> bytes:
    """An AES PDF whose encryption dictionary names a version no reader knows."""
    data = encrypted_pdf("", "AES-128")
    assert b"/V 4\n/R 4" in data
    return data.replace(b"/V 4\n/R 4", b"/V 9\n/R 9")


def make_docx(blocks: list[tuple[str, object]]) -> bytes:
    """A Word file from ("title" | "heading" | "paragraph" | "bullet" | "number", text) and
    ("table", rows) blocks, made with python-docx."""
    import docx

    document = docx.Document()
    for kind, content in blocks:
        if kind == "title":
            document.add_heading(content, 0)
        elif kind == "heading":
            document.add_heading(content, 1)
        elif kind == "paragraph":
            document.add_paragraph(content)
        elif kind in ("bullet", "number"):
            document.add_paragraph(
                content, style="List Bullet" if kind == "bullet" else "List Number"
            )
        elif kind == "table":
            table = document.add_table(rows=len(content), cols=len(content[0]))
            for r, row in enumerate(content):
                for c, value in enumerate(row):
                    table.cell(r, c).text = value
        else:
            raise ValueError(kind)
    # A page header is furniture: it must not reach the text.
    document.sections[0].header.paragraphs[0].text = "Estuary Trust - internal"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_epub(chapters: list[tuple[str, str]], title: str = "A book") -> bytes:
    """An EPUB with a navigation document first in its spine, then one chapter file per
    (file name, XHTML body), made with ebooklib."""
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("askseed-test-book")
    book.set_title(title)
    book.set_language("en")
    items = []
    for number, (name, body) in enumerate(chapters, start=1):
        item = epub.EpubHtml(title=f"Chapter {number}", file_name=name, lang="en")
        item.content = body
        book.add_item(item)
        items.append(item)
    book.toc = tuple(items)
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *items]
    out = io.BytesIO()
    epub.write_epub(out, book)
    return out.getvalue()
