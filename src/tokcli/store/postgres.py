"""The PostgreSQL backend: a shared team store behind the same store functions as SQLite.

The store's SQL is written once, in SQLite's dialect (the embedded default). `PgConnection`
offers the slice of `sqlite3.Connection` the store uses (`execute`, `executemany`, `cursor`,
`in_transaction`, rows readable by index and by name) and rewrites each statement once (cached)
into PostgreSQL's dialect: `?` placeholders, `INSERT OR IGNORE`, `json_each`, `group_concat`,
`julianday`, `temp.` tables and tokcli's exact-sum aggregates. Anything the rewrite cannot say
lives in the store module of that concern, behind `is_postgresql(conn)`.

Values are bound on the client (`psycopg.ClientCursor`), as SQLite binds them: a parameter is a
literal the server types by context, so `?` beside a TEXT or NUMERIC column needs no cast.
Money columns are NUMERIC; they come back as the exact decimal text SQLite stores (or an int when
integral, as `SUM` of a count is), so the code above the store sees the same values on both.

The password (from the URL, PGPASSWORD or a pgpass file) never leaves this module: every error
and every displayed location uses `redact(url)`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tokcli.errors import TokcliError
from tokcli.lazyre import lazy

URL_SCHEMES = ("postgresql://", "postgres://")

# One advisory lock key per purpose (pg_advisory_xact_lock takes a bigint): writers take
# WRITE_LOCK for the length of their transaction, as SQLite's BEGIN IMMEDIATE serialises
# writers; batch takes BATCH_LOCK for the length of its run, across hosts.
WRITE_LOCK = 0x746F6B636C690001  # "tokcli" + 1
BATCH_LOCK = 0x746F6B636C690002


def is_url(target: object) -> bool:
    return isinstance(target, str | StoreURL) and str(_raw(target)).startswith(URL_SCHEMES)


def _raw(target: object) -> str:
    return target.url if isinstance(target, StoreURL) else str(target)


class StoreURL:
    """A PostgreSQL store's location. `str()` is the redacted form (what users see); `.url` is
    the full one, used only to connect."""

    def __init__(self, url: str):
        self.url = url

    def __str__(self) -> str:
        return redact(self.url)

    def __repr__(self) -> str:
        return f"StoreURL({redact(self.url)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StoreURL) and other.url == self.url

    def __hash__(self) -> int:
        return hash(self.url)

    def is_file(self) -> bool:
        """A server store always 'exists' for the callers that ask a path whether to open it."""
        return True

    def exists(self) -> bool:
        return True


def redact(url: str) -> str:
    """The URL with any password replaced by `***` (user, host, port and database kept)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "postgresql://***"
    netloc = parts.netloc
    if "@" in netloc:
        credentials, _, host = netloc.rpartition("@")
        user = credentials.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in credentials else f"{user}@{host}"
    query = re.sub(r"(?i)(password=)[^&]*", r"\1***", parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _scrub(text: str, url: str) -> str:
    """An error message with every form of the password removed (a driver may echo it)."""
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    text = text.replace(url, redact(url))
    if password:
        from urllib.parse import unquote

        for form in {password, unquote(password)}:
            if form:
                text = text.replace(form, "***")
    return mask_passwords(text)


def mask_passwords(text: str) -> str:
    """Any `user:password@` of a PostgreSQL URL and any `password=...` in `text`, as `***`."""
    text = re.sub(r"(postgres(?:ql)?://[^:/@\s]+:)[^@\s]+@", r"\1***@", text)
    return re.sub(r"(?i)(password=)\S+", r"\1***", text)


def connect(target: StoreURL | str) -> PgConnection:
    url = _raw(target)
    try:
        import psycopg
    except ImportError:
        raise TokcliError(
            f"{redact(url)}: a PostgreSQL store needs psycopg: pip install 'tokcli[postgresql]'"
        ) from None
    try:
        raw = psycopg.connect(
            url, autocommit=True, cursor_factory=psycopg.ClientCursor, connect_timeout=15
        )
    except psycopg.Error as exc:
        detail = " ".join(_scrub(str(exc), url).split())
        raise TokcliError(f"{redact(url)}: cannot open the usage store: {detail}") from None
    _load_numeric_as_text(raw)
    return PgConnection(raw, url)


def _load_numeric_as_text(raw: Any) -> None:
    from psycopg.adapt import Loader

    class NumericAsSQLiteReadsIt(Loader):
        def load(self, data: bytes | bytearray | memoryview) -> int | str:
            text = bytes(data).decode()
            return int(text) if text.lstrip("-").isdigit() else text

    raw.adapters.register_loader("numeric", NumericAsSQLiteReadsIt)


class Row(tuple[Any, ...]):
    """A result row readable by position and by column name, like `sqlite3.Row`."""

    names: tuple[str, ...] = ()

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self.names.index(key))
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self.names)


