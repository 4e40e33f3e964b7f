"""The report rollup tables: which days are dirty, the usage rows of a day, a day's rows replaced.

`report_rollup` holds one row per cell, (day, provider, model, tier, source, currency), and
`report_tag_rollup` one per (tag key, value, cell), each with exact sums;
`report_tag_pair_rollup` one per pair of tag keys, their values and a cell (m0014, m0017), each
with exact sums; `report_bad_values` names the stored values no sum could use;
`report_unrolled_tag_keys` the tag keys left out of the tag and pair rollups (m0018). The
insert path keeps them current (`RollupUpkeep`); a dirty day is rebuilt by
tokcli.reporting.rollups, in Python, or inside PostgreSQL (`rebuild_day_in_database`), whose
NUMERIC sums are exact.
"""

from __future__ import annotations

import decimal
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence, Set
from decimal import Decimal
from operator import add, itemgetter
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
# The dimensions of a cell after its day (a tag rollup keeps them all since m0017, so a report by
# tag keys and any dimension reads rollups).
CELL_DIMENSIONS = ("provider", "model", "tier", "source", "currency")
TAG_KEY = ("key", "day", "value", *CELL_DIMENSIONS)
# Pairs of tag keys (key < other_key) on the rows that carry both (migration m0014).
PAIR_KEY = ("key", "other_key", "day", "value", "other_value", *CELL_DIMENSIONS)
PAIR_TABLE = "report_tag_pair_rollup"
UNROLLED_TABLE = "report_unrolled_tag_keys"
# A tag key is left out of the rollups ("unrolled") when the sums the upkeep holds give it at
# least this many tag rollup rows and they average under two usage rows each: its values are
# nearly unique per row (a request id), so its rollup rows would be as many as the usage rows
# and its pair rollups several times more, for reports that read no fewer rows than `usage`.
# A report by an unrolled key reads the usage rows (tokcli.reporting.query.fetch).
UNROLL_FROM_ROWS = 10_000


def _insert(table: str, key: tuple[str, ...]) -> str:
    columns = (*key, *MEASURE_COLUMNS)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


_ROLLUP_INSERT = _insert("report_rollup", BASE_KEY)
_TAG_ROLLUP_INSERT = _insert("report_tag_rollup", TAG_KEY)
_PAIR_ROLLUP_INSERT = _insert(PAIR_TABLE, PAIR_KEY)


@translates
def unrolled_tag_keys(conn: Connection) -> frozenset[str]:
    """The tag keys the rollups leave out (m0018); none on a store not yet at that schema."""
    if not has_table(conn, UNROLLED_TABLE):
        return frozenset()
    return frozenset(row[0] for row in conn.execute(f"SELECT key FROM {UNROLLED_TABLE}"))


@translates
def unroll_tag_keys(conn: Connection, keys: Iterable[str]) -> None:
    """Leave `keys` out of the tag and pair rollups from now on, and drop their stored rows
    (in the caller's transaction)."""
    for key in sorted(keys):
        conn.execute(f"INSERT OR IGNORE INTO {UNROLLED_TABLE} (key) VALUES (?)", (key,))
        conn.execute("DELETE FROM report_tag_rollup WHERE key = ?", (key,))
        conn.execute(f"DELETE FROM {PAIR_TABLE} WHERE key = ? OR other_key = ?", (key, key))


# Tag key -> [its tag rollup rows, the usage rows they sum], as counted by `tag_tally`.
Tally = dict[str, list[int]]


def scattered_tag_keys(tally: Tally) -> set[str]:
    """The tag keys that a tally (`tag_tally` of the signatures, see RollupUpkeep) gives at least
    UNROLL_FROM_ROWS tag rollup rows averaging under two usage rows each. Judged before the split
    into tag and pair rollup keys, so a request id costs no pair keys; the upkeep judges over
    the whole import so far, so that the order of its rows does not decide (a flush alone may
    hold a key's rows just under the threshold)."""
    return {
        key
        for key, (rollup_rows, usage_rows) in tally.items()
        if rollup_rows >= UNROLL_FROM_ROWS and usage_rows < 2 * rollup_rows
    }


