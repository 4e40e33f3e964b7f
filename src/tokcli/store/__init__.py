"""The usage store: one SQLite file (WAL mode, the embedded default) or a PostgreSQL database
shared by a team (store/postgres.py), with the same versioned forward-only migrations.

A location is a path (SQLite) or a `postgresql://` URL (PostgreSQL); every function here takes
either kind of connection and says where the two differ.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeGuard

from tokcli.errors import TokcliError
from tokcli.store.connection import Connection
from tokcli.store.postgres import StoreURL, is_url

if TYPE_CHECKING:
    from types import TracebackType

    from tokcli.store.postgres import PgConnection

BUSY_TIMEOUT_MS = 15_000
STORE_ENV = "TOKCLI_STORE"


StoreLocation = Path | StoreURL


def resolve_store_path(
    flag: Path | str | StoreURL | None = None,
    environ: Mapping[str, str] | None = None,
    configured: Path | str | None = None,
) -> StoreLocation:
    """Where the usage store is, nearest intent first: the `--store` flag, then $TOKCLI_STORE,
    then `store` in the config (already resolved against its file's folder), then the default.
    A `postgresql://` URL names a PostgreSQL store; anything else is a SQLite file."""
    environ = os.environ if environ is None else environ
    if flag is not None and str(flag):
        return location(flag)
    if environ.get(STORE_ENV):
        return location(environ[STORE_ENV])
    if configured:
        return location(configured)
    return default_store_path(environ)


def location(target: Path | str | StoreURL) -> StoreLocation:
    """A path or URL as given by a user, as a store location."""
    if isinstance(target, StoreURL):
        return target
    if is_url(str(target)):
        return StoreURL(str(target))
    return Path(target).expanduser()


def is_postgresql(conn: Connection) -> TypeGuard[PgConnection]:
    return getattr(conn, "dialect", "sqlite") == "postgresql"


def default_store_path(environ: Mapping[str, str] | None = None) -> StoreLocation:
    """$TOKCLI_STORE, else $XDG_DATA_HOME/tokcli/usage.db, else ~/.local/share/tokcli/usage.db."""
    environ = os.environ if environ is None else environ
    if environ.get(STORE_ENV):
        return location(environ[STORE_ENV])
    base = environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "tokcli" / "usage.db"


# Told the names of the migrations about to run on a store that already has a schema (a new
# store is silent): a migration may copy a table, so the first command after an upgrade can take
# a while on a large store, and a person at a terminal should know why.
Upgrading = Callable[[list[str]], None]


def connect(
    path: Path | str | StoreURL,
    *,
    migrate_to: int | None = None,
    on_upgrade: Upgrading | None = None,
) -> Connection:
    """Open (creating if needed) and migrate the store. Autocommit mode: callers open their own
    transactions with `transaction(conn)` so that a failed import writes nothing."""
    target = location(path)
    if isinstance(target, StoreURL):
        from tokcli.store import postgres

        conn: Connection = postgres.connect(target)
        try:
            migrate(conn, target=migrate_to, on_upgrade=on_upgrade)
        except BaseException:
            conn.close()
            raise
        return conn
    path = target
    if _read_only(path):
        return _connect_read_only(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        migrate(conn, target=migrate_to, on_upgrade=on_upgrade)
    except sqlite3.DatabaseError as exc:
        raise TokcliError(f"{path}: cannot open the usage store: {exc}") from None
    except OSError as exc:
        raise TokcliError(f"{path}: cannot create the usage store: {exc}") from None
    conn.row_factory = sqlite3.Row
    return conn


def _read_only(path: Path) -> bool:
    """An existing store we may not write (a read-only mount, a shared file without write
    permission, a folder where SQLite cannot create its WAL files) is still readable."""
    return path.is_file() and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """Read without writing anything: `mode=ro`, and `immutable=1` when the folder cannot hold
    the WAL index (nothing else can be writing then). Reports answer from the usage rows when
    the rollups cannot be refreshed; a command that writes gets a clear 'cannot be written'."""
    from urllib.parse import quote

    immutable = "&immutable=1" if not os.access(path.parent, os.W_OK) else ""
    uri = f"file:{quote(str(path.resolve()))}?mode=ro{immutable}"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        pending = latest_version() - schema_version(conn)
    except sqlite3.DatabaseError as exc:
        raise TokcliError(f"{path}: cannot open the usage store (read-only): {exc}") from None
    if pending > 0:
        raise TokcliError(
            f"{path}: the usage store is read-only and needs {pending} migration(s); "
            "open it once where it can be written (`tokcli store migrate`)"
        )
    conn.row_factory = sqlite3.Row
    return conn


class transaction:
    """`with transaction(conn):` BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def __enter__(self) -> Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        if is_postgresql(self.conn):
            # One writer at a time, as SQLite's BEGIN IMMEDIATE gives: an import replaces the
            # rows of a period and inserts by record key, which concurrent writers would race.
            from tokcli.store.postgres import WRITE_LOCK

            self.conn.execute("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK,))
        return self.conn

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        if exc_type is None:
            self.conn.execute("COMMIT")
        elif self.conn.in_transaction:
            # SQLite may already have rolled the transaction back itself (SQLITE_FULL during a
            # batched write): a second ROLLBACK would fail and hide the error that matters.
            self.conn.execute("ROLLBACK")
        return False


def schema_version(conn: Connection) -> int:
    if is_postgresql(conn):
        if not has_table(conn, "schema_migrations"):
            return 0
        query = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"
        return int(conn.execute(query).fetchone()[0])
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def has_table(conn: Connection, name: str) -> bool:
    if is_postgresql(conn):
        # The catalog table, read with this statement's snapshot: to_regclass() may answer
        # from a stale cache just after another session created the table (migrations race).
        found = conn.execute(
            "SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() "
            "AND tablename = ?",
            (name,),
        ).fetchone()
        return found is not None
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    return found is not None


def latest_version() -> int:
    from tokcli.store.migrations import all_migrations

    return max(m.version for m in all_migrations())


def migrate(
    conn: Connection, target: int | None = None, on_upgrade: Upgrading | None = None
) -> list[str]:
    """Apply every pending migration up to `target` (default: all). Returns the names applied.
    `on_upgrade` hears which are pending first, when the store had a schema already."""
    from tokcli.store.migrations import all_migrations

    migrations = all_migrations()
    newest = max(m.version for m in migrations)
    version = schema_version(conn)
    if version > newest:
        raise TokcliError(
            f"the store has schema version {version}, newer than this tokcli "
            f"understands ({newest}); upgrade tokcli"
        )
    done = _applied_versions(conn)  # once: every command opens the store
    pending = [m for m in migrations
               if m.version not in done and (target is None or m.version <= target)]  # fmt: skip
    if on_upgrade is not None and version > 0 and pending:
        on_upgrade([m.name for m in pending])
    applied = []
    for migration in pending:
        with transaction(conn):
            # Another process may have migrated while we waited for the lock.
            if migration.version in _applied_versions(conn):
                continue
            if is_postgresql(conn):
                migration.apply_postgresql(conn)
            else:
                migration.apply(conn)
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            conn.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                (migration.version, migration.name, _now()),
            )
            if not is_postgresql(conn):
                version = max(schema_version(conn), migration.version)
                conn.execute(f"PRAGMA user_version = {version}")
        applied.append(migration.name)
    return applied


def _applied_versions(conn: Connection) -> set[int]:
    """Versions recorded as applied. A migration numbered below the store's version but never
    applied (two features merged in another order) still runs."""
    if not has_table(conn, "schema_migrations"):
        return set(range(schema_version(conn) + 1))
    return {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}


def store_info(conn: Connection, path: StoreLocation) -> dict[str, Any]:
    """What `tokcli store info` shows: backend, schema versions, size and rows per table."""
    if is_postgresql(conn):
        tables_sql = (
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
        )
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        backend = journal_mode = "postgresql"
    else:
        tables_sql = (
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
        size = path.stat().st_size if isinstance(path, Path) and path.exists() else 0
        backend, journal_mode = "sqlite", conn.execute("PRAGMA journal_mode").fetchone()[0]
    tables = [row[0] for row in conn.execute(tables_sql)]
    counts = {name: conn.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0] for name in tables}
    from tokcli.store.rollups import unrolled_tag_keys

    return {
        "path": str(path),  # a PostgreSQL URL redacted: never the password
        "backend": backend,
        "schema_version": schema_version(conn),
        "latest_schema_version": latest_version(),
        "size_bytes": size,
        "journal_mode": journal_mode,
        "tables": counts,
        # Tag keys too scattered to roll up: reports by them sum the usage rows (m0018).
        "unrolled_tag_keys": sorted(unrolled_tag_keys(conn)),
    }


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
