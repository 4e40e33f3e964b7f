"""Fold fine rows into the report the user asked for: groups, totals, shares, output share
and time series, as one JSON-ready document (forecasts, anomalies and shared-cost allocation,
made only when asked for, are in tokcli.reporting.additions).

Money is never added across currencies: every group, total, share, forecast, anomaly baseline
and allocation is per currency (the currency is the first part of every group key), unless the
user gave exchange rates, which convert every amount into one target currency first."""

from __future__ import annotations

import bisect
import datetime as dt
import decimal
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from tokcli.frozen import Record
from tokcli.money import MILLION, MONEY_CONTEXT, ZERO
from tokcli.reporting.query import TIME_KEYS, FineRow, Selection
from tokcli.reporting.totals import Totals
from tokcli.reporting.valuation import LIST_CURRENCY, Fx, Part, basis_label, value

COST_BASES = ("auto", "billed", "list")
RATIO_QUANTUM = Decimal("0.0001")
OTHER = "(other)"
DEFAULT_K = Decimal(3)  # --k: a spike is a day above k times its trailing 7-day mean
DEFAULT_WOW_PERCENT = Decimal(50)  # --wow: week-over-week growth that is an anomaly


# As @dataclass(), with __init__ written out: see tokcli.frozen (start-up).
@dataclass(init=False, repr=False, eq=False)
class ReportOptions(Record):
    """What the report is asked for: the selection, cost basis, currency rates and extras."""

    selection: Selection
    today: dt.date
    cost_basis: str = "auto"
    fx: Fx | None = None
    top: int | None = None
    forecast_period: tuple[dt.date, dt.date] | None = None
    anomalies: bool = False
    k: Decimal = DEFAULT_K
    wow_percent: Decimal = DEFAULT_WOW_PERCENT
    allocate_shared: tuple[Decimal, str | None] | None = None  # amount, currency if named

    def __init__(
        self,
        selection: Selection,
        today: dt.date,
        cost_basis: str = "auto",
        fx: Fx | None = None,
        top: int | None = None,
        forecast_period: tuple[dt.date, dt.date] | None = None,
        anomalies: bool = False,
        k: Decimal = DEFAULT_K,
        wow_percent: Decimal = DEFAULT_WOW_PERCENT,
        allocate_shared: tuple[Decimal, str | None] | None = None,
    ) -> None:
        self.selection, self.today, self.cost_basis, self.fx = selection, today, cost_basis, fx
        self.top, self.forecast_period, self.anomalies = top, forecast_period, anomalies
        self.k, self.wow_percent, self.allocate_shared = k, wow_percent, allocate_shared


# As @dataclass(), with __init__ written out: see tokcli.frozen (start-up).
@dataclass(init=False, repr=False, eq=False)
class Group(Record):
    """One output row while it is being built: key = (currency, *values of --by)."""

    key: tuple
    totals: Totals = field(default_factory=Totals)
    spend: Decimal = ZERO
    bases: set[str] = field(default_factory=set)
    billed: Decimal = ZERO  # billed cost in the group's currency
    billed_rows: int = 0
    listed: Decimal = ZERO  # list cost in the group's currency (USD, or converted)
    list_rows: int = 0
    output_cost: Decimal = ZERO
    output_priced: bool = True  # every output token of the group had a list price here

    def __init__(
        self,
        key: tuple,
        totals: Totals | None = None,
        spend: Decimal = ZERO,
        bases: set[str] | None = None,
        billed: Decimal = ZERO,
        billed_rows: int = 0,
        listed: Decimal = ZERO,
        list_rows: int = 0,
        output_cost: Decimal = ZERO,
        output_priced: bool = True,
    ) -> None:
        self.key, self.spend = key, spend
        self.totals = Totals() if totals is None else totals
        self.bases = set() if bases is None else bases
        self.billed, self.billed_rows, self.listed, self.list_rows = (
            billed, billed_rows, listed, list_rows,
        )  # fmt: skip
        self.output_cost, self.output_priced = output_cost, output_priced

    @property
    def currency(self) -> str:
        return self.key[0]

    def add_part(self, part: Part, output_cost: Decimal | None) -> None:
        self.spend += part.spend
        self.bases |= part.bases
        if part.billed is not None and part.billed[0] == self.currency:
            self.billed += part.billed[1]
            self.billed_rows += part.billed[2]
        listed_here = part.listed is not None and part.listed[0] == self.currency
        if listed_here:
            self.listed += part.listed[1]  # type: ignore[index]
            self.list_rows += part.listed[2]  # type: ignore[index]
        if part.totals is not None:
            self.totals.add(part.totals)
            has_output = part.totals.output_tokens or part.totals.reasoning_tokens
            if output_cost is None or (has_output and not listed_here):
                self.output_priced = False
            elif listed_here:
                self.output_cost += output_cost * part.list_rate

    def add(self, other: Group) -> None:
        self.totals.add(other.totals)
        self.spend += other.spend
        self.bases |= other.bases
        self.billed += other.billed
        self.billed_rows += other.billed_rows
        self.listed += other.listed
        self.list_rows += other.list_rows
        self.output_cost += other.output_cost
        self.output_priced = self.output_priced and other.output_priced


