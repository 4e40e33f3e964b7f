"""Anomalies in daily spend, per group.

- spike: a day whose spend is above k times the mean of the 7 days before it (k default 3).
  Days without 7 earlier days in the range, and days after a zero week, are not judged: there is
  no baseline to compare with.
- week-over-week: a complete ISO week (Monday to Sunday, wholly inside the range) whose spend
  grew by more than the threshold (default 50%) over the complete week before it.
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from tokcli.frozen import Frozen
from tokcli.money import MONEY_CONTEXT, ZERO

TRAILING_DAYS = 7


# As @dataclass(frozen=True), with __init__ written out: see tokcli.frozen (start-up).
@dataclass(init=False, repr=False, eq=False)
class Anomaly(Frozen):
    """A spike or week-over-week jump in one group's daily spend."""

    group: tuple
    kind: str  # "spike" or "week-over-week"
    period: str  # the day (YYYY-MM-DD) or the week (YYYY-Www)
    value: Decimal
    baseline: Decimal  # trailing 7-day mean, or the previous week's spend
    jump: Decimal  # value - baseline

    def __init__(
        self,
        group: tuple,
        kind: str,
        period: str,
        value: Decimal,
        baseline: Decimal,
        jump: Decimal,
    ) -> None:
        self.__dict__.update(
            group=group, kind=kind, period=period, value=value, baseline=baseline, jump=jump
        )

    @property
    def ratio(self) -> Decimal:
        with decimal.localcontext(MONEY_CONTEXT):
            return (self.value / self.baseline).quantize(Decimal("0.01"))


def spikes(
    group: tuple, daily: Mapping[dt.date, Decimal], days: list[dt.date], k: Decimal
) -> list[Anomaly]:
    found = []
    series = [daily.get(day, ZERO) for day in days]
    with decimal.localcontext(MONEY_CONTEXT):
        for index in range(TRAILING_DAYS, len(series)):
            baseline = sum(series[index - TRAILING_DAYS : index], ZERO) / TRAILING_DAYS
            value = series[index]
            if baseline > 0 and value > k * baseline:
                found.append(
                    Anomaly(group, "spike", days[index].isoformat(), value,
                            _tidy(baseline), _tidy(value - baseline))
                )  # fmt: skip
    return found


def week_over_week(
    group: tuple, daily: Mapping[dt.date, Decimal], days: list[dt.date], threshold_percent: Decimal
) -> list[Anomaly]:
    weeks = complete_weeks(daily, days)
    found = []
    with decimal.localcontext(MONEY_CONTEXT):
        for (_, before), (label, now) in itertools.pairwise(weeks):
            if before > 0 and (now - before) * 100 > threshold_percent * before:
                found.append(Anomaly(group, "week-over-week", label, now, before, now - before))
    return found


def complete_weeks(
    daily: Mapping[dt.date, Decimal], days: list[dt.date]
) -> list[tuple[str, Decimal]]:
    """(ISO week label, spend) for each Monday-to-Sunday week wholly inside `days`."""
    if not days:
        return []
    first, last = days[0], days[-1]
    monday = first + dt.timedelta(days=(7 - first.weekday()) % 7)
    weeks = []
    while monday + dt.timedelta(days=6) <= last:
        spend = sum((daily.get(monday + dt.timedelta(days=i), ZERO) for i in range(7)), ZERO)
        year, week, _ = monday.isocalendar()
        weeks.append((f"{year}-W{week:02d}", spend))
        monday += dt.timedelta(days=7)
    return weeks


def _tidy(amount: Decimal) -> Decimal:
    # A 7-day mean can have a long expansion (x/7); 10 places are plenty for a baseline.
    return amount.quantize(Decimal("1e-10")).normalize()
