"""Import records and replacement: what an import writes besides the usage rows themselves.

- `imports` rows: one per imported file or set of parts (begun and finished by
  store.usage.begin_import / finish_import), dropped when the file changed nothing.
- Kept keys: the record keys a file restates (its duplicates), so replacement keeps them.
- Replacement: deleting the rows earlier imports of the same source wrote for a billing period
  or inside a time window, except those kept and those of the same `--part-of` set.

All of it runs in the importer's transaction (`with transaction(conn):`); nothing commits here.
Times are the store's UTC text ("2026-10-01T00:00:00Z"), so text comparison orders them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from tokcli.store.connection import Connection
from tokcli.store.errors import translates

BILLING_ACCOUNT_TAG = "billing_account"
DELETE_CHUNK = 500  # ids per DELETE ... IN (...): well under SQLite's host-parameter limit

_REPLACE_SQL = """
    DELETE FROM usage
    WHERE source = ? AND import_id IS NOT ?
      AND period_start >= ? AND {end_column} {end_op} ?
      AND record_key NOT IN (SELECT record_key FROM temp.import_kept_keys)
      {account_filter}
"""
_ACCOUNT_FILTER = (
    "AND id IN (SELECT usage_id FROM usage_tags WHERE key = '"
    + BILLING_ACCOUNT_TAG
    + "' AND value = ?)"
)
_SAME_SET_FILTER = (
    "AND (import_id IS NULL OR import_id NOT IN (SELECT id FROM imports WHERE part_set = ?))"
)


@translates
def forget_import(conn: Connection, import_id: int) -> None:
    """Drop an import's record (it added and replaced nothing: leave no trace)."""
    conn.execute("DELETE FROM imports WHERE id = ?", (import_id,))


@translates
def prepare_kept_keys(conn: Connection) -> None:
    """Start an empty list of kept keys for this import (a temporary table of the connection)."""
    # Keys of rows this file re-states (duplicates): replacement must not delete them.
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS import_kept_keys (record_key TEXT PRIMARY KEY)")
    conn.execute("DELETE FROM temp.import_kept_keys")


@translates
def keep_keys(conn: Connection, keys: Iterable[str]) -> None:
    """Add record keys this import restates: no replacement deletes them."""
    conn.executemany(
        "INSERT OR IGNORE INTO temp.import_kept_keys VALUES (?)", [(key,) for key in keys]
    )


@translates
def replace_billing_period(
    conn: Connection,
    *,
    source: str,
    import_id: int,
    start: str,
    end: str,
    account: str | None = None,
    part_set: str | None = None,
) -> int:
    """Delete the rows other imports of `source` wrote with `start <= period_start < end`
    (of one billing account, when given), except kept keys and rows of the same part set;
    returns how many."""
    params: list[object] = [source, import_id, start, end]
    account_filter = ""
    if account:
        account_filter = _ACCOUNT_FILTER
        params.append(account)
    if part_set is not None:
        account_filter += " " + _SAME_SET_FILTER
        params.append(part_set)
    sql = _REPLACE_SQL.format(end_column="period_start", end_op="<", account_filter=account_filter)
    return conn.execute(sql, params).rowcount


def _window_sql(part_set: str | None, params: list[object]) -> str:
    extra = ""
    if part_set is not None:
        extra = _SAME_SET_FILTER
        params.append(part_set)
    return _REPLACE_SQL.format(end_column="period_end", end_op="<=", account_filter=extra)


@translates
def replace_window(
    conn: Connection,
    *,
    source: str,
    import_id: int,
    start: str,
    end: str,
    part_set: str | None = None,
) -> int:
    """Delete the rows other imports of `source` wrote inside [start, end] (period_start >=
    start, period_end <= end), except kept keys and rows of the same part set; returns how
    many."""
    params: list[object] = [source, import_id, start, end]
    return conn.execute(_window_sql(part_set, params), params).rowcount


@translates
def rows_in_window(
    conn: Connection,
    *,
    source: str,
    import_id: int,
    start: str,
    end: str,
    part_set: str | None = None,
) -> list[tuple[Any, ...]]:
    """The rows `replace_window` would delete, as (id, period_start, period_end, model_raw,
    service_tier, charge_kind, tags) with tags a list of (key, value) pairs."""
    params: list[object] = [source, import_id, start, end]
    sql = _window_sql(part_set, params)
    candidates = conn.execute(
        sql.replace("DELETE FROM usage", "SELECT id, period_start, period_end, model_raw, "
                    "service_tier, charge_kind FROM usage"),
        params,
    ).fetchall()  # fmt: skip
    rows = []
    for row in candidates:
        tags = conn.execute(
            "SELECT key, value FROM usage_tags WHERE usage_id = ?", (row[0],)
        ).fetchall()
        rows.append((*row, [tuple(tag) for tag in tags]))
    return rows


@translates
def delete_usage(conn: Connection, ids: Sequence[int]) -> int:
    """Delete usage rows by id; returns how many ids were given."""
    for index in range(0, len(ids), DELETE_CHUNK):
        chunk = list(ids[index : index + DELETE_CHUNK])
        conn.execute(f"DELETE FROM usage WHERE id IN ({', '.join('?' for _ in chunk)})", chunk)
    return len(ids)
