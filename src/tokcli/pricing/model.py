"""The registry's objects: models, their dated price entries, and how one price is resolved.

pricing/SCHEMA.md is the contract for the data; this module is its executable form.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from tokcli.errors import PriceNotAvailableError
from tokcli.frozen import Frozen as _Frozen
from tokcli.money import MONEY_CONTEXT

TIERS = ("flagship", "mid", "cheap", "reasoning", "open-weight")
SERVICE_TIERS = ("standard", "batch", "flex", "priority")
# Per-million-token price dimensions a band can carry.
DIMENSIONS = ("input", "output", "reasoning", "cache_read", "cache_write_5m", "cache_write_1h")

# Every command that prices anything imports these classes, so they are built cheaply: as
# dataclasses over tokcli.frozen's shared frozen-dataclass methods (see there). Each class
# writes its own __init__.


@dataclass(init=False, repr=False, eq=False)
class TierPricing(_Frozen):
    """Prices of a service tier (batch, flex, priority) inside one band."""

    multiplier: Decimal | None = None
    prices: dict[str, Decimal] = field(default_factory=dict)

    def __init__(
        self, multiplier: Decimal | None = None, prices: dict[str, Decimal] | None = None
    ) -> None:
        self.__dict__.update(multiplier=multiplier, prices={} if prices is None else prices)


@dataclass(init=False, repr=False, eq=False)
class Band(_Frozen):
    """One set of prices: the standard band, or the long-context band above a threshold."""

    prices: dict[str, Decimal | None]
    tiers: dict[str, TierPricing] = field(default_factory=dict)

    def __init__(
        self, prices: dict[str, Decimal | None], tiers: dict[str, TierPricing] | None = None
    ) -> None:
        self.__dict__.update(prices=prices, tiers={} if tiers is None else tiers)


@dataclass(init=False, repr=False, eq=False)
class TimeOfDay(_Frozen):
    """Peak hours in UTC; outside them every price is multiplied by `off_peak_multiplier`."""

    peak_hours_utc: tuple[tuple[dt.time, dt.time], ...]
    off_peak_multiplier: Decimal

    def __init__(
        self, peak_hours_utc: tuple[tuple[dt.time, dt.time], ...], off_peak_multiplier: Decimal
    ) -> None:
        self.__dict__.update(peak_hours_utc=peak_hours_utc, off_peak_multiplier=off_peak_multiplier)

    def is_off_peak(self, moment: dt.datetime) -> bool:
        clock = moment.astimezone(dt.UTC).time().replace(tzinfo=None)
        return not any(start <= clock < end for start, end in self.peak_hours_utc)


@dataclass(init=False, repr=False, eq=False)
class PriceEntry(_Frozen):
    """The prices of a model from one date on, with where they come from."""

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

    def __init__(
        self,
        effective_from: dt.datetime,
        source: str,
        standard: Band,
        long_context: Band | None = None,
        long_context_above: int | None = None,
        time_of_day: TimeOfDay | None = None,
        min_cacheable_tokens: int | None = None,
        cache_storage_per_hour: Decimal | None = None,
        notes: str | None = None,
        overridden: frozenset[str] = frozenset(),
        origin: str | None = None,
    ) -> None:
        self.__dict__.update(
            effective_from=effective_from,
            source=source,
            standard=standard,
            long_context=long_context,
            long_context_above=long_context_above,
            time_of_day=time_of_day,
            min_cacheable_tokens=min_cacheable_tokens,
            cache_storage_per_hour=cache_storage_per_hour,
            notes=notes,
            overridden=overridden,
            origin=origin,
        )

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
        # In MONEY_CONTEXT: a 30-decimal price times 0.5 has more digits than the default 28.
        return None if base is None else MONEY_CONTEXT.multiply(base, multiplier)


@dataclass(init=False, repr=False, eq=False)
class Model(_Frozen):
    """A model, its limits and its dated prices, oldest first."""

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

    def __init__(
        self,
        id: str,
        provider: str,
        name: str | None,
        tier: str | None,
        aliases: tuple[str, ...],
        context_window: int | None,
        max_output: int | None,
        min_cacheable_tokens: int | None,
        prices: tuple[PriceEntry, ...],
        released: dt.date | None = None,
        deprecated: dt.date | None = None,
        host: str | None = None,
        notes: str | None = None,
        origin: str | None = None,
        layer: str = "curated",
    ) -> None:
        self.__dict__.update(
            id=id,
            provider=provider,
            name=name,
            tier=tier,
            aliases=aliases,
            context_window=context_window,
            max_output=max_output,
            min_cacheable_tokens=min_cacheable_tokens,
            prices=prices,
            released=released,
            deprecated=deprecated,
            host=host,
            notes=notes,
            origin=origin,
            layer=layer,
        )

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
