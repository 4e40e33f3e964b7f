"""Select and sum usage for a report: from the rollups when they can answer, else from `usage`.

Every answer comes back as "fine rows": sums per (group values, day, model, tier, currency).
Day, model and tier stay in the key so the views can bucket time, price output tokens and
forecast without another query; the views fold fine rows into the groups the user asked for.
"""

from __future__ import annotations

import datetime as dt
import decimal
import operator
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from tokcli.errors import TokcliError
from tokcli.frozen import Frozen, Record
from tokcli.lazyre import lazy
from tokcli.money import MONEY_CONTEXT
from tokcli.reporting.totals import (
    MEASURES,
    MONEY,
    BadValue,
    Totals,
    accumulate,
    accumulate_checked,
)
from tokcli.store import reports as store
from tokcli.store.connection import Connection
from tokcli.store.reports import DIMENSIONS as DIMENSIONS  # re-exported for the report

TIME_KEYS = ("day", "week", "month")
# Real exports carry tag keys such as "Cost department" or "ms:Department"; only the characters
# the options use as separators (, and =) and control characters are refused.
_TAG_KEY = lazy(r"^[^,=\x00-\x1f]+$")
_WIDTH = len(MEASURES)
_T = TypeVar("_T")

# The values of Selection.attribute_keys; None = untagged / unknown.
Group = tuple[str | None, ...]
# (day, provider, model, tier, source, currency), the base rollup's key, as the store holds it
# ('' for no provider, model or currency): a tag rollup row sums the rows of one cell.
Cell = tuple[str, str, str, str, str, str]


