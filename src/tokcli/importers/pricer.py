"""Canonical model ids and list cost for imported rows, through the registry and cost math.

A model the registry does not know keeps its billed cost and gets no list cost (never a made-up
one); each such model is reported once as a warning.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from tokcli.cost import (
    ResolvedPrices,
    Usage,
    input_per_request,
    needed_dimensions,
    resolved_prices,
    total_cost,
)
from tokcli.errors import PriceNotAvailableError
from tokcli.pricing.model import Model, as_moment
from tokcli.pricing.registry import Registry
from tokcli.store.usage import UsageRecord


class Pricer:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._models: dict[str, Model | None] = {}
        self.warnings: dict[str, str] = {}  # one warning per unpriced model/tier
        self._prices: dict[tuple[object, ...], ResolvedPrices] = {}

    def model_for(self, raw: str) -> Model | None:
        if raw not in self._models:
            self._models[raw] = self.registry.find(raw)
        return self._models[raw]

    def complete(self, record: UsageRecord) -> None:
        """Fill in the canonical model, its provider and the list cost, in place."""
        if not record.model_raw:
            return
        model = self.model_for(record.model_raw)
        if model is None:
            self.warnings.setdefault(
                record.model_raw,
                f"model {record.model_raw!r} is not in the pricing registry: imported with its "
                "billed cost and no list cost (add it with a pricing override file)",
            )
            return
        record.model = model.id
        record.provider = record.provider or model.provider
        if record.charge_kind != "usage" or not _has_tokens(record):
            return
        record.list_cost = self._list_cost(record, model)

    def _list_cost(self, record: UsageRecord, model: Model) -> Decimal | None:
        usage = Usage(
            input_tokens=record.input_tokens,
            cache_read_tokens=record.cache_read_tokens,
            cache_write_5m_tokens=record.cache_write_5m_tokens,
            cache_write_1h_tokens=record.cache_write_1h_tokens,
            output_tokens=record.output_tokens,
            reasoning_tokens=record.reasoning_tokens,
            requests=record.requests or _requests_for_band(record),
        )
        at = record.period_start.astimezone(dt.UTC).date()
        try:
            resolved = self._resolved(model, at, record.service_tier, usage)
        except PriceNotAvailableError as exc:
            self.warnings.setdefault(f"{model.id}|{record.service_tier}", f"no list cost: {exc}")
            return None
        return total_cost(usage, resolved)

    def _resolved(self, model: Model, at: dt.date, tier: str, usage: Usage) -> ResolvedPrices:
        """`resolved_prices` for one row, resolved once per model, day, tier, band and needed
        dimensions: an import prices many rows that share them (issue 17)."""
        per_request = input_per_request(usage)
        needed = needed_dimensions(usage)
        try:
            band = model.entry_at(as_moment(at)).band_for(per_request)[0]
        except PriceNotAvailableError:  # no entry at that day: resolved_prices says so
            return resolved_prices(model, at, tier, per_request, needed)
        key = (model.id, model.layer, at, tier, band, frozenset(needed))
        resolved = self._prices.get(key)
        if resolved is None:
            resolved = resolved_prices(model, at, tier, per_request, needed)
            self._prices[key] = resolved
        return resolved


def _has_tokens(record: UsageRecord) -> bool:
    return any(
        (
            record.input_tokens,
            record.cache_read_tokens,
            record.cache_write_5m_tokens,
            record.cache_write_1h_tokens,
            record.output_tokens,
            record.reasoning_tokens,
        )
    )


def _requests_for_band(record: UsageRecord) -> int:
    """Billing rows and usage reports do not count requests, yet the long-context band is chosen
    per request. Anthropic reports name the band (`context_window` 0-200k / 200k-1M); without
    that, the standard band is assumed: one "request" per input token keeps it there."""
    window = record.tags.get("context_window", "")
    if window.startswith("200k") or window.startswith(">"):
        return 1
    total_input = (
        record.input_tokens
        + record.cache_read_tokens
        + record.cache_write_5m_tokens
        + record.cache_write_1h_tokens
    )
    return max(total_input, 1)
