"""Keep the report rollups exact: rebuild the days the store triggers marked dirty.

`report_rollup` holds one row per (day, provider, model, tier, source, currency) and
`report_tag_rollup` one per (tag key, day, value, model, tier, currency), each with exact sums.
A report reads a few thousand rollup rows instead of millions of usage rows. Each day is rebuilt
in its own short write transaction, so a concurrent import waits milliseconds, not minutes.
"""

from __future__ import annotations

import datetime as dt
import decimal
import sqlite3

from tokcli.money import MONEY_CONTEXT, plain
from tokcli.report.totals import (
    MEASURES,
    BadValue,
    Totals,
    accumulate,
    accumulate_checked,
    usable_cost,
)
from tokcli.store import transaction

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

_BASE_KEY = ("day", "provider", "model", "tier", "source", "currency")
_TAG_KEY = ("key", "day", "value", "model", "tier", "currency")


def _insert(table: str, key: tuple[str, ...]) -> str:
    columns = (*key, *MEASURES)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


_ROLLUP_INSERT = _insert("report_rollup", _BASE_KEY)
_TAG_ROLLUP_INSERT = _insert("report_tag_rollup", _TAG_KEY)


def dirty_days(conn: sqlite3.Connection) -> list[str]:
    return [row[0] for row in conn.execute("SELECT day FROM report_dirty_days ORDER BY day")]


def refresh(conn: sqlite3.Connection) -> int:
    """Rebuild every dirty day; returns how many days were rebuilt."""
    days = dirty_days(conn)
    with decimal.localcontext(MONEY_CONTEXT):
        for day in days:
            with transaction(conn):
                rebuild_day(conn, day)
    return len(days)


def rebuild_day(conn: sqlite3.Connection, day: str) -> None:
    """Replace one day's rollup rows with sums recomputed from `usage` (caller's transaction)."""
    base, tagged, bad = sum_day(conn, day)
    conn.execute("DELETE FROM report_rollup WHERE day = ?", (day,))
    conn.execute("DELETE FROM report_tag_rollup WHERE day = ?", (day,))
    conn.execute("DELETE FROM report_bad_values WHERE day = ?", (day,))
    conn.executemany(_ROLLUP_INSERT, [(*key, *t.rollup_values()) for key, t in base.items()])
    conn.executemany(_TAG_ROLLUP_INSERT, [(*key, *t.rollup_values()) for key, t in tagged.items()])
    conn.executemany(
        "INSERT OR REPLACE INTO report_bad_values VALUES (?, ?, ?, ?)",
        [(b.day, b.usage_id, b.column, b.value) for b in bad],
    )
    conn.execute("DELETE FROM report_dirty_days WHERE day = ?", (day,))


def sum_day(conn: sqlite3.Connection, day: str) -> tuple[dict, dict, list[BadValue]]:
    """Exact sums of one day's usage by rollup key, for both rollup tables, and the stored
    values no sum can use (counted as missing)."""
    start = dt.date.fromisoformat(day) if _is_iso_day(day) else None
    if start is None:  # a malformed period_start: sum exactly what matches the text
        low, high = day, day + "\uffff"
    else:
        low, high = day, (start + dt.timedelta(days=1)).isoformat()

    def rows():
        cursor = conn.cursor()
        cursor.row_factory = None  # plain tuples: this loop may see millions of rows
        return cursor.execute(USAGE_ROWS_SQL, (low, high))

    try:
        base, tagged = _sum_rows(rows(), None)
        if all(t.is_sane() for t in base.values()):
            return base, tagged, []
    except (decimal.InvalidOperation, TypeError, ValueError):
        pass
    bad: list[BadValue] = []  # the rare second pass: row by row, naming what cannot be used
    base, tagged = _sum_rows(rows(), bad)
    return base, tagged, bad


def _sum_rows(rows, bad: list[BadValue] | None) -> tuple[dict, dict]:
    base: dict[tuple, Totals] = {}
    tagged: dict[tuple, Totals] = {}
    for row in rows:
        day_, provider, model, tier, source, currency, billed, listed = row[:8]
        counts = row[8:14]
        base_key = (day_, provider, model, tier, source, currency)
        if bad is None:
            accumulate(base, base_key, billed, listed, counts)
        else:
            found = len(bad)
            accumulate_checked(base, base_key, row[15], day_, billed, listed, counts, bad)
            if len(bad) > found:  # the tag rollup sums the cleaned values too
                billed, listed, counts = _cleaned(billed, listed, counts)
        if row[14]:
            for pair in row[14].split("\x1e"):
                key, _, value = pair.partition("\x1f")
                tag_key = (key, day_, value, model, tier, currency)
                accumulate(tagged, tag_key, billed, listed, counts)
    return base, tagged


def _cleaned(billed, listed, counts):
    """The row's values with the unusable ones replaced as accumulate_checked did."""

    def cost(value):
        amount = usable_cost(value)
        return None if amount is None or amount is False else plain(amount)

    def count(value):
        return value if isinstance(value, int) and abs(value) <= 10**18 else 0

    return cost(billed), cost(listed), [count(v) for v in counts]


def _is_iso_day(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True
