"""Canonical model ids and list cost for imported rows, through the registry and cost math.

A model the registry does not know keeps its billed cost and gets no list cost (never a made-up
one); each such model is reported once as a warning.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from tokcli.cost import (
    BillingPlan,
    Usage,
    billing_plan,
    bucket_counts,
    counts_per_request,
    input_per_request,
    needed_dimensions,
    planned_total,
    resolved_prices,
    total_cost,
)
from tokcli.errors import PriceNotAvailableError
from tokcli.pricing.model import Model, PriceEntry, as_moment
from tokcli.pricing.registry import Registry
from tokcli.store.usage import UsageRecord


class Pricer:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._models: dict[str, Model | None] = {}
        self.warnings: dict[str, str] = {}  # one warning per unpriced model/tier
        # (model, day, tier, band, which buckets hold tokens) -> what each bucket costs. A model
        # is keyed by its identity (a Model hashes by value, and holds dicts): every model
        # priced here is one of `_models`, kept alive by it for the whole import.
        self._plans: dict[tuple[object, ...], BillingPlan] = {}
        self._entries: dict[tuple[int, dt.date], PriceEntry] = {}

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
        """The row's list cost: `compute_cost(...).total`, digit for digit, from a billing plan
        resolved once per model, day, tier, band and set of buckets with tokens (an import
        prices many rows sharing them: issue 17)."""
        counts = bucket_counts(record)
        requests = record.requests or _requests_for_band(record)
        at = record.period_start.astimezone(dt.UTC).date()
        if not _whole_counts(counts, requests):  # Usage says what is wrong with them
            return self._list_cost_of(_usage(counts, requests), record, model, at)
        try:
            entry = self._entry(model, at)
        except PriceNotAvailableError:  # no entry at that day: the general path says so
            return self._list_cost_of(_usage(counts, requests), record, model, at)
        per_request = counts_per_request(counts, requests)
        band = entry.band_for(per_request)[0]
        has_tokens = tuple(map(bool, counts))
        key = (id(model), at, record.service_tier, band, has_tokens)
        plan = self._plans.get(key)
        if plan is None:
            try:
                resolved = resolved_prices(model, at, record.service_tier, per_request,
                                           needed_dimensions(_usage(counts, requests)))  # fmt: skip
            except PriceNotAvailableError as exc:
                self._no_list_cost(record, model, exc)
                return None
            plan = self._plans[key] = billing_plan(resolved, has_tokens)
        return planned_total(counts, plan)

    def _entry(self, model: Model, at: dt.date) -> PriceEntry:
        """The model's price entry in force on `at`, looked up once per model and day."""
        key = (id(model), at)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = model.entry_at(as_moment(at))
        return entry

    def _list_cost_of(
        self, usage: Usage, record: UsageRecord, model: Model, at: dt.date
    ) -> Decimal | None:
        """The general path, through resolved_prices and total_cost, for a row the cached plans
        do not take (a day without a price, counts Usage refuses)."""
        try:
            resolved = resolved_prices(
                model, at, record.service_tier, input_per_request(usage), needed_dimensions(usage)
            )
        except PriceNotAvailableError as exc:
            self._no_list_cost(record, model, exc)
            return None
        return total_cost(usage, resolved)

    def _no_list_cost(self, record: UsageRecord, model: Model, exc: Exception) -> None:
        self.warnings.setdefault(f"{model.id}|{record.service_tier}", f"no list cost: {exc}")


def _usage(counts: tuple[int, ...], requests: int) -> Usage:
    # Raises ValueError on a count it refuses.
    input_tokens, cache_read, cache_write_5m, cache_write_1h, output, reasoning = counts
    return Usage(input_tokens, cache_read, cache_write_5m, cache_write_1h, output, reasoning,
                 requests)  # fmt: skip


def _whole_counts(counts: tuple[int, ...], requests: int) -> bool:
    """Every count a plain int >= 0 (what Usage accepts, without building one per row)."""
    whole = type(requests) is int and set(map(type, counts)) == {int}
    return whole and requests >= 0 and min(counts) >= 0


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
