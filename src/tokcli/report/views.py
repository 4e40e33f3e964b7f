"""Fold fine rows into the report the user asked for: groups, totals, shares, output share,
time series, forecasts, anomalies and shared-cost allocation, as one JSON-ready document."""

from __future__ import annotations

import bisect
import datetime as dt
import decimal
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from tokcli.money import MILLION, MONEY_CONTEXT, ZERO
from tokcli.report import anomalies as anomaly_rules
from tokcli.report.allocation import allocate
from tokcli.report.forecast import DEFAULT_METHOD, Forecast, forecast
from tokcli.report.query import TIME_KEYS, FineRow, Selection
from tokcli.report.totals import Totals

COST_BASES = ("billed", "list")
RATIO_QUANTUM = Decimal("0.0001")
OTHER = "(other)"


@dataclass
class ReportOptions:
    selection: Selection
    today: dt.date
    cost_basis: str = "billed"
    top: int | None = None
    forecast_period: tuple[dt.date, dt.date] | None = None
    anomalies: bool = False
    k: Decimal = anomaly_rules.DEFAULT_K
    wow_percent: Decimal = anomaly_rules.DEFAULT_WOW_PERCENT
    allocate_shared: Decimal | None = None


@dataclass
class Group:
    """One output row while it is being built."""

    key: tuple
    totals: Totals = field(default_factory=Totals)
    output_cost: Decimal = ZERO
    output_priced: bool = True  # every output token of the group had a list price

    def add(self, other: Group) -> None:
        self.totals.add(other.totals)
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


def fold(
    fine_rows: Iterable[FineRow], selection: Selection, pricer: OutputPricer | None
) -> dict[tuple, Group]:
    """Sum fine rows into groups keyed by the --by values, time buckets included."""
    positions = {key: i for i, key in enumerate(selection.attribute_keys)}
    only_attributes = not any(k in TIME_KEYS for k in selection.group_by)
    groups: dict[tuple, Group] = {}
    for fine in fine_rows:
        if only_attributes:  # the common case, without a per-row generator
            key = fine.group
        else:
            key = tuple(
                time_bucket(k, fine.day) if k in TIME_KEYS else fine.group[positions[k]]
                for k in selection.group_by
            )
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(key)
        group.totals.add(fine.totals)
        output_cost = pricer.cost(fine) if pricer else None
        if output_cost is None:
            group.output_priced = False
        else:
            group.output_cost += output_cost
    return groups


def daily_spend(fine_rows: Iterable[FineRow], basis: str) -> dict[tuple, dict[dt.date, Decimal]]:
    """Spend per attribute group (the non-time --by values) per day."""
    series: dict[tuple, dict[dt.date, Decimal]] = {}
    for fine in fine_rows:
        days = series.setdefault(fine.group, {})
        day = dt.date.fromisoformat(fine.day)
        days[day] = days.get(day, ZERO) + fine.totals.spend(basis)
    return series


def build_report(fine_rows: list[FineRow], options: ReportOptions, registry) -> dict:
    with decimal.localcontext(MONEY_CONTEXT):
        return _build(fine_rows, options, registry)


def _build(fine_rows: list[FineRow], options: ReportOptions, registry) -> dict:
    selection, basis = options.selection, options.cost_basis
    pricer = OutputPricer(registry)
    groups = fold(fine_rows, selection, pricer)
    whole = Group(())
    for group in groups.values():
        whole.add(group)
    if len(selection.group_by) == 1 and selection.group_by[0] in TIME_KEYS:
        _fill_time_gaps(groups, selection, fine_rows)
    ordered = _order(groups, selection, basis)
    ordered = _keep_top(ordered, selection, basis, options.top)
    total_spend = whole.totals.spend(basis)
    rows = [_row(g, selection, basis, total_spend) for g in ordered]
    doc = {
        "version": 1,
        "group_by": list(selection.group_by),
        "cost_basis": basis,
        "since": selection.since,
        "until": selection.until,
        "where": {k: v for k, v in selection.where},
        **currency_facts(fine_rows, basis),
        "rows": rows,
        "total": _measures(whole, basis, total_spend),
        "usage_rows_without_cost": {
            "billed_cost": whole.totals.usage_rows - whole.totals.billed_rows,
            "list_cost": whole.totals.usage_rows - whole.totals.list_rows,
        },
    }
    series = daily_spend(fine_rows, basis)
    doc["daily"] = _overall_daily(series, selection, fine_rows)
    if options.forecast_period is not None:
        doc["forecast"] = _forecasts(series, rows, selection, options)
    if options.anomalies:
        doc["anomalies"] = _anomalies(series, selection, options, fine_rows)
    if options.allocate_shared is not None:
        doc["allocation"] = _allocate(rows, options.allocate_shared, selection)
    return doc


