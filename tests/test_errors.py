"""What a user reads when something fails: their mistake says what to do, a bug says it is one."""

from __future__ import annotations

import errno
import sqlite3

import pytest

from askseed.config import Settings, load_settings
from askseed.errors import AskseedError, UsageError, user_line, user_message
from askseed.eval.beir import BeirError
from askseed.ingest.indexer import check_chunk_settings
from askseed.ingest.listing import SourcesError
from askseed.model.embedder import ModelMissingError
from askseed.store.schema import StoreError


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (UsageError("-k must be at least 1, not 0"), "-k must be at least 1, not 0"),
        (StoreError("the index in x is damaged; run it"), "the index in x is damaged; run it"),
        (SourcesError("documents folder d does not exist"), "documents folder d does not exist"),
        (BeirError("corpus.jsonl line 3: bad JSON"), "corpus.jsonl line 3: bad JSON"),
        (ModelMissingError("run pip install"), "run pip install"),
        (PermissionError(errno.EACCES, "Permission denied", "notes"), "permission denied: notes"),
        (FileNotFoundError(errno.ENOENT, "No such file", "a.txt"), "a.txt: No such file"),
        (
            sqlite3.OperationalError("database is locked"),
            "the index cannot be used: database is locked",
        ),
    ],
)
def test_user_errors_print_as_they_are(error, expected):
    assert user_message(error) == expected


@pytest.mark.parametrize("error", [ValueError("bad shape"), KeyError("x"), TypeError("None")])
def test_a_bug_never_prints_as_a_user_error(error):
    message = user_message(error)
    assert message.startswith(f"unexpected {type(error).__name__}")
    assert "please report it" in message


def test_user_line_is_the_first_line():
    assert user_line(UsageError("first\nsecond")) == "first"


@pytest.mark.parametrize(
    ("environ", "fragment"),
    [
        ({"ASKSEED_CHUNK_TOKENS": "0"}, "ASKSEED_CHUNK_TOKENS must be between 1 and 256, not 0"),
        ({"ASKSEED_CHUNK_TOKENS": "300"}, "not 300"),
        ({"ASKSEED_CHUNK_OVERLAP": "-1"}, "ASKSEED_CHUNK_OVERLAP must be 0 or more"),
    ],
)
def test_chunk_settings_the_chunker_cannot_honour_are_usage_errors(environ, fragment):
    with pytest.raises(UsageError, match=fragment) as caught:
        check_chunk_settings(load_settings(environ))
    assert isinstance(caught.value, AskseedError)


def test_a_setting_that_does_not_parse_is_a_usage_error():
    with pytest.raises(UsageError, match="ASKSEED_TOP_K='many' is not valid"):
        load_settings({"ASKSEED_TOP_K": "many"})


def test_default_chunk_settings_pass():
    check_chunk_settings(Settings())
