"""The cost levers applied backwards to recorded usage: what each group would have paid with
prompt caching at the target hit rate, on the batch tier, or on a cheaper model.

Every figure is the list price (USD) of the period's tokens, through `tokcli.cost` (nothing here
multiplies tokens by prices), scaled to a month by `Period.monthly_factor`. Savings of several
levers on the same usage are combined one after another (cache, then batch, then routing), as
`estimate --workload` does, never added.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
from dataclasses import dataclass
from decimal import Decimal

from tokcli.advise.model import Period, Recommendation
from tokcli.cost import Usage, compute_cost, resolved_prices
from tokcli.errors import TokcliError
from tokcli.money import MONEY_CONTEXT, ZERO, display
from tokcli.pricing.model import Model
from tokcli.store.advice import Cell, Tokens

# Providers' minimum cacheable prompt when the registry records none (OpenAI and Anthropic's
# smallest published minimum).
DEFAULT_MIN_CACHEABLE = 1024
# "Short calls" for the routing lever: a frontier model answering small prompts briefly.
SHORT_PROMPT_TOKENS = 1500
SHORT_ANSWER_TOKENS = 300
ONE_TIER_DOWN = {"flagship": "mid", "reasoning": "mid"}
NIGHT_HOURS = range(0, 6)  # UTC
NIGHTLY_SHARE = Decimal("0.8")
FLAT_PEAK_TO_MEAN = Decimal("1.5")
REASONING_DOMINATES = Decimal("0.5")


@dataclass(frozen=True)
class Settings:
    target_hit_rate: Decimal
    batchable_features: frozenset[str]
    priced_on: dt.date  # prices in force on the period's last day


def usage_of(tokens: Tokens) -> Usage:
    return Usage(
        input_tokens=tokens.input_tokens,
        cache_read_tokens=tokens.cache_read_tokens,
        cache_write_5m_tokens=tokens.cache_write_5m_tokens,
        cache_write_1h_tokens=tokens.cache_write_1h_tokens,
        output_tokens=tokens.output_tokens,
        reasoning_tokens=tokens.reasoning_tokens,
        requests=max(tokens.requests, 1),
    )


def price(usage: Usage, model: Model, settings: Settings, tier: str) -> Decimal:
    return compute_cost(usage, model, settings.priced_on, tier).total


@dataclass
class CellPlan:
    """A cell's usage as the levers change it, lever after lever."""

    usage: Usage
    model: Model
    tier: str


def _money(amount: Decimal) -> str:
    return display(amount)


def _percent(share: Decimal) -> str:
    return f"{(share * 100).quantize(Decimal('0.1'))}%"


def _label(cell: Cell, group_by: tuple[str, ...]) -> dict[str, str | None]:
    return dict(zip(group_by, cell.group, strict=True))