def time_bucket(key: str, day: str) -> str:
    if key == "day":
        return day
    if key == "month":
        return day[:7]
    year, week, _ = dt.date.fromisoformat(day).isocalendar()
    return f"{year}-W{week:02d}"


class OutputPricer:
    """List cost of output and reasoning tokens per fine row, from the registry.

    Prices depend only on (model, tier, price entry in force), so they are resolved once per
    entry, not once per day: a year-long report has thousands of (model, day) cells."""

    def __init__(self, registry):
        self.registry = registry
        self.models: dict[str, object] = {}
        self.starts: dict[str, list[dt.datetime]] = {}
        self.prices: dict[tuple, tuple[Decimal, Decimal] | None] = {}

    def cost(self, fine: FineRow) -> Decimal | None:
        tokens = fine.totals.output_tokens + fine.totals.reasoning_tokens
        if tokens == 0:
            return ZERO
        prices = self._prices(fine.model, fine.day, fine.tier)
        if prices is None:
            return None
        output_price, reasoning_price = prices
        return (
            fine.totals.output_tokens * output_price
            + fine.totals.reasoning_tokens * reasoning_price
        ) / MILLION

    def _model(self, name: str | None):
        if name is None or self.registry is None:
            return None
        if name not in self.models:
            model = self.registry.find(name)
            self.models[name] = model
            if model is not None:
                self.starts[name] = [entry.effective_from for entry in model.prices]
        return self.models[name]

    def _prices(self, name: str | None, day: str, tier: str):
        model = self._model(name)
        if model is None:
            return None
        moment = dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)
        entry_index = bisect.bisect_right(self.starts[name], moment)  # type: ignore[index]
        key = (name, tier, entry_index)
        if key not in self.prices:
            self.prices[key] = self._lookup(model, moment.date(), tier)
        return self.prices[key]

    @staticmethod
    def _lookup(model, day: dt.date, tier: str):
        from tokcli.cost import resolved_prices
        from tokcli.errors import TokcliError

        try:
            prices = resolved_prices(model, day, tier).prices  # a date: list (peak) prices
        except (TokcliError, ValueError):
            return None
        return prices["output"], prices["reasoning"]


# As @dataclass(), with __init__ written out: see tokcli.frozen (start-up).
@dataclass(init=False, repr=False, eq=False)
class Valued(Record):
    """A fine row's part in one currency."""

    fine: FineRow
    part: Part

    def __init__(self, fine: FineRow, part: Part) -> None:
        self.fine, self.part = fine, part

    @property
    def currency(self) -> str:
        return self.part.currency  # type: ignore[return-value]


def valued_rows(fine_rows: Iterable[FineRow], basis: str, fx: Fx | None) -> list[Valued]:
    """Every fine row's parts, with the parts that carry no money placed in the report's home
    currency (the one currency spent, the --fx target, else USD)."""
    result = [Valued(f, part) for f in fine_rows for part in value(f.totals, f.currency, basis, fx)]
    spent = {v.part.currency for v in result if v.part.currency is not None}
    home = fx.target if fx else (next(iter(spent)) if len(spent) == 1 else LIST_CURRENCY)
    for item in result:
        if item.part.currency is None:
            item.part.currency = home
    return result


