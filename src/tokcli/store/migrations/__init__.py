"""Forward-only schema migrations, one module per version: `mNNNN_name.py` with `apply(conn)`.

A migration may add tables, columns and indexes, or rename; it never drops data. Each runs in
its own transaction together with the `PRAGMA user_version` bump, so a crash leaves the store at
the previous version, never half-way. Versions are discovered from the module names, so a new
migration is one new file.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import os
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

_NAME = re.compile(r"^m(\d{4})_(\w+)$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable


def all_migrations() -> list[Migration]:
    found = []
    for name in _module_names():
        match = _NAME.match(name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), _applier(name)))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a version: {versions}")
    return found


def _module_names() -> set[str]:
    """The modules in this package, from the file names: every command opens the store, and a
    store already at the latest version needs no migration imported (start-up)."""
    suffixes = importlib.machinery.all_suffixes()
    names = set()
    for folder in __path__:
        for entry in os.listdir(folder):
            for suffix in suffixes:
                if entry.endswith(suffix):
                    names.add(entry[: -len(suffix)])
    return names


def _applier(module: str) -> Callable:
    """`apply(conn)` of the migration module, imported when it runs."""

    def apply(conn: sqlite3.Connection) -> None:
        importlib.import_module(f"{__name__}.{module}").apply(conn)

    return apply


def execute_script(conn: sqlite3.Connection, script: str) -> None:
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
