"""Build a "hostile" documents folder at test time: good files next to every kind of trouble.

    expected = build_hostile_folder(tmp_path / "docs")

`expected` maps each troubled file's rel path to a keyword of the ONE message askseed must give
for it: a skip reason, or a warning for files that are still read (legacy encodings).
GOOD_SENTENCES holds a distinctive, answerable sentence from each file that must be read, and
SILENT the files that must be neither read nor reported (hidden ones, unsupported types).
Some links point outside the folder, into a sibling folder named "<root>-outside".
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

from documents import (
    damaged_encryption_pdf,
    encrypted_pdf,
    make_docx,
    make_epub,
    make_pdf,
)

GOOD_SENTENCES = {
    "otters.txt": "Volunteers counted eleven otter holts along the Lowmoor estuary in 2024.",
    "guide.md": "The community orchard opens its cider press on the first Saturday of October.",
    "article.html": "The Skerrin Island ferry leaves from pier nine at seventeen past noon.",
    "report.pdf": "Page two of the survey reports that the kingfisher pair fledged five young.",
    "windows-notes.txt": "The boiler service is booked for the ninth of May at ten in the morning.",
    "deep/er/and/deeper/note.txt": "The spare shed key hangs behind the rain barrel.",
    "SHOUTING.TXT": "The choir rehearses in the old chapel on Thursday evenings.",
    "legacy-cp1252.txt": "The \u201cgreen bridge\u201d over the canal was repainted in March.",
    "mixed-encoding.md": "Caf\u00e9 Marguerite serves the village\u2019s best rhubarb crumble.",
    "latin1.txt": "The weather station on Carn D\u00fa recorded gusts of ninety knots.",
    "minutes.docx": "The committee agreed to move the plant sale to the church hall.",
    "novel.epub": "The lighthouse keeper rowed to the island every Tuesday with bread.",
    "statement.pdf": "The statement shows a standing order of twelve pounds to the trust.",
}
SILENT = (
    ".hidden-notes.txt",
    ".git/config.txt",
    "photo.jpg",
    "data.csv",
    "README",
    "~$minutes.docx",
)

ARTICLE_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Island ferry timetable changes</title>
<script>var tracking = {consent: false};</script></head>
<body>
<div id="cookie-banner" class="cookie consent"><p>We use cookies to improve your
experience and to show you personalised adverts.</p>
<button>Accept all</button><button>Manage cookies</button></div>
<header><a class="logo" href="/">The Harbour Gazette</a>
<nav><ul><li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li>
<li><a href="/subscribe">Subscribe</a></li></ul></nav></header>
<main><article>
<h1>Island ferry timetable changes from Monday</h1>
<p>%s The operator said the later departure gives fishing boats room to unload at high tide.</p>
<aside class="newsletter"><h3>Sign up to our newsletter</h3><form><input type="email">
<button>Sign up</button></form></aside>
<p>Passengers with bicycles are asked to arrive fifteen minutes early, because the new vessel
has only twelve cycle spaces on its lower deck.</p>
</article>
<section class="related"><h2>Related articles</h2><ul><li><a href="/a">Harbour wall repairs
finished</a></li><li><a href="/b">Ten walks on the island</a></li></ul></section></main>
<footer><a href="/privacy">Privacy policy</a> &copy; 2024 The Harbour Gazette. All rights
reserved.</footer></body></html>
"""
ARTICLE_BOILERPLATE = (
    "cookies",
    "Accept all",
    "Subscribe",
    "Sign up",
    "Related articles",
    "Privacy policy",
    "All rights reserved",
)


