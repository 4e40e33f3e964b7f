"""Plain-data views of registry models, shared by `pricing show/list` and other commands."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from tokcli.errors import PriceNotAvailableError
from tokcli.pricing.model import DIMENSIONS, Model, PriceEntry

CONTRACT_PRICES = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")


def _tier_price(entry: PriceEntry, dim: str, tier: str, band: str = "standard") -> Decimal | None:
    try:
        return entry.price(dim, tier, band)
    except PriceNotAvailableError:
        return None


def contract_prices(entry: PriceEntry) -> dict[str, Decimal | None]:
    """The `prices` object of `pricing show --format json`: published prices, null where none."""
    prices: dict[str, Decimal | None] = {d: entry.standard.prices.get(d) for d in CONTRACT_PRICES}
    prices["batch_input"] = _tier_price(entry, "input", "batch")
    prices["batch_output"] = _tier_price(entry, "output", "batch")
    return prices


def price_grid(entry: PriceEntry) -> list[dict[str, Any]]:
    """One row per dimension, one column per service tier and band (for table output)."""
    rows = []
    for dim in DIMENSIONS:
        row: dict[str, Any] = {"dimension": dim}
        for tier in ("standard", "batch", "flex", "priority"):
            row[tier] = _tier_price(entry, dim, tier)
        if entry.long_context is not None:
            row["long_context"] = entry.long_context.prices.get(dim)
        row["overridden"] = dim in entry.overridden
        if any(v is not None for k, v in row.items() if k not in ("dimension", "overridden")):
            rows.append(row)
    return rows


def entry_dict(entry: PriceEntry) -> dict[str, Any]:
    data: dict[str, Any] = {
        "effective_from": _when(entry.effective_from),
        "source": entry.source,
        "prices": contract_prices(entry),
        "tiers": {
            tier: {d: _tier_price(entry, d, tier) for d in DIMENSIONS if d != "reasoning"}
            for tier in ("batch", "flex", "priority")
            if entry.offers(tier)
        },
        "long_context": None,
        "time_of_day": None,
        "min_cacheable_tokens": entry.min_cacheable_tokens,
        "cache_storage_per_hour": entry.cache_storage_per_hour,
        "notes": entry.notes,
        "overridden": sorted(entry.overridden),
        "override_file": entry.origin,
    }
    if entry.long_context is not None:
        data["long_context"] = {
            "above_input_tokens": entry.long_context_above,
            **{d: entry.long_context.prices.get(d) for d in CONTRACT_PRICES},
        }
    if entry.time_of_day is not None:
        data["time_of_day"] = {
            "peak_hours_utc": [
                f"{a:%H:%M}-{'24:00' if b == dt.time.max else f'{b:%H:%M}'}"
                for a, b in entry.time_of_day.peak_hours_utc
            ],
            "off_peak_multiplier": entry.time_of_day.off_peak_multiplier,
        }
    return data


def model_dict(model: Model, entry: PriceEntry | None) -> dict[str, Any]:
    """The `pricing show` JSON document (version 1)."""
    data: dict[str, Any] = {
        "version": 1,
        "model": model.id,
        "name": model.name,
        "provider": model.provider,
        "tier": model.tier,
        "host": model.host,
        "aliases": list(model.aliases),
        "context_window": model.context_window,
        "max_output": model.max_output,
        "min_cacheable_tokens": (
            model.min_cacheable_at(entry) if entry else model.min_cacheable_tokens
        ),
        "released": model.released,
        "deprecated": model.deprecated,
        "currency": "USD",
        "unit": "per_million_tokens",
        "effective_from": _when(entry.effective_from) if entry else None,
        "source": entry.source if entry else None,
        "layer": model.layer,
        "prices": contract_prices(entry)
        if entry
        else dict.fromkeys((*CONTRACT_PRICES, "batch_input", "batch_output")),
        "entry": entry_dict(entry) if entry else None,
        "history": [
            {
                "effective_from": _when(e.effective_from),
                "source": e.source,
                "input": e.standard.prices.get("input"),
                "output": e.standard.prices.get("output"),
                "cache_read": e.standard.prices.get("cache_read"),
            }
            for e in model.prices
        ],
        "overridden_by": model.origin,
        "notes": model.notes,
    }
    return data


def _when(moment: dt.datetime) -> str:
    if moment.time() == dt.time(0, 0):
        return f"{moment:%Y-%m-%d}"
    return f"{moment:%Y-%m-%d %H:%M}"