def fold(
    valued: Iterable[Valued], selection: Selection, pricer: OutputPricer | None
) -> dict[tuple, Group]:
    """Sum valued rows into groups keyed by (currency, --by values), time buckets included."""
    positions = {key: i for i, key in enumerate(selection.attribute_keys)}
    only_attributes = not any(k in TIME_KEYS for k in selection.group_by)
    groups: dict[tuple, Group] = {}
    for item in valued:
        fine = item.fine
        if only_attributes:  # the common case, without a per-row generator
            key = (item.currency, *fine.group)
        else:
            key = (
                item.currency,
                *(
                    time_bucket(k, fine.day) if k in TIME_KEYS else fine.group[positions[k]]
                    for k in selection.group_by
                ),
            )
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(key)
        output_cost = pricer.cost(fine) if pricer and item.part.totals is not None else None
        group.add_part(item.part, output_cost)
    return groups


def daily_spend(valued: Iterable[Valued]) -> dict[tuple, dict[dt.date, Decimal]]:
    """Spend per (currency, attribute group) per day."""
    series: dict[tuple, dict[dt.date, Decimal]] = {}
    for item in valued:
        days = series.setdefault((item.currency, *item.fine.group), {})
        day = dt.date.fromisoformat(item.fine.day)
        days[day] = days.get(day, ZERO) + item.part.spend
    return series


def stacked_series(fine_rows: list[FineRow], options: ReportOptions, limit: int) -> list[dict]:
    """Spend per (currency, value of one key, day): the `limit` biggest values of each
    currency, the rest summed as "(other)". `fine_rows` are grouped by that one key."""
    with decimal.localcontext(MONEY_CONTEXT):
        valued = valued_rows(fine_rows, options.cost_basis, options.fx)
        series = daily_spend(valued)
        spend: dict[tuple, Decimal] = {}
        for group, days in series.items():
            spend[group] = sum(days.values(), ZERO)
        kept = set()
        for currency in {g[0] for g in series}:
            mine = sorted(
                (g for g in series if g[0] == currency),
                key=lambda g: (-spend[g], tuple(sort_text(v) for v in g[1:])),
            )
            kept |= set(mine[:limit])  # fmt: skip
        points: dict[tuple, Decimal] = {}
        for group, days in series.items():
            name = group[1] if group in kept else OTHER
            for day, amount in days.items():
                key = (group[0], name, day)
                points[key] = points.get(key, ZERO) + amount
        return [
            {"currency": c, "group": g, "day": d, "spend": a}
            for (c, g, d), a in sorted(points.items(), key=lambda i: (i[0][0], i[0][2]))
        ]


def build_report(fine_rows: list[FineRow], options: ReportOptions, registry) -> dict:
    with decimal.localcontext(MONEY_CONTEXT):
        return _build(fine_rows, options, registry)


def _build(fine_rows: list[FineRow], options: ReportOptions, registry) -> dict:
    selection, basis = options.selection, options.cost_basis
    valued = valued_rows(fine_rows, basis, options.fx)
    groups = fold(valued, selection, OutputPricer(registry))
    wholes: dict[str, Group] = {}
    for group in groups.values():
        wholes.setdefault(group.currency, Group((group.currency,))).add(group)
    if not wholes:
        home = options.fx.target if options.fx else LIST_CURRENCY
        wholes[home] = Group((home,))
    currencies = sorted(wholes)
    if len(selection.group_by) == 1 and selection.group_by[0] in TIME_KEYS:
        _fill_time_gaps(groups, selection, fine_rows, currencies)
    rows = []
    for currency in currencies:
        mine = {k: g for k, g in groups.items() if k[0] == currency}
        ordered = _keep_top(_order(mine, selection), selection, options.top)
        rows += [_row(g, selection, wholes[currency].spend) for g in ordered]
    totals = [_total(wholes[c]) for c in currencies]
    all_totals = Totals()
    for group in wholes.values():
        all_totals.add(group.totals)
    doc = {
        "version": 1,
        "group_by": list(selection.group_by),
        "cost_basis": basis,
        "since": selection.since,
        "until": selection.until,
        "where": {k: v for k, v in selection.where},
        "currency": currencies[0] if len(currencies) == 1 else None,
        "currencies": currencies,
        "fx": options.fx.as_dict() if options.fx else None,
        "rows": rows,
        "total": totals[0] if len(totals) == 1 else None,
        "totals": totals,
        "usage_rows": all_totals.usage_rows,
        "billed_rows_without_currency": sum(
            f.totals.billed_rows for f in fine_rows if f.currency is None
        ),
        "usage_rows_without_cost": {
            "billed_cost": all_totals.usage_rows - all_totals.billed_rows,
            "list_cost": all_totals.usage_rows - all_totals.list_rows,
        },
    }
    series = daily_spend(valued)
    doc["daily"] = _overall_daily(series, selection, fine_rows, currencies)
    if options.forecast_period is not None:
        from tokcli.reporting.additions import forecasts

        doc["forecast"] = forecasts(series, rows, selection, options, currencies)
    if options.anomalies:
        from tokcli.reporting.additions import anomalies

        doc["anomalies"] = anomalies(series, selection, options, fine_rows)
    if options.allocate_shared is not None:
        from tokcli.reporting.additions import allocation

        doc["allocation"] = allocation(rows, options.allocate_shared, selection)
    return doc