def build_hostile_folder(root: Path) -> dict[str, str]:
    """Create the folder; return {rel: keyword of the one skip reason or warning expected}."""
    root.mkdir(parents=True, exist_ok=True)
    outside = root.parent / f"{root.name}-outside"
    outside.mkdir(exist_ok=True)
    expected: dict[str, str] = {}

    def write(rel: str, data: bytes | str) -> Path:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        return path

    def link(rel: str, target: str | Path, keyword: str) -> None:
        (root / rel).symlink_to(target)
        expected[rel] = keyword

    # Good files; those in a legacy encoding are read with one warning naming the encoding.
    good = GOOD_SENTENCES
    write("otters.txt", f"Otter survey\n\n{good['otters.txt']} Numbers are rising.\n")
    write("guide.md", f"# Orchard guide\n\n{good['guide.md']}\n\n- bring your own bottles\n")
    write("article.html", ARTICLE_HTML % good["article.html"])
    write("report.pdf", make_pdf(["Bird survey 2024", good["report.pdf"]]))
    write("windows-notes.txt", f"Notes\r\n{good['windows-notes.txt']}\r\n".encode("utf-16"))
    write("deep/er/and/deeper/note.txt", good["deep/er/and/deeper/note.txt"])
    write("SHOUTING.TXT", good["SHOUTING.TXT"])
    write("legacy-cp1252.txt", good["legacy-cp1252.txt"].encode("cp1252"))
    expected["legacy-cp1252.txt"] = "cp1252"
    mixed = good["mixed-encoding.md"].encode("utf-8") + b"\nPrices in \x80 are on the board.\n"
    write("mixed-encoding.md", mixed)
    expected["mixed-encoding.md"] = "mixed"
    # 0x81 means nothing in cp1252, so only latin-1 can decode this one.
    write("latin1.txt", good["latin1.txt"].encode("latin-1") + b" \x81\n")
    expected["latin1.txt"] = "latin-1"
    write("minutes.docx", make_docx([("heading", "Minutes"), ("paragraph", good["minutes.docx"])]))
    chapter = f"<h1>Chapter One</h1><p>{good['novel.epub']}</p>"
    write("novel.epub", make_epub([("chapter1.xhtml", chapter)]))
    # AES, opened with the empty password as every PDF viewer does.
    write("statement.pdf", encrypted_pdf("", "AES-128", good["statement.pdf"]))

    # Never read, never reported.
    write(".hidden-notes.txt", "The hidden file says the safe code is 9182.")
    write(".git/config.txt", "The git folder says the remote is private.")
    write("photo.jpg", b"\xff\xd8\xff\xe0" + bytes(100))
    write("data.csv", "a,b\n1,2\n")
    write("README", "No extension, so not a document askseed reads.")
    write("~$minutes.docx", b"\x0bJane Smith" + bytes(150))  # Word's lock file while it is open

    # Trouble in the content.
    write("binary-disguised.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    expected["binary-disguised.txt"] = "binary"
    write("control-chars.md", bytes(range(1, 9)) * 200 + b"some text")
    expected["control-chars.md"] = "binary"
    write("empty.txt", b"")
    expected["empty.txt"] = "empty"
    write("blank.md", " \n\t\n   \r\n")
    expected["blank.md"] = "empty"
    with open(root / "huge.txt", "wb") as handle:
        handle.truncate(65 * 1024 * 1024)  # sparse: costs no disk, but stat says 65 MB
    expected["huge.txt"] = "too large"
    write("one-long-line.txt", "word " * 220_000)
    expected["one-long-line.txt"] = "line"
    write("scanned.pdf", make_pdf([None, None]))
    expected["scanned.pdf"] = "no text layer"
    write("truncated.pdf", make_pdf(["A page that will be cut short."])[:60])
    expected["truncated.pdf"] = "unreadable PDF"
    write("not-really.pdf", "Just text saved with the wrong extension.")
    expected["not-really.pdf"] = "not a PDF"
    write("locked.pdf", encrypted_pdf("secret", "AES-256", "The vault opens at dawn."))
    expected["locked.pdf"] = "password-protected"
    write("damaged-encryption.pdf", damaged_encryption_pdf())
    expected["damaged-encryption.pdf"] = "encryption dictionary"
    write("truncated.docx", make_docx([("paragraph", "Cut short.")])[:700])
    expected["truncated.docx"] = "unreadable Word file"
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("notes.txt", "A zip of notes, renamed to look like a book.")
    write("renamed-zip.epub", zipped.getvalue())
    expected["renamed-zip.epub"] = "unreadable EPUB"
    page_with_only_chrome = (
        "<html><body><script>var x = 1;</script><style>p{}</style></body></html>"
    )
    write("chrome-only.html", page_with_only_chrome)
    expected["chrome-only.html"] = "no main text"

    # Trouble in the folder structure.
    link("loop", ".", "loop")
    link("self-loop.txt", "self-loop.txt", "loop")
    link("broken-link.txt", "no-such-file.txt", "broken")
    (outside / "secret.txt").write_text("Outside the folder: must not be read by default.")
    link("outside-file.txt", outside / "secret.txt", "outside")
    link("outside-folder", outside, "outside")
    # A second name for a good file is read; a second name for a folder is silently passed by.
    (root / "inside-link.txt").symlink_to("otters.txt")
    (root / "inside-folder-link").symlink_to("deep")
    os.mkfifo(root / "pipe.txt")
    expected["pipe.txt"] = "not a regular file"
    write("bad\nname.txt", "A file name with a newline in it.")
    expected["bad\\x0aname.txt"] = "control characters"
    with open(os.fsencode(root) + b"/caf\xe9.txt", "wb") as handle:  # latin-1 bytes in a name
        handle.write(b"A file whose name is not UTF-8.")
    expected["caf\\xe9.txt"] = "UTF-8"

    # Unreadable: only when the tests do not run as root, who can read anything. (No locked
    # folder: pytest could not clean it up afterwards; tests simulate that case instead.)
    locked = write("locked.txt", "A locked file says the vault opens at dawn.")
    locked.chmod(0)
    if not _readable(locked):
        expected["locked.txt"] = "permission denied"
    return expected


def _readable(path: Path) -> bool:
    try:
        path.open("rb").close()
    except PermissionError:
        return False
    return True
