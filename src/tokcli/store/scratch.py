"""Scratch space on disk for an import's bookkeeping that must not grow in memory (issue 17).

`KeyCounts` is a count per key in a private, temporary SQLite database: SQLite deletes the file
when it is closed, keeps its own small page cache, and nothing else can open it. It is not the
usage store and never touches it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable


class KeyCounts:
    def __init__(self) -> None:
        self._db = sqlite3.connect("")  # "": private, temporary, on disk
        self._db.execute("CREATE TABLE counts (key TEXT PRIMARY KEY, n INT) WITHOUT ROWID")

    def get(self, key: str) -> int:
        row = self._db.execute("SELECT n FROM counts WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

    def set_all(self, counts: Iterable[tuple[str, int]]) -> None:
        """Store each key's count (replacing what was there); pass keys in order, which
        makes the writes appends."""
        self._db.executemany(
            "INSERT INTO counts VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET n = excluded.n",
            counts,
        )

    def close(self) -> None:
        self._db.close()
