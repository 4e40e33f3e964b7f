"""The parts of a report made only when asked for: month-end forecasts (--forecast),
anomalies (--anomalies) and shared-cost allocation (--allocate-shared). Kept apart from
tokcli.reporting.views so a plain report does not load them (start-up, issue 17)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from tokcli.errors import OptionError
from tokcli.money import ZERO
from tokcli.reporting.valuation import LIST_CURRENCY
from tokcli.reporting.views import OTHER, ReportOptions, day_span, sort_text

if TYPE_CHECKING:  # each addition imports its own rules when it is asked for
    from tokcli.reporting.forecast import Forecast
    from tokcli.reporting.query import Selection


def forecasts(series, rows: list[dict], selection, options: ReportOptions, currencies) -> dict:
    """Month-end forecasts (--forecast): per row and per currency, weighted and linear."""
    from tokcli.reporting.forecast import DEFAULT_METHOD, forecast

    start, end = options.forecast_period  # type: ignore[misc]
    overall: dict[str, dict[dt.date, Decimal]] = {c: {} for c in currencies}
    for (currency, *_), days in series.items():
        mine = overall.setdefault(currency, {})
        for day, amount in days.items():
            mine[day] = mine.get(day, ZERO) + amount
    by_group = {group: forecast(days, start, end, options.today) for group, days in series.items()}
    shown = {(row["currency"], *(row[k] for k in selection.attribute_keys)) for row in rows}
    for row in rows:
        group = (row["currency"], *(row[k] for k in selection.attribute_keys))
        result: Forecast | None = by_group.get(group)
        if result is None and len(group) > 1 and all(v == OTHER for v in group[1:]):
            result = _sum_forecasts(
                [f for g, f in by_group.items() if g[0] == group[0] and g not in shown],
                start, end, options.today,
            )  # fmt: skip
        result = result or forecast({}, start, end, options.today)
        row["forecast_linear"] = result.linear
        row["forecast_weighted"] = result.weighted
    per_currency = []
    for currency in currencies:
        total = forecast(overall[currency], start, end, options.today)
        per_currency.append({"currency": currency, **total.as_dict()})
    doc: dict[str, object] = {"method": DEFAULT_METHOD, "methods": ["weighted", "linear"]}
    if len(per_currency) == 1:
        doc.update(per_currency[0])
    doc["by_currency"] = per_currency
    return doc


def _sum_forecasts(parts: list[Forecast], start, end, today) -> Forecast:
    from tokcli.reporting.forecast import Forecast, forecast

    if not parts:
        return forecast({}, start, end, today)
    linear = sum((p.linear for p in parts), ZERO)
    weighted = sum((p.weighted for p in parts), ZERO)
    actual = sum((p.actual for p in parts), ZERO)
    first = parts[0]
    return Forecast(start, end, today, actual, first.complete_days, first.days, linear, weighted)


def anomalies(series, selection: Selection, options: ReportOptions, fine_rows) -> dict:
    """Spikes and week-over-week jumps in each group's daily spend (--anomalies)."""
    from tokcli.reporting import anomalies as anomaly_rules

    days = day_span(selection, fine_rows)
    found: list[anomaly_rules.Anomaly] = []
    for group in sorted(series, key=lambda g: (g[0], tuple(sort_text(v) for v in g[1:]))):
        found += anomaly_rules.spikes(group, series[group], days, options.k)
        found += anomaly_rules.week_over_week(group, series[group], days, options.wow_percent)
    keys = selection.attribute_keys
    listed = [
        {
            **dict(zip(keys, a.group[1:], strict=True)),
            "currency": a.group[0],
            "kind": a.kind,
            "period": a.period,
            "spend": a.value,
            "baseline": a.baseline,
            "jump": a.jump,
            "ratio": a.ratio,
        }
        for a in sorted(
            found,
            key=lambda a: (a.period, a.kind, a.group[0], tuple(sort_text(v) for v in a.group[1:])),
        )
    ]
    return {
        "k": options.k,
        "trailing_days": anomaly_rules.TRAILING_DAYS,
        "week_over_week_percent": options.wow_percent,
        "items": listed,
    }


def allocation(rows: list[dict], shared: tuple[Decimal, str | None], selection) -> dict:
    """Spread the shared cost (--allocate-shared) over the rows of its own currency (named, or
    the only one)."""
    from tokcli.reporting.allocation import allocate

    amount, currency = shared
    currencies = sorted({row["currency"] for row in rows})
    if currency is None:
        if len(currencies) > 1:
            raise OptionError(
                "{allocate_shared}: spend is in several currencies ({currencies}); name the "
                "shared cost's currency (e.g. {amount} {currency}) or convert with {fx}",
                currencies=", ".join(currencies),
                amount=amount,
                currency=currencies[0],
            )
        currency = currencies[0] if currencies else LIST_CURRENCY
    mine = [index for index, row in enumerate(rows) if row["currency"] == currency]
    if not mine:
        raise OptionError(
            "{allocate_shared}: no spend in {currency} to allocate over (spend is in {spent})",
            currency=currency,
            spent=", ".join(currencies) or "no currency",
        )
    parts = allocate(amount, {index: rows[index]["spend"] for index in mine})
    untagged = ZERO
    for index in mine:
        row = rows[index]
        row["shared_cost"] = parts[index]
        row["spend_with_shared"] = row["spend"] + parts[index]
        if any(row.get(k) is None for k in selection.attribute_keys):
            untagged += parts[index]
    return {
        "shared": amount,
        "currency": currency,
        "method": "proportional to spend, to the cent, largest remainder",
        "allocated": sum(parts.values(), ZERO),
        "untagged_share": untagged,
    }