def _row_factory(cursor: Any) -> Any:
    if cursor.description is None:
        return tuple
    row_class = type("Row", (Row,), {"names": tuple(c.name for c in cursor.description)})
    return row_class


class PgCursor:
    def __init__(self, conn: PgConnection):
        self._conn = conn
        self._cursor: Any = None
        self.row_factory: Any = None  # accepted for sqlite3 compatibility; rows are tuples

    def execute(self, sql: str, params: Sequence[Any] = ()) -> PgCursor:
        self._cursor = self._conn._run(sql, params)
        return self

    def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> PgCursor:
        self._cursor = self._conn._run_many(sql, seq)
        return self

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    def fetchall(self) -> list[Any]:
        rows: list[Any] = self._cursor.fetchall()
        return rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self._cursor)

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)


class PgConnection:
    """The sqlite3.Connection surface the store uses, over a psycopg connection in autocommit
    mode (transactions are opened explicitly, as with SQLite's isolation_level=None)."""

    dialect = "postgresql"

    def __init__(self, raw: Any, url: str):
        self.raw = raw
        self.url = url
        self.row_factory: Any = None

    def _error(self, exc: Exception) -> TokcliError:
        detail = " ".join(_scrub(str(exc), self.url).split())
        return TokcliError(f"{redact(self.url)}: usage store: {detail}")

    def _run(self, sql: str, params: Sequence[Any] = ()) -> Any:
        import psycopg

        cursor = self.raw.cursor(row_factory=_row_factory)
        try:
            cursor.execute(translate(sql), _params(params))
        except psycopg.Error as exc:
            raise self._error(exc) from None
        return cursor

    def _run_many(self, sql: str, seq: Iterable[Sequence[Any]]) -> Any:
        import psycopg

        cursor = self.raw.cursor(row_factory=_row_factory)
        try:
            cursor.executemany(translate(sql), [_params(p) for p in seq])
        except psycopg.Error as exc:
            raise self._error(exc) from None
        return cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> PgCursor:
        return PgCursor(self).execute(sql, params)

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Bulk insert with COPY: one stream instead of a statement per row (the import path)."""
        import psycopg

        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        try:
            with self.raw.cursor().copy(statement) as copy:
                for row in rows:
                    copy.write_row(_params(row))
        except psycopg.Error as exc:
            raise self._error(exc) from None

    def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> PgCursor:
        return PgCursor(self).executemany(sql, seq)

    def cursor(self) -> PgCursor:
        return PgCursor(self)

    def create_aggregate(self, name: str, arity: int, aggregate: Any) -> None:
        """tokcli's exact-sum aggregates are NUMERIC sums here (see `translate`)."""

    def create_function(
        self, name: str, arity: int, function: Any, /, *, deterministic: bool = False
    ) -> None:
        """tokcli's SQL functions (exact decimal addition) are NUMERIC arithmetic here."""

    def commit(self) -> None:
        """As sqlite3's: statements outside `transaction()` are already committed here."""
        if self.in_transaction:
            self.raw.execute("COMMIT")

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return bool(self.raw.info.transaction_status != TransactionStatus.IDLE)

    def close(self) -> None:
        self.raw.close()

    def __enter__(self) -> PgConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _params(params: Sequence[Any] | dict[str, Any]) -> Sequence[Any]:
    # SQLite stores True as 1; PostgreSQL has no implicit cast from boolean to integer.
    return tuple(int(p) if isinstance(p, bool) else p for p in params)


# --- the dialect rewrite -------------------------------------------------------------------

_CONFLICT_TARGETS = {
    # INSERT OR REPLACE needs the key it replaces on; the only tables that use it.
    "report_bad_values": ("(day, usage_id, column_name)", "value"),
}


