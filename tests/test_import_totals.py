"""The totals an import reports per source and currency (write.Totals): summed a column at a
time for a whole batch, they must be the sums of the records one by one, exactly (30-decimal
costs, rows without a billed or a list cost, two currencies in one batch)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from tokcli.importers.write import FileResult, _Writer
from tokcli.store.usage import UsageRecord

START = dt.datetime(2025, 9, 1, tzinfo=dt.UTC)


def record(n: int, billed: str | None, listed: str | None, currency: str = "USD") -> UsageRecord:
    return UsageRecord(
        record_key=f"k{n}", source="focus", period_start=START, period_end=START,
        requests=n, input_tokens=1_000 * n, cache_read_tokens=n % 3, output_tokens=7 * n,
        reasoning_tokens=n // 2, cache_write_5m_tokens=n % 5, cache_write_1h_tokens=n % 2,
        billed_cost=None if billed is None else Decimal(billed), currency=currency,
        list_cost=None if listed is None else Decimal(listed),
    )  # fmt: skip


RECORDS = [
    record(1, "0.123456789012345678901234567891", "0.1"),  # 30 decimals: beyond 28 digits
    record(2, None, "2.5"),  # a usage API row: no billed cost, a list cost
    record(3, "3.75", None),  # billed, no list cost (a model the registry does not price)
    record(4, None, None),
    record(5, "1E+3", "999.999999999999999999999999999999", currency="EUR"),
    record(6, "-0.5", "0.25"),  # a credit
]


def totals_of(records: list[UsageRecord]) -> dict:
    writer = _Writer.__new__(_Writer)  # only its totals are used here
    writer.result = FileResult(path="x", format="focus")
    half = len(records) // 2
    writer._add_totals(records[:half])  # two batches: sums carry over
    writer._add_totals(records[half:])
    return {key: totals.to_dict(*key) for key, totals in writer.result.totals.items()}


def test_batch_totals_are_the_sums_of_the_records():
    totals = totals_of(RECORDS)

    usd = totals[("focus", "USD")]
    assert usd["rows"] == 5
    assert usd["billed"] == "3.373456789012345678901234567891"  # 0.1234...891 + 3.75 - 0.5
    assert usd["list"] == "2.85"  # 0.1 + 2.5 + 0.25
    assert usd["billed_where_priced"] == "-0.376543210987654321098765432109"  # rows 1, 6
    # billed where priced minus the whole list cost, to the last of its 30 decimals
    assert usd["billed_minus_list"] == "-3.226543210987654321098765432109"
    assert usd["tokens"]["input_tokens"] == 1_000 * (1 + 2 + 3 + 4 + 6)
    assert usd["tokens"]["requests"] == 16
    assert usd["tokens"]["reasoning_tokens"] == 0 + 1 + 1 + 2 + 3
    assert usd["tokens"]["cache_write_1h_tokens"] == 1 + 0 + 1 + 0 + 0
    eur = totals[("focus", "EUR")]
    assert (eur["rows"], eur["billed"], eur["list"]) == (
        1,
        "1000",
        "999.999999999999999999999999999999",
    )


def test_rows_without_any_cost_say_none_rather_than_zero():
    only_usage = totals_of([record(2, None, "2.5"), record(4, None, None)])[("focus", "USD")]

    assert only_usage["billed"] is None  # no row states a billed cost
    assert only_usage["list"] == "2.5"
    assert only_usage["billed_where_priced"] == "0"
