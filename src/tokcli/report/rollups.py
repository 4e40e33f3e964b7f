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

from tokcli.money import MONEY_CONTEXT
from tokcli.report.totals import Totals, accumulate
from tokcli.store import transaction

# One usage row with what the rollups need; tags packed as key\x1fvalue pairs joined by \x1e.
USAGE_ROWS_SQL = """
    SELECT u.substr_day, u.provider, u.model, u.tier, u.source, u.currency,
           u.billed_cost, u.list_cost, u.requests, u.input_tokens, u.cache_read_tokens,
           u.cache_write_tokens, u.output_tokens, u.reasoning_tokens,
           (SELECT group_concat(t.key || char(31) || t.value, char(30))
              FROM usage_tags t WHERE t.usage_id = u.id) AS tags
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

_ROLLUP_INSERT = "INSERT INTO report_rollup VALUES (" + ", ".join("?" * 17) + ")"
_TAG_ROLLUP_INSERT = "INSERT INTO report_tag_rollup VALUES (" + ", ".join("?" * 17) + ")"


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
    base, tagged = sum_day(conn, day)
    conn.execute("DELETE FROM report_rollup WHERE day = ?", (day,))
    conn.execute("DELETE FROM report_tag_rollup WHERE day = ?", (day,))
    conn.executemany(_ROLLUP_INSERT, [(*key, *t.rollup_values()) for key, t in base.items()])
    conn.executemany(_TAG_ROLLUP_INSERT, [(*key, *t.rollup_values()) for key, t in tagged.items()])
    conn.execute("DELETE FROM report_dirty_days WHERE day = ?", (day,))


def sum_day(conn: sqlite3.Connection, day: str) -> tuple[dict, dict]:
    """Exact sums of one day's usage by rollup key, for both rollup tables."""
    start = dt.date.fromisoformat(day) if _is_iso_day(day) else None
    if start is None:  # a malformed period_start: sum exactly what matches the text
        low, high = day, day + "\uffff"
    else:
        low, high = day, (start + dt.timedelta(days=1)).isoformat()
    base: dict[tuple, Totals] = {}
    tagged: dict[tuple, Totals] = {}
    cursor = conn.cursor()
    cursor.row_factory = None  # plain tuples: this loop may see millions of rows
    for row in cursor.execute(USAGE_ROWS_SQL, (low, high)):
        day_, provider, model, tier, source, currency, billed, listed = row[:8]
        counts = row[8:14]
        accumulate(base, (day_, provider, model, tier, source, currency), billed, listed, counts)
        if row[14]:
            for pair in row[14].split("\x1e"):
                key, _, value = pair.partition("\x1f")
                tag_key = (key, day_, value, model, tier, currency)
                accumulate(tagged, tag_key, billed, listed, counts)
    return base, tagged


def _is_iso_day(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True
