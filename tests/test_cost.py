"""The one cost function: exact Decimal math, caching, batch, long context, tiers, time of day."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest

from tokcli.cost import Usage, compute_cost
from tokcli.errors import PriceNotAvailableError
from tokcli.pricing import Registry
from tokcli.render import Column, Output, render

DAY = dt.date(2026, 11, 24)


@pytest.fixture(scope="module")
def registry():
    return Registry.load(use_cache=False)


def test_a_billion_and_one_output_tokens_at_25_is_exact(registry):
    # The issue says $25.000000025; 1,000,000,001 x $25 / 1,000,000 is $25,000.000025. What it
    # asks for is that every digit survives, which this asserts at the true figure.
    cost = compute_cost(Usage(output_tokens=1_000_000_001), registry.get("claude-opus-4-7"), DAY)
    assert cost.total == Decimal("25000.000025")
    data = cost.to_dict()
    assert data["total"] == "25000.000025"  # inside the data: no rounding
    assert data["lines"][1] == {
        "bucket": "output",
        "tokens": 1_000_000_001,
        "price_per_mtok": "25",
        "cost": "25000.000025",
        "note": None,
    }


def test_nine_decimal_places_survive(registry, tmp_path):
    # $25.000000025 itself: 1,000,000,001 tokens at $0.025 per million.
    override = tmp_path / "p.yaml"
    override.write_text(
        "models:\n  - id: claude-opus-4-7\n    prices:\n      - {source: test, output: '0.025'}\n"
    )
    model = Registry.load(overrides=[override], use_cache=False).get("claude-opus-4-7")
    cost = compute_cost(Usage(output_tokens=1_000_000_001), model, DAY)
    assert cost.to_dict()["total"] == "25.000000025"


def test_rounding_happens_only_in_table_output(registry):
    cost = compute_cost(Usage(output_tokens=1_000_000_001), registry.get("claude-opus-4-7"), DAY)
    output = Output(data=cost.to_dict(), rows=[{"total": cost.total}],
                    columns=[Column("total", "total", "money")])  # fmt: skip
    as_json, as_csv, as_table = io.StringIO(), io.StringIO(), io.StringIO()
    render(output, "json", as_json)
    render(output, "csv", as_csv)
    render(output, "table", as_table)
    assert '"total": "25000.000025"' in as_json.getvalue()
    assert as_csv.getvalue().splitlines()[1] == "25000.000025"
    assert "$25,000.00" in as_table.getvalue() and "000025" not in as_table.getvalue()


def test_anthropic_cache_buckets_are_itemized(registry):
    usage = Usage(input_tokens=1000, cache_read_tokens=200_000, cache_write_5m_tokens=10_000,
                  cache_write_1h_tokens=4_000, output_tokens=500)  # fmt: skip
    cost = compute_cost(usage, registry.get("claude-sonnet-4-6"), DAY)
    lines = {line.bucket: line.cost for line in cost.lines}
    # 1000 x 3 + 200000 x 0.30 + 10000 x 3.75 + 4000 x 6 + 500 x 15, per million
    assert lines == {"input": Decimal("0.003"), "cache_read": Decimal("0.06"),
                     "cache_write_5m": Decimal("0.0375"), "cache_write_1h": Decimal("0.024"),
                     "output": Decimal("0.0075")}  # fmt: skip
    assert cost.total == Decimal("0.132")


def test_batch_and_cache_discounts_stack(registry):
    usage = Usage(input_tokens=1_000_000, cache_read_tokens=1_000_000, output_tokens=1_000_000)
    cost = compute_cost(usage, registry.get("claude-opus-4-7"), DAY, "batch")
    lines = {line.bucket: line.cost for line in cost.lines}
    assert lines["input"] == Decimal("2.5")  # 50% of $5
    assert lines["cache_read"] == Decimal("0.25")  # 0.05x input: batch x cache read
    assert lines["output"] == Decimal("12.5")


def test_openai_cache_writes_bill_as_input_and_say_so(registry):
    usage = Usage(input_tokens=0, cache_write_5m_tokens=2_000_000, requests=20)
    cost = compute_cost(usage, registry.get("gpt-5.5"), DAY)
    line = next(line for line in cost.lines if line.bucket == "cache_write_5m")
    assert line.cost == Decimal("10") and line.price_per_mtok == Decimal("5")
    assert "billed as input" in line.note


def test_reasoning_tokens_bill_as_output(registry):
    cost = compute_cost(Usage(reasoning_tokens=1_000_000), registry.get("o1"), DAY)
    assert cost.total == Decimal("60")


def test_long_context_applies_to_the_whole_request(registry):
    model = registry.get("gpt-5.5")
    at_threshold = compute_cost(Usage(input_tokens=272_000, output_tokens=1000), model, DAY)
    above = compute_cost(Usage(input_tokens=272_001, output_tokens=1000), model, DAY)
    assert at_threshold.band == "standard"
    assert at_threshold.total == Decimal("272000") * 5 / 10**6 + Decimal("1000") * 30 / 10**6
    assert above.band == "long_context"
    # 2x input and 1.5x output for every token of the request
    assert above.total == Decimal("272001") * 10 / 10**6 + Decimal("1000") * 45 / 10**6
    assert any("long-context" in note for note in above.notes)


def test_long_context_counts_cached_input_and_uses_batch_multiplier(registry):
    model = registry.get("gpt-5.5")
    usage = Usage(input_tokens=100_000, cache_read_tokens=200_000, output_tokens=0)
    cost = compute_cost(usage, model, DAY, "batch")
    lines = {line.bucket: line.price_per_mtok for line in cost.lines}
    assert cost.band == "long_context"
    assert lines["input"] == Decimal("5.00")  # 10.00 above 272K, x 0.5 batch
    assert lines["cache_read"] == Decimal("0.50")


def test_long_context_band_per_request_for_aggregated_usage(registry):
    model = registry.get("gpt-5.5")
    # 10 requests of 100K each: none is above 272K although the total is 1M.
    cost = compute_cost(Usage(input_tokens=1_000_000, requests=10), model, DAY)
    assert cost.band == "standard" and cost.total == Decimal("5")


def test_unpublished_tier_is_an_error_not_a_standard_price(registry):
    with pytest.raises(PriceNotAvailableError, match="no batch tier"):
        compute_cost(Usage(input_tokens=1), registry.get("deepseek-v4-flash"), DAY, "batch")
    with pytest.raises(PriceNotAvailableError, match="priority"):
        compute_cost(Usage(input_tokens=300_000), registry.get("gpt-5.5"), DAY, "priority")
    with pytest.raises(PriceNotAvailableError, match="unknown service tier"):
        compute_cost(Usage(input_tokens=1), registry.get("gpt-5.5"), DAY, "turbo")


def test_priority_tier_prices(registry):
    cost = compute_cost(Usage(input_tokens=1_000_000, output_tokens=1_000_000, requests=100),
                        registry.get("gpt-5.5"), DAY, "priority")  # fmt: skip
    assert cost.total == Decimal("87.5")  # 12.50 + 75.00


def test_deepseek_off_peak_needs_a_time_of_day(registry):
    model = registry.get("deepseek-v4-pro")
    usage = Usage(input_tokens=1_000_000)
    peak = compute_cost(usage, model, dt.datetime(2026, 9, 1, 2, 0, tzinfo=dt.UTC))
    off_peak = compute_cost(usage, model, dt.datetime(2026, 9, 1, 12, 0, tzinfo=dt.UTC))
    date_only = compute_cost(usage, model, dt.date(2026, 9, 1))
    assert peak.total == Decimal("1.32") and not peak.off_peak
    assert off_peak.total == Decimal("0.66") and off_peak.off_peak
    assert date_only.total == Decimal("1.32")
    assert any("peak rates" in note for note in date_only.notes)


def test_price_in_force_on_the_usage_date(registry):
    model = registry.get("deepseek-v4-flash")
    usage = Usage(cache_read_tokens=1_000_000)
    assert compute_cost(usage, model, dt.date(2026, 4, 25)).total == Decimal("0.028")
    assert compute_cost(usage, model, dt.date(2026, 5, 1)).total == Decimal("0.0028")


def test_usage_refuses_negative_or_fractional_tokens():
    with pytest.raises(ValueError):
        Usage(input_tokens=-1)
    with pytest.raises(ValueError):
        Usage(output_tokens=1.5)  # type: ignore[arg-type]