def _ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    if not whole:
        return None
    return (part / whole).quantize(RATIO_QUANTUM)


def _measures(group: Group, currency_total: Decimal) -> dict:
    """The measures of a group; every money figure is in `currency`. An empty time bucket is
    zero; a cost that no row of a non-empty group carries (in this currency) is null."""
    totals = group.totals
    empty = totals.usage_rows == 0 and not group.billed_rows and not group.list_rows
    measures = {
        "currency": group.currency,
        "basis": basis_label(group.bases),
        "billed_cost": group.billed if group.billed_rows or empty else None,
        "list_cost": group.listed if group.list_rows or empty else None,
        **{name: value for name, value in totals.as_dict().items() if not name.endswith("cost")},
        "spend": group.spend,
        "share": _ratio(group.spend, currency_total),
    }
    priced = group.output_priced and group.list_rows == totals.usage_rows and not empty
    measures["output_cost"] = group.output_cost if priced else None
    measures["output_share"] = _ratio(group.output_cost, group.listed) if priced else None
    return measures


def _total(whole: Group) -> dict:
    return _measures(whole, whole.spend)


def _row(group: Group, selection: Selection, currency_total: Decimal) -> dict:
    keys = dict(zip(selection.group_by, group.key[1:], strict=True))
    return {**keys, **_measures(group, currency_total)}


def sort_text(value) -> tuple:
    # Untagged (None) and (other) sort after real values.
    return (value is None or value == OTHER, "" if value is None else str(value))


def _time_positions(selection: Selection) -> list[int]:
    """Positions of the time keys in a group key (after the currency)."""
    return [i + 1 for i, k in enumerate(selection.group_by) if k in TIME_KEYS]


def _order(groups: dict[tuple, Group], selection: Selection) -> list[Group]:
    time_positions = _time_positions(selection)
    attribute_spend: dict[tuple, Decimal] = {}
    for group in groups.values():
        attrs = _attributes(group.key, time_positions)
        attribute_spend[attrs] = attribute_spend.get(attrs, ZERO) + group.spend

    def sort_key(group: Group):
        attrs = _attributes(group.key, time_positions)
        return (
            tuple(group.key[i] for i in time_positions),  # time series read in time order
            -attribute_spend[attrs],  # then the biggest spenders first
            tuple(sort_text(v) for v in attrs[1:]),
        )

    return sorted(groups.values(), key=sort_key)


def _attributes(key: tuple, time_positions: list[int]) -> tuple:
    """The currency and the non-time values of a group key."""
    return tuple(v for i, v in enumerate(key) if i not in time_positions)