def cache_lever(
    cell: Cell, plan: CellPlan, settings: Settings, period: Period, group_by
) -> list[Recommendation]:
    """Reads at the target hit rate instead of uncached input; and writes never read back."""
    usage, model = plan.usage, plan.model
    prompt = usage.total_input
    if not prompt or cell.tokens.requests <= 0:
        return []
    per_request = Decimal(prompt) / Decimal(cell.tokens.requests)
    # The same per-request average compute_cost chooses the long-context band from.
    prices = resolved_prices(model, settings.priced_on, plan.tier, prompt / cell.tokens.requests)
    if prices.prices["cache_read"] >= prices.prices["input"]:
        return []  # no discount for cached reads on this model
    minimum = model.min_cacheable_at(prices.entry) or DEFAULT_MIN_CACHEABLE
    found = []
    with decimal.localcontext(MONEY_CONTEXT):
        hit = Decimal(usage.cache_read_tokens) / Decimal(prompt)
        writes = usage.cache_write_5m_tokens + usage.cache_write_1h_tokens
        ratio = (
            (Decimal(writes) / Decimal(usage.cache_read_tokens))
            if usage.cache_read_tokens
            else None
        )
        details = {
            "hit_rate": hit,
            "target_hit_rate": settings.target_hit_rate,
            "write_read_ratio": ratio,
            "prompt_tokens_per_request": per_request.quantize(Decimal(1)),
            "min_cacheable_tokens": minimum,
        }
        if hit < settings.target_hit_rate and per_request >= minimum:
            wanted = int(settings.target_hit_rate * prompt) - usage.cache_read_tokens
            after = _more_reads(usage, wanted)
            moved = after.cache_read_tokens - usage.cache_read_tokens
            if moved > 0:
                saving = price(usage, model, settings, plan.tier) - price(
                    after, model, settings, plan.tier
                )
                monthly = period.monthly(saving)
                found.append(
                    Recommendation(
                        lever="cache",
                        title=(
                            f"Cache the stable prompt prefix: hit rate {_percent(hit)} -> "
                            f"{_percent(settings.target_hit_rate)}"
                        ),
                        group=_label(cell, group_by),
                        model=model.id,
                        monthly_saving=monthly,
                        arithmetic=(
                            f"{moved:,} of {prompt:,} prompt tokens move from input "
                            f"(${prices.prices['input']}/MTok) or cache writes to cache reads "
                            f"(${prices.prices['cache_read']}/MTok): {_money(saving)} over "
                            f"{period.days} days x {period.monthly_factor:.4f} = "
                            f"{_money(monthly)}/month; "
                            "before the writes that fill the cache"
                        ),
                        rows=cell.rows,
                        requests=cell.tokens.requests,
                        confidence="medium",
                        caveat="needs a prefix that is the same on every call, placed first",
                        details=details,
                    )
                )
                plan.usage = after
        if not found and writes > usage.cache_read_tokens:
            unread = writes - usage.cache_read_tokens
            premium = _write_premium(usage, prices.prices, unread, writes)
            if premium > 0:
                monthly = period.monthly(premium)
                found.append(
                    Recommendation(
                        lever="cache-churn",
                        title=(
                            f"Cache written more than read ({writes:,} written, "
                            f"{usage.cache_read_tokens:,} read): entries expire before reuse"
                        ),
                        group=_label(cell, group_by),
                        model=model.id,
                        monthly_saving=monthly,
                        arithmetic=(
                            f"{unread:,} written tokens never read back pay the write premium "
                            f"over input: {_money(premium)} over {period.days} days = "
                            f"{_money(monthly)}/month"
                        ),
                        rows=cell.rows,
                        requests=cell.tokens.requests,
                        confidence="low",
                        caveat="stabilise the prefix, or stop marking volatile blocks for caching",
                        details=details,
                    )
                )
    return found


def _more_reads(usage: Usage, wanted: int) -> Usage:
    """`usage` with up to `wanted` more tokens read from the cache: taken from uncached input
    first, then from cache writes (a prefix read back instead of written again)."""
    buckets = ["input_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens"]
    changes: dict[str, int] = {}
    moved = 0
    for bucket in buckets:
        take = max(0, min(wanted - moved, getattr(usage, bucket)))
        changes[bucket] = getattr(usage, bucket) - take
        moved += take
    return dataclasses.replace(usage, **changes, cache_read_tokens=usage.cache_read_tokens + moved)


def _write_premium(usage: Usage, prices: dict[str, Decimal], unread: int, writes: int) -> Decimal:
    """The premium over input paid on `unread` of the `writes` written tokens (TTL mix kept)."""
    premium = (
        Decimal(usage.cache_write_5m_tokens) * (prices["cache_write_5m"] - prices["input"])
        + Decimal(usage.cache_write_1h_tokens) * (prices["cache_write_1h"] - prices["input"])
    ) / Decimal(1_000_000)
    return premium * Decimal(unread) / Decimal(writes)


def _traffic_shape(cell: Cell) -> str | None:
    """'nightly' or 'flat' from requests per UTC hour, when rows say the hour; else None."""
    by_hour = cell.requests_by_hour
    total = sum(by_hour)
    if total < 24:
        return None
    night = sum(by_hour[h] for h in NIGHT_HOURS)
    if Decimal(night) / Decimal(total) >= NIGHTLY_SHARE:
        return "nightly"
    mean = Decimal(total) / 24
    if all(by_hour) and Decimal(max(by_hour)) / mean <= FLAT_PEAK_TO_MEAN:
        return "flat"
    return None


