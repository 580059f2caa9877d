"""Turning failures into the one line a user reads. Tracebacks only with ASKSEED_DEBUG=1.

An AskseedError is one the user can fix (a bad flag, a missing folder, a damaged index): its
message says what to do, and it prints as is. Anything else is a bug in askseed or a library,
and says so, so that it is never mistaken for the user's mistake.
"""

from __future__ import annotations

import os
import sqlite3
import traceback


class AskseedError(Exception):
    """A problem the user can fix; str(error) says what is wrong and what to do."""


class UsageError(AskseedError):
    """Bad input from the user on the command line: printed as one line, exit code 2."""


class IndexPathError(AskseedError):
    """The index path names something other than a folder."""


class UnknownSourceError(AskseedError):
    """A document was asked for by a name the index does not hold, or outside the folder."""


class NoDocumentsError(AskseedError):
    """The documents folder holds nothing askseed can read."""


def first_line(error: BaseException) -> str:
    """The first line of the error's message, or its type's name when it has none: the cause
    a one-line message quotes."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def is_damage(error: sqlite3.DatabaseError) -> bool:
    """A damaged database, as opposed to a busy, read-only or full one."""
    name = getattr(error, "sqlite_errorname", None) or ""
    return name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB"))


def user_line(error: BaseException) -> str:
    """user_message cut to its first line, for a status line or a transcript entry."""
    lines = user_message(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def user_message(error: BaseException) -> str:
    if os.environ.get("ASKSEED_DEBUG"):
        traceback.print_exception(error)
    if isinstance(error, AskseedError):
        return str(error)
    if isinstance(error, sqlite3.DatabaseError):
        # Only from a query the store does not wrap: damage it came across after opening.
        if is_damage(error):
            return f"the index is damaged ({error}); run `askseed index --rebuild`"
        return f"the index cannot be used: {error}"
    if isinstance(error, PermissionError):
        return f"permission denied: {error.filename}"
    if isinstance(error, OSError) and error.filename:
        return f"{error.filename}: {error.strerror}"
    return (
        f"unexpected {type(error).__name__}: {error} "
        "(please report it; ASKSEED_DEBUG=1 shows the details)"
    )
