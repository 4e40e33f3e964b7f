"""The report rollup tables: which days are dirty, the usage rows of a day, a day's rows replaced.

`report_rollup` holds one row per (day, provider, model, tier, source, currency) and
`report_tag_rollup` one per (tag key, day, value, model, tier, currency), each with exact sums;
`report_tag_pair_rollup` one per pair of tag keys and their values (m0014), each with exact
sums; `report_bad_values` names the stored values no sum could use. The insert path keeps them
current batch by batch (`add_written`); a dirty day is rebuilt by tokcli.reporting.rollups, in
Python, or inside PostgreSQL (`rebuild_day_in_database`), whose NUMERIC sums are exact.
"""

from __future__ import annotations

import decimal
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from operator import add
from typing import Any

from tokcli.money import MONEY_CONTEXT, plain
from tokcli.store import has_table, transaction
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
# Pairs of tag keys (key < other_key) on the rows that carry both (migration m0014).
PAIR_KEY = ("key", "other_key", "day", "value", "other_value", "model", "tier", "currency")
PAIR_TABLE = "report_tag_pair_rollup"


def _insert(table: str, key: tuple[str, ...]) -> str:
    columns = (*key, *MEASURE_COLUMNS)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


_ROLLUP_INSERT = _insert("report_rollup", BASE_KEY)
_TAG_ROLLUP_INSERT = _insert("report_tag_rollup", TAG_KEY)
_PAIR_ROLLUP_INSERT = _insert(PAIR_TABLE, PAIR_KEY)


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
    pair_rows: Iterable[tuple[Any, ...]] = (),
) -> None:
    """Replace one day's rollup rows and mark it clean, in the caller's transaction.
    base_rows: (*BASE_KEY, *MEASURE_COLUMNS); tag_rows: (*TAG_KEY, *MEASURE_COLUMNS); bad_values:
    (day, usage_id, column, value); pair_rows: (*PAIR_KEY, *MEASURE_COLUMNS)."""
    conn.execute("DELETE FROM report_rollup WHERE day = ?", (day,))
    conn.execute("DELETE FROM report_tag_rollup WHERE day = ?", (day,))
    conn.execute(f"DELETE FROM {PAIR_TABLE} WHERE day = ?", (day,))
    conn.execute("DELETE FROM report_bad_values WHERE day = ?", (day,))
    conn.executemany(_ROLLUP_INSERT, base_rows)
    conn.executemany(_TAG_ROLLUP_INSERT, tag_rows)
    conn.executemany(_PAIR_ROLLUP_INSERT, pair_rows)
    conn.executemany("INSERT OR REPLACE INTO report_bad_values VALUES (?, ?, ?, ?)", bad_values)
    conn.execute("DELETE FROM report_dirty_days WHERE day = ?", (day,))


# --- upkeep at write time -------------------------------------------------------------------
#
# The one insert path (store.usage.insert_usage) adds the sums of each batch it writes to the
# rollup rows of its days, in the same transaction, so the first report after an import has
# nothing to rebuild. The sums are exact: Decimal in MONEY_CONTEXT, exactly as a rebuild sums
# the same rows (tests/test_rollup_upkeep.py compares the two, text for text). A day already
# marked dirty is left to its rebuild; a batch holding a value a rebuild would refuse (see
# tokcli.reporting.totals) marks its day dirty instead, so the rebuild names that value.

# A freshly written usage row as the upkeep reads it: (*BASE_KEY values, billed_cost, list_cost
# as Decimal or None, requests, input, cache read, cache write, output, reasoning tokens, tags).
WrittenRow = tuple[Any, ...]

COST_BOUND = Decimal("1e30")  # as tokcli.reporting.totals.COST_BOUND (checked by a test)
COUNT_BOUND = 10**18  # as tokcli.reporting.totals.accumulate_checked

_DAYS_PARAM = "(SELECT value FROM json_each(?))"


def _upsert(table: str, key: tuple[str, ...]) -> str:
    return (
        _insert(table, key)
        + f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
        + ", ".join(f"{name} = excluded.{name}" for name in MEASURE_COLUMNS)
    )


