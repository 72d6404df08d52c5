"""The store's index: one SQLite row per image (stdlib ``sqlite3``).

Writers use ``BEGIN IMMEDIATE`` transactions and every connection waits up to a minute
for a busy database, so several ``rkt`` processes can use one store at once. A store with
no index file simply has no images; the file is made on the first import.
"""

from __future__ import annotations

import json

from rkt.store.records import ImageRecord

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3
    from pathlib import Path

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS images (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    labels TEXT NOT NULL,
    import_time INTEGER NOT NULL,
    last_used INTEGER NOT NULL,
    size INTEGER NOT NULL,
    manifest TEXT NOT NULL,
    blob_format TEXT NOT NULL,
    blob_size INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS images_by_name ON images (name);
"""
_COLS = "id, name, labels, import_time, last_used, size"
BUSY_TIMEOUT = 60.0


def _record(row: tuple[str, str, str, int, int, int]) -> ImageRecord:
    return ImageRecord(row[0], row[1], json.loads(row[2]), row[3], row[4], row[5])


class Index:
    """The image index at ``path`` (``<store>/index.db``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _db(self, create: bool = False) -> sqlite3.Connection | None:
        if self._conn is not None:
            return self._conn
        if not create and not self.path.exists():
            return None
        import sqlite3  # here: starting a pod from an image id never needs it

        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
        if conn.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for stmt in filter(None, (s.strip() for s in _SCHEMA.split(";"))):
                    conn.execute(stmt)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("PRAGMA journal_mode = WAL")
        self._conn = conn
        return conn

    # -- reads ------------------------------------------------------------------------------
    def _select(self, where: str, args: tuple[object, ...]) -> list[ImageRecord]:
        db = self._db()
        if db is None:
            return []
        rows = db.execute(f"SELECT {_COLS} FROM images {where} ORDER BY import_time, id", args).fetchall()
        return [_record(r) for r in rows]

    def all(self) -> list[ImageRecord]:
        """Every image, oldest import first."""
        return self._select("", ())

    def get(self, image_id: str) -> ImageRecord | None:
        rows = self._select("WHERE id = ?", (image_id,))
        return rows[0] if rows else None

    def by_prefix(self, prefix: str) -> list[ImageRecord]:
        """Images whose id starts with ``prefix`` (lower-case hex, already checked)."""
        return self._select("WHERE id GLOB ?", (prefix + "*",))

    def by_name(self, name: str) -> list[ImageRecord]:
        return self._select("WHERE name = ?", (name,))

    def manifest(self, image_id: str) -> str | None:
        """The image manifest as it was in the archive."""
        db = self._db()
        row = db.execute("SELECT manifest FROM images WHERE id = ?", (image_id,)).fetchone() if db else None
        return None if row is None else str(row[0])

    def blob_format(self, image_id: str) -> str | None:
        """How the stored blob is compressed (``tar``, ``gzip``, ``bzip2``, ``xz``, ``zstd``)."""
        db = self._db()
        row = db.execute("SELECT blob_format FROM images WHERE id = ?", (image_id,)).fetchone() if db else None
        return None if row is None else str(row[0])

    # -- writes -----------------------------------------------------------------------------
    def insert(self, rec: ImageRecord, manifest: str, blob_format: str, blob_size: int) -> ImageRecord:
        """Add ``rec`` unless its id is already there; returns the row that is in the index."""
        db = self._db(create=True)
        assert db is not None
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute(f"SELECT {_COLS} FROM images WHERE id = ?", (rec.id,)).fetchone()
            if row is None:
                db.execute("INSERT INTO images VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           (rec.id, rec.name, json.dumps(rec.labels), rec.import_time, rec.last_used,
                            rec.size, manifest, blob_format, blob_size))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return rec if row is None else _record(row)

    def touch(self, image_id: str, when: int) -> None:
        db = self._db()
        if db is not None:
            db.execute("UPDATE images SET last_used = ? WHERE id = ?", (when, image_id))

    def delete(self, image_id: str) -> bool:
        """Remove the row; whether there was one."""
        db = self._db()
        if db is None:
            return False
        return db.execute("DELETE FROM images WHERE id = ?", (image_id,)).rowcount > 0