def tag_tally(signatures: Sums) -> Tally:
    """Each tag key's tag rollup rows in the signatures, and the usage rows they sum."""
    tag_rows: dict[tuple[Any, ...], int] = defaultdict(int)  # TAG_KEY -> usage rows
    for signature, sums in signatures.items():
        day, dimensions = signature[0], signature[1:6]
        rows = 1 if sums is None else sums[_USAGE_ROWS]
        for tag, value in signature[6]:
            tag_rows[(tag, day, value, *dimensions)] += rows
    tally: Tally = {}
    for tag_key, rows in tag_rows.items():
        counts = tally.setdefault(tag_key[0], [0, 0])
        counts[0] += 1
        counts[1] += rows
    return tally


def _add_tally(into: Tally, more: Tally) -> None:
    for key, (rollup_rows, usage_rows) in more.items():
        counts = into.setdefault(key, [0, 0])
        counts[0] += rollup_rows
        counts[1] += usage_rows


def _without_tags(signatures: Sums, keys: Set[str]) -> Sums:
    """The signatures with the tags of `keys` left out, their sums merged (in MONEY_CONTEXT)."""
    kept: Sums = {}
    for signature, sums in signatures.items():
        _add_sums(kept, (*signature[:6], _kept_tags(signature[6], keys)), sums)
    return kept


def _kept_tags(tags: tuple[tuple[str, str], ...], left_out: Set[str]) -> tuple[Any, ...]:
    """A signature's (key, value) tags but those of the `left_out` keys."""
    return tuple([tag for tag in tags if tag[0] not in left_out])


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
# as Decimal or None, requests, input, cache read, cache write, output, reasoning tokens, tags
# as a tuple of (key, value) pairs, empty when untagged).
WrittenRow = tuple[Any, ...]

COST_BOUND = Decimal("1e30")  # as tokcli.reporting.totals.COST_BOUND (checked by a test)
COUNT_BOUND = 10**18  # as tokcli.reporting.totals.accumulate_checked

_DAYS_PARAM = "(SELECT value FROM json_each(?))"


# SQLite has no exact decimal addition: the upkeep adds a stored sum (decimal text) and a new
# one with this function, in Python, only for the rows that exist already.
DECIMAL_ADD = "tokcli_decimal_add"


def _decimal_add(stored: str, added: str) -> str:
    return plain(MONEY_CONTEXT.add(Decimal(stored), Decimal(added)))


def _adding_upsert(table: str, key: tuple[str, ...], in_database: bool) -> str:
    """Insert a rollup row, or add its sums to the stored row of the same key: the database
    finds that row by its primary key, so the upkeep never reads what is stored (PostgreSQL
    adds NUMERIC exactly, `in_database`; SQLite calls DECIMAL_ADD)."""

    def added(name: str) -> str:
        if name in MONEY_COLUMNS and not in_database:
            return f"{DECIMAL_ADD}({table}.{name}, excluded.{name})"
        return f"{table}.{name} + excluded.{name}"

    return (
        _insert(table, key)
        + f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
        + ", ".join(f"{name} = {added(name)}" for name in MEASURE_COLUMNS)
    )


