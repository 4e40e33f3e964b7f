"""The type of an open store connection, for annotations outside `tokcli.store` (which never
names a database driver; tests/test_store_boundary.py checks it)."""

from __future__ import annotations

from sqlite3 import Connection

__all__ = ["Connection"]