# As @dataclass(frozen=True), with __init__ written out: see tokcli.frozen (start-up).
@dataclass(init=False, repr=False, eq=False)
class Selection(Frozen):
    """What to sum: grouping keys, an inclusive day range and key=value filters (ANDed)."""

    group_by: tuple[str, ...] = ()
    since: dt.date | None = None
    until: dt.date | None = None
    where: tuple[tuple[str, str], ...] = ()

    def __init__(
        self,
        group_by: tuple[str, ...] = (),
        since: dt.date | None = None,
        until: dt.date | None = None,
        where: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.__dict__.update(group_by=group_by, since=since, until=until, where=where)

    @property
    def attribute_keys(self) -> tuple[str, ...]:
        """The grouping keys that are not time buckets, in the order asked."""
        return tuple(k for k in self.group_by if k not in TIME_KEYS)

    @property
    def tag_keys(self) -> list[str]:
        keys = [*self.attribute_keys, *(k for k, _ in self.where)]
        return list(dict.fromkeys(k for k in keys if k not in DIMENSIONS))


# As @dataclass(), with __init__ written out: see tokcli.frozen (start-up).
@dataclass(init=False, repr=False, eq=False)
class FineRow(Record):
    """The sums of the usage rows of one group, day, model, tier and currency."""

    group: Group
    day: str
    model: str | None
    tier: str
    currency: str | None
    totals: Totals

    def __init__(
        self, group: Group, day: str, model: str | None, tier: str, currency: str | None,
        totals: Totals,
    ) -> None:  # fmt: skip
        self.group, self.day, self.model, self.tier = group, day, model, tier
        self.currency, self.totals = currency, totals


def validate_key(key: str, *, option: str) -> None:
    if key in DIMENSIONS or key in TIME_KEYS:
        return
    if not _TAG_KEY.match(key) or key != key.strip():
        raise TokcliError(
            f"{option}: {key!r} is not a key; use a tag key or one of "
            f"{', '.join(DIMENSIONS + TIME_KEYS)}"
        )


def known_tag_keys(conn: Connection) -> list[str]:
    return store.tag_keys(conn)


def fetch(
    conn: Connection,
    selection: Selection,
    *,
    use_rollups: bool = True,
    bad: list[BadValue] | None = None,
) -> list[FineRow]:
    """Fine rows for `selection`, exact. Reading usage rows directly (no rollups), unusable
    stored values are appended to `bad`; with rollups, `bad_values` lists them."""
    with decimal.localcontext(MONEY_CONTEXT):
        tag_keys = selection.tag_keys
        if not use_rollups or len(tag_keys) > 2 or _unrolled(conn, tag_keys):
            return _from_usage(conn, selection, bad)
        # The tag rollups keep every dimension of a cell (m0017): one or two tag keys, with any
        # dimensions and filters, read rollups.
        if not tag_keys:
            cells = _from_rollup(conn, selection)
        elif len(tag_keys) == 1:
            cells = _from_tag_rollup(conn, selection, tag_keys[0])
        else:
            cells = _from_tag_pair_rollup(conn, selection, (tag_keys[0], tag_keys[1]))
        return _merged_fine(cells)


def _unrolled(conn: Connection, tag_keys: list[str]) -> bool:
    """True when a tag key is one the rollups leave out (its values are nearly unique per row:
    store.rollups.UNROLL_FROM_ROWS), so only the usage rows can answer."""
    return bool(tag_keys) and not store.unrolled_tag_keys(conn).isdisjoint(tag_keys)


def _merged_fine(rows: Iterable[FineRow]) -> list[FineRow]:
    """Rollup rows are per cell (provider and source included); a fine row is per group, day,
    model, tier and currency, as the usage path sums it. Valuation places a fine row's counts
    and list cost by its parts, so both paths must hand it the same rows."""
    merged: dict[tuple[Any, ...], FineRow] = {}
    copied: set[tuple[Any, ...]] = set()
    for row in rows:
        key = (row.group, row.day, row.model, row.tier, row.currency)
        have = merged.get(key)
        if have is None:
            merged[key] = row
            continue
        if key not in copied:  # never add into a Totals the caller may still hold
            have = merged[key] = FineRow(*key, have.totals.copy())
            copied.add(key)
        have.totals.add(row.totals)
    return list(merged.values())


def _blank_to_none(value: _T) -> _T | None:
    return None if value == "" else value


def _rollup_totals(row: Sequence[Any], first: int) -> Totals:
    return Totals.from_rollup(row[first : first + _WIDTH])


def _from_rollup(conn: Connection, selection: Selection) -> list[FineRow]:
    positions = {"provider": 1, "model": 2, "tier": 3, "source": 4}
    wanted = [positions[k] for k in selection.attribute_keys]
    rows = []
    for row in store.rollup_rows(conn, selection.since, selection.until, selection.where):
        group = tuple(_blank_to_none(row[i]) for i in wanted)
        totals = _rollup_totals(row, 6)
        rows.append(_fine_of_cell(group, row, totals))
    return rows


def _dimension_values(cell: Sequence[str]) -> dict[str, str | None]:
    """The report dimensions of a cell, as a group names them (None for no provider or model)."""
    return {"provider": cell[1] or None, "model": cell[2] or None, "tier": cell[3] or None,
            "source": cell[4] or None}  # fmt: skip


def _from_tag_rollup(conn: Connection, selection: Selection, tag_key: str) -> list[FineRow]:
    """One tag key, with any dimensions (the tag rollup keeps every dimension of a cell)."""
    dimension_filters = [(k, v) for k, v in selection.where if k in DIMENSIONS]
    filtered = [value for key, value in selection.where if key == tag_key]
    attribute_keys = selection.attribute_keys

    def group_of(value: str | None, cell: Cell) -> Group:
        parts = {tag_key: value, **_dimension_values(cell)}
        return tuple([parts[k] for k in attribute_keys])

    needs_untagged = tag_key in attribute_keys and not filtered
    rows = []
    tagged_by_cell: dict[Cell, Totals] = {}
    rows_of_tag = store.tag_rollup_rows(
        conn, tag_key, selection.since, selection.until, dimension_filters, filtered
    )
    for row in rows_of_tag:
        cell: Cell = (row[0], *row[2:7])
        totals = _rollup_totals(row, 7)
        if needs_untagged:
            tagged_by_cell.setdefault(cell, Totals()).add(totals)
        rows.append(_fine_of_cell(group_of(row[1], cell), cell, totals))
    if needs_untagged:
        for cell, totals in _untagged(conn, selection, dimension_filters, tagged_by_cell):
            rows.append(_fine_of_cell(group_of(None, cell), cell, totals))
    return rows


def _from_tag_pair_rollup(
    conn: Connection, selection: Selection, keys: tuple[str, str]
) -> list[FineRow]:
    """Two tag keys, with any dimensions and filters. The pair rollup sums the rows that
    carry both tags; the rest follows exactly, cell by cell, since a row has at most one value
    per key (a filter on a tag then keeps the sums of its value):
      key only    = tag rollup of key       - its pairs summed over the other value,
      other only  = tag rollup of other key - its pairs summed over the first value,
      neither     = base rollup - both tag rollups + all pairs."""
    first, second = sorted(keys)
    where = [(k, v) for k, v in selection.where if k in DIMENSIONS]
    since, until = selection.since, selection.until
    # (first value, second value, *cell) -> the measures (MEASURES order) as a list: a year of
    # pair rollup rows is tens of thousands, and adding lists in C (`map`) is what keeps it
    # under a second (a Totals per addition took several).
    sums: dict[tuple[Any, ...], list[Any]] = {}

    def plus(key: tuple[Any, ...], measures: list[Any]) -> None:
        have = sums.get(key)
        sums[key] = measures if have is None else list(map(operator.add, have, measures))

    def minus(key: tuple[Any, ...], measures: list[Any]) -> None:
        have = sums.get(key)
        if have is None:
            sums[key] = list(map(operator.neg, measures))
        else:
            sums[key] = list(map(operator.sub, have, measures))

    for row in store.tag_pair_rollup_rows(conn, (first, second), since, until, where):
        cell, measures = (row[0], *row[3:8]), _measures(row, 8)
        plus((row[1], row[2], *cell), measures)
        minus((row[1], None, *cell), measures)
        minus((None, row[2], *cell), measures)
        plus((None, None, *cell), measures)
    for position, key in enumerate((first, second)):
        for row in store.tag_rollup_rows(conn, key, since, until, where):
            cell, measures = (row[0], *row[2:7]), _measures(row, 7)
            plus((row[1], None, *cell) if position == 0 else (None, row[1], *cell), measures)
            minus((None, None, *cell), measures)
    for row in store.rollup_rows(conn, since, until, where):
        plus((None, None, *row[:6]), _measures(row, 6))

    attribute_keys = selection.attribute_keys
    # `--where KEY=VALUE` on a tag: only rows carrying that value (never the untagged ones).
    wanted = {first: [v for k, v in selection.where if k == first],
              second: [v for k, v in selection.where if k == second]}  # fmt: skip
    rows = []
    usage_rows = len(MONEY)
    for (value, other_value, *fine_cell), measures in sums.items():
        if measures[usage_rows] == 0:
            continue
        if any(value != v for v in wanted[first]) or any(other_value != v for v in wanted[second]):
            continue
        parts = {first: value, second: other_value, **_dimension_values(fine_cell)}
        group = tuple([parts[k] for k in attribute_keys])
        rows.append(_fine_of_cell(group, fine_cell, Totals.from_rollup(measures)))
    return rows


def _measures(row: Sequence[Any], first: int) -> list[Any]:
    """A rollup row's measures from column `first` on, money as Decimal."""
    return [
        Decimal(row[first]), Decimal(row[first + 1]), Decimal(row[first + 2]),
        *row[first + 3 : first + _WIDTH],
    ]  # fmt: skip


def _fine(group: Group, fine_cell: Sequence[Any], totals: Totals) -> FineRow:
    """A fine row of (day, model, tier, currency), what valuation and pricing need."""
    day, model, tier, currency = fine_cell
    return FineRow(group, day, _blank_to_none(model), tier, _blank_to_none(currency), totals)


def _fine_of_cell(group: Group, cell: Sequence[Any], totals: Totals) -> FineRow:
    """A fine row of a rollup cell (day, provider, model, tier, source, currency)."""
    return _fine(group, (cell[0], cell[2], cell[3], cell[5]), totals)


def _untagged(
    conn: Connection,
    selection: Selection,
    dimension_filters: list[tuple[str, str]],
    tagged_by_cell: dict[Cell, Totals],
) -> Iterator[tuple[Cell, Totals]]:
    """Each usage row has at most one value per tag key, so what the key leaves untagged is
    the whole (from the base rollup) minus the tagged part, cell by cell."""
    whole: dict[Cell, Totals] = {}
    for row in store.rollup_rows(conn, selection.since, selection.until, dimension_filters):
        whole.setdefault(row[:6], Totals()).add(_rollup_totals(row, 6))
    for cell, totals in whole.items():
        if cell in tagged_by_cell:
            totals.add(tagged_by_cell[cell], sign=-1)
        if not totals.is_empty():
            yield cell, totals


def totals_by(
    conn: Connection, selection: Selection
) -> dict[tuple[str | None, str | None], Totals]:
    """Totals per value of one key (no filters), summed inside the store from the rollups: the
    summary's top lists need neither days nor models, so they skip the fine rows."""
    (key,) = selection.group_by
    if selection.where or key in TIME_KEYS:
        raise ValueError("totals_by: one non-time key, no filters")
    since, until = selection.since, selection.until
    if key in DIMENSIONS:
        return {
            (_blank_to_none(row[0]), _blank_to_none(row[1])): _rollup_totals(row, 2)
            for row in store.rollup_sums_by(conn, key, since, until)
        }
    if _unrolled(conn, [key]):
        return _totals_by_group(_from_usage(conn, selection))
    result = {
        (row[0], _blank_to_none(row[1])): _rollup_totals(row, 2)
        for row in store.tag_rollup_sums_by(conn, key, since, until)
    }
    with decimal.localcontext(MONEY_CONTEXT):  # exact, whatever the caller's context
        for row in store.rollup_sums_by_currency(conn, since, until):
            untagged = _rollup_totals(row, 1)
            currency = _blank_to_none(row[0])
            for (_, tagged_currency), totals in result.items():
                if tagged_currency == currency:
                    untagged.add(totals, sign=-1)
            if not untagged.is_empty():
                result[(None, currency)] = untagged
    return result


def _totals_by_group(rows: Iterable[FineRow]) -> dict[tuple[str | None, str | None], Totals]:
    """Fine rows of one grouping key summed per (value, currency), as totals_by gives them."""
    totals: dict[tuple[str | None, str | None], Totals] = {}
    with decimal.localcontext(MONEY_CONTEXT):
        for fine in rows:
            totals.setdefault((fine.group[0], fine.currency), Totals()).add(fine.totals)
    return totals


def bad_values(conn: Connection, selection: Selection) -> list[BadValue]:
    """Unusable stored values in the selection's days, found by the last rollup rebuilds."""
    return [BadValue(*row) for row in store.bad_value_rows(conn, selection.since, selection.until)]


def _from_usage(
    conn: Connection, selection: Selection, bad: list[BadValue] | None = None
) -> list[FineRow]:
    """The general path: any mix of tag keys and dimensions, summed from the usage rows.
    Unusable stored values are counted as missing and appended to `bad` (when given)."""

    def rows() -> Iterator[tuple[Any, ...]]:
        return store.usage_rows(
            conn, selection.attribute_keys, selection.since, selection.until, selection.where
        )

    width = len(selection.attribute_keys)
    try:
        sums = _sum_usage(rows(), width, None)
    except (decimal.InvalidOperation, TypeError, ValueError):
        sums = None
    if sums is None or not all(t.is_sane() for t in sums.values()):
        found: list[BadValue] = []  # the rare second pass, row by row
        sums = _sum_usage(rows(), width, found)
        if bad is not None:
            bad.extend(sorted(set(found), key=lambda b: (b.day, b.usage_id, b.column)))
    return [_fine(key[0], key[1:], totals) for key, totals in sums.items()]


def _sum_usage(
    rows: Iterable[tuple[Any, ...]], width: int, bad: list[BadValue] | None
) -> dict[tuple[Any, ...], Totals]:
    """Rows of store.usage_rows: 13 usage columns, then the group values."""
    sums: dict[tuple[Any, ...], Totals] = {}
    for row in rows:
        group = tuple(_blank_to_none(v) for v in row[13 : 13 + width])
        key = (group, row[0], row[1], row[2], row[3])
        if bad is None:
            accumulate(sums, key, row[4], row[5], row[6:12])
        else:
            accumulate_checked(sums, key, row[12], row[0], row[4], row[5], row[6:12], bad)
    return sums