class RollupUpkeep:
    """The sums of the rows one transaction writes, by rollup key, held in memory and added to
    the stored rollups by `flush` (the caller flushes before its commit: `keeping_rollups`).

    A bulk import writes the same few thousand keys (day, model, tags, ...) batch after batch;
    summing them in memory and merging each key with its stored row once per transaction,
    instead of once per batch, is what keeps the upkeep a small part of an import. Memory stays
    bounded: past FLUSH_KEYS keys the sums so far are flushed."""

    FLUSH_KEYS = 20_000  # about 20 MB of sums (a key, its tags and 13 measures: ~1 kB)

    def __init__(self, unrolled: frozenset[str] = frozenset(), may_unroll: bool = False) -> None:
        # (*BASE_KEY, tags) -> sums: what the rows written so far add, not yet split into the
        # base, tag and pair rollups (that is done once, by flush).
        self.signatures: Sums = {}
        # The tag keys the rollups leave out (unrolled_tag_keys): kept out of the signatures,
        # or a request id would make every row's signature its own.
        self.unrolled = unrolled
        # With `may_unroll` (the store has UNROLLED_TABLE), `add` judges the signatures held
        # once they are many, so that a request id stops costing a signature per row long
        # before the flush; what it finds is unrolled in the store by the flush.
        self.may_unroll = may_unroll
        self.found: set[str] = set()
        self.next_judgement = UNROLL_FROM_ROWS
        # What the flushes so far counted of each tag key still rolled up (`tag_tally`): a
        # rollup row that spans two flushes counts twice, which only errs towards unrolling a
        # key whose rows are already few per rollup row.
        self.tally: Tally = {}

    def add(self, rows: Sequence[WrittenRow], unrolled_left_out: bool = False) -> None:
        """Add the sums of usage rows just written (WrittenRow tuples). With
        `unrolled_left_out`, the rows' tags already leave out the keys of `self.unrolled`
        (store.usage builds them so: one pass over a row's tags instead of two)."""
        with decimal.localcontext(MONEY_CONTEXT):
            held = self.signatures
            left_out = frozenset() if unrolled_left_out else self.unrolled
            for signature, sums in _signature_sums(rows, left_out).items():
                _add_sums(held, signature, sums)
            if self.may_unroll and len(held) >= self.next_judgement:
                self.next_judgement = 2 * len(held)
                judged = tag_tally(held)
                _add_tally(judged, self.tally)
                scattered = scattered_tag_keys(judged)
                if scattered:
                    self.found |= scattered
                    self.signatures = self._leave_out(held, scattered)

    def _leave_out(self, signatures: Sums, scattered: set[str]) -> Sums:
        """Unroll the `scattered` keys from now on, and drop their tags from `signatures`."""
        self.unrolled = self.unrolled | scattered
        for key in scattered:
            self.tally.pop(key, None)
        return _without_tags(signatures, scattered)

    def pending_keys(self) -> int:
        return len(self.signatures)

    @translates
    def flush(self, conn: Connection) -> None:
        """Add the sums held to the stored rollups of their days (in the caller's transaction);
        days already dirty wait for their rebuild, and a day holding a value no sum may use is
        marked dirty instead, so its rebuild names that value."""
        import json  # here, not at the top: a report on an empty store never gets here

        signatures, self.signatures = self.signatures, {}
        self.next_judgement = UNROLL_FROM_ROWS
        if not signatures:
            return
        base: Sums = {}
        tagged: Sums = {}
        pairs: Sums = {}
        with decimal.localcontext(MONEY_CONTEXT):
            scattered: set[str] = set()
            if has_table(conn, UNROLLED_TABLE):
                _add_tally(self.tally, tag_tally(signatures))  # (no unrolled key is in them)
                scattered = scattered_tag_keys(self.tally)
            if scattered:
                signatures = self._leave_out(signatures, scattered)
            if scattered | self.found:
                unroll_tag_keys(conn, scattered | self.found)
                self.found = set()
            _split(signatures, base, tagged, pairs)
        days = {key[0] for key in base}
        dirty = {
            r[0]
            for r in conn.execute(
                f"SELECT day FROM report_dirty_days WHERE day IN {_DAYS_PARAM}",
                (json.dumps(sorted(days)),),
            )
        }
        unusable = {key[0] for key, sums in base.items() if sums is None}
        unusable |= {key[1] for key, sums in tagged.items() if sums is None}
        unusable |= {key[2] for key, sums in pairs.items() if sums is None}
        skipped = dirty | unusable
        if skipped:
            base = {k: s for k, s in base.items() if k[0] not in skipped}
            tagged = {k: s for k, s in tagged.items() if k[1] not in skipped}
            pairs = {k: s for k, s in pairs.items() if k[2] not in skipped}
        if pairs and not has_table(conn, PAIR_TABLE):  # a store not yet at m0014 (its
            pairs = {}  # migration marks the days with pairs dirty)
        in_database = sums_in_database(conn)
        conn.create_function(DECIMAL_ADD, 2, _decimal_add, deterministic=True)  # SQLite's
        for table, key, sums in (
            ("report_rollup", BASE_KEY, base),
            ("report_tag_rollup", TAG_KEY, tagged),
            (PAIR_TABLE, PAIR_KEY, pairs),
        ):
            conn.executemany(_adding_upsert(table, key, in_database), _rollup_rows(sums))
        if unusable - dirty:
            conn.executemany("INSERT OR IGNORE INTO report_dirty_days (day) VALUES (?)",
                             [(day,) for day in sorted(unusable - dirty)])  # fmt: skip


