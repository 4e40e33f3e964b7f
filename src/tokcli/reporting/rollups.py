"""Keep the report rollups exact: rebuild the days the store marked dirty.

`report_rollup` holds one row per (day, provider, model, tier, source, currency) and
`report_tag_rollup` one per (tag key, value, day, provider, model, tier, source, currency), each
with exact sums.
A report reads a few thousand rollup rows instead of millions of usage rows. Each day is rebuilt
in its own short write transaction, so a concurrent import waits milliseconds, not minutes
(the tables and their SQL: tokcli.store.rollups). Imports keep the rollups current as they
write, so the days rebuilt here are those changed otherwise (updates, deletes, copies, upgrades).
"""

from __future__ import annotations

import datetime as dt
import decimal

from tokcli.money import MONEY_CONTEXT, plain
from tokcli.reporting.totals import (
    BadValue,
    Totals,
    accumulate,
    accumulate_checked,
    usable_cost,
)
from tokcli.store import rollups as store
from tokcli.store.connection import Connection


def dirty_days(conn: Connection) -> list[str]:
    return store.dirty_days(conn)


def refresh(conn: Connection) -> int:
    """Rebuild every dirty day; returns how many days were rebuilt. StoreUnavailable when the
    store cannot be written."""
    with decimal.localcontext(MONEY_CONTEXT):
        return store.rebuild_dirty_days(conn, rebuild_day)


def rebuild_day(conn: Connection, day: str) -> None:
    """Replace one day's rollup rows with sums recomputed from `usage` (caller's transaction):
    by the database where it sums money exactly (PostgreSQL), else row by row here."""
    if store.sums_in_database(conn) and _is_iso_day(day):
        low, high = _day_range(day)
        if store.rebuild_day_in_database(conn, day, low, high):
            return
    rebuild_day_in_python(conn, day)


def rebuild_day_in_python(conn: Connection, day: str) -> None:
    """`rebuild_day` summing every row in Python (exact Decimal), naming unusable values."""
    base, tagged, pairs, bad = sum_day(conn, day)
    store.replace_day(
        conn,
        day,
        [(*key, *t.rollup_values()) for key, t in base.items()],
        [(*key, *t.rollup_values()) for key, t in tagged.items()],
        [(b.day, b.usage_id, b.column, b.value) for b in bad],
        [(*key, *t.rollup_values()) for key, t in pairs.items()],
    )


def sum_day(conn: Connection, day: str) -> tuple[dict, dict, dict, list[BadValue]]:
    """Exact sums of one day's usage by rollup key, for the three rollup tables (base, tag,
    tag pair), and the stored values no sum can use (counted as missing)."""
    low, high = _day_range(day)

    def rows():
        return store.usage_rows(conn, low, high)

    unrolled = store.unrolled_tag_keys(conn)
    try:
        base, tagged, pairs = _sum_rows(rows(), None, unrolled)
        if all(t.is_sane() for t in base.values()):
            return base, tagged, pairs, []
    except (decimal.InvalidOperation, TypeError, ValueError):
        pass
    bad: list[BadValue] = []  # the rare second pass: row by row, naming what cannot be used
    base, tagged, pairs = _sum_rows(rows(), bad, unrolled)
    return base, tagged, pairs, bad


def _sum_rows(
    rows, bad: list[BadValue] | None, unrolled: frozenset[str] = frozenset()
) -> tuple[dict, dict, dict]:
    """Sums by base, tag and pair rollup key; the `unrolled` tag keys are left out."""
    base: dict[tuple, Totals] = {}
    tagged: dict[tuple, Totals] = {}
    pairs: dict[tuple, Totals] = {}
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
            tags = dict(pair.partition("\x1f")[::2] for pair in row[14].split("\x1e"))
            if unrolled:
                tags = {key: value for key, value in tags.items() if key not in unrolled}
            dimensions = base_key[1:]
            for key, value in tags.items():
                tag_key = (key, day_, value, *dimensions)
                accumulate(tagged, tag_key, billed, listed, counts)
            if len(tags) > 1:
                for pair_key in store.tag_pairs(tags, day_, dimensions):
                    accumulate(pairs, pair_key, billed, listed, counts)
    return base, tagged, pairs


def _cleaned(billed, listed, counts):
    """The row's values with the unusable ones replaced as accumulate_checked did."""

    def cost(value):
        amount = usable_cost(value)
        return None if amount is None or amount is False else plain(amount)

    def count(value):
        return value if isinstance(value, int) and abs(value) <= 10**18 else 0

    return cost(billed), cost(listed), [count(v) for v in counts]


def _day_range(day: str) -> tuple[str, str]:
    """The period_start bounds of a day's rows: [day, next day), or for a malformed day
    exactly the texts that start with it."""
    if not _is_iso_day(day):
        return day, day + "\uffff"
    return day, (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()


def _is_iso_day(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True
