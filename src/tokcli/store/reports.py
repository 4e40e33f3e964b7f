"""Report queries: rows from the rollup tables and from `usage`, as plain tuples.

The report layer (tokcli.reporting.query) decides which table can answer and folds the rows into
exact totals; this module only knows the tables. Day ranges are inclusive ISO dates (None: open).
Dimension names are the columns a report can group or filter by; anything else is a tag key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from tokcli.store.aggregates import define_decimal_sum
from tokcli.store.connection import Connection
from tokcli.store.errors import translates
from tokcli.store.rollups import CELL_DIMENSIONS, COUNT_COLUMNS, MEASURE_COLUMNS, MONEY_COLUMNS
from tokcli.store.rollups import unrolled_tag_keys as unrolled_tag_keys  # for the report layer

DIMENSIONS = ("model", "provider", "tier", "source")
# Column of each dimension in the raw `usage` table (the rollup tables name them as is).
_RAW_DIMENSION = {
    "model": "COALESCE(u.model, u.model_raw, '')",
    "provider": "COALESCE(u.provider, '')",
    "tier": "u.service_tier",
    "source": "u.source",
}
_MEASURE_COLUMNS = ", ".join(MEASURE_COLUMNS)
_CELL_DIMENSIONS = ", ".join(CELL_DIMENSIONS)

Filters = Sequence[tuple[str, str]]  # (dimension or tag key, value), ANDed


def _dimension(key: str) -> str:
    # Names are written into the SQL text: only the known columns may pass.
    if key not in DIMENSIONS:
        raise ValueError(f"not a report dimension: {key!r}")
    return key


def _day_range_sql(
    column: str, since: dt.date | None, until: dt.date | None, params: list[Any]
) -> str:
    clauses = []
    if since is not None:
        clauses.append(f"{column} >= ?")
        params.append(since.isoformat())
    if until is not None:
        clauses.append(f"{column} <= ?")
        params.append(until.isoformat())
    return " AND ".join(clauses) or "1"


@translates
def _tuples(conn: Connection, sql: str, params: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
    """Rows as plain tuples, one at a time: sqlite3.Row lookups by name cost more than the
    sums, and the usage table may hold millions of rows."""
    cursor = conn.cursor()
    cursor.row_factory = None
    yield from cursor.execute(sql, params)


@translates
def tag_keys(conn: Connection) -> list[str]:
    """Every tag key in the store, sorted."""
    # Skip-scan over the (key, value, usage_id) index: one probe per distinct key.
    keys: list[str] = []
    last = ""
    while True:
        row = conn.execute(
            "SELECT key FROM usage_tags WHERE key > ? ORDER BY key LIMIT 1", (last,)
        ).fetchone()
        if row is None:
            return keys
        keys.append(last := row[0])


def rollup_rows(
    conn: Connection, since: dt.date | None, until: dt.date | None, where: Filters = ()
) -> Iterator[tuple[Any, ...]]:
    """`report_rollup` rows: (day, provider, model, tier, source, currency, *MEASURE_COLUMNS);
    `where` filters dimensions only."""
    params: list[Any] = []
    sql = (
        f"SELECT day, provider, model, tier, source, currency, {_MEASURE_COLUMNS} "
        f"FROM report_rollup WHERE {_day_range_sql('day', since, until, params)}"
    )
    for key, value in where:
        sql += f" AND {_dimension(key)} = ?"
        params.append(value)
    return _tuples(conn, sql, params)


def tag_rollup_rows(
    conn: Connection,
    tag_key: str,
    since: dt.date | None,
    until: dt.date | None,
    where: Filters = (),
    values: Sequence[str] = (),
) -> Iterator[tuple[Any, ...]]:
    """`report_tag_rollup` rows of one tag key: (day, value, provider, model, tier, source,
    currency, *MEASURE_COLUMNS); `where` filters dimensions, `values` the tag's value (each must
    match)."""
    params: list[Any] = [tag_key]
    sql = (
        f"SELECT day, value, {_CELL_DIMENSIONS}, {_MEASURE_COLUMNS} FROM report_tag_rollup "
        f"WHERE key = ? AND {_day_range_sql('day', since, until, params)}"
    )
    sql += "".join(f" AND {_dimension(key)} = ?" for key, _ in where)
    params += [value for _, value in where]
    sql += " AND value = ?" * len(values)
    params += list(values)
    return _tuples(conn, sql, params)


def tag_pair_rollup_rows(
    conn: Connection,
    tag_keys: tuple[str, str],
    since: dt.date | None,
    until: dt.date | None,
    where: Filters = (),
) -> Iterator[tuple[Any, ...]]:
    """`report_tag_pair_rollup` rows of two tag keys (the smaller first, as stored): (day,
    value, other_value, provider, model, tier, source, currency, *MEASURE_COLUMNS) over the
    usage rows that carry both; `where` filters dimensions."""
    params: list[Any] = [*tag_keys]
    sql = (
        f"SELECT day, value, other_value, {_CELL_DIMENSIONS}, {_MEASURE_COLUMNS} "
        f"FROM report_tag_pair_rollup WHERE key = ? AND other_key = ? "
        f"AND {_day_range_sql('day', since, until, params)}"
    )
    sql += "".join(f" AND {_dimension(key)} = ?" for key, _ in where)
    params += [value for _, value in where]
    return _tuples(conn, sql, params)


def _sums(conn: Connection) -> str:
    """The select list of exact sums of every measure (money summed as decimals, not floats)."""
    decimal_sum = define_decimal_sum(conn)
    return (
        ", ".join(f"{decimal_sum}({name})" for name in MONEY_COLUMNS)
        + ", "
        + ", ".join(f"SUM({name})" for name in COUNT_COLUMNS)
    )


def rollup_sums_by(
    conn: Connection, key: str, since: dt.date | None, until: dt.date | None
) -> Iterator[tuple[Any, ...]]:
    """Sums from `report_rollup` per dimension value and currency:
    (value, currency, *MEASURE_COLUMNS)."""
    params: list[Any] = []
    day_range = _day_range_sql("day", since, until, params)
    sql = (
        f"SELECT {_dimension(key)}, currency, {_sums(conn)} FROM report_rollup "
        f"WHERE {day_range} GROUP BY {key}, currency"
    )
    return _tuples(conn, sql, params)


def tag_rollup_sums_by(
    conn: Connection, tag_key: str, since: dt.date | None, until: dt.date | None
) -> Iterator[tuple[Any, ...]]:
    """Sums from `report_tag_rollup` per value of one tag key and currency:
    (value, currency, *MEASURE_COLUMNS)."""
    params: list[Any] = []
    day_range = _day_range_sql("day", since, until, params)
    sql = (
        f"SELECT value, currency, {_sums(conn)} FROM report_tag_rollup WHERE key = ? "
        f"AND {day_range} GROUP BY value, currency"
    )
    return _tuples(conn, sql, [tag_key, *params])


def rollup_sums_by_currency(
    conn: Connection, since: dt.date | None, until: dt.date | None
) -> Iterator[tuple[Any, ...]]:
    """Sums from `report_rollup` per currency: (currency, *MEASURE_COLUMNS)."""
    params: list[Any] = []
    day_range = _day_range_sql("day", since, until, params)
    sql = f"SELECT currency, {_sums(conn)} FROM report_rollup WHERE {day_range} GROUP BY currency"
    return _tuples(conn, sql, params)


def bad_value_rows(
    conn: Connection, since: dt.date | None, until: dt.date | None
) -> Iterator[tuple[Any, ...]]:
    """Unusable stored values the rollup rebuilds found: (day, usage_id, column, value)."""
    params: list[Any] = []
    sql = (
        "SELECT day, usage_id, column_name, value FROM report_bad_values "
        f"WHERE {_day_range_sql('day', since, until, params)} ORDER BY day, usage_id, column_name"
    )
    return _tuples(conn, sql, params)


# Columns of usage_rows before the group values, in order.
USAGE_COLUMNS = (
    "day", "model", "tier", "currency", "billed_cost", "list_cost", "requests", "input_tokens",
    "cache_read_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens", "id",
)  # fmt: skip


def usage_rows(
    conn: Connection,
    group_keys: Sequence[str],
    since: dt.date | None,
    until: dt.date | None,
    where: Filters = (),
) -> Iterator[tuple[Any, ...]]:
    """Usage rows one by one, as (*USAGE_COLUMNS, *values of group_keys), in the days
    [since, until]. Group and filter keys are dimensions or tag keys (None: no such tag)."""
    params: list[Any] = []
    joins: list[str] = []
    tag_alias: dict[str, str] = {}
    keys = [*group_keys, *(k for k, _ in where)]
    for key in dict.fromkeys(k for k in keys if k not in DIMENSIONS):
        tag_alias[key] = alias = f"t{len(tag_alias)}"
        joins.append(f"LEFT JOIN usage_tags {alias} ON {alias}.usage_id = u.id AND {alias}.key = ?")
        params.append(key)

    def expression(key: str) -> str:
        return _RAW_DIMENSION[key] if key in DIMENSIONS else f"{tag_alias[key]}.value"

    columns = [expression(k) for k in group_keys] or ["NULL"]
    clauses = []
    if since is not None:
        clauses.append("u.period_start >= ?")
        params.append(since.isoformat())
    if until is not None:
        clauses.append("u.period_start < ?")
        params.append((until + dt.timedelta(days=1)).isoformat())
    for key, value in where:
        clauses.append(f"{expression(key)} = ?")
        params.append(value)
    sql = (
        f"SELECT substr(u.period_start, 1, 10), COALESCE(u.model, u.model_raw, ''), "
        f"u.service_tier, COALESCE(u.currency, ''), u.billed_cost, u.list_cost, u.requests, "
        f"u.input_tokens, u.cache_read_tokens, u.cache_write_5m_tokens + u.cache_write_1h_tokens, "
        f"u.output_tokens, u.reasoning_tokens, u.id, {', '.join(columns)} "
        f"FROM usage u {' '.join(joins)} WHERE {' AND '.join(clauses) or '1'}"
    )
    return _tuples(conn, sql, params)
