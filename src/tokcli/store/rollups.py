"""The report rollup tables: which days are dirty, the usage rows of a day, a day's rows replaced.

`report_rollup` holds one row per (day, provider, model, tier, source, currency) and
`report_tag_rollup` one per (tag key, day, value, model, tier, currency), each with exact sums;
`report_bad_values` names the stored values no sum could use. The sums themselves are computed
by tokcli.reporting.rollups; this module only reads and writes the tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from tokcli.store import transaction
from tokcli.store.connection import Connection
from tokcli.store.errors import translated, translates

# One usage row with what the rollups need; tags packed as key\x1fvalue pairs joined by \x1e.
USAGE_ROWS_SQL = """
    SELECT u.substr_day, u.provider, u.model, u.tier, u.source, u.currency,
           u.billed_cost, u.list_cost, u.requests, u.input_tokens, u.cache_read_tokens,
           u.cache_write_tokens, u.output_tokens, u.reasoning_tokens,
           (SELECT group_concat(t.key || char(31) || t.value, char(30))
              FROM usage_tags t WHERE t.usage_id = u.id) AS tags, u.id
      FROM (SELECT id, substr(period_start, 1, 10) AS substr_day,
                   COALESCE(provider, '') AS provider,
                   COALESCE(model, model_raw, '') AS model,
                   service_tier AS tier, source, COALESCE(currency, '') AS currency,
                   billed_cost, list_cost, requests, input_tokens, cache_read_tokens,
                   cache_write_5m_tokens + cache_write_1h_tokens AS cache_write_tokens,
                   output_tokens, reasoning_tokens
              FROM usage
             WHERE period_start >= ? AND period_start < ?) AS u
"""

# The sums each rollup row carries, money first, in column order (migrations 0005 and 0009).
# tokcli.reporting.totals names the same measures for its Totals (tests/test_store_boundary.py
# checks they agree); the store does not import from the report package above it.
MONEY_COLUMNS = ("billed_cost", "list_cost", "unbilled_list_cost")
COUNT_COLUMNS = (
    "usage_rows", "billed_rows", "list_rows", "requests", "input_tokens", "cache_read_tokens",
    "cache_write_tokens", "output_tokens", "reasoning_tokens", "unbilled_list_rows",
)  # fmt: skip
MEASURE_COLUMNS = MONEY_COLUMNS + COUNT_COLUMNS

BASE_KEY = ("day", "provider", "model", "tier", "source", "currency")
TAG_KEY = ("key", "day", "value", "model", "tier", "currency")


def _insert(table: str, key: tuple[str, ...]) -> str:
    columns = (*key, *MEASURE_COLUMNS)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


_ROLLUP_INSERT = _insert("report_rollup", BASE_KEY)
_TAG_ROLLUP_INSERT = _insert("report_tag_rollup", TAG_KEY)


@translates
def dirty_days(conn: Connection) -> list[str]:
    """The days whose usage changed since their rollup rows were built, in order."""
    return [row[0] for row in conn.execute("SELECT day FROM report_dirty_days ORDER BY day")]


def rebuild_dirty_days(conn: Connection, rebuild: Callable[[Connection, str], None]) -> int:
    """Run `rebuild(conn, day)` for every dirty day, each in its own short write transaction
    (a concurrent import waits milliseconds, not minutes); returns how many days were rebuilt.
    StoreUnavailable when the store cannot be written (read-only, locked)."""
    with translated():
        days = dirty_days(conn)
        for day in days:
            with transaction(conn):
                rebuild(conn, day)
    return len(days)


@translates
def usage_rows(conn: Connection, low: str, high: str) -> Iterator[tuple[Any, ...]]:
    """Usage rows with `low <= period_start < high`, one at a time, as plain tuples:
    (day, provider, model, tier, source, currency, billed_cost, list_cost, requests,
    input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens,
    tags, id); tags as key\\x1fvalue pairs joined by \\x1e, None when untagged."""
    cursor = conn.cursor()
    cursor.row_factory = None  # plain tuples: this loop may see millions of rows
    yield from cursor.execute(USAGE_ROWS_SQL, (low, high))


@translates
def replace_day(
    conn: Connection,
    day: str,
    base_rows: Iterable[tuple[Any, ...]],
    tag_rows: Iterable[tuple[Any, ...]],
    bad_values: Iterable[tuple[Any, ...]],
) -> None:
    """Replace one day's rollup rows and mark it clean, in the caller's transaction.
    base_rows: (*BASE_KEY, *MEASURE_COLUMNS); tag_rows: (*TAG_KEY, *MEASURE_COLUMNS); bad_values:
    (day, usage_id, column, value)."""
    conn.execute("DELETE FROM report_rollup WHERE day = ?", (day,))
    conn.execute("DELETE FROM report_tag_rollup WHERE day = ?", (day,))
    conn.execute("DELETE FROM report_bad_values WHERE day = ?", (day,))
    conn.executemany(_ROLLUP_INSERT, base_rows)
    conn.executemany(_TAG_ROLLUP_INSERT, tag_rows)
    conn.executemany("INSERT OR REPLACE INTO report_bad_values VALUES (?, ?, ?, ?)", bad_values)
    conn.execute("DELETE FROM report_dirty_days WHERE day = ?", (day,))
