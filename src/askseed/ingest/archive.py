"""Zip containers (Word .docx, EPUB): checked before a library unpacks them into memory."""

from __future__ import annotations

import io
import zipfile

from askseed.ingest.document import SkipFile

# What a container may unpack to. A zip bomb declares far more; zipfile never inflates a
# member past the size its header declares, so the sum of those sizes bounds the memory.
MAX_UNPACKED_BYTES = 512 * 1024 * 1024


def zip_names(data: bytes, kind: str) -> set[str]:
    """The member names of a zip container, or SkipFile naming `kind` ("Word file", "EPUB")."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as error:
        raise SkipFile(f"unreadable {kind}: not a zip container, or cut short ({error})") from error
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_UNPACKED_BYTES:
        raise SkipFile(
            f"unreadable {kind}: it would unpack to {unpacked / 2**20:,.0f} MB "
            f"(the limit is {MAX_UNPACKED_BYTES // 2**20} MB)"
        )
    return {member.filename for member in members}
