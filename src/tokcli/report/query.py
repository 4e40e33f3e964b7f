"""Select and sum usage for a report: from the rollups when they can answer, else from `usage`.

Every answer comes back as "fine rows": sums per (group values, day, model, tier, currency).
Day, model and tier stay in the key so the views can bucket time, price output tokens and
forecast without another query; the views fold fine rows into the groups the user asked for.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import sqlite3
from dataclasses import dataclass
from decimal import Decimal

from tokcli.errors import TokcliError
from tokcli.money import MONEY_CONTEXT, plain
from tokcli.report.totals import (
    COUNTS,
    MEASURES,
    MONEY,
    BadValue,
    Totals,
    accumulate,
    accumulate_checked,
)

DIMENSIONS = ("model", "provider", "tier", "source")
TIME_KEYS = ("day", "week", "month")
# Real exports carry tag keys such as "Cost department" or "ms:Department"; only the characters
# the options use as separators (, and =) and control characters are refused.
_TAG_KEY = re.compile(r"^[^,=\x00-\x1f]+$")

# Column of each dimension in the raw `usage` table and in the rollup tables.
_RAW_DIMENSION = {
    "model": "COALESCE(u.model, u.model_raw, '')",
    "provider": "COALESCE(u.provider, '')",
    "tier": "u.service_tier",
    "source": "u.source",
}
_MEASURE_COLUMNS = ", ".join(MEASURES)
_WIDTH = len(MEASURES)


@dataclass(frozen=True)
class Selection:
    """What to sum: grouping keys, an inclusive day range and key=value filters (ANDed)."""

    group_by: tuple[str, ...] = ()
    since: dt.date | None = None
    until: dt.date | None = None
    where: tuple[tuple[str, str], ...] = ()

    @property
    def attribute_keys(self) -> tuple[str, ...]:
        """The grouping keys that are not time buckets, in the order asked."""
        return tuple(k for k in self.group_by if k not in TIME_KEYS)

    @property
    def tag_keys(self) -> list[str]:
        keys = [*self.attribute_keys, *(k for k, _ in self.where)]
        return list(dict.fromkeys(k for k in keys if k not in DIMENSIONS))


@dataclass
class FineRow:
    group: tuple  # values of Selection.attribute_keys; None = untagged / unknown
    day: str
    model: str | None
    tier: str
    currency: str | None
    totals: Totals


def validate_key(key: str, *, option: str) -> None:
    if key in DIMENSIONS or key in TIME_KEYS:
        return
    if not _TAG_KEY.match(key) or key != key.strip():
        raise TokcliError(
            f"{option}: {key!r} is not a key; use a tag key or one of "
            f"{', '.join(DIMENSIONS + TIME_KEYS)}"
        )


def known_tag_keys(conn: sqlite3.Connection) -> list[str]:
    # Skip-scan over the (key, value, usage_id) index: one probe per distinct key.
    keys, last = [], ""
    while True:
        row = conn.execute(
            "SELECT key FROM usage_tags WHERE key > ? ORDER BY key LIMIT 1", (last,)
        ).fetchone()
        if row is None:
            return keys
        keys.append(last := row[0])


def fetch(
    conn: sqlite3.Connection,
    selection: Selection,
    *,
    use_rollups: bool = True,
    bad: list[BadValue] | None = None,
):
    """Fine rows for `selection`, exact. Reading usage rows directly (no rollups), unusable
    stored values are appended to `bad`; with rollups, `bad_values` lists them."""
    with decimal.localcontext(MONEY_CONTEXT):
        tag_keys = selection.tag_keys
        dimension_keys = [
            k for k in (*selection.attribute_keys, *(k for k, _ in selection.where))
            if k in DIMENSIONS
        ]  # fmt: skip
        if use_rollups and not tag_keys:
            return _from_rollup(conn, selection)
        if use_rollups and len(tag_keys) == 1 and set(dimension_keys) <= {"model", "tier"}:
            return _from_tag_rollup(conn, selection, tag_keys[0])
        return _from_usage(conn, selection, bad)


def _day_range_sql(column: str, selection: Selection, params: list) -> str:
    clauses = []
    if selection.since is not None:
        clauses.append(f"{column} >= ?")
        params.append(selection.since.isoformat())
    if selection.until is not None:
        clauses.append(f"{column} <= ?")
        params.append(selection.until.isoformat())
    return " AND ".join(clauses) or "1"


def _blank_to_none(value):
    return None if value == "" else value


def _rollup_totals(row, first: int) -> Totals:
    return Totals.from_rollup(row[first : first + _WIDTH])


def _from_rollup(conn, selection: Selection) -> list[FineRow]:
    params: list = []
    sql = (
        f"SELECT day, provider, model, tier, source, currency, {_MEASURE_COLUMNS} "
        f"FROM report_rollup WHERE {_day_range_sql('day', selection, params)}"
    )
    for key, value in selection.where:
        sql += f" AND {key} = ?"
        params.append(value)
    positions = {"provider": 1, "model": 2, "tier": 3, "source": 4}
    wanted = [positions[k] for k in selection.attribute_keys]
    rows = []
    for row in _tuples(conn, sql, params):
        group = tuple(_blank_to_none(row[i]) for i in wanted)
        totals = _rollup_totals(row, 6)
        rows.append(_fine(group, (row[0], row[2], row[3], row[5]), totals))
    return rows


def _tuples(conn, sql: str, params: list):
    """Rows as plain tuples: sqlite3.Row lookups by name cost more than the sums."""
    cursor = conn.cursor()
    cursor.row_factory = None
    return cursor.execute(sql, params)


def _from_tag_rollup(conn, selection: Selection, tag_key: str) -> list[FineRow]:
    """One tag key, alone or with model and tier (the tag rollup keeps both)."""
    params: list = [tag_key]
    sql = (
        f"SELECT day, value, model, tier, currency, {_MEASURE_COLUMNS} FROM report_tag_rollup "
        f"WHERE key = ? AND {_day_range_sql('day', selection, params)}"
    )
    dimension_filters = [(k, v) for k, v in selection.where if k in DIMENSIONS]
    sql += "".join(f" AND {key} = ?" for key, _ in dimension_filters)
    params += [value for _, value in dimension_filters]
    filtered = [value for key, value in selection.where if key == tag_key]
    sql += " AND value = ?" * len(filtered)
    params += filtered

    def group_of(value, model, tier) -> tuple:
        parts = {tag_key: value, "model": _blank_to_none(model), "tier": tier}
        return tuple(parts[k] for k in selection.attribute_keys)

    needs_untagged = tag_key in selection.attribute_keys and not filtered
    rows = []
    tagged_by_cell: dict[tuple, Totals] = {}
    for row in _tuples(conn, sql, params):
        cell = (row[0], row[2], row[3], row[4])
        totals = _rollup_totals(row, 5)
        if needs_untagged:
            tagged_by_cell.setdefault(cell, Totals()).add(totals)
        rows.append(_fine(group_of(row[1], row[2], row[3]), cell, totals))
    if needs_untagged:
        for cell, totals in _untagged(conn, selection, dimension_filters, tagged_by_cell):
            rows.append(_fine(group_of(None, cell[1], cell[2]), cell, totals))
    return rows


def _fine(group: tuple, cell: tuple, totals: Totals) -> FineRow:
    day, model, tier, currency = cell
    return FineRow(group, day, _blank_to_none(model), tier, _blank_to_none(currency), totals)


def _untagged(conn, selection: Selection, dimension_filters: list, tagged_by_cell: dict):
    """Each usage row has at most one value per tag key, so what the key leaves untagged is
    the whole (from the base rollup) minus the tagged part, cell by cell."""
    params: list = []
    sql = (
        f"SELECT day, model, tier, currency, {_MEASURE_COLUMNS} FROM report_rollup "
        f"WHERE {_day_range_sql('day', selection, params)}"
    )
    sql += "".join(f" AND {key} = ?" for key, _ in dimension_filters)
    params += [value for _, value in dimension_filters]
    whole: dict[tuple, Totals] = {}
    for row in _tuples(conn, sql, params):
        whole.setdefault(row[:4], Totals()).add(_rollup_totals(row, 4))
    for cell, totals in whole.items():
        if cell in tagged_by_cell:
            totals.add(tagged_by_cell[cell], sign=-1)
        if not totals.is_empty():
            yield cell, totals


class _DecimalSum:
    """SQLite aggregate: the exact sum of decimal strings (NULLs skipped), as a decimal string."""

    def __init__(self):
        self.total = Decimal(0)

    def step(self, value):
        if value is not None:
            self.total = MONEY_CONTEXT.add(self.total, Decimal(value))

    def finalize(self):
        return plain(self.total)


def totals_by(conn: sqlite3.Connection, selection: Selection) -> dict:
    """Totals per value of one key (no filters), summed inside SQLite from the rollups: the
    summary's top lists need neither days nor models, so they skip the fine rows."""
    (key,) = selection.group_by
    if selection.where or key in TIME_KEYS:
        raise ValueError("totals_by: one non-time key, no filters")
    conn.create_aggregate("tokcli_decimal_sum", 1, _DecimalSum)
    sums = (
        ", ".join(f"tokcli_decimal_sum({name})" for name in MONEY)
        + ", "
        + ", ".join(f"SUM({name})" for name in COUNTS)
    )
    params: list = []
    day_range = _day_range_sql("day", selection, params)
    if key in DIMENSIONS:
        sql = (
            f"SELECT {key}, currency, {sums} FROM report_rollup WHERE {day_range} "
            f"GROUP BY {key}, currency"
        )
        return {
            (_blank_to_none(row[0]), _blank_to_none(row[1])): _rollup_totals(row, 2)
            for row in _tuples(conn, sql, params)
        }
    tagged_sql = (
        f"SELECT value, currency, {sums} FROM report_tag_rollup WHERE key = ? AND {day_range} "
        f"GROUP BY value, currency"
    )
    result = {
        (row[0], _blank_to_none(row[1])): _rollup_totals(row, 2)
        for row in _tuples(conn, tagged_sql, [key, *params])
    }
    whole_sql = f"SELECT currency, {sums} FROM report_rollup WHERE {day_range} GROUP BY currency"
    for row in _tuples(conn, whole_sql, params):
        untagged = _rollup_totals(row, 1)
        currency = _blank_to_none(row[0])
        for (_, tagged_currency), totals in result.items():
            if tagged_currency == currency:
                untagged.add(totals, sign=-1)
        if not untagged.is_empty():
            result[(None, currency)] = untagged
    return result


