"""Budgets from the config (`[[budgets]]`), and their state for the period containing today.

    [[budgets]]
    name = "search"                 # optional; default: the scope
    scope = { team = "search" }     # tag or dimension filters, ANDed; omit (or "org") for all
    amount = "5000"
    currency = "USD"                # the amount's currency (default USD)
    period = "month"                # day | week | month | quarter | year
    alerts = [50, 75, 90, 100]      # percent thresholds
    cost = "auto"                   # auto (billed, else list) | billed | list
    fx = { EUR = "1.08" }           # optional: 1 EUR = 1.08 of the budget's currency

Spend in another currency than the budget's is converted only with a rate the budget gives;
without one the check is an error that names both currencies, never a silent sum.

State: "over" when spend > amount; "alert" when spend reached an alert threshold; else "ok".
Forecast state: "over" when the period-end forecast (weighted method) exceeds the amount.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tokcli.errors import InputError, TokcliError
from tokcli.money import MONEY_CONTEXT, to_decimal
from tokcli.render import Column, Output
from tokcli.reporting.forecast import DEFAULT_METHOD, Forecast, forecast, month_bounds
from tokcli.reporting.query import TIME_KEYS, FineRow, Selection, validate_key
from tokcli.reporting.valuation import BASES, Fx, currency_code, money_text, value
from tokcli.store.connection import Connection

PERIODS = ("day", "week", "month", "quarter", "year")
DEFAULT_ALERTS = (Decimal(50), Decimal(75), Decimal(90), Decimal(100))
# The keys a [[budgets]] table may carry; config_schema declares them from this one list.
BUDGET_FIELDS = frozenset({"name", "scope", "amount", "currency", "period", "alerts", "cost", "fx"})


@dataclass(frozen=True)
class Budget:
    name: str
    scope: tuple[tuple[str, str], ...]  # () = the whole org
    amount: Decimal
    period: str = "month"
    alerts: tuple[Decimal, ...] = DEFAULT_ALERTS
    cost_basis: str = "auto"
    currency: str = "USD"
    fx: Fx | None = None


@dataclass(frozen=True)
class BudgetStatus:
    budget: Budget
    period_start: dt.date
    period_end: dt.date
    spend: Decimal
    forecast: Forecast
    percent: Decimal
    alerts_reached: tuple[Decimal, ...]
    state: str  # ok | alert | over
    forecast_state: str  # ok | over

    def as_dict(self) -> dict[str, Any]:
        budget = self.budget
        return {
            "name": budget.name,
            "scope": dict(budget.scope) or "org",
            "period": budget.period,
            "period_start": self.period_start,
            "period_end": self.period_end,
            "cost_basis": budget.cost_basis,
            "currency": budget.currency,
            "fx": budget.fx.as_dict() if budget.fx else None,
            "amount": budget.amount,
            "spend": self.spend,
            "percent": self.percent,
            "alerts": list(budget.alerts),
            "alerts_reached": list(self.alerts_reached),
            "state": self.state,
            "forecast": self.forecast.value(DEFAULT_METHOD),
            "forecast_method": DEFAULT_METHOD,
            "forecast_linear": self.forecast.linear,
            "forecast_percent": _percent(self.forecast.value(DEFAULT_METHOD), budget.amount),
            "forecast_state": self.forecast_state,
        }


class NoBudgetsError(TokcliError):
    """A budget check with no budget to check."""


def configured_budgets(entries: object) -> list[Budget]:
    """`parse_budgets` for a check: no budget at all is an error, not a silent pass."""
    budgets = parse_budgets(entries)
    if not budgets:
        raise NoBudgetsError(
            "no budgets configured: add [[budgets]] tables to tokcli.toml "
            '(e.g. scope = { team = "search" }, amount = "5000", period = "month")'
        )
    return budgets


def failing(statuses: list[BudgetStatus], *, forecast: bool = False) -> list[BudgetStatus]:
    """The budgets over their amount (with `forecast`: or forecast to be by the period's end)."""
    return [s for s in statuses if s.state == "over" or (forecast and s.forecast_state == "over")]


def failure_message(failed: list[BudgetStatus]) -> str:
    """One line naming each failing budget and how much of it is used."""
    reasons = [
        f"{s.budget.name} ({'over' if s.state == 'over' else 'forecast over'}: {s.percent}% used)"
        for s in failed
    ]
    return f"budget check failed: {', '.join(reasons)}"


def parse_budgets(entries: object) -> list[Budget]:
    """Validate the config's `budgets` array; errors name the entry and field."""
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise InputError("must be an array of tables ([[budgets]])", field="config: budgets")
    budgets = [_parse_one(entry, index) for index, entry in enumerate(entries, start=1)]
    names = [b.name for b in budgets]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InputError(f"two budgets are named {duplicates[0]!r}", field="config: budgets")
    return budgets


def _parse_one(entry: object, index: int) -> Budget:
    where = f"config: budgets[{index}]"
    if not isinstance(entry, dict):
        raise InputError("must be a table", field=where)
    unknown = sorted(set(entry) - BUDGET_FIELDS)
    if unknown:
        raise InputError(
            f"unknown field {unknown[0]!r}; expected {', '.join(sorted(BUDGET_FIELDS))}",
            field=where,
        )
    scope = _scope(entry.get("scope"), f"{where}.scope")
    amount = _amount(entry.get("amount"), f"{where}.amount")
    period = entry.get("period", "month")
    if period not in PERIODS:
        raise InputError(f"expected one of {', '.join(PERIODS)}, got {period!r}",
                         field=f"{where}.period")  # fmt: skip
    cost = entry.get("cost", "auto")
    if cost not in BASES:
        raise InputError(f"expected auto, billed or list, got {cost!r}", field=f"{where}.cost")
    currency = _currency(entry.get("currency", "USD"), f"{where}.currency")
    fx = _fx(entry.get("fx"), currency, f"{where}.fx")
    alerts = _alerts(entry.get("alerts", list(DEFAULT_ALERTS)), f"{where}.alerts")
    name = entry.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise InputError("must be a non-empty string", field=f"{where}.name")
    default_name = ",".join(f"{k}={v}" for k, v in scope) or "org"
    return Budget(name or default_name, scope, amount, period, alerts, cost, currency, fx)


def _currency(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise InputError('expected a currency code such as "USD"', field=field)
    try:
        return currency_code(value, where=field)
    except TokcliError as exc:
        raise InputError(str(exc)) from None


def _fx(value: object, currency: str, field: str) -> Fx | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not value:
        raise InputError(f'expected a table such as {{ EUR = "1.08" }} ({currency} per unit)',
                         field=field)  # fmt: skip
    rates = {}
    for code, rate in value.items():
        rates[_currency(code, field)] = _amount(rate, f"{field}.{code}")
    rates.pop(currency, None)
    return Fx(currency, rates, field)


def _scope(value: object, field: str) -> tuple[tuple[str, str], ...]:
    if value is None or value in ("org", "all"):
        return ()
    if not isinstance(value, dict) or not value:
        raise InputError('expected a table such as { team = "search" }, or "org"', field=field)
    pairs = []
    for key, item in value.items():
        if key in TIME_KEYS:
            raise InputError(f"{key!r} cannot scope a budget", field=field)
        try:
            validate_key(key, option=field)
        except TokcliError as exc:
            raise InputError(str(exc)) from None
        if not isinstance(item, str | int) or isinstance(item, bool):
            raise InputError(f"{key}: expected a string value, got {item!r}", field=field)
        pairs.append((key, str(item)))
    return tuple(pairs)


def _amount(value: object, field: str) -> Decimal:
    if value is None:
        raise InputError("is required", field=field)
    if isinstance(value, float):
        value = repr(value)  # TOML floats are decimal literals; repr gives back what was typed
    try:
        amount = to_decimal(value, field=field)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if amount <= 0:
        raise InputError(f"must be greater than 0, got {value}", field=field)
    return amount


def _alerts(value: object, field: str) -> tuple[Decimal, ...]:
    if not isinstance(value, list) or not value:
        raise InputError("expected a list of percentages such as [50, 75, 90, 100]", field=field)
    alerts = []
    for item in value:
        percent = _amount(item, field)
        alerts.append(percent)
    return tuple(sorted(set(alerts)))


def period_bounds(period: str, today: dt.date) -> tuple[dt.date, dt.date]:
    if period == "day":
        return today, today
    if period == "week":
        monday = today - dt.timedelta(days=today.weekday())
        return monday, monday + dt.timedelta(days=6)
    if period == "month":
        return month_bounds(today)
    if period == "quarter":
        first_month = 3 * ((today.month - 1) // 3) + 1
        start = today.replace(month=first_month, day=1)
        return start, month_bounds(start.replace(month=first_month + 2))[1]
    return today.replace(month=1, day=1), today.replace(month=12, day=31)


FetchRows = Callable[[Selection], list[FineRow]]


def evaluate(budgets: list[Budget], today: dt.date, fetch_rows: FetchRows) -> list[BudgetStatus]:
    with decimal.localcontext(MONEY_CONTEXT):
        return [_evaluate_one(budget, today, fetch_rows) for budget in budgets]


def _evaluate_one(budget: Budget, today: dt.date, fetch_rows: FetchRows) -> BudgetStatus:
    start, end = period_bounds(budget.period, today)
    rows = fetch_rows(Selection((), start, end, budget.scope))
    daily: dict[dt.date, Decimal] = {}
    foreign: dict[str, Decimal] = {}
    for row in rows:
        day = dt.date.fromisoformat(row.day)
        for part in _parts(budget, row):
            if part.currency is None:  # no cost under the budget's basis
                continue
            if part.currency != budget.currency:
                foreign[part.currency] = foreign.get(part.currency, Decimal(0)) + part.spend
                continue
            daily[day] = daily.get(day, Decimal(0)) + part.spend
    if foreign:
        spent = ", ".join(money_text(a, c) for c, a in sorted(foreign.items()))
        codes = sorted(foreign)
        raise TokcliError(
            f"budget {budget.name!r} is in {budget.currency} but its scope has spend in "
            f"{', '.join(codes)} ({spent}) from {start} to {end}; give the budget a rate "
            f'(fx = {{ {codes[0]} = "<{budget.currency} per {codes[0]}>" }}) or a currency '
            f'(currency = "{codes[0]}"); currencies are never added without a rate'
        )
    outlook = forecast(daily, start, end, today)
    spend = outlook.actual
    percent = _percent(spend, budget.amount)
    reached = tuple(a for a in budget.alerts if percent >= a)
    state = "over" if spend > budget.amount else ("alert" if reached else "ok")
    forecast_state = "over" if outlook.value(DEFAULT_METHOD) > budget.amount else "ok"
    return BudgetStatus(budget, start, end, spend, outlook, percent, reached, state, forecast_state)


def _parts(budget: Budget, row: FineRow):
    if budget.fx is None:
        return value(row.totals, row.currency, budget.cost_basis, None)
    try:
        return value(row.totals, row.currency, budget.cost_basis, budget.fx)
    except TokcliError:  # a currency the budget has no rate for: keep it apart, named below
        return value(row.totals, row.currency, budget.cost_basis, None)


def _percent(spend: Decimal, amount: Decimal) -> Decimal:
    return (spend * 100 / amount).quantize(Decimal("0.01"))


def fetcher(conn: Connection, use_rollups: bool = True) -> FetchRows:
    from tokcli.reporting.query import fetch

    return lambda selection: fetch(conn, selection, use_rollups=use_rollups)


def budgets_output(statuses: list[BudgetStatus], fmt: str = "table") -> Output:
    """Money for people with its currency's symbol; csv keeps exact amounts and a currency."""
    rows = [s.as_dict() for s in statuses]
    human = fmt in ("table", "markdown")
    shown = [
        {
            **row,
            "scope": _scope_text(row["scope"]),
            "alerts_reached": _alerts_text(row),
            **(
                {k: money_text(row[k], row["currency"]) for k in ("amount", "spend", "forecast")}
                if human
                else {}
            ),
        }
        for row in rows
    ]
    columns = [
        Column("name", "budget"),
        Column("scope", "scope"),
        Column("period", "period"),
        Column("cost_basis", "basis"),
        *([] if human else [Column("currency", "currency")]),
        Column("amount", "amount", "money"),
        Column("spend", "spend", "money"),
        Column("percent", "used", "percent"),
        Column("alerts_reached", "alerts"),
        Column("state", "state"),
        Column("forecast", "forecast", "money"),
        Column("forecast_percent", "forecast used", "percent"),
        Column("forecast_state", "forecast state"),
    ]
    over = [r["name"] for r in rows if r["state"] == "over"]
    notes = ["forecast: recent days weighted, from the period's complete days"]
    if over:
        notes.insert(0, f"over budget: {', '.join(over)}")
    return Output(
        data={"version": 1, "budgets": rows},
        rows=shown,
        columns=columns,
        title="Budgets",
        notes=notes,
    )


def _scope_text(scope: str | dict[str, str]) -> str:
    return scope if isinstance(scope, str) else ", ".join(f"{k}={v}" for k, v in scope.items())


def _alerts_text(row: dict[str, Any]) -> str:
    reached = row["alerts_reached"]
    return f"{reached[-1]}%" if reached else "-"