def batch_lever(
    cell: Cell, plan: CellPlan, settings: Settings, period: Period, group_by
) -> list[Recommendation]:
    if plan.tier != "standard":
        return []
    group = _label(cell, group_by)
    feature = group.get("feature")
    shape = _traffic_shape(cell)
    if feature is not None and feature in settings.batchable_features:
        why, confidence = f"feature {feature!r} is marked batchable in the config", "high"
    elif shape == "nightly":
        why, confidence = (
            f"{_percent(_night_share(cell))} of its calls run 00:00-06:00 UTC",
            "medium",
        )
    elif shape == "flat":
        why, confidence = "its calls are spread evenly over the day (no one waits on them)", "low"
    else:
        return []
    entry = plan.model.entry_at(dt.datetime.combine(settings.priced_on, dt.time(), dt.UTC))
    if not entry.offers("batch"):
        return []
    standard = price(plan.usage, plan.model, settings, "standard")
    batch = price(plan.usage, plan.model, settings, "batch")
    saving = standard - batch
    if saving <= 0:
        return []
    monthly = period.monthly(saving)
    plan.tier = "batch"
    return [
        Recommendation(
            lever="batch",
            title="Move to the batch tier",
            group=group,
            model=plan.model.id,
            monthly_saving=monthly,
            arithmetic=(
                f"standard {_money(standard)} -> batch {_money(batch)} over {period.days} days "
                f"x {period.monthly_factor:.4f} = {_money(monthly)}/month; {why}"
            ),
            rows=cell.rows,
            requests=cell.tokens.requests,
            confidence=confidence,
            caveat="results arrive within 24 hours",
            details={"reason": why, "traffic": shape},
        )
    ]


def _night_share(cell: Cell) -> Decimal:
    total = sum(cell.requests_by_hour)
    return Decimal(sum(cell.requests_by_hour[h] for h in NIGHT_HOURS)) / Decimal(total)


def routing_lever(
    cell: Cell, plan: CellPlan, settings: Settings, period: Period, group_by, candidates
) -> list[Recommendation]:
    """A frontier model on short calls, priced on the cheapest model one tier down."""
    model = plan.model
    lower_tier = ONE_TIER_DOWN.get(model.tier or "")
    requests = cell.tokens.requests
    if lower_tier is None or requests <= 0:
        return []
    prompt = Decimal(plan.usage.total_input) / requests
    answer = Decimal(plan.usage.output_tokens + plan.usage.reasoning_tokens) / requests
    if prompt > SHORT_PROMPT_TOKENS or answer > SHORT_ANSWER_TOKENS:
        return []
    current = price(plan.usage, model, settings, plan.tier)
    best: tuple[Decimal, Model] | None = None
    for other in candidates:
        if other.provider != model.provider or other.host != model.host or other.tier != lower_tier:
            continue
        if other.deprecated is not None and other.deprecated <= settings.priced_on:
            continue
        try:
            cost = price(plan.usage, other, settings, plan.tier)
        except TokcliError:
            continue  # no price on that day or tier
        if best is None or cost < best[0]:
            best = (cost, other)
    if best is None or best[0] >= current:
        return []
    cost, target = best
    saving = current - cost
    monthly = period.monthly(saving)
    plan.model = target
    return [
        Recommendation(
            lever="routing",
            title=f"Route these short calls to {target.id} (check quality first)",
            group=_label(cell, group_by),
            model=model.id,
            monthly_saving=monthly,
            arithmetic=(
                f"{requests:,} calls averaging {prompt:.0f} prompt and {answer:.0f} output tokens: "
                f"{model.id} {_money(current)} -> {target.id} {_money(cost)} over {period.days} "
                f"days x {period.monthly_factor:.4f} = {_money(monthly)}/month"
            ),
            rows=cell.rows,
            requests=requests,
            confidence="low",
            caveat="check quality first: run your evaluation set on the cheaper model",
            details={"to_model": target.id, "from_tier": model.tier, "to_tier": lower_tier},
        )
    ]