def bad_values(conn: sqlite3.Connection, selection: Selection) -> list[BadValue]:
    """Unusable stored values in the selection's days, found by the last rollup rebuilds."""
    params: list = []
    sql = (
        "SELECT day, usage_id, column_name, value FROM report_bad_values "
        f"WHERE {_day_range_sql('day', selection, params)} ORDER BY day, usage_id, column_name"
    )
    return [BadValue(*row) for row in _tuples(conn, sql, params)]


def _from_usage(conn, selection: Selection, bad: list[BadValue] | None = None) -> list[FineRow]:
    """The general path: any mix of tag keys and dimensions, summed from the usage rows.
    Unusable stored values are counted as missing and appended to `bad` (when given)."""
    params: list = []
    joins: list[str] = []
    tag_alias: dict[str, str] = {}
    for index, key in enumerate(selection.tag_keys):
        tag_alias[key] = f"t{index}"
        joins.append(
            f"LEFT JOIN usage_tags t{index} ON t{index}.usage_id = u.id AND t{index}.key = ?"
        )
        params.append(key)

    def expression(key: str) -> str:
        return _RAW_DIMENSION[key] if key in DIMENSIONS else f"{tag_alias[key]}.value"

    columns = [expression(k) for k in selection.attribute_keys] or ["NULL"]
    where = []
    if selection.since is not None:
        where.append("u.period_start >= ?")
        params.append(selection.since.isoformat())
    if selection.until is not None:
        where.append("u.period_start < ?")
        params.append((selection.until + dt.timedelta(days=1)).isoformat())
    for key, value in selection.where:
        where.append(f"{expression(key)} = ?")
        params.append(value)
    sql = (
        f"SELECT substr(u.period_start, 1, 10), COALESCE(u.model, u.model_raw, ''), "
        f"u.service_tier, COALESCE(u.currency, ''), u.billed_cost, u.list_cost, u.requests, "
        f"u.input_tokens, u.cache_read_tokens, u.cache_write_5m_tokens + u.cache_write_1h_tokens, "
        f"u.output_tokens, u.reasoning_tokens, u.id, {', '.join(columns)} "
        f"FROM usage u {' '.join(joins)} WHERE {' AND '.join(where) or '1'}"
    )
    try:
        sums = _sum_usage(conn, sql, params, len(selection.attribute_keys), None)
    except (decimal.InvalidOperation, TypeError, ValueError):
        sums = None
    if sums is None or not all(t.is_sane() for t in sums.values()):
        found: list[BadValue] = []  # the rare second pass, row by row
        sums = _sum_usage(conn, sql, params, len(selection.attribute_keys), found)
        if bad is not None:
            bad.extend(sorted(set(found), key=lambda b: (b.day, b.usage_id, b.column)))
    return [_fine(key[0], key[1:], totals) for key, totals in sums.items()]


def _sum_usage(conn, sql: str, params: list, width: int, bad: list[BadValue] | None) -> dict:
    sums: dict[tuple, Totals] = {}
    cursor = conn.cursor()
    cursor.row_factory = None
    for row in cursor.execute(sql, params):
        group = tuple(_blank_to_none(v) for v in row[13 : 13 + width])
        key = (group, row[0], row[1], row[2], row[3])
        if bad is None:
            accumulate(sums, key, row[4], row[5], row[6:12])
        else:
            accumulate_checked(sums, key, row[12], row[0], row[4], row[5], row[6:12], bad)
    return sums