def currency_facts(fine_rows: Iterable[FineRow], basis: str) -> dict:
    if basis == "list":
        return {"currency": "USD", "currencies": ["USD"]}
    found = sorted({f.currency for f in fine_rows if f.totals.billed_rows and f.currency})
    return {"currency": found[0] if len(found) == 1 else None, "currencies": found}


def _ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    if not whole:
        return None
    return (part / whole).quantize(RATIO_QUANTUM)


def _measures(group: Group, basis: str, total_spend: Decimal) -> dict:
    totals = group.totals
    measures = totals.as_dict()
    measures["spend"] = totals.spend(basis)
    measures["share"] = _ratio(totals.spend(basis), total_spend)
    priced = group.output_priced and totals.list_rows == totals.usage_rows
    measures["output_cost"] = group.output_cost if priced else None
    measures["output_share"] = _ratio(group.output_cost, totals.list_cost) if priced else None
    return measures


def _row(group: Group, selection: Selection, basis: str, total_spend: Decimal) -> dict:
    keys = dict(zip(selection.group_by, group.key, strict=True))
    return {**keys, **_measures(group, basis, total_spend)}


def _sort_text(value) -> tuple:
    # Untagged (None) and (other) sort after real values.
    return (value is None or value == OTHER, "" if value is None else str(value))


def _order(groups: dict[tuple, Group], selection: Selection, basis: str) -> list[Group]:
    time_positions = [i for i, k in enumerate(selection.group_by) if k in TIME_KEYS]
    attribute_spend: dict[tuple, Decimal] = {}
    for group in groups.values():
        attrs = _attributes(group.key, time_positions)
        attribute_spend[attrs] = attribute_spend.get(attrs, ZERO) + group.totals.spend(basis)

    def sort_key(group: Group):
        attrs = _attributes(group.key, time_positions)
        return (
            tuple(group.key[i] for i in time_positions),  # time series read in time order
            -attribute_spend[attrs],  # then the biggest spenders first
            tuple(_sort_text(v) for v in attrs),
        )

    return sorted(groups.values(), key=sort_key)


def _attributes(key: tuple, time_positions: list[int]) -> tuple:
    return tuple(v for i, v in enumerate(key) if i not in time_positions)


def _keep_top(ordered: list[Group], selection: Selection, basis: str, top: int | None):
    """Keep the `top` biggest attribute groups (untagged always stays visible); fold the rest
    into "(other)" rows so the rows still add up to the total."""
    if top is None or not selection.attribute_keys:
        return ordered
    time_positions = [i for i, k in enumerate(selection.group_by) if k in TIME_KEYS]
    ranking: dict[tuple, Decimal] = {}
    for group in ordered:
        attrs = _attributes(group.key, time_positions)
        ranking[attrs] = ranking.get(attrs, ZERO) + group.totals.spend(basis)
    ranked = sorted(ranking, key=lambda a: (-ranking[a], tuple(_sort_text(v) for v in a)))
    untagged = {a for a in ranked if None in a}
    kept = set([a for a in ranked if a not in untagged][:top]) | untagged
    result: list[Group] = []
    others: dict[tuple, Group] = {}
    for group in ordered:
        if _attributes(group.key, time_positions) in kept:
            result.append(group)
            continue
        other_key = tuple(v if i in time_positions else OTHER for i, v in enumerate(group.key))
        if other_key not in others:
            others[other_key] = Group(other_key)
            result.append(others[other_key])
        others[other_key].add(group)
    return result


def _fill_time_gaps(groups: dict[tuple, Group], selection: Selection, fine_rows) -> None:
    """A time series shows empty days/weeks/months as zero rows, so a chart has no holes."""
    days = _day_span(selection, fine_rows)
    key = selection.group_by[0]
    for day in days:
        bucket = (time_bucket(key, day.isoformat()),)
        if bucket not in groups:
            groups[bucket] = Group(bucket)


def _day_span(selection: Selection, fine_rows) -> list[dt.date]:
    seen = [f.day for f in fine_rows]
    if selection.since is None and not seen:
        return []
    first = selection.since or dt.date.fromisoformat(min(seen))
    last = selection.until or (dt.date.fromisoformat(max(seen)) if seen else first)
    if seen and selection.until is None:
        last = max(last, dt.date.fromisoformat(max(seen)))
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _overall_daily(series: dict[tuple, dict[dt.date, Decimal]], selection, fine_rows) -> list[dict]:
    totals: dict[dt.date, Decimal] = {}
    for days in series.values():
        for day, amount in days.items():
            totals[day] = totals.get(day, ZERO) + amount
    return [{"day": d, "spend": totals.get(d, ZERO)} for d in _day_span(selection, fine_rows)]