_ROLLUP_UPSERT = _upsert("report_rollup", BASE_KEY)
_TAG_ROLLUP_UPSERT = _upsert("report_tag_rollup", TAG_KEY)
_PAIR_ROLLUP_UPSERT = _upsert(PAIR_TABLE, PAIR_KEY)


@translates
def add_written(conn: Connection, rows: Sequence[WrittenRow]) -> None:
    """Add the sums of usage rows just written (in the caller's transaction) to the rollups of
    their days; days already dirty wait for their rebuild."""
    days = {row[0] for row in rows}
    if not days:
        return
    days_json = json.dumps(sorted(days))
    dirty = {
        r[0]
        for r in conn.execute(f"SELECT day FROM report_dirty_days WHERE day IN {_DAYS_PARAM}",
                              (days_json,))
    }  # fmt: skip
    with decimal.localcontext(MONEY_CONTEXT):
        base, tagged, pairs = group_sums(row for row in rows if row[0] not in dirty)
        unusable = {key[0] for key, sums in base.items() if sums is None}
        unusable |= {key[1] for key, sums in tagged.items() if sums is None}
        unusable |= {key[2] for key, sums in pairs.items() if sums is None}
        base = {k: s for k, s in base.items() if k[0] not in unusable}
        tagged = {k: s for k, s in tagged.items() if k[1] not in unusable}
        pairs = {k: s for k, s in pairs.items() if k[2] not in unusable}
        clean_json = json.dumps(sorted(days - dirty - unusable))
        base_rows = _merged(conn, "report_rollup", BASE_KEY, base, clean_json)
        tag_rows = _merged(conn, "report_tag_rollup", TAG_KEY, tagged, clean_json)
        if pairs and not has_table(conn, PAIR_TABLE):  # a store not yet at m0014 (its
            pairs = {}  # migration marks the days with pairs dirty)
        pair_rows = _merged(conn, PAIR_TABLE, PAIR_KEY, pairs, clean_json)
    conn.executemany(_ROLLUP_UPSERT, base_rows)
    conn.executemany(_TAG_ROLLUP_UPSERT, tag_rows)
    conn.executemany(_PAIR_ROLLUP_UPSERT, pair_rows)
    if unusable:
        conn.executemany("INSERT OR IGNORE INTO report_dirty_days (day) VALUES (?)",
                         [(day,) for day in sorted(unusable)])  # fmt: skip


def _merged(
    conn: Connection,
    table: str,
    key: tuple[str, ...],
    sums: dict[tuple[Any, ...], list[Any] | None],
    days_json: str,
) -> list[tuple[Any, ...]]:
    """The rollup rows `sums` touches, with the stored sums of the same keys added (exactly)."""
    if not sums:
        return []
    stored = conn.execute(
        f"SELECT {', '.join(key)}, {', '.join(MEASURE_COLUMNS)} FROM {table} "
        f"WHERE day IN {_DAYS_PARAM}",
        (days_json,),
    )
    width, money = len(key), len(key) + len(MONEY_COLUMNS)
    for row in stored:
        row_key = tuple(row[:width])
        added = sums.get(row_key)
        if added is not None:  # a new list: group_sums shares lists between the tables
            stored_sums = [*map(Decimal, row[width:money]), *row[money:]]
            sums[row_key] = list(map(add, added, stored_sums))
    return [
        (*k, *(plain(v) for v in s[: len(MONEY_COLUMNS)]), *s[len(MONEY_COLUMNS) :])
        for k, s in sums.items()
        if s is not None
    ]


Sums = dict[tuple[Any, ...], list[Any] | None]


