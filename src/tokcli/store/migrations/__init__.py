"""Forward-only schema migrations, one module per version: `mNNNN_name.py` with `apply(conn)`
for SQLite and `POSTGRESQL`, the same change in PostgreSQL's DDL (identity keys, NUMERIC money,
PL/pgSQL triggers), so both backends walk the same numbered, recorded history.

A migration may add tables, columns and indexes, or rename; it never drops data. Each runs in
its own transaction together with the `PRAGMA user_version` bump, so a crash leaves the store at
the previous version, never half-way. Versions are discovered from the file names, so a new
migration is one new file.
"""

from __future__ import annotations

import importlib
import os
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tokcli.store.connection import Connection

if TYPE_CHECKING:
    from tokcli.store.postgres import PgConnection


def _version_and_name(file_name: str) -> tuple[int, str] | None:
    """`m0005_report_rollups.py` -> (5, "report_rollups"). Versions are read from the file
    names so that opening a store imports no migration module unless one has to run (start-up,
    issue 17; a regular expression compiled here would cost more than the rest)."""
    stem, _, suffix = file_name.partition(".")
    number, _, name = stem[1:].partition("_")
    well_formed = stem[:1] == "m" and len(number) == 4 and number.isdigit()
    if suffix in ("py", "pyc") and well_formed and name.isidentifier():
        return int(number), name
    return None


class Migration:
    """One schema version. `apply` and `postgresql` come from its module, imported on first
    use; tests may give them directly."""

    def __init__(
        self,
        version: int,
        name: str,
        apply: Callable[[Connection], None] | None = None,
        postgresql: str = "",
    ) -> None:
        self.version, self.name = version, name
        self._apply, self._postgresql = apply, postgresql

    def __repr__(self) -> str:
        return f"Migration(version={self.version!r}, name={self.name!r})"

    def _module(self) -> Any:
        return importlib.import_module(f"{__name__}.m{self.version:04d}_{self.name}")

    def apply(self, conn: Connection) -> None:
        (self._apply or self._module().apply)(conn)

    @property
    def postgresql(self) -> str:
        """The same change in PostgreSQL's DDL."""
        return self._postgresql if self._apply else self._module().POSTGRESQL

    def apply_postgresql(self, conn: PgConnection) -> None:
        # Run as one script on the raw connection: PL/pgSQL bodies hold semicolons, and DDL
        # needs none of the SQLite-dialect rewrite.
        conn.raw.execute(self.postgresql)


def all_migrations() -> list[Migration]:
    names = set()
    for folder in __path__:
        for entry in os.listdir(folder):
            version_and_name = _version_and_name(entry)
            if version_and_name:
                names.add(version_and_name)
    found = [Migration(version, name) for version, name in sorted(names)]
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a version: {versions}")
    return found


def execute_script(conn: Connection, script: str) -> None:
    """Run several statements inside the caller's transaction.

    `sqlite3.Connection.executescript` would COMMIT the open transaction first, which would make
    a failed migration leave the store half-migrated.
    """
    statement = ""
    for piece in script.split(";"):
        statement += piece + ";"
        if sqlite3.complete_statement(statement):
            if statement.strip(" \n;"):
                conn.execute(statement)
            statement = ""
    if statement.strip(" \n;"):
        raise ValueError(f"incomplete SQL statement: {statement.strip()[:60]}")