def _forecasts(series, rows: list[dict], selection: Selection, options: ReportOptions) -> dict:
    start, end = options.forecast_period  # type: ignore[misc]
    overall: dict[dt.date, Decimal] = {}
    for days in series.values():
        for day, amount in days.items():
            overall[day] = overall.get(day, ZERO) + amount
    by_group = {group: forecast(days, start, end, options.today) for group, days in series.items()}
    for row in rows:
        group = tuple(row[k] for k in selection.attribute_keys)
        result: Forecast | None = by_group.get(group)
        if result is None and group and all(v == OTHER for v in group):
            result = _sum_forecasts(
                [f for g, f in by_group.items() if g not in _shown_groups(rows, selection)],
                start, end, options.today,
            )  # fmt: skip
        result = result or forecast({}, start, end, options.today)
        row["forecast_linear"] = result.linear
        row["forecast_weighted"] = result.weighted
    total = forecast(overall, start, end, options.today)
    return {"method": DEFAULT_METHOD, "methods": ["weighted", "linear"], **total.as_dict()}


def _shown_groups(rows: list[dict], selection: Selection) -> set[tuple]:
    return {tuple(row[k] for k in selection.attribute_keys) for row in rows}


def _sum_forecasts(parts: list[Forecast], start, end, today) -> Forecast:
    if not parts:
        return forecast({}, start, end, today)
    linear = sum((p.linear for p in parts), ZERO)
    weighted = sum((p.weighted for p in parts), ZERO)
    actual = sum((p.actual for p in parts), ZERO)
    first = parts[0]
    return Forecast(start, end, today, actual, first.complete_days, first.days, linear, weighted)


def _anomalies(series, selection: Selection, options: ReportOptions, fine_rows) -> dict:
    days = _day_span(selection, fine_rows)
    found: list[anomaly_rules.Anomaly] = []
    for group in sorted(series, key=lambda g: tuple(_sort_text(v) for v in g)):
        found += anomaly_rules.spikes(group, series[group], days, options.k)
        found += anomaly_rules.week_over_week(group, series[group], days, options.wow_percent)
    keys = selection.attribute_keys
    listed = [
        {
            **dict(zip(keys, a.group, strict=True)),
            "kind": a.kind,
            "period": a.period,
            "spend": a.value,
            "baseline": a.baseline,
            "jump": a.jump,
            "ratio": a.ratio,
        }
        for a in sorted(
            found, key=lambda a: (a.period, a.kind, tuple(_sort_text(v) for v in a.group))
        )
    ]
    return {
        "k": options.k,
        "trailing_days": anomaly_rules.TRAILING_DAYS,
        "week_over_week_percent": options.wow_percent,
        "items": listed,
    }


def _allocate(rows: list[dict], shared: Decimal, selection: Selection) -> dict:
    spend = {index: row["spend"] for index, row in enumerate(rows)}
    parts = allocate(shared, spend)
    untagged = ZERO
    for index, row in enumerate(rows):
        row["shared_cost"] = parts[index]
        row["spend_with_shared"] = row["spend"] + parts[index]
        if any(row.get(k) is None for k in selection.attribute_keys):
            untagged += parts[index]
    return {
        "shared": shared,
        "method": "proportional to spend, to the cent, largest remainder",
        "allocated": sum(parts.values(), ZERO),
        "untagged_share": untagged,
    }


SUMMARY_TOP = 5


def top_groups(totals: dict, key: str, basis: str, limit: int | None) -> list[dict]:
    """The biggest values of one key (untagged always listed last), for the summary."""
    with decimal.localcontext(MONEY_CONTEXT):
        whole = sum((t.spend(basis) for t in totals.values()), ZERO)
        ranked = sorted(
            (v for v in totals if v is not None),
            key=lambda v: (-totals[v].spend(basis), str(v)),
        )[: limit or SUMMARY_TOP]
        if None in totals:
            ranked.append(None)
        return [
            {
                key: v,
                "spend": totals[v].spend(basis),
                "share": _ratio(totals[v].spend(basis), whole),
            }
            for v in ranked
        ]


def summary_facts(total: dict, tiers: list[dict], basis: str) -> dict:
    with decimal.localcontext(MONEY_CONTEXT):
        all_input = total["input_tokens"] + total["cache_read_tokens"] + total["cache_write_tokens"]
        batch = sum((t["spend"] for t in tiers if t.get("tier") == "batch"), ZERO)
        requests = total["requests"]
        return {
            "cache_hit_rate": _ratio(Decimal(total["cache_read_tokens"]), Decimal(all_input)),
            "batch_share": _ratio(batch, total["spend"]),
            "cost_per_request": (total["spend"] / requests).quantize(Decimal("1e-6")).normalize()
            if requests
            else None,
        }
