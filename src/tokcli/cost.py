"""Cost math: usage + model + time + service tier -> an itemized, exact Decimal breakdown.

Every command that puts a dollar figure on tokens (estimate, audit, import, report, batch, tco)
calls `compute_cost` or `resolved_prices`; nothing else multiplies tokens by prices.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tokcli.errors import PriceNotAvailableError
from tokcli.frozen import Frozen
from tokcli.money import MILLION, MONEY_CONTEXT, ZERO, per_million, plain
from tokcli.pricing.model import SERVICE_TIERS, Model, PriceEntry, as_moment

# Usage bucket -> the price dimension it is billed at.
BUCKETS = (
    ("input_tokens", "input"),
    ("cache_read_tokens", "cache_read"),
    ("cache_write_5m_tokens", "cache_write_5m"),
    ("cache_write_1h_tokens", "cache_write_1h"),
    ("output_tokens", "output"),
    ("reasoning_tokens", "reasoning"),
)


# The classes below behave as @dataclass(frozen=True) but write their __init__ over the shared
# methods of tokcli.frozen: start-up (issue 17).


@dataclass(init=False, repr=False, eq=False)
class Usage(Frozen):
    """Token buckets, disjoint: `input_tokens` excludes cached and cache-written tokens, and
    `output_tokens` excludes reasoning tokens. `requests` is how many calls the buckets add up."""

    input_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    requests: int = 1

    def __init__(
        self,
        input_tokens: int = 0,
        cache_read_tokens: int = 0,
        cache_write_5m_tokens: int = 0,
        cache_write_1h_tokens: int = 0,
        output_tokens: int = 0,
        reasoning_tokens: int = 0,
        requests: int = 1,
    ) -> None:
        self.__dict__.update(
            input_tokens=input_tokens,
            cache_read_tokens=cache_read_tokens,
            cache_write_5m_tokens=cache_write_5m_tokens,
            cache_write_1h_tokens=cache_write_1h_tokens,
            output_tokens=output_tokens,
            reasoning_tokens=reasoning_tokens,
            requests=requests,
        )
        self.__post_init__()

    def __post_init__(self) -> None:
        for name in (*(b for b, _ in BUCKETS), "requests"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a whole number >= 0, not {value!r}")

    @property
    def total_input(self) -> int:
        return (
            self.input_tokens
            + self.cache_read_tokens
            + self.cache_write_5m_tokens
            + self.cache_write_1h_tokens
        )


@dataclass(init=False, repr=False, eq=False)
class CostLine(Frozen):
    """One usage bucket of a breakdown: its tokens, the price per million and the cost."""

    bucket: str
    tokens: int
    price_per_mtok: Decimal
    cost: Decimal
    note: str | None = None

    def __init__(
        self,
        bucket: str,
        tokens: int,
        price_per_mtok: Decimal,
        cost: Decimal,
        note: str | None = None,
    ) -> None:
        self.__dict__.update(
            bucket=bucket, tokens=tokens, price_per_mtok=price_per_mtok, cost=cost, note=note
        )


@dataclass(init=False, repr=False, eq=False)
class CostBreakdown(Frozen):
    """The cost of some usage on one model at one moment and tier, line by line, with the
    price entry it was priced at."""

    model: str
    provider: str
    service_tier: str
    at: dt.datetime
    effective_from: dt.datetime
    source: str
    band: str  # "standard" or "long_context"
    off_peak: bool
    lines: tuple[CostLine, ...]
    total: Decimal
    notes: tuple[str, ...] = field(default=())
    layer: str = "curated"  # the price layer the model came from (see pricing/layers.py)

    def __init__(
        self,
        model: str,
        provider: str,
        service_tier: str,
        at: dt.datetime,
        effective_from: dt.datetime,
        source: str,
        band: str,
        off_peak: bool,
        lines: tuple[CostLine, ...],
        total: Decimal,
        notes: tuple[str, ...] = (),
        layer: str = "curated",
    ) -> None:
        self.__dict__.update(
            model=model,
            provider=provider,
            service_tier=service_tier,
            at=at,
            effective_from=effective_from,
            source=source,
            band=band,
            off_peak=off_peak,
            lines=lines,
            total=total,
            notes=notes,
            layer=layer,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "provider": self.provider,
            "service_tier": self.service_tier,
            "at": self.at.isoformat(),
            "effective_from": self.effective_from.isoformat(),
            "source": self.source,
            "layer": self.layer,
            "band": self.band,
            "off_peak": self.off_peak,
            "currency": "USD",
            "lines": [
                {
                    "bucket": line.bucket,
                    "tokens": line.tokens,
                    "price_per_mtok": plain(line.price_per_mtok),
                    "cost": plain(line.cost),
                    "note": line.note,
                }
                for line in self.lines
            ],
            "total": plain(self.total),
            "notes": list(self.notes),
        }


@dataclass(init=False, repr=False, eq=False)
class ResolvedPrices(Frozen):
    """Per-MTok prices after band, tier, fallback and time-of-day rules: what each bucket costs."""

    entry: PriceEntry
    band: str
    off_peak: bool
    prices: dict[str, Decimal]
    fallbacks: dict[str, str]  # dimension -> the dimension whose price it borrowed

    def __init__(
        self,
        entry: PriceEntry,
        band: str,
        off_peak: bool,
        prices: dict[str, Decimal],
        fallbacks: dict[str, str],
    ) -> None:
        self.__dict__.update(
            entry=entry, band=band, off_peak=off_peak, prices=prices, fallbacks=fallbacks
        )


def resolved_prices(
    model: Model,
    at: dt.date | dt.datetime,
    service_tier: str = "standard",
    input_tokens_per_request: int | float = 0,
    needed: set[str] | None = None,
) -> ResolvedPrices:
    """The effective price of every bucket for one model, moment, tier and request size.

    A date (not a datetime) is priced at the provider's peak / list rate; a datetime also
    applies time-of-day discounts. With `needed`, a dimension outside it that has no price is
    left out instead of failing (a batch tier listed for input and output only still prices a
    call with no cache tokens).
    """
    if service_tier not in SERVICE_TIERS:
        raise PriceNotAvailableError(
            f"unknown service tier {service_tier!r}; use one of {', '.join(SERVICE_TIERS)}"
        )
    moment = as_moment(at)
    entry = model.entry_at(moment)
    if not entry.offers(service_tier):
        raise PriceNotAvailableError(
            f"{model.id}: no {service_tier} tier is published (entry of "
            f"{entry.effective_from:%Y-%m-%d}, {entry.source})"
        )
    band, _ = entry.band_for(input_tokens_per_request)
    prices: dict[str, Decimal] = {}
    fallbacks: dict[str, str] = {}
    try:
        for _, dim in BUCKETS:
            if needed is not None and dim not in needed:
                try:
                    entry.price(dim, service_tier, band)
                except PriceNotAvailableError:
                    continue
            price = entry.price(dim, service_tier, band)
            if price is None:
                # No separate price: cache tokens bill as input, reasoning as output.
                borrowed = "output" if dim == "reasoning" else "input"
                price = entry.price(borrowed, service_tier, band)
                if dim != "input" and dim != "output":
                    fallbacks[dim] = borrowed
            if price is None:
                if needed is not None and dim not in needed:
                    continue
                raise PriceNotAvailableError(f"no {dim} price")
            prices[dim] = price
    except PriceNotAvailableError as exc:
        raise PriceNotAvailableError(f"{model.id}: {exc}") from None
    off_peak = bool(
        entry.time_of_day and isinstance(at, dt.datetime) and entry.time_of_day.is_off_peak(moment)
    )
    if off_peak:
        factor = entry.time_of_day.off_peak_multiplier  # type: ignore[union-attr]
        prices = {dim: MONEY_CONTEXT.multiply(price, factor) for dim, price in prices.items()}
    return ResolvedPrices(entry, band, off_peak, prices, fallbacks)


def layer_note(model: Model, entry: PriceEntry) -> str:
    """Where a price not reviewed by hand comes from, for estimate and audit notes."""
    what = {
        "generated": "the generated price layer",
        "updated": "your updated price layer (tokcli pricing update)",
        "override": f"the override file {model.origin}",
    }.get(model.layer, f"the {model.layer} layer")
    return f"{model.id}: price from {what}; source: {entry.source}"


def input_per_request(usage: Usage) -> float:
    """What chooses the long-context band: the input tokens of one request, on average."""
    return counts_per_request(bucket_counts(usage), usage.requests)


def counts_per_request(counts: tuple[int, ...], requests: int) -> float:
    """`input_per_request` from bucket_counts: the four input buckets (input, cache read,
    cache writes) over the requests."""
    return (counts[0] + counts[1] + counts[2] + counts[3]) / max(requests, 1)


def needed_dimensions(usage: Usage) -> set[str]:
    """The price dimensions `usage` has tokens in (`resolved_prices(needed=...)`)."""
    return {dim for bucket, dim in BUCKETS if getattr(usage, bucket)}


def total_cost(usage: Usage, resolved: ResolvedPrices) -> Decimal:
    """`compute_cost(...).total` from prices already resolved for this usage's model, day, tier,
    band and needed dimensions: the same products, summed in the same order. For callers that
    price many rows sharing those (an import resolves each combination once)."""
    counts = bucket_counts(usage)
    return planned_total(counts, billing_plan(resolved, tuple(map(bool, counts))))


def bucket_counts(usage: Any) -> tuple[int, ...]:
    """The token count of each bucket of BUCKETS, in order, from a Usage or anything with the
    same attributes (a stored usage record)."""
    return tuple([getattr(usage, bucket) for bucket, _ in BUCKETS])


BillingPlan = tuple[tuple[int, Decimal], ...]


def billing_plan(resolved: ResolvedPrices, has_tokens: tuple[bool, ...]) -> BillingPlan:
    """(index in BUCKETS, price) of each bucket billed, in BUCKETS order, for usage whose
    buckets hold tokens as `has_tokens` says: any with tokens, and input and output always when
    they have a price. One plan serves every row of a model, day, tier, band and set of buckets
    with tokens."""
    return tuple(
        (index, resolved.prices[dim])
        for index, (_, dim) in enumerate(BUCKETS)
        if has_tokens[index] or (dim in ("input", "output") and dim in resolved.prices)
    )


def planned_total(counts: tuple[int, ...], plan: BillingPlan) -> Decimal:
    """The cost of `counts` (bucket_counts) on a billing plan: `per_million` of each bucket,
    added from ZERO in plan order in MONEY_CONTEXT, as `compute_cost` adds its lines; one context
    for the whole row instead of one per product."""
    total = ZERO
    with decimal.localcontext(MONEY_CONTEXT):
        for index, price in plan:
            total += Decimal(counts[index]) * price / MILLION
    return total


def _priced_buckets(
    usage: Usage, resolved: ResolvedPrices
) -> Iterator[tuple[str, str, int, Decimal, Decimal]]:
    """(bucket, dimension, tokens, price, cost) of each bucket billed (`billing_plan`)."""
    counts = bucket_counts(usage)
    for index, price in billing_plan(resolved, tuple(map(bool, counts))):
        bucket, dim = BUCKETS[index]
        yield bucket, dim, counts[index], price, per_million(counts[index], price)


def _sum(costs: Iterable[Decimal]) -> Decimal:
    total = ZERO
    with decimal.localcontext(MONEY_CONTEXT):
        for cost in costs:
            total += cost
    return total


def compute_cost(
    usage: Usage,
    model: Model,
    at: dt.date | dt.datetime,
    service_tier: str = "standard",
) -> CostBreakdown:
    """Price `usage` exactly. Long-context bands are chosen per request (total input / requests),
    and apply to every bucket of the request, as the providers bill them."""
    resolved = resolved_prices(
        model, at, service_tier, input_per_request(usage), needed_dimensions(usage)
    )
    lines = []
    for bucket, dim, tokens, price, cost in _priced_buckets(usage, resolved):
        note = None
        if dim in resolved.fallbacks:
            note = f"no separate {dim} price: billed as {resolved.fallbacks[dim]}"
        lines.append(CostLine(bucket.removesuffix("_tokens"), tokens, price, cost, note))
    total = _sum(line.cost for line in lines)
    notes = []
    if model.layer != "curated":
        notes.append(layer_note(model, resolved.entry))
    if resolved.band == "long_context":
        notes.append(
            f"long-context prices: more than {resolved.entry.long_context_above:,} input "
            "tokens per request, applied to the whole request"
        )
    if resolved.off_peak:
        notes.append("off-peak prices (time of day, UTC)")
    elif resolved.entry.time_of_day and not isinstance(at, dt.datetime):
        notes.append("priced at peak rates: give a time of day for off-peak prices")
    if usage.requests > 1 and resolved.entry.long_context is not None:
        notes.append("long-context band chosen from the average input per request")
    return CostBreakdown(
        model=model.id,
        provider=model.provider,
        service_tier=service_tier,
        at=as_moment(at),
        effective_from=resolved.entry.effective_from,
        source=resolved.entry.source,
        band=resolved.band,
        off_peak=resolved.off_peak,
        lines=tuple(lines),
        total=total,
        notes=tuple(notes),
        layer=model.layer,
    )
