"""The registry's objects: models, their dated price entries, and how one price is resolved.

pricing/SCHEMA.md is the contract for the data; this module is its executable form.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from tokcli.errors import PriceNotAvailableError

TIERS = ("flagship", "mid", "cheap", "reasoning", "open-weight")
SERVICE_TIERS = ("standard", "batch", "flex", "priority")
# Per-million-token price dimensions a band can carry.
DIMENSIONS = ("input", "output", "reasoning", "cache_read", "cache_write_5m", "cache_write_1h")
CACHE_DIMENSIONS = ("cache_read", "cache_write_5m", "cache_write_1h")


@dataclass(frozen=True)
class TierPricing:
    """Prices of a service tier (batch, flex, priority) inside one band."""

    multiplier: Decimal | None = None
    prices: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class Band:
    """One set of prices: the standard band, or the long-context band above a threshold."""

    prices: dict[str, Decimal | None]
    tiers: dict[str, TierPricing] = field(default_factory=dict)


@dataclass(frozen=True)
class TimeOfDay:
    """Peak hours in UTC; outside them every price is multiplied by `off_peak_multiplier`."""

    peak_hours_utc: tuple[tuple[dt.time, dt.time], ...]
    off_peak_multiplier: Decimal

    def is_off_peak(self, moment: dt.datetime) -> bool:
        clock = moment.astimezone(dt.UTC).time().replace(tzinfo=None)
        return not any(start <= clock < end for start, end in self.peak_hours_utc)


@dataclass(frozen=True)
class PriceEntry:
    effective_from: dt.datetime  # UTC
    source: str
    standard: Band
    long_context: Band | None = None
    long_context_above: int | None = None  # total input tokens per request
    time_of_day: TimeOfDay | None = None
    min_cacheable_tokens: int | None = None
    cache_storage_per_hour: Decimal | None = None
    notes: str | None = None
    overridden: frozenset[str] = frozenset()  # fields a user override file set
    origin: str | None = None  # the override file, None for the shipped registry

    def offers(self, service_tier: str) -> bool:
        return service_tier == "standard" or service_tier in self.standard.tiers

    def band_for(self, input_tokens_per_request: int | float) -> tuple[str, Band]:
        if (
            self.long_context is not None
            and self.long_context_above is not None
            and input_tokens_per_request > self.long_context_above
        ):
            return "long_context", self.long_context
        return "standard", self.standard

    def price(
        self, dimension: str, service_tier: str = "standard", band: str = "standard"
    ) -> Decimal | None:
        """Published price of one dimension, or None where the provider lists no such price.

        Raises PriceNotAvailableError where the tier is not offered, or where it is offered but
        this band has neither an explicit price nor a multiplier to derive one.
        """
        if service_tier not in SERVICE_TIERS:
            raise PriceNotAvailableError(
                f"unknown service tier {service_tier!r}; use one of {', '.join(SERVICE_TIERS)}"
            )
        chosen = self.long_context if band == "long_context" else self.standard
        if chosen is None:
            raise PriceNotAvailableError("this price entry has no long-context band")
        base = chosen.prices.get(dimension)
        if service_tier == "standard":
            return base
        if not self.offers(service_tier):
            raise PriceNotAvailableError(f"no {service_tier} tier is published")
        tier = chosen.tiers.get(service_tier)
        if tier is not None and tier.prices.get(dimension) is not None:
            return tier.prices[dimension]
        multiplier = (tier.multiplier if tier else None) or self.standard.tiers[
            service_tier
        ].multiplier
        if multiplier is None:
            if base is None:
                return None
            where = " above the long-context threshold" if band == "long_context" else ""
            raise PriceNotAvailableError(f"no {service_tier} price for {dimension}{where}")
        return None if base is None else base * multiplier


@dataclass(frozen=True)
class Model:
    id: str
    provider: str
    name: str | None
    tier: str | None
    aliases: tuple[str, ...]
    context_window: int | None
    max_output: int | None
    min_cacheable_tokens: int | None
    prices: tuple[PriceEntry, ...]
    released: dt.date | None = None
    deprecated: dt.date | None = None
    host: str | None = None
    notes: str | None = None
    origin: str | None = None  # set when the model comes from, or was changed by, an override
    # Which price layer the model comes from: "curated" (pricing/*.yaml), "generated" (the
    # shipped layer built from a public source), "updated" (`tokcli pricing update`), "override".
    layer: str = "curated"

    def entry_at(self, moment: dt.datetime) -> PriceEntry:
        """The price entry in force at `moment`: the last one whose effective_from <= moment."""
        current = None
        for entry in self.prices:
            if entry.effective_from <= moment:
                current = entry
            else:
                break
        if current is None:
            if not self.prices:
                raise PriceNotAvailableError(f"{self.id}: the registry records no price")
            first = self.prices[0].effective_from
            raise PriceNotAvailableError(
                f"{self.id}: no price in force on {moment:%Y-%m-%d}; "
                f"the first recorded price starts {first:%Y-%m-%d}"
            )
        return current

    def min_cacheable_at(self, entry: PriceEntry) -> int | None:
        return entry.min_cacheable_tokens or self.min_cacheable_tokens


def as_moment(value: dt.date | dt.datetime) -> dt.datetime:
    """A date means 00:00 UTC of that day; naive datetimes are UTC."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
