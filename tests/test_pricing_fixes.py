"""Issue 14, money-wrong registry data: each expectation is derived here from the source prices.

Sources: LiteLLM 1.110.2 `model_prices_and_context_window_backup.json` (L110) and genai-prices
0.2.3 (`genai_prices/data.py`), both MIT; the OpenAI long-context rule (2x input, cached input
and writes, 1.5x output above 272K input tokens, whole request).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tokcli.cost import Usage, compute_cost
from tokcli.pricing import Registry

DAY = dt.date(2026, 11, 28)
M = Decimal(1_000_000)


@pytest.fixture(scope="module")
def registry():
    return Registry.load(use_cache=False)


@pytest.mark.parametrize(
    ("model", "inp", "read", "write", "out"),
    [
        ("gpt-5.6", "4", "0.40", "5", "20"),
        ("gpt-6-astra", "10", "1", "12.50", "50"),
    ],
)
def test_gpt_5_6_and_6_astra_bill_the_whole_request_at_the_long_context_band(
    registry, model, inp, read, write, out
):
    inp, read, write, out = map(Decimal, (inp, read, write, out))
    at_threshold = Usage(input_tokens=200_000, cache_read_tokens=50_000,
                         cache_write_5m_tokens=22_000, output_tokens=10_000)  # fmt: skip
    assert at_threshold.total_input == 272_000
    standard = compute_cost(at_threshold, registry.get(model), DAY)
    assert standard.band == "standard"
    assert standard.total == (200_000 * inp + 50_000 * read + 22_000 * write + 10_000 * out) / M
    above = Usage(input_tokens=200_001, cache_read_tokens=50_000,
                  cache_write_5m_tokens=22_000, output_tokens=10_000)  # fmt: skip
    long = compute_cost(above, registry.get(model), DAY)
    assert long.band == "long_context"
    expected = (
        200_001 * 2 * inp + 50_000 * 2 * read + 22_000 * 2 * write + 10_000 * out * Decimal("1.5")
    ) / M
    assert long.total == expected


@pytest.mark.parametrize(("model", "one_hour"), [("gpt-5.6", "10"), ("gpt-6-astra", "25")])
def test_openai_one_hour_write_is_the_extended_retention_price_not_a_copy(
    registry, model, one_hour
):
    entry = registry.get(model).entry_at(dt.datetime(2026, 11, 28, tzinfo=dt.UTC))
    # L110 cache_creation_input_token_cost_above_12hr: 1e-05 and 2.5e-05 per token
    assert entry.standard.prices["cache_write_1h"] == Decimal(one_hour)
    assert entry.standard.prices["cache_write_1h"] != entry.standard.prices["cache_write_5m"]


@pytest.mark.parametrize("model", ["gemini-3.6-flash", "gemini-3.7-flash", "gemini-3.8-flash"])
def test_new_gemini_flash_models_are_priced(registry, model):
    usage = Usage(input_tokens=1000, cache_read_tokens=1000, output_tokens=1000)
    got = compute_cost(usage, registry.get(model), DAY)
    # L110 and genai-prices agree: $0.75 in, $0.075 cached, $3.75 out
    assert (
        got.total == (1000 * Decimal("0.75") + 1000 * Decimal("0.075") + 1000 * Decimal("3.75")) / M
    )
    batch = compute_cost(usage, registry.get(model), DAY, "batch")
    assert batch.total == got.total / 2