def group_sums(rows: Iterable[WrittenRow]) -> tuple[Sums, Sums, Sums]:
    """Exact sums (MEASURE_COLUMNS order, money as Decimal) of rows by BASE_KEY, TAG_KEY and
    PAIR_KEY; None for a group holding a value a rebuild would refuse. Call in MONEY_CONTEXT.

    Rows are grouped by base key and tags together (rows of one batch share a few hundred such
    signatures), each measure is summed over a group's column at once (`sum`, `zip`), and each
    signature's sums are then added to its base, tag and pair groups: the per-row Python work is
    one dict look-up, which is what keeps the upkeep cheap."""
    signatures: dict[tuple[Any, ...], list[WrittenRow]] = {}
    for row in rows:
        tags = row[14]
        signature = (row[:6], tuple(tags.items()) if tags else ())
        group = signatures.get(signature)
        if group is None:
            signatures[signature] = [row]
        else:
            group.append(row)
    base: Sums = {}
    tagged: Sums = {}
    pairs: Sums = {}
    for (key, tag_items), group in signatures.items():
        sums = _column_sums(group)
        _add_sums(base, key, sums)
        day, model, tier, currency = key[0], key[2], key[3], key[5]
        for tag, value in tag_items:
            _add_sums(tagged, (tag, day, value, model, tier, currency), sums)
        if len(tag_items) > 1:
            for pair_key in tag_pairs(dict(tag_items), day, model, tier, currency):
                _add_sums(pairs, pair_key, sums)
    return base, tagged, pairs


def _add_sums(groups: Sums, key: tuple[Any, ...], sums: list[Any] | None) -> None:
    """Add `sums` to `groups[key]`; None (a value no sum may use) stays None."""
    if key not in groups:
        groups[key] = sums
    else:
        have = groups[key]
        groups[key] = None if have is None or sums is None else list(map(add, have, sums))


def tag_pairs(
    tags: dict[str, str], day: str, model: str, tier: str, currency: str
) -> Iterator[tuple[str, ...]]:
    """The PAIR_KEY of every pair of a row's tags, the smaller key first."""
    ordered = sorted(tags.items())
    for i, (key, value) in enumerate(ordered):
        for other_key, other_value in ordered[i + 1 :]:
            yield (key, other_key, day, value, other_value, model, tier, currency)


def _column_sums(group: list[WrittenRow]) -> list[Any] | None:
    columns = list(zip(*group, strict=True))
    billed_column, list_column = columns[6], columns[7]
    billed = [v for v in billed_column if v is not None]
    listed = [v for v in list_column if v is not None]
    if len(billed) == len(group):
        unbilled: list[Decimal] = []
    else:
        unbilled = [v for b, v in zip(billed_column, list_column, strict=True)
                    if b is None and v is not None]  # fmt: skip
    counts = columns[8:14]
    if not (_usable_money(billed) and _usable_money(listed) and all(map(_usable_counts, counts))):
        return None
    zero = Decimal(0)
    return [
        sum(billed, zero), sum(listed, zero), sum(unbilled, zero),
        len(group), len(billed), len(listed), *map(sum, counts), len(unbilled),
    ]  # fmt: skip


def _usable_money(values: list[Decimal]) -> bool:
    """Every value a finite Decimal within COST_BOUND (what a rebuild would sum as it is)."""
    if not values:
        return True
    if not set(map(type, values)) <= {Decimal}:
        return False
    try:
        return max(map(abs, values)) <= COST_BOUND  # NaN raises; infinity is above the bound
    except decimal.InvalidOperation:
        return False


def _usable_counts(values: tuple[Any, ...]) -> bool:
    return (
        set(map(type, values)) <= {int}
        and min(values) >= -COUNT_BOUND
        and max(values) <= COUNT_BOUND
    )


# --- rebuild inside the database (PostgreSQL) ----------------------------------------------
#
# PostgreSQL sums NUMERIC exactly (no precision limit short of 131,072 digits) and aggregates
# with hashing, so a day is rebuilt by two INSERT ... SELECT ... GROUP BY statements on the
# server instead of reading its rows into Python. SQLite stores money as text and has no exact
# decimal sum; its days are rebuilt in Python (tokcli.reporting.rollups).