def reasoning_lever(
    cell: Cell, plan: CellPlan, settings: Settings, period: Period, group_by
) -> list[Recommendation]:
    """Reasoning tokens dominating the output: what halving them would save (an estimate)."""
    usage = plan.usage
    produced = usage.output_tokens + usage.reasoning_tokens
    if not usage.reasoning_tokens or produced == 0:
        return []
    share = Decimal(usage.reasoning_tokens) / Decimal(produced)
    if share < REASONING_DOMINATES:
        return []
    halved = dataclasses.replace(usage, reasoning_tokens=usage.reasoning_tokens // 2)
    saving = price(usage, plan.model, settings, plan.tier) - price(
        halved, plan.model, settings, plan.tier
    )
    monthly = period.monthly(saving)
    return [
        Recommendation(
            lever="reasoning",
            title=(
                f"Reasoning tokens are {_percent(share)} of the output: lower the reasoning effort"
            ),
            group=_label(cell, group_by),
            model=plan.model.id,
            monthly_saving=monthly,
            arithmetic=(
                f"if a lower effort halves {usage.reasoning_tokens:,} reasoning tokens: "
                f"{_money(saving)} over {period.days} days = {_money(monthly)}/month"
            ),
            rows=cell.rows,
            requests=cell.tokens.requests,
            confidence="low",
            caveat="the halving is an assumption: measure on a sample first",
            details={"reasoning_share": share},
        )
    ]


def total(values) -> Decimal:
    with decimal.localcontext(MONEY_CONTEXT):
        return sum(values, ZERO)


def commit_lever(
    monthly: dict[tuple[str, str], Decimal], until: dt.date, discount: Decimal
) -> list[Recommendation]:
    """Committed use against pay-as-you-go, per provider, from its last full months of list
    spend (at least two): commit the lowest month less the discount, so no month would have
    wasted any of it, and price the latest month on it (`tco commit`'s arithmetic)."""
    from tokcli.tco.commit import evaluate

    last_full = (
        until
        if (until + dt.timedelta(days=1)).day == 1
        else until.replace(day=1) - dt.timedelta(days=1)
    )
    cutoff = f"{last_full:%Y-%m}"
    found = []
    for provider in sorted({p for p, _ in monthly}):
        months = sorted(
            (m, cost) for (p, m), cost in monthly.items() if p == provider and m <= cutoff
        )
        recent = months[-3:]
        if len(recent) < 2 or not provider:
            continue
        spends = [cost for _, cost in recent]
        with decimal.localcontext(MONEY_CONTEXT):
            commitment = (min(spends) * (1 - discount)).quantize(
                Decimal("0.01"), decimal.ROUND_DOWN
            )
            scenario = evaluate(commitment, discount, spends[-1], "all")
        if scenario.saving <= 0:
            continue
        falling = spends[-1] < spends[0]
        history = ", ".join(f"{month} {_money(cost)}" for month, cost in recent)
        off = _percent(discount)
        found.append(
            Recommendation(
                lever="commit",
                title=f"Commit {_money(commitment)}/month with {provider} at {off} off",
                group={"provider": provider},
                model=None,
                monthly_saving=scenario.saving,
                arithmetic=(
                    f"list spend {history}: a commitment of the lowest month less {off} = "
                    f"{_money(commitment)}; the latest month billed "
                    f"{_money(scenario.committed_cost)} instead of {_money(spends[-1])}"
                ),
                rows=0,
                requests=0,
                confidence="low" if falling else "medium",
                caveat="spend is falling: a commitment may go unused"
                if falling
                else "check the discount your provider actually offers",
                details={
                    "months": {m: c for m, c in recent},
                    "commitment": commitment,
                    "discount": discount,
                    "verdict": scenario.verdict,
                },
            )
        )
    return found