def _rollup_rows(sums: Sums) -> list[tuple[Any, ...]]:
    """Rows to write: (*key, *MEASURE_COLUMNS), money as exact decimal text."""
    money = len(MONEY_COLUMNS)
    return [(*k, *map(plain, s[:money]), *s[money:]) for k, s in sums.items() if s is not None]


Sums = dict[tuple[Any, ...], list[Any] | None]

# A written row's signature: its base key and its tags (a tuple of (key, value) pairs).
_SIGNATURE = itemgetter(0, 1, 2, 3, 4, 5, 14)


def _signature_sums(rows: Sequence[WrittenRow], unrolled: frozenset[str] = frozenset()) -> Sums:
    """The sums of rows by signature: base key and tags together, the unrolled tag keys left
    out (the rows of a batch share a few hundred). The per-row Python work is one dict look-up
    and an append; each measure is then summed over a group's column at once, in C
    (`_column_sums`)."""
    groups: defaultdict[tuple[Any, ...], list[WrittenRow]] = defaultdict(list)
    signatures: Iterable[tuple[Any, ...]] = map(_SIGNATURE, rows)
    if unrolled:
        signatures = ((*row[:6], _kept_tags(row[14], unrolled)) for row in rows)
    for signature, row in zip(signatures, rows, strict=True):
        groups[signature].append(row)
    return {signature: _column_sums(group) for signature, group in groups.items()}


def _split(signatures: Sums, base: Sums, tagged: Sums, pairs: Sums) -> None:
    """Add each signature's sums to its base, tag and pair groups."""
    for signature, sums in signatures.items():
        key, tag_items = signature[:6], signature[6]
        _add_sums(base, key, sums)
        if not tag_items:
            continue
        day, dimensions = key[0], key[1:]
        for tag, value in tag_items:
            _add_sums(tagged, (tag, day, value, *dimensions), sums)
        if len(tag_items) > 1:
            for pair_key in tag_pairs(dict(tag_items), day, dimensions):
                _add_sums(pairs, pair_key, sums)


def _add_sums(groups: Sums, key: tuple[Any, ...], sums: list[Any] | None) -> None:
    """Add `sums` to `groups[key]`; None (a value no sum may use) stays None."""
    have = groups.get(key, _ABSENT)
    if have is _ABSENT:
        groups[key] = sums
    else:
        groups[key] = None if have is None or sums is None else list(map(add, have, sums))


_ABSENT: Any = object()


def tag_pairs(
    tags: dict[str, str], day: str, dimensions: tuple[str, ...]
) -> Iterator[tuple[str, ...]]:
    """The PAIR_KEY of every pair of a row's tags, the smaller key first; `dimensions` are the
    cell's CELL_DIMENSIONS values."""
    ordered = sorted(tags.items())
    for i, (key, value) in enumerate(ordered):
        for other_key, other_value in ordered[i + 1 :]:
            yield (key, other_key, day, value, other_value, *dimensions)


_ZERO = Decimal(0)
_MEASURES = itemgetter(6, 7, 8, 9, 10, 11, 12, 13)
_USAGE_ROWS = MEASURE_COLUMNS.index("usage_rows")


def _column_sums(group: list[WrittenRow]) -> list[Any] | None:
    """A group's measures (MEASURE_COLUMNS order), or None when a value is one a rebuild would
    refuse: money not a finite Decimal within COST_BOUND, a count not an int within
    COUNT_BOUND. Each check is a pass over a column in C (`sum`, `min`, `map(type)`)."""
    billed_column, list_column, *counts = zip(*map(_MEASURES, group), strict=True)
    try:
        billed_sum = _money_sum(billed_column)
        list_sum = _money_sum(list_column)
        unbilled: Sequence[Decimal] = ()
        billed_rows, list_rows = len(group), len(group)
        if billed_sum is None or list_sum is None:  # a row without a billed or a list cost
            billed = [v for v in billed_column if v is not None]
            listed = [v for v in list_column if v is not None]
            unbilled = [v for b, v in zip(billed_column, list_column, strict=True)
                        if b is None and v is not None]  # fmt: skip
            billed_sum, list_sum = _money_sum(billed), _money_sum(listed)
            if billed_sum is None or list_sum is None:
                return None
            billed_rows, list_rows = len(billed), len(listed)
        count_sums = _count_sums(counts)
    except (ArithmeticError, TypeError):  # NaN, infinity, a value of another type
        return None
    if count_sums is None or not (billed_sum.is_finite() and list_sum.is_finite()):
        return None
    return [
        billed_sum, list_sum, sum(unbilled, _ZERO), len(group), billed_rows, list_rows,
        *count_sums, len(unbilled),
    ]  # fmt: skip


