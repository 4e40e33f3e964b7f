"""The report's pure pieces: forecast methods, anomaly rules, allocation, charts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tokcli.errors import TokcliError
from tokcli.reporting import anomalies
from tokcli.reporting.allocation import allocate
from tokcli.reporting.charts import bar, sparkline
from tokcli.reporting.forecast import forecast, month_bounds

D = Decimal
START, END = dt.date(2026, 3, 1), dt.date(2026, 3, 10)


def days(*amounts: str, start: dt.date = START) -> dict[dt.date, Decimal]:
    return {start + dt.timedelta(days=i): D(a) for i, a in enumerate(amounts)}


def test_forecast_linear_and_weighted_by_hand():
    # 3 complete days of 10 (10, 20, 30), today is day 4: 7 days left including today.
    result = forecast(days("10", "20", "30"), START, END, dt.date(2026, 3, 4))
    assert (result.actual, result.complete_days, result.days) == (D("60"), 3, 10)
    assert result.linear == D("200")  # 60 + 20 * 7
    # weighted rate (1*10 + 2*20 + 3*30) / 6 = 23.333...; 60 + 7 * 23.333... = 223.333333
    assert result.weighted == D("223.333333")


def test_forecast_ignores_todays_partial_day_but_never_goes_below_actual():
    spend = days("10", "10", "500")  # day 3 (today) already spent 500
    result = forecast(spend, START, END, dt.date(2026, 3, 3))
    assert result.actual == D("520")
    assert result.linear == D("520")  # 20 + 10 * 8 = 100 < 520 spent: the actual wins


def test_forecast_edges():
    assert forecast({}, START, END, dt.date(2026, 3, 1)).weighted == 0  # first day: no data
    closed = forecast(days("1", "2"), START, END, dt.date(2026, 4, 2))
    assert closed.linear == closed.weighted == closed.actual == D("3")
    assert forecast(days("5"), START, END, dt.date(2026, 2, 1)).actual == 0  # future period
    assert month_bounds(dt.date(2028, 2, 14)) == (dt.date(2028, 2, 1), dt.date(2028, 2, 29))
    assert month_bounds(dt.date(2026, 12, 31)) == (dt.date(2026, 12, 1), dt.date(2026, 12, 31))


def test_spike_rule_needs_seven_days_of_baseline():
    span = [START + dt.timedelta(days=i) for i in range(10)]
    spend = days("1", "1", "1", "1", "1", "1", "1", "3.01", "1", "1")
    found = anomalies.spikes(("t",), spend, span, D(3))
    assert [(a.period, a.value, a.baseline, a.jump, a.ratio) for a in found] == [
        ("2026-03-08", D("3.01"), D("1"), D("2.01"), D("3.01"))
    ]
    assert anomalies.spikes(("t",), spend, span, D("3.01")) == []  # must be strictly above k x
    early = days("0", "0", "0", "0", "0", "0", "0", "9")  # zero baseline: nothing to compare
    assert anomalies.spikes((), early, span, D(3)) == []


def test_week_over_week_uses_complete_weeks_only():
    monday = dt.date(2026, 3, 2)
    span = [dt.date(2026, 3, 1) + dt.timedelta(days=i) for i in range(22)]  # Sun .. Sun 22nd
    spend = {d: D("1") for d in span}
    spend[dt.date(2026, 3, 1)] = D("100")  # the partial week before Monday is not judged
    for i in range(7):
        spend[monday + dt.timedelta(days=7 + i)] = D("2")  # second week doubles: +100%
    found = anomalies.week_over_week(("t",), spend, span, D(50))
    assert [(a.period, a.value, a.baseline, a.jump) for a in found] == [
        ("2026-W11", D("14"), D("7"), D("7"))
    ]
    assert anomalies.week_over_week(("t",), spend, span, D(100)) == []  # exactly +100%: not above


def test_allocation_largest_remainder_exact():
    assert allocate(D("100.00"), {"a": D(1), "b": D(1), "c": D(1)}) == {
        "a": D("33.34"), "b": D("33.33"), "c": D("33.33"),
    }  # fmt: skip
    assert allocate(D("10.00"), {"a": D(2), "b": D(1)}) == {"a": D("6.67"), "b": D("3.33")}
    # credits (negative) and zero spend take no share
    assert allocate(D("1.00"), {"a": D(3), "credit": D(-5), "idle": D(0)}) == {
        "a": D("1.00"), "credit": D("0.00"), "idle": D("0.00"),
    }  # fmt: skip
    # the remainder cent goes to the largest fractional part, not the largest group
    assert allocate(D("0.10"), {"big": D("0.61"), "small": D("0.39")}) == {
        "big": D("0.06"), "small": D("0.04"),
    }  # fmt: skip


def test_allocation_always_sums_to_the_shared_amount():
    weights = {f"g{i}": D(i * i + 1) / D(7) for i in range(37)}
    for shared in ("0.01", "0.37", "99.99", "1234567.89", "0"):
        parts = allocate(D(shared), weights)
        assert sum(parts.values()) == D(shared)
        assert all(p == p.quantize(D("0.01")) and p >= 0 for p in parts.values())


def test_allocation_refuses_what_cannot_be_split():
    with pytest.raises(TokcliError, match="whole cents"):
        allocate(D("1.005"), {"a": D(1)})
    with pytest.raises(TokcliError, match="no group has positive spend"):
        allocate(D("5"), {"a": D(0)})
    for too_large in ("123456789012345678901234567890.01", "1000000000000000.01"):
        with pytest.raises(TokcliError, match="from 0 to 1e15"):  # not InvalidOperation
            allocate(D(too_large), {"a": D(1)})


def test_allocation_of_the_largest_amount_is_exact():
    parts = allocate(D("1e15"), {"a": D(1), "b": D(2)})
    assert parts == {"a": D("333333333333333.33"), "b": D("666666666666666.67")}


def test_charts():
    assert bar(D(10), D(10), width=4) == "████"
    assert bar(D(1), D(8), width=1) == "▏"
    assert bar(D(0), D(10)) == "" and bar(D(5), D(0)) == ""
    assert bar(D("0.0001"), D(10)) == "▏"  # never invisible when positive
    assert sparkline([D(0), D(7), D(14)]) == "▁▄█"
    assert sparkline([]) == ""