def _keep_top(ordered: list[Group], selection: Selection, top: int | None):
    """Keep the `top` biggest attribute groups of one currency, untagged ones ranked like any
    other; fold the rest into one "(other)" row (per time bucket) so the rows still add up to
    the total."""
    if top is None or not selection.attribute_keys:
        return ordered
    time_positions = _time_positions(selection)
    ranking: dict[tuple, Decimal] = {}
    for group in ordered:
        attrs = _attributes(group.key, time_positions)
        ranking[attrs] = ranking.get(attrs, ZERO) + group.spend
    ranked = sorted(ranking, key=lambda a: (-ranking[a], tuple(sort_text(v) for v in a[1:])))
    if len(ranked) <= top:
        return ordered
    kept = set(ranked[:top])
    result: list[Group] = []
    others: dict[tuple, Group] = {}
    for group in ordered:
        if _attributes(group.key, time_positions) in kept:
            result.append(group)
            continue
        other_key = tuple(
            v if i == 0 or i in time_positions else OTHER for i, v in enumerate(group.key)
        )
        if other_key not in others:
            others[other_key] = Group(other_key)
        others[other_key].add(group)
    if not time_positions:
        return result + list(others.values())
    # a time series: each bucket's (other) row follows that bucket's kept rows
    merged = result + list(others.values())
    return sorted(merged, key=lambda g: (
        tuple(g.key[i] for i in time_positions),
        _attributes(g.key, time_positions) not in kept,
        -ranking.get(_attributes(g.key, time_positions), ZERO),
        tuple(sort_text(v) for v in _attributes(g.key, time_positions)[1:]),
    ))  # fmt: skip


def _fill_time_gaps(groups: dict[tuple, Group], selection: Selection, fine_rows, currencies):
    """A time series shows empty days/weeks/months as zero rows, so a chart has no holes."""
    days = day_span(selection, fine_rows)
    key = selection.group_by[0]
    for currency in currencies:
        for day in days:
            bucket = (currency, time_bucket(key, day.isoformat()))
            if bucket not in groups:
                groups[bucket] = Group(bucket)


def day_span(selection: Selection, fine_rows) -> list[dt.date]:
    seen = [f.day for f in fine_rows]
    if selection.since is None and not seen:
        return []
    first = selection.since or dt.date.fromisoformat(min(seen))
    last = selection.until or (dt.date.fromisoformat(max(seen)) if seen else first)
    if seen and selection.until is None:
        last = max(last, dt.date.fromisoformat(max(seen)))
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _overall_daily(series, selection, fine_rows, currencies: list[str]) -> list[dict]:
    """Spend per day and currency, every day of the range (zero when nothing was spent)."""
    totals: dict[tuple[str, dt.date], Decimal] = {}
    for (currency, *_), days in series.items():
        for day, amount in days.items():
            totals[(currency, day)] = totals.get((currency, day), ZERO) + amount
    return [
        {"day": d, "currency": c, "spend": totals.get((c, d), ZERO)}
        for c in currencies
        for d in day_span(selection, fine_rows)
    ]


SUMMARY_TOP = 5


def top_groups(
    totals: dict, key: str, basis: str, limit: int | None, fx: Fx | None, home: str
) -> dict[str, list[dict]]:
    """The biggest values of one key per currency (untagged always listed last), for the
    summary. `totals` maps (value, stored currency) to Totals."""
    with decimal.localcontext(MONEY_CONTEXT):
        spend: dict[str, dict] = {}
        for (name, stored), sums in totals.items():
            for part in value(sums, stored, basis, fx):
                currency = part.currency or home
                mine = spend.setdefault(currency, {})
                mine[name] = mine.get(name, ZERO) + part.spend
        result = {}
        for currency, amounts in sorted(spend.items()):
            whole = sum(amounts.values(), ZERO)
            ranked = sorted(
                (v for v in amounts if v is not None), key=lambda v: (-amounts[v], str(v))
            )[: limit or SUMMARY_TOP]
            if None in amounts:
                ranked.append(None)
            result[currency] = [
                {key: v, "currency": currency, "spend": amounts[v],
                 "share": _ratio(amounts[v], whole)}
                for v in ranked
            ]  # fmt: skip
        return result


def summary_facts(total: dict, tiers: dict[str, list[dict]]) -> dict:
    """Cache hit rate (tokens) and, per currency, batch share and cost per request."""
    with decimal.localcontext(MONEY_CONTEXT):
        all_input = total["input_tokens"] + total["cache_read_tokens"] + total["cache_write_tokens"]
        batch = sum(
            (t["spend"] for t in tiers.get(total["currency"], []) if t.get("tier") == "batch"),
            ZERO,
        )
        requests = total["requests"]
        return {
            "cache_hit_rate": _ratio(Decimal(total["cache_read_tokens"]), Decimal(all_input)),
            "batch_share": _ratio(batch, total["spend"]),
            "cost_per_request": (total["spend"] / requests).quantize(Decimal("1e-6")).normalize()
            if requests
            else None,
        }
