"""Period-end forecasts from period-to-date daily spend.

Only complete days are extrapolated (today is still running, so its spend so far would drag the
rate down); today counts as a remaining day. Two methods, both named in the output:

- linear: the mean of the complete days, times the days left, plus the complete days' spend.
- weighted: the same with the daily rate a weighted mean, day i of n weighing i, so the most
  recent day counts n times as much as the first: it follows a trend sooner.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from tokcli.money import MONEY_CONTEXT, ZERO

METHODS = ("weighted", "linear")
DEFAULT_METHOD = "weighted"
# Forecasts are estimates, not amounts anyone is billed: 6 places keep JSON readable and exact.
FORECAST_QUANTUM = Decimal("0.000001")


@dataclass(frozen=True)
class Forecast:
    period_start: dt.date
    period_end: dt.date  # inclusive
    as_of: dt.date
    actual: Decimal  # spend so far in the period, today's included
    complete_days: int
    days: int
    linear: Decimal
    weighted: Decimal

    def value(self, method: str = DEFAULT_METHOD) -> Decimal:
        return self.weighted if method == "weighted" else self.linear

    def as_dict(self) -> dict:
        return {
            "period_start": self.period_start,
            "period_end": self.period_end,
            "as_of": self.as_of,
            "actual": self.actual,
            "complete_days": self.complete_days,
            "days": self.days,
            "forecast_linear": self.linear,
            "forecast_weighted": self.weighted,
        }


def forecast(
    daily: Mapping[dt.date, Decimal], start: dt.date, end: dt.date, today: dt.date
) -> Forecast:
    """Forecast the spend of the period [start, end] as seen on `today`."""
    days = (end - start).days + 1
    in_period = {day: amount for day, amount in daily.items() if start <= day <= end}
    actual = sum((a for d, a in in_period.items() if d <= today), ZERO)
    if today > end or today < start:  # a closed period is what it was; a future one is empty
        return Forecast(start, end, today, actual, max(0, min(days, (today - start).days)),
                        days, actual, actual)  # fmt: skip
    complete = [
        in_period.get(start + dt.timedelta(days=i), ZERO) for i in range((today - start).days)
    ]
    if not complete:
        return Forecast(start, end, today, actual, 0, days, actual, actual)
    remaining = days - len(complete)
    with decimal.localcontext(MONEY_CONTEXT):
        so_far = sum(complete, ZERO)
        linear_rate = so_far / len(complete)
        weights = range(1, len(complete) + 1)
        weighted_rate = sum((w * a for w, a in zip(weights, complete, strict=True)), ZERO) / sum(
            weights
        )
        linear = max(actual, so_far + linear_rate * remaining)
        weighted = max(actual, so_far + weighted_rate * remaining)
    return Forecast(
        start, end, today, actual, len(complete), days, _estimate(linear), _estimate(weighted)
    )


def _estimate(amount: Decimal) -> Decimal:
    return amount.quantize(FORECAST_QUANTUM, rounding=decimal.ROUND_HALF_EVEN).normalize()


def month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)