def _money_sum(values: Sequence[Any]) -> Decimal | None:
    """The exact sum of Decimals each finite and within COST_BOUND; None when a value is None
    (the caller leaves those out). ArithmeticError or TypeError for a value no sum may use."""
    if not values:
        return _ZERO
    try:
        total = sum(values, _ZERO)  # NaN and infinity trap or fail the bounds below
    except TypeError:
        if any(value is None for value in values):
            return None
        raise
    if not set(map(type, values)) <= {Decimal}:
        raise TypeError("not a Decimal")
    lowest = min(values)  # comparing a NaN raises (MONEY_CONTEXT traps InvalidOperation)
    # Values all >= 0 whose sum is within the bound are each within it; else check each.
    if lowest >= 0 and total <= COST_BOUND:
        return total
    if lowest < -COST_BOUND or max(values) > COST_BOUND:
        raise ArithmeticError("beyond the bound")
    return total


def _count_sums(columns: list[tuple[Any, ...]]) -> list[int] | None:
    """The sum of each column, ints each within COUNT_BOUND, else None."""
    totals = list(map(sum, columns))  # TypeError on a text; a float or Decimal sums to its type
    if not set(map(type, totals)) <= {int}:
        return None
    # Values all >= 0 whose sums are within the bound are each within it; else check each.
    if min(map(min, columns)) >= 0 and max(totals) <= COUNT_BOUND:
        return totals
    if min(map(min, columns)) < -COUNT_BOUND or max(map(max, columns)) > COUNT_BOUND:
        return None
    return totals


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
# The cell's CELL_DIMENSIONS as the rollup tables spell them.
_CELL_SQL = """COALESCE(u.provider, ''), COALESCE(u.model, u.model_raw, ''), u.service_tier,
           u.source, COALESCE(u.currency, '')"""
_REBUILD_BASE_SQL = f"""
    INSERT INTO report_rollup ({", ".join(BASE_KEY)}, {_MEASURE_LIST})
    SELECT substr(u.period_start, 1, 10), {_CELL_SQL}, {_SUMS_SQL}
      FROM usage u WHERE {_DAY_RANGE_SQL}
     GROUP BY 1, 2, 3, 4, 5, 6
"""
_REBUILD_TAGS_SQL = f"""
    INSERT INTO report_tag_rollup ({", ".join(TAG_KEY)}, {_MEASURE_LIST})
    SELECT t.key, substr(u.period_start, 1, 10), t.value, {_CELL_SQL}, {_SUMS_SQL}
      FROM usage u JOIN usage_tags t ON t.usage_id = u.id WHERE {_DAY_RANGE_SQL}
       AND t.key NOT IN (SELECT key FROM {UNROLLED_TABLE})
     GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
"""
_REBUILD_PAIRS_SQL = f"""
    INSERT INTO {PAIR_TABLE} ({", ".join(PAIR_KEY)}, {_MEASURE_LIST})
    SELECT t.key, o.key, substr(u.period_start, 1, 10), t.value, o.value, {_CELL_SQL},
           {_SUMS_SQL}
      FROM usage u JOIN usage_tags t ON t.usage_id = u.id
      JOIN usage_tags o ON o.usage_id = u.id AND o.key > t.key COLLATE "C"
     WHERE {_DAY_RANGE_SQL} AND t.key NOT IN (SELECT key FROM {UNROLLED_TABLE})
       AND o.key NOT IN (SELECT key FROM {UNROLLED_TABLE})
     GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
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
