"""The cost of one call of a given shape: input (with a cached prefix), output, reasoning.

All prices come from `tokcli.cost.compute_cost`; this module only decides which token goes in
which bucket. With a cache hit rate R, a call is a hit (prefix read from cache) with
probability R and a miss (prefix written to cache) otherwise, so the cost per call is the
exact expectation R x hit + (1 - R) x miss.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass, field
from decimal import Decimal

from tokcli.cost import CostBreakdown, Usage, compute_cost
from tokcli.errors import OptionError, TokcliError
from tokcli.frozen import Frozen
from tokcli.money import MONEY_CONTEXT, ZERO, plain
from tokcli.pricing.model import Model, as_moment

DEFAULT_OUTPUT_TOKENS = 500
CACHE_TTLS = ("5m", "1h")
ONE = Decimal(1)


# As @dataclass(frozen=True), with __init__ written out: see tokcli.frozen (start-up).
@dataclass(init=False, repr=False, eq=False)
class CallShape(Frozen):
    """What one call sends and receives, in tokens."""

    input_tokens: int  # all input, the cached prefix included
    output_tokens: int  # visible output
    reasoning_tokens: int = 0  # hidden reasoning, billed as the model bills it
    prefix_tokens: int = 0  # the stable prefix that caching may serve
    cache_hit_rate: Decimal = ZERO  # share of calls that find the prefix in the cache
    cache_ttl: str = "5m"
    # Whether the prefix is marked for caching at all. None: only when some calls hit. A hit
    # rate of 0 with caching on means every call writes the prefix and pays the write price.
    caching: bool | None = None

    def __init__(
        self,
        input_tokens: int,
        output_tokens: int,
        reasoning_tokens: int = 0,
        prefix_tokens: int = 0,
        cache_hit_rate: Decimal = ZERO,
        cache_ttl: str = "5m",
        caching: bool | None = None,
    ) -> None:
        self.__dict__.update(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            reasoning_tokens=reasoning_tokens,
            prefix_tokens=prefix_tokens,
            cache_hit_rate=cache_hit_rate,
            cache_ttl=cache_ttl,
            caching=caching,
        )

    @property
    def caches(self) -> bool:
        return self.caching if self.caching is not None else self.cache_hit_rate > 0


@dataclass(init=False, repr=False, eq=False)
class CostItem(Frozen):
    """One bucket of the expected cost per call (tokens may be fractional: an expectation)."""

    bucket: str
    tokens: Decimal
    price_per_mtok: Decimal
    cost: Decimal

    def __init__(
        self,
        bucket: str,
        tokens: Decimal,
        price_per_mtok: Decimal,
        cost: Decimal,
    ) -> None:
        self.__dict__.update(bucket=bucket, tokens=tokens, price_per_mtok=price_per_mtok, cost=cost)

    def to_dict(self) -> dict:
        return {
            "bucket": self.bucket,
            "tokens": plain(self.tokens),
            "price_per_mtok": plain(self.price_per_mtok),
            "cost": plain(self.cost),
        }


@dataclass(init=False, repr=False, eq=False)
class CallCost(Frozen):
    """The price of one call of a given shape on one model: the cost per call and its items."""

    model: Model
    shape: CallShape
    service_tier: str
    cached_prefix_tokens: int  # prefix actually cached (0 when below the model's minimum)
    cost_per_call: Decimal
    items: tuple[CostItem, ...]
    effective_from: dt.datetime
    source: str
    notes: tuple[str, ...] = field(default=())

    def __init__(
        self,
        model: Model,
        shape: CallShape,
        service_tier: str,
        cached_prefix_tokens: int,
        cost_per_call: Decimal,
        items: tuple[CostItem, ...],
        effective_from: dt.datetime,
        source: str,
        notes: tuple[str, ...] = (),
    ) -> None:
        self.__dict__.update(
            model=model,
            shape=shape,
            service_tier=service_tier,
            cached_prefix_tokens=cached_prefix_tokens,
            cost_per_call=cost_per_call,
            items=items,
            effective_from=effective_from,
            source=source,
            notes=notes,
        )


def parse_at(value: str | None, today: dt.date) -> dt.date | dt.datetime:
    """`at`: a date (peak/list prices), a UTC moment, or a time of day today (UTC)."""
    if value is None:
        return today
    text = value.strip().replace("T", " ").removesuffix("Z").removesuffix(" UTC").strip()
    try:
        if ":" not in text:
            return dt.date.fromisoformat(text)
        if " " not in text:
            clock = dt.time.fromisoformat(text)
            return dt.datetime.combine(today, clock, tzinfo=dt.UTC)
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise OptionError(
            "{at}: expected YYYY-MM-DD, 'YYYY-MM-DD HH:MM' or HH:MM (UTC), got {value!r}",
            value=value,
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def price_call(model: Model, at: dt.date, shape: CallShape, service_tier: str = "standard"):
    """Expected cost of one call of `shape` on `model` at the prices in force on `at`."""
    if shape.cache_ttl not in CACHE_TTLS:
        raise TokcliError(f"cache TTL must be one of {', '.join(CACHE_TTLS)}")
    notes: list[str] = []
    prefix = cacheable_prefix(model, at, shape, notes)
    uncached = shape.input_tokens - prefix
    hit_rate = shape.cache_hit_rate if prefix else ZERO
    if prefix and hit_rate == 0:
        notes.append("cache hit rate 0: every call writes the prefix to the cache")
    scenarios: list[tuple[Decimal, CostBreakdown]] = []
    write_bucket = f"cache_write_{shape.cache_ttl}_tokens"
    if hit_rate > 0:
        hit = Usage(
            input_tokens=uncached,
            cache_read_tokens=prefix,
            output_tokens=shape.output_tokens,
            reasoning_tokens=shape.reasoning_tokens,
        )
        scenarios.append((hit_rate, compute_cost(hit, model, at, service_tier)))
    if hit_rate < 1:
        miss = Usage(
            input_tokens=uncached,
            output_tokens=shape.output_tokens,
            reasoning_tokens=shape.reasoning_tokens,
            **({write_bucket: prefix} if prefix else {}),
        )
        scenarios.append((ONE - hit_rate, compute_cost(miss, model, at, service_tier)))
    items = _expected_items(scenarios)
    with decimal.localcontext(MONEY_CONTEXT):
        total = sum((weight * b.total for weight, b in scenarios), ZERO)
    first = scenarios[0][1]
    for note in first.notes:
        if note not in notes:
            notes.append(note)
    return CallCost(
        model,
        shape,
        service_tier,
        prefix,
        total,
        items,
        first.effective_from,
        first.source,
        tuple(notes),
    )


def cacheable_prefix(model: Model, at: dt.date, shape: CallShape, notes: list[str]) -> int:
    """How much of the prefix the provider would cache: none below its minimum length."""
    prefix = min(shape.prefix_tokens, shape.input_tokens)
    if prefix == 0 or not shape.caches:
        return 0  # caching is not asked for: no cache_control, no write premium
    minimum = model.min_cacheable_at(model.entry_at(as_moment(at)))
    if minimum is None:
        notes.append(f"{model.id}: minimum cacheable length not published; not enforced")
    elif prefix < minimum:
        notes.append(
            f"{model.id}: cached prefix of {prefix:,} tokens is below the minimum cacheable "
            f"{minimum:,}: not cached"
        )
        return 0
    return prefix


def _expected_items(scenarios: list[tuple[Decimal, CostBreakdown]]) -> tuple[CostItem, ...]:
    """Merge the hit and miss breakdowns into expected tokens and cost per bucket."""
    merged: dict[str, list[Decimal]] = {}
    prices: dict[str, Decimal] = {}
    with decimal.localcontext(MONEY_CONTEXT):
        for weight, breakdown in scenarios:
            for line in breakdown.lines:
                tokens_cost = merged.setdefault(line.bucket, [ZERO, ZERO])
                tokens_cost[0] += weight * line.tokens
                tokens_cost[1] += weight * line.cost
                prices[line.bucket] = line.price_per_mtok
    return tuple(
        CostItem(bucket, tokens, prices[bucket], cost) for bucket, (tokens, cost) in merged.items()
    )
