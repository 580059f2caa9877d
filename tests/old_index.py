"""An index as an earlier askseed wrote it, made from one this version wrote: what each format
change must still read and update in place."""

from __future__ import annotations

import json
import sqlite3

from askseed.store.chunk_codec import from_varints
from askseed.store.schema import ON_DEMAND_TABLES

VERSION_5_VIEW = """CREATE VIEW chunk_search AS
    SELECT c.id AS id,
        CASE WHEN c.headed THEN f.heading || char(10) || c.text ELSE c.text END AS text
    FROM chunks c JOIN files f ON f.id = c.file_id"""


def as_version_5(index) -> None:
    """Turn an index into what askseed wrote as format 5: its key tables with rowids, a second
    b-tree for dropped_keys, every table made with the database (none on demand), the
    sentence spans as JSON, each heading a copy in its file's row and the search view that
    reads only that copy."""
    with sqlite3.connect(index / "meta.sqlite") as db:
        # Version 5 made skipped and vector_tombstones with the others, empty or not.
        db.execute(ON_DEMAND_TABLES["skipped"])
        db.execute(ON_DEMAND_TABLES["vector_tombstones"])
        for table, key in [("manifest", "key"), ("vector_segments", "name"), ("skipped", "path")]:
            (sql,) = db.execute("SELECT sql FROM sqlite_schema WHERE name = ?", (table,)).fetchone()
            assert sql.endswith("WITHOUT ROWID") and f"{key} TEXT PRIMARY KEY" in sql
            db.execute(sql.replace(f"TABLE {table}", "TABLE old").removesuffix(" WITHOUT ROWID"))
            db.execute(f"INSERT INTO old SELECT * FROM {table}")
            db.execute(f"DROP TABLE {table}")
            db.execute(f"ALTER TABLE old RENAME TO {table}")
        db.execute("CREATE TABLE old (file_id INTEGER NOT NULL, key INTEGER NOT NULL)")
        db.execute("INSERT INTO old SELECT file_id, key FROM dropped_keys")
        db.execute("DROP TABLE dropped_keys")
        db.execute("ALTER TABLE old RENAME TO dropped_keys")
        db.execute("CREATE INDEX dropped_keys_by_key ON dropped_keys(key)")
        for chunk_id, spans in db.execute("SELECT id, sentences FROM chunks").fetchall():
            as_json = json.dumps(from_varints(spans), separators=(",", ":"))
            db.execute("UPDATE chunks SET sentences = ? WHERE id = ?", (as_json, chunk_id))
        db.execute(
            "UPDATE files SET heading = (SELECT substr(h.text, 1, files.heading_chars) "
            "FROM chunks h WHERE h.id = files.first_chunk) WHERE heading_chars IS NOT NULL"
        )
        db.execute("DROP VIEW chunk_search")
        db.execute("ALTER TABLE files DROP COLUMN heading_chars")
        db.execute(VERSION_5_VIEW)
        db.execute("UPDATE manifest SET value = '5' WHERE key = 'schema_version'")