@functools.lru_cache(maxsize=2048)
def translate(sql: str) -> str:
    """One SQLite statement in PostgreSQL's dialect (see the module docstring)."""
    text = _placeholders(sql)
    text = re.sub(r"(?i)\bBEGIN\s+IMMEDIATE\b", "BEGIN", text)
    text = re.sub(r"(?i)\bIS\s+NOT\s+%s", "IS DISTINCT FROM %s", text)
    text = re.sub(r"(?i)\bIS\s+%s", "IS NOT DISTINCT FROM %s", text)
    # SQLite's integer truth: `WHERE 1` / `AND 0`.
    text = re.sub(r"(?i)\b(WHERE|AND|OR)\s+1(?=\s|\)|$)(?!\s*[=<>!])", r"\1 TRUE", text)
    text = re.sub(r"(?i)\b(WHERE|AND|OR)\s+0(?=\s|\)|$)(?!\s*[=<>!])", r"\1 FALSE", text)
    text = re.sub(
        r"(?i)\bjson_each\(\s*%s\s*\)", "json_array_elements_text(%s::json) AS j(value)", text
    )
    text = re.sub(r"(?i)\bgroup_concat\(", "string_agg(", text)
    text = re.sub(
        r"(?i)\bjson_group_object\(\s*(\w+)\s*,\s*(\w+)\s*\)",
        r"CAST(json_object_agg(\1, \2 ORDER BY \1) AS TEXT)",
        text,
    )
    text = re.sub(r"(?i)\bchar\((\d+)\)", r"chr(\1)", text)
    text = re.sub(r"(?i)\bIFNULL\(", "COALESCE(", text)
    text = re.sub(r"(?i)\btemp\.", "pg_temp.", text)
    text = re.sub(r"(?i)\browid\b", "ctid", text)
    text = re.sub(
        r"(?i)\bjulianday\(([^()]*)\)",
        r"(EXTRACT(EPOCH FROM CAST(\1 AS timestamptz)) / 86400.0)",
        text,
    )
    text = re.sub(
        r"(?i)\btokcli_decimal_sum\(([^()]*)\)",
        r"CAST(COALESCE(SUM(CAST(\1 AS NUMERIC)), 0) AS TEXT)",
        text,
    )
    text = _insert_or(text)
    return text


def _placeholders(sql: str) -> str:
    """`?` -> `%s` and `%` -> `%%` outside string literals and quoted names."""
    out: list[str] = []
    quote: str | None = None
    for char in sql:
        if quote:
            out.append("%%" if char == "%" else char)
            if char == quote:
                quote = None
            continue
        if char in "'\"":
            quote = char
            out.append(char)
        elif char == "?":
            out.append("%s")
        elif char == "%":
            out.append("%%")
        else:
            out.append(char)
    return "".join(out)


_INSERT_OR = lazy(r"(?is)^\s*INSERT\s+OR\s+(IGNORE|REPLACE)\s+INTO\s+(\S+)")


def _insert_or(text: str) -> str:
    match = _INSERT_OR.match(text)
    if not match:
        return text
    action, table = match.group(1).upper(), match.group(2)
    body = "INSERT INTO " + table + text[match.end() :]
    body = body.rstrip().rstrip(";")
    if action == "IGNORE":
        clause = " ON CONFLICT DO NOTHING"
    else:
        bare = table.split(".")[-1]
        if bare not in _CONFLICT_TARGETS:
            raise ValueError(f"INSERT OR REPLACE INTO {table}: no conflict target known")
        target, column = _CONFLICT_TARGETS[bare]
        clause = f" ON CONFLICT {target} DO UPDATE SET {column} = EXCLUDED.{column}"
    returning = re.search(r"(?i)\sRETURNING\s", body)
    if returning:
        return body[: returning.start()] + clause + body[returning.start() :]
    return body + clause


class SessionLock:
    """An advisory lock held by a connection of its own until `release()` (or until that
    connection ends, however the process ends): what `tokcli batch` holds across hosts."""

    def __init__(self, url: StoreURL | str, key: int):
        self.url, self.key = url, key
        self._conn: PgConnection | None = None

    def try_acquire(self) -> bool:
        if self._conn is None:
            self._conn = connect(self.url)
        taken = bool(
            self._conn.execute("SELECT pg_try_advisory_lock(?)", (self.key,)).fetchone()[0]
        )
        return taken

    def release(self) -> None:
        if self._conn is not None:
            self._conn.close()  # ending the session releases its advisory locks
            self._conn = None
