"""Find the documents in a folder, whatever state the folder is in.

Only names and stat data: the freshness check before every question lists the folder, and
reading a document (readers.py) needs the readers of every format, which a question to a
fresh index never loads.

Rules of the walk (each problem becomes one on_skip(rel, reason) call, never an exception):
- Hidden files and folders (name starts with "."), which includes .git, are left out silently:
  they are not errors, just not documents. So are the lock files Word and LibreOffice keep
  next to an open document ("~$report.docx"): a few bytes of owner name, not a document.
- Files whose extension has no reader are left out silently.
- Symlinks to files inside the folder are read under their own name. Symlinks to folders inside
  the folder are not followed (their files are found under the real path); one pointing back at
  its own ancestor is reported as a loop. Symlinks to anything outside the folder are followed
  only with follow_links=True; then each outside folder is walked once, so loops still end.
- Named pipes, sockets, devices, broken symlinks and unreadable folders are reported.
- Names that are not valid UTF-8 or contain control characters are reported: `rel` is stored
  and shown, so it must be printable and map back to the file.
"""

from __future__ import annotations

import errno
import os
import stat
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from askseed.errors import AskseedError

# The file types askseed reads, by suffix (lower case): readers.READERS holds a reader for each.
FORMATS = frozenset({".txt", ".md", ".html", ".htm", ".pdf", ".docx", ".epub"})


# Names of files and folders the walk passes over in silence (see the module's docstring).
_LEFT_OUT = (".", "~$")


class SourcesError(AskseedError):
    """The documents folder itself cannot be used."""


class SourceFile(NamedTuple):
    """A document found in the folder. A named tuple holding a string path, not a dataclass
    holding a Path: the freshness check before every question makes one per file, and those
    cost more than the stat calls themselves."""

    location: str  # absolute path to read
    rel: str  # posix path relative to the documents folder: what users see
    size: int
    mtime_ns: int
    # The inode's change time, which the system sets on every write and no tool can set back:
    # an edit that keeps the size and restores the mtime (`touch -r`, some sync tools) still
    # shows in it.
    ctime_ns: int

    @property
    def path(self) -> Path:
        return Path(self.location)


def source_file(location: str, rel: str, info: os.stat_result) -> SourceFile:
    return SourceFile(location, rel, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def _ignore_skip(rel: str, reason: str) -> None:
    pass


def iter_source_files(
    root: Path,
    follow_links: bool = False,
    on_skip: Callable[[str, str], None] = _ignore_skip,
) -> Iterator[SourceFile]:
    """Every readable-looking document under root, in sorted path order.

    Checks the folder now, not at the first next(): a bad folder fails where it is named.
    """
    return _Walk(check_documents_folder(root), follow_links, on_skip).run()


def check_documents_folder(root: Path) -> Path:
    """The documents folder, resolved; SourcesError saying what to do when it is missing, not
    a folder or unreadable."""
    root = Path(root).expanduser()
    if not root.exists():
        raise SourcesError(f"documents folder {root} does not exist: create it or pass --seeds DIR")
    if not root.is_dir():
        raise SourcesError(f"{root} is not a folder: pass --seeds with the folder of documents")
    real_root = root.resolve()
    try:
        os.scandir(real_root).close()
    except OSError as error:
        raise SourcesError(
            f"cannot read documents folder {root}: {error.strerror}; check its permissions"
        ) from error
    return real_root


@dataclass
class _Walk:
    root: Path
    follow_links: bool
    on_skip: Callable[[str, str], None]

    def run(self) -> Iterator[SourceFile]:
        self.walked = {str(self.root)}  # real paths of folders walked so far
        # Depth-first over a stack rather than recursion: no depth limit, sorted output.
        stack = list(reversed(self._children(str(self.root), "")))
        while stack:
            name, path, rel, is_link = stack.pop()
            kind = self._classify(name, path, rel, is_link)
            if kind == "folder":
                stack.extend(reversed(self._children(path, rel)))
            elif isinstance(kind, SourceFile):
                yield kind

    def _skip(self, rel: str, reason: str) -> None:
        self.on_skip(_printable(rel), reason)

    def _children(self, folder: str, rel: str) -> list[tuple[str, str, str, bool]]:
        """(name, path, rel, is a symlink) of each visible entry, sorted by name.

        Paths stay strings and the directory entry already knows whether it is a link: the
        freshness check before every question walks the whole folder, and pathlib objects
        and extra system calls made that walk several times slower.
        """
        try:
            with os.scandir(folder) as entries:
                found = sorted(
                    (entry.name, entry.is_symlink())
                    for entry in entries
                    if not entry.name.startswith(_LEFT_OUT)
                )
        except OSError as error:
            self._skip(rel, f"cannot open folder: {os_reason(error)}")
            return []
        prefix = f"{rel}/" if rel else ""
        folder = folder.rstrip("/") + "/"
        return [(name, folder + name, prefix + name, is_link) for name, is_link in found]

    def _classify(self, name: str, path: str, rel: str, is_link: bool) -> SourceFile | str | None:
        """'folder' to walk into, a SourceFile to yield, or None (reported or silently left)."""
        dot = name.rfind(".")
        suffix = name[dot:] if dot > 0 else ""  # as os.path.splitext, for a name without "/"
        supported = suffix.lower() in FORMATS
        try:
            info = os.stat(path)
        except OSError as error:
            if error.errno == errno.ELOOP:
                self._skip(rel, "symlink loop")
            elif error.errno == errno.ENOENT and is_link:
                if supported or not suffix:
                    self._skip(rel, "broken symlink (its target does not exist)")
            elif error.errno != errno.ENOENT:  # ENOENT alone: deleted while listing, nothing left
                self._skip(rel, os_reason(error))
            return None
        is_folder = stat.S_ISDIR(info.st_mode)
        if not is_folder and not supported:
            return None
        if problem := _name_problem(name):
            self._skip(rel, problem)
            return None
        if is_link and not self._may_follow(path, rel, is_folder):
            return None
        if is_folder:
            return "folder"
        if not stat.S_ISREG(info.st_mode):
            self._skip(rel, "not a regular file (named pipe, socket or device)")
            return None
        return source_file(path, rel, info)

    def _may_follow(self, link: str, rel: str, is_folder: bool) -> bool:
        target = Path(os.path.realpath(link))
        inside = target.is_relative_to(self.root)
        if not is_folder:
            if not inside and not self.follow_links:
                self._skip(rel, "symlink to a file outside the documents folder (not followed)")
            return inside or self.follow_links
        if Path(os.path.realpath(os.path.dirname(link))).is_relative_to(target):
            self._skip(rel, "symlink loop (points to a folder that contains it)")
            return False
        if inside or str(target) in self.walked:
            return False  # its files are found under their real path: a duplicate, not an error
        if not self.follow_links:
            self._skip(rel, "symlink to a folder outside the documents folder (not followed)")
            return False
        self.walked.add(str(target))
        return True


def _name_problem(name: str) -> str | None:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "file name is not valid UTF-8; rename it to include it"
    # isprintable() is one C call and true for almost every name; only then look closer.
    if not name.isprintable() and any(unicodedata.category(char) == "Cc" for char in name):
        return "file name contains control characters; rename it to include it"
    return None


def _printable(rel: str) -> str:
    """rel as a user can read it, even when the name itself is the problem."""
    text = rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(
        f"\\x{ord(char):02x}" if unicodedata.category(char) == "Cc" else char for char in text
    )


def os_reason(error: OSError) -> str:
    if isinstance(error, PermissionError):
        return "permission denied"
    return (error.strerror or str(error)).lower()
