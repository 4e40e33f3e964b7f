"""The usage `advise` reads: sums per group, model, service tier and hour of day, and the calls of
each agent session in time order. Read-only; every figure exact."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tokcli.store.aggregates import define_decimal_sum
from tokcli.store.connection import Connection

# Columns the built-in dimensions are read from; any other key is a tag.
_DIMENSION_SQL = {
    "model": "COALESCE(u.model, u.model_raw)",
    "provider": "u.provider",
    "tier": "u.service_tier",
    "source": "u.source",
}
_TOKEN_SUMS = (
    "SUM(u.requests), SUM(u.input_tokens), SUM(u.cache_read_tokens), "
    "SUM(u.cache_write_5m_tokens), SUM(u.cache_write_1h_tokens), SUM(u.output_tokens), "
    "SUM(u.reasoning_tokens)"
)
# A row shorter than a day says when in the day its calls ran; a daily row does not.
_SUB_DAY = "(julianday(u.period_end) - julianday(u.period_start)) < 0.999"


@dataclass
class Tokens:
    """Token buckets and request count, summed; the buckets are disjoint (see cost.Usage)."""

    requests: int = 0
    input_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def prompt_tokens(self) -> int:
        return (
            self.input_tokens
            + self.cache_read_tokens
            + self.cache_write_5m_tokens
            + self.cache_write_1h_tokens
        )

    def add(self, values: Iterable[Any]) -> None:
        (r, i, cr, w5, w1, o, re) = (int(v or 0) for v in values)
        self.requests += r
        self.input_tokens += i
        self.cache_read_tokens += cr
        self.cache_write_5m_tokens += w5
        self.cache_write_1h_tokens += w1
        self.output_tokens += o
        self.reasoning_tokens += re


@dataclass
class Cell:
    """The usage of one group on one model and service tier over the period."""

    group: tuple[str | None, ...]
    model: str | None
    provider: str | None
    tier: str
    tokens: Tokens = field(default_factory=Tokens)
    rows: int = 0
    # Requests per UTC hour, from rows shorter than a day only (daily rows carry no hour).
    requests_by_hour: list[int] = field(default_factory=lambda: [0] * 24)


@dataclass(frozen=True)
class Call:
    """One usage row of an agent session: one API call, in time order."""

    session: str
    start: dt.datetime
    model: str | None
    provider: str | None
    tier: str
    tokens: Tokens
    list_cost: Decimal | None
    tool_call: str | None


def _tag_join(keys: list[str], params: list[Any]) -> tuple[str, dict[str, str]]:
    joins, alias = [], {}
    for index, key in enumerate(keys):
        alias[key] = f"t{index}.value"
        joins.append(
            f"LEFT JOIN usage_tags t{index} ON t{index}.usage_id = u.id AND t{index}.key = ?"
        )
        params.append(key)
    return " ".join(joins), alias


def _where_sql(
    since: dt.date,
    until: dt.date,
    where: tuple[tuple[str, str], ...],
    tag_columns: dict[str, str],
    params: list[Any],
) -> str:
    """Usage rows of the days [since, until] whose dimensions and tags (`tag_columns`, from
    `_tag_join`) have the values `where` gives."""
    params += [since.isoformat(), (until + dt.timedelta(days=1)).isoformat()]
    conditions = ["u.period_start >= ? AND u.period_start < ? AND u.charge_kind = 'usage'"]
    for key, value in where:
        conditions.append(f"{_DIMENSION_SQL.get(key) or tag_columns[key]} = ?")
        params.append(value)
    return " AND ".join(conditions)


def usage_cells(
    conn: Connection,
    group_by: tuple[str, ...],
    since: dt.date,
    until: dt.date,
    where: tuple[tuple[str, str], ...] = (),
) -> list[Cell]:
    """Usage per (group, model, provider, service tier), with its requests per hour of day."""
    params: list[Any] = []
    tag_keys = [
        k for k in dict.fromkeys([*group_by, *(k for k, _ in where)]) if k not in _DIMENSION_SQL
    ]
    joins, alias = _tag_join(tag_keys, params)

    def expression(key: str) -> str:
        return _DIMENSION_SQL.get(key) or alias[key]

    groups = [expression(k) for k in group_by] or ["NULL"]
    conditions = _where_sql(since, until, where, alias, params)
    sql = (
        f"SELECT {', '.join(groups)}, COALESCE(u.model, u.model_raw), u.provider, u.service_tier, "
        f"CASE WHEN {_SUB_DAY} THEN CAST(substr(u.period_start, 12, 2) AS INTEGER) END, "
        f"COUNT(*), {_TOKEN_SUMS} FROM usage u {joins} WHERE {conditions} "
        f"GROUP BY {', '.join(str(i + 1) for i in range(len(groups) + 4))}"
    )
    width = len(groups)
    cells: dict[tuple[Any, ...], Cell] = {}
    cursor = conn.cursor()
    cursor.row_factory = None
    for row in cursor.execute(sql, params):
        group = tuple(row[:width]) if group_by else ()
        model, provider, tier, hour, count = row[width : width + 5]
        cell_key = (group, model, provider, tier)
        cell = cells.get(cell_key) or cells.setdefault(cell_key, Cell(group, model, provider, tier))
        cell.rows += count
        cell.tokens.add(row[width + 5 :])
        if hour is not None:
            cell.requests_by_hour[hour] += int(row[width + 5] or 0)
    return list(cells.values())


def session_calls(
    conn: Connection,
    since: dt.date,
    until: dt.date,
    where: tuple[tuple[str, str], ...] = (),
    session_key: str = "session",
) -> Iterator[Call]:
    """Every usage row that carries a session tag, ordered by session and start time."""
    params: list[Any] = [session_key]
    extra_keys = [k for k, _ in where if k not in _DIMENSION_SQL]
    joins, alias = _tag_join(extra_keys, params)
    params.append("tool_call")
    conditions = _where_sql(since, until, where, alias, params)
    sql = (
        "SELECT s.value, u.period_start, COALESCE(u.model, u.model_raw), u.provider, "
        "u.service_tier, u.requests, u.input_tokens, u.cache_read_tokens, "
        "u.cache_write_5m_tokens, u.cache_write_1h_tokens, u.output_tokens, u.reasoning_tokens, "
        "u.list_cost, tc.value FROM usage u "
        "JOIN usage_tags s ON s.usage_id = u.id AND s.key = ? "
        f"{joins} LEFT JOIN usage_tags tc ON tc.usage_id = u.id AND tc.key = ? "
        f"WHERE {conditions} ORDER BY s.value, u.period_start, u.id"
    )
    cursor = conn.cursor()
    cursor.row_factory = None
    for row in cursor.execute(sql, params):
        tokens = Tokens()
        tokens.add(row[5:12])
        yield Call(
            session=row[0],
            start=dt.datetime.fromisoformat(row[1].replace("Z", "+00:00")),
            model=row[2],
            provider=row[3],
            tier=row[4],
            tokens=tokens,
            list_cost=Decimal(row[12]) if row[12] is not None else None,
            tool_call=row[13],
        )


def monthly_list_cost(conn: Connection, until: dt.date) -> dict[tuple[str, str], Decimal]:
    """List cost per (provider, YYYY-MM) up to `until`, exact, for the commitment check."""
    decimal_sum = define_decimal_sum(conn)
    cursor = conn.cursor()
    cursor.row_factory = None
    sql = (
        f"SELECT COALESCE(provider, ''), substr(period_start, 1, 7), {decimal_sum}(list_cost) "
        "FROM usage WHERE period_start < ? AND charge_kind = 'usage' AND list_cost IS NOT NULL "
        "GROUP BY 1, 2"
    )
    end = (until + dt.timedelta(days=1)).isoformat()
    return {(p, month): Decimal(total) for p, month, total in cursor.execute(sql, [end])}


def last_usage_day(conn: Connection) -> dt.date | None:
    row = conn.execute("SELECT MAX(period_start) FROM usage WHERE charge_kind = 'usage'").fetchone()
    return dt.date.fromisoformat(row[0][:10]) if row and row[0] else None