_SUMS_SQL = """
    COALESCE(SUM(u.billed_cost), 0), COALESCE(SUM(u.list_cost), 0),
    COALESCE(SUM(CASE WHEN u.billed_cost IS NULL THEN u.list_cost END), 0),
    COUNT(*), COUNT(u.billed_cost), COUNT(u.list_cost), SUM(u.requests), SUM(u.input_tokens),
    SUM(u.cache_read_tokens), SUM(u.cache_write_5m_tokens + u.cache_write_1h_tokens),
    SUM(u.output_tokens), SUM(u.reasoning_tokens),
    COUNT(CASE WHEN u.billed_cost IS NULL THEN u.list_cost END)
"""
_DAY_RANGE_SQL = "u.period_start >= ? AND u.period_start < ?"
_MEASURE_LIST = ", ".join(MEASURE_COLUMNS)
_REBUILD_BASE_SQL = f"""
    INSERT INTO report_rollup ({", ".join(BASE_KEY)}, {_MEASURE_LIST})
    SELECT substr(u.period_start, 1, 10), COALESCE(u.provider, ''),
           COALESCE(u.model, u.model_raw, ''), u.service_tier, u.source,
           COALESCE(u.currency, ''), {_SUMS_SQL}
      FROM usage u WHERE {_DAY_RANGE_SQL}
     GROUP BY 1, 2, 3, 4, 5, 6
"""
_REBUILD_TAGS_SQL = f"""
    INSERT INTO report_tag_rollup ({", ".join(TAG_KEY)}, {_MEASURE_LIST})
    SELECT t.key, substr(u.period_start, 1, 10), t.value, COALESCE(u.model, u.model_raw, ''),
           u.service_tier, COALESCE(u.currency, ''), {_SUMS_SQL}
      FROM usage u JOIN usage_tags t ON t.usage_id = u.id WHERE {_DAY_RANGE_SQL}
     GROUP BY 1, 2, 3, 4, 5, 6
"""
_REBUILD_PAIRS_SQL = f"""
    INSERT INTO {PAIR_TABLE} ({", ".join(PAIR_KEY)}, {_MEASURE_LIST})
    SELECT t.key, o.key, substr(u.period_start, 1, 10), t.value, o.value,
           COALESCE(u.model, u.model_raw, ''), u.service_tier, COALESCE(u.currency, ''),
           {_SUMS_SQL}
      FROM usage u JOIN usage_tags t ON t.usage_id = u.id
      JOIN usage_tags o ON o.usage_id = u.id AND o.key > t.key COLLATE "C"
     WHERE {_DAY_RANGE_SQL}
     GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
"""
# A value a rebuild must name rather than sum (NaN sorts above every number in PostgreSQL, so
# the bound catches NaN and infinity as well as the too large).
_UNUSABLE_SQL = f"""
    SELECT 1 FROM usage u WHERE {_DAY_RANGE_SQL} AND (
        abs(u.billed_cost) > {COST_BOUND} OR abs(u.list_cost) > {COST_BOUND}
        OR {" OR ".join(f"abs(u.{c}) > {COUNT_BOUND}" for c in (
            "requests", "input_tokens", "cache_read_tokens", "cache_write_5m_tokens",
            "cache_write_1h_tokens", "output_tokens", "reasoning_tokens"))}
    ) LIMIT 1
"""  # fmt: skip


def sums_in_database(conn: Connection) -> bool:
    """True when this store sums money exactly itself (PostgreSQL's NUMERIC)."""
    from tokcli.store import is_postgresql

    return is_postgresql(conn)


@translates
def rebuild_day_in_database(conn: Connection, day: str, low: str, high: str) -> bool:
    """Replace one day's rollup rows with sums the database computes over `low <= period_start
    < high` (caller's transaction). False, with nothing written, when the day holds a value no
    sum may use: the caller's row-by-row path then names it."""
    if conn.execute(_UNUSABLE_SQL, (low, high)).fetchone() is not None:
        return False
    conn.execute("DELETE FROM report_rollup WHERE day = ?", (day,))
    conn.execute("DELETE FROM report_tag_rollup WHERE day = ?", (day,))
    conn.execute(f"DELETE FROM {PAIR_TABLE} WHERE day = ?", (day,))
    conn.execute("DELETE FROM report_bad_values WHERE day = ?", (day,))
    conn.execute(_REBUILD_BASE_SQL, (low, high))
    conn.execute(_REBUILD_TAGS_SQL, (low, high))
    conn.execute(_REBUILD_PAIRS_SQL, (low, high))
    conn.execute("DELETE FROM report_dirty_days WHERE day = ?", (day,))
    return True
