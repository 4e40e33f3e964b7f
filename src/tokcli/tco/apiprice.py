"""The API side's blended $/MTok, from the registry through tokcli.cost (never hand-typed)."""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass
from decimal import Decimal

from tokcli.cost import resolved_prices
from tokcli.errors import PriceNotAvailableError
from tokcli.money import MONEY_CONTEXT


@dataclass(frozen=True)
class BlendedPrice:
    model: str
    price_per_mtok: Decimal
    standard_per_mtok: Decimal
    batch_per_mtok: Decimal | None
    source: str
    notes: tuple[str, ...] = ()


def tier_price(prices: dict[str, Decimal], output_share: Decimal, cache_hit_rate: Decimal):
    """$/MTok of an average token: input split into cache hits and misses, plus output.

    (1 - s) x ((1 - h) x input + h x cache_read) + s x output
    """
    with decimal.localcontext(MONEY_CONTEXT):
        uncached = (1 - cache_hit_rate) * prices["input"]
        cached = cache_hit_rate * prices["cache_read"]
        return (1 - output_share) * (uncached + cached) + output_share * prices["output"]


def blended_price(
    model,
    at: dt.date,
    output_share: Decimal,
    cache_hit_rate: Decimal,
    batch_share: Decimal,
) -> BlendedPrice:
    """Blend standard and batch prices by the batch share: (1 - b) x p_standard + b x p_batch.

    Cache writes are not priced (the first write of each prefix is ignored), and the
    long-context band is not applied: the volume model has no per-request size.
    """
    standard = resolved_prices(model, at, "standard")
    standard_price = tier_price(standard.prices, output_share, cache_hit_rate)
    notes = []
    batch_price = None
    if batch_share > 0:
        try:
            batch = resolved_prices(model, at, "batch")
            batch_price = tier_price(batch.prices, output_share, cache_hit_rate)
        except PriceNotAvailableError:
            notes.append(f"{model.id}: no batch tier, the batch share is priced at standard rates")
            batch_price = standard_price
    if cache_hit_rate > 0 and "cache_read" in standard.fallbacks:
        notes.append(f"{model.id}: no cache-read price, cache hits are billed as input")
    with decimal.localcontext(MONEY_CONTEXT):
        price = (1 - batch_share) * standard_price + batch_share * (batch_price or 0)
    return BlendedPrice(
        model.id,
        price,
        standard_price,
        batch_price,
        f"{standard.entry.source}, in force from {standard.entry.effective_from:%Y-%m-%d}",
        tuple(notes),
    )
