"""An import resolves each model's prices once per day, tier, band and set of buckets and totals
each row with `cost.total_cost` (issue 17). These tests hold every row's list cost to
`compute_cost(...).total`, digit for digit (same Decimal, same exponent), on every curated model,
on both sides of each long-context threshold, on days the model has no price, and across an
unknown tier."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from tokcli.cost import Usage, compute_cost
from tokcli.errors import PriceNotAvailableError
from tokcli.importers.pricer import Pricer
from tokcli.pricing.registry import Registry
from tokcli.store.usage import UsageRecord

USAGES = [
    Usage(input_tokens=1200, output_tokens=300),
    Usage(input_tokens=3, cache_read_tokens=90_000, cache_write_5m_tokens=1_500, output_tokens=7),
    Usage(cache_write_1h_tokens=40_000, output_tokens=1),
    Usage(output_tokens=5, reasoning_tokens=400),
    Usage(input_tokens=0, output_tokens=0, cache_read_tokens=1),
]
DAYS = [dt.datetime(2023, 1, 1, 12, tzinfo=dt.UTC), dt.datetime(2026, 2, 10, 23, tzinfo=dt.UTC)]


@pytest.fixture(scope="module")
def registry():
    return Registry.load(use_cache=False)


def _record(model: str, usage: Usage, at: dt.datetime, tier: str) -> UsageRecord:
    record = UsageRecord(
        record_key="k", source="t", period_start=at, period_end=at, model_raw=model, requests=1
    )
    record.service_tier = tier
    for bucket in (
        "input_tokens",
        "cache_read_tokens",
        "cache_write_5m_tokens",
        "cache_write_1h_tokens",
        "output_tokens",
        "reasoning_tokens",
    ):
        setattr(record, bucket, getattr(usage, bucket))
    return record


def _expected(model, usage: Usage, at: dt.datetime, tier: str):
    try:
        return compute_cost(usage, model, at.date(), tier).total
    except PriceNotAvailableError:
        return None


def _usages_around_bands(model) -> list[Usage]:
    usages = list(USAGES)
    for entry in model.prices:
        if entry.long_context_above:
            edge = entry.long_context_above
            usages += [Usage(input_tokens=n, output_tokens=9) for n in (edge, edge + 1)]
    return usages


def test_every_row_costs_what_compute_cost_says(registry):
    pricer = Pricer(registry)  # one pricer, as in one import: its cache is shared by every row
    checked = priced = 0
    for model in registry.models.values():
        cases = itertools.product(_usages_around_bands(model), DAYS, ["standard", "batch"])
        for usage, at, tier in cases:
            record = _record(model.id, usage, at, tier)
            pricer.complete(record)
            expected = _expected(model, usage, at, tier)
            if record.model is None:  # not found under its own id (an alias-only entry)
                continue
            assert str(record.list_cost) == str(expected), (model.id, usage, at, tier)
            checked += 1
            priced += expected is not None
    assert checked > 500 and priced > 100
    # A long-context row and a standard row of one model and day are two cache entries.
    bands = {key[3] for key in pricer._plans}
    assert bands == {"standard", "long_context"}


def test_a_row_on_a_day_without_a_price_gets_none_and_the_warning(registry):
    pricer = Pricer(registry)
    model = registry.get("claude-opus-4-6")
    before = model.prices[0].effective_from - dt.timedelta(days=1)
    record = _record(model.id, USAGES[0], before, "standard")
    pricer.complete(record)
    assert record.list_cost is None
    with pytest.raises(PriceNotAvailableError) as reason:
        compute_cost(USAGES[0], model, before.date())
    assert pricer.warnings[f"{model.id}|standard"] == f"no list cost: {reason.value}"


def test_rows_that_share_model_day_tier_band_and_buckets_share_one_plan(registry):
    pricer = Pricer(registry)
    model = registry.get("claude-sonnet-4-5")
    at = DAYS[1]
    for n in range(1, 400):
        usage = Usage(input_tokens=n * 7, cache_read_tokens=n * 100 + 3, output_tokens=n)
        record = _record(model.id, usage, at, "standard")
        pricer.complete(record)
        assert str(record.list_cost) == str(compute_cost(usage, model, at.date()).total)
    assert len(pricer._plans) == 1 and len(pricer._entries) == 1


@pytest.mark.parametrize(
    ("bucket", "value"),
    [("output_tokens", -5), ("input_tokens", True), ("cache_read_tokens", 2.0)],
)
def test_a_count_usage_refuses_is_refused_as_before(registry, bucket, value):
    record = _record("claude-sonnet-4-5", USAGES[0], DAYS[1], "standard")
    setattr(record, bucket, value)
    with pytest.raises(ValueError, match=bucket):
        Pricer(registry).complete(record)


def test_an_int_subclass_count_takes_the_general_path_at_the_same_cost(registry):
    class Count(int):
        pass

    model = registry.get("claude-sonnet-4-5")
    record = _record(model.id, USAGES[1], DAYS[1], "standard")
    record.cache_read_tokens = Count(record.cache_read_tokens)
    pricer = Pricer(registry)
    pricer.complete(record)
    assert str(record.list_cost) == str(compute_cost(USAGES[1], model, DAYS[1].date()).total)
    assert not pricer._plans  # priced through resolved_prices and total_cost, not a plan
