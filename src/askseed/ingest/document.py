"""What every reader returns or raises: a Document, or SkipFile with a reason for the user."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


class SkipFile(Exception):
    """This file cannot be used; str(error) is a one-line reason."""

    def __init__(self, reason: object) -> None:
        super().__init__(" ".join(str(reason).split())[:300] or "unreadable")


@dataclass(frozen=True)
class Document:
    text: str
    # Paged formats only (PDF pages, EPUB chapter files): offset in `text` where each page
    # starts (page 1 is index 0). Lines are then counted from the top of their page.
    page_starts: tuple[int, ...] | None = None
    # Non-fatal problems worth telling the user, e.g. "not valid UTF-8; decoded as cp1252".
    warnings: tuple[str, ...] = ()
    sha256: str = ""  # of the bytes the text was read from, set by readers.read_document


def paged_document(
    pages: list[str], separator: str, warnings: tuple[str, ...] | list[str] = ()
) -> Document:
    """One Document of several pages, each page's start recorded in page_starts."""
    starts, offset = [], 0
    for page in pages:
        starts.append(offset)
        offset += len(page) + len(separator)
    return Document(separator.join(pages), tuple(starts), tuple(warnings))


@contextmanager
def captured_logs(*logger_names: str) -> Iterator[list[str]]:
    """Collect WARNING+ records of these loggers as one-line strings instead of printing them."""
    messages: list[str] = []

    class Collector(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            message = " ".join(record.getMessage().split())
            if message not in messages:
                messages.append(message)

    collector = Collector(logging.WARNING)
    loggers = [logging.getLogger(name) for name in logger_names]
    saved = [logger.propagate for logger in loggers]
    for logger in loggers:
        logger.addHandler(collector)
        logger.propagate = False
    try:
        yield messages
    finally:
        for logger, propagate in zip(loggers, saved, strict=True):
            logger.removeHandler(collector)
            logger.propagate = propagate
