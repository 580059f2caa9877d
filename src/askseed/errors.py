"""Turning failures into the one line a user reads. Tracebacks only with ASKSEED_DEBUG=1."""

from __future__ import annotations

import os
import sqlite3
import traceback


class NoDocumentsError(ValueError):
    """The documents folder holds nothing askseed can read."""


def user_message(error: BaseException) -> str:
    if os.environ.get("ASKSEED_DEBUG"):
        traceback.print_exception(error)
    from askseed.cli import UsageError
    from askseed.embed import ModelMissingError
    from askseed.store import StoreError

    if isinstance(error, UsageError | StoreError | ModelMissingError | ValueError):
        return str(error)
    if isinstance(error, sqlite3.DatabaseError):
        # Only from a query the store does not wrap: damage it came across after opening.
        from askseed.store import is_damage

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
