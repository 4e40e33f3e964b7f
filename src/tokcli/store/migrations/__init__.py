"""Forward-only schema migrations, one module per version: `mNNNN_name.py` with `apply(conn)`
for SQLite and `POSTGRESQL`, the same change in PostgreSQL's DDL (identity keys, NUMERIC money,
PL/pgSQL triggers), so both backends walk the same numbered, recorded history.

A migration may add tables, columns and indexes, or rename; it never drops data. Each runs in
its own transaction together with the `PRAGMA user_version` bump, so a crash leaves the store at
the previous version, never half-way. Versions are discovered from the module names, so a new
migration is one new file.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tokcli.store.connection import Connection

if TYPE_CHECKING:
    from tokcli.store.postgres import PgConnection

_NAME = re.compile(r"^m(\d{4})_(\w+)$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[Connection], None]
    postgresql: str = ""  # the same change in PostgreSQL's DDL

    def apply_postgresql(self, conn: PgConnection) -> None:
        # Run as one script on the raw connection: PL/pgSQL bodies hold semicolons, and DDL
        # needs none of the SQLite-dialect rewrite.
        conn.raw.execute(self.postgresql)


def all_migrations() -> list[Migration]:
    found = []
    for module in pkgutil.iter_modules(__path__):
        match = _NAME.match(module.name)
        if match:
            loaded = importlib.import_module(f"{__name__}.{module.name}")
            found.append(
                Migration(int(match.group(1)), match.group(2), loaded.apply, loaded.POSTGRESQL)
            )
    found.sort(key=lambda m: m.version)
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
