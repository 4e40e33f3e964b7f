"""TC102 below-cache-minimum: the stable prefix is shorter than the model's minimum cacheable
length (from the pricing registry), so nothing is cached. Says whether reordering would cross
the minimum or whether the template never can."""

from __future__ import annotations

from tokcli.audit.findings import Finding, RuleInfo, Severity
from tokcli.audit.rules.base import Context, Rule

INFO = RuleInfo(
    "TC102",
    "below-cache-minimum",
    Severity.warning,
    "The stable prefix is shorter than the model's minimum cacheable length.",
)
# Front matter keys that show the author expects caching (then "never can" is worth saying).
CACHE_INTENT_KEYS = ("cache", "cache_control", "prompt_cache_key", "cached_content")


def check(ctx: Context):
    if ctx.pricing is None:
        yield from _without_model(ctx)
        return
    if not ctx.pricing.min_cacheable:
        return
    minimum = ctx.pricing.min_cacheable
    model = ctx.pricing.model.id
    prefix = ctx.stable_tokens(0)
    total = ctx.total_stable_tokens
    if prefix >= minimum:
        return
    if total >= minimum:
        first = ctx.layout.volatile[0]
        yield Finding(
            INFO,
            f"the stable prefix is {prefix:,} tokens, below {model}'s minimum cacheable length "
            f"({minimum:,}); moving the volatile values to the end gives a {total:,}-token "
            "prefix that crosses it",
            "Put all fixed instructions and documents first and every variable after them.",
            first.start,
            first.end,
            tokens=total,
            monthly_cost=ctx.monthly_cache_saving(total),
            overlaps="cache-breaking-prefix",
        )
    elif total * 2 >= minimum or _expects_caching(ctx):
        yield Finding(
            INFO,
            f"the template has {total:,} tokens of stable content in all, below {model}'s "
            f"minimum cacheable length ({minimum:,}): no reordering can make it cacheable",
            "Do not pay for cache writes on this prompt; or share one longer fixed prefix "
            "(tools, instructions, documents) across prompts so it crosses the minimum.",
            0,
            0,
            severity=Severity.info,
            tokens=total,
        )


def _without_model(ctx: Context):
    """No model: measured against 1,024 tokens, the smallest prompt OpenAI and Anthropic cache
    (as TC101 does). Only the case worth money is reported: reordering crosses the minimum.
    "No order can" needs the model's own minimum to be said, so it waits for -m. When TC101
    already reports a long stable run behind a variable, it says the same: one finding is
    enough. What is left is stable text spread over short runs that only adds up past the
    minimum once every variable is moved to the end."""
    from tokcli.audit.rules.cache_breaking_prefix import DEFAULT_CACHE_MINIMUM as MINIMUM

    if not ctx.layout.volatile or ctx.total_stable_tokens < MINIMUM:
        return
    prefix = ctx.stable_tokens(0)
    if prefix >= MINIMUM:
        return
    threshold = ctx.settings.stable_tokens
    runs = range(1, len(ctx.layout.stable))
    if any(ctx.stable_tokens_at_least(i, threshold) is not None for i in runs):
        return  # TC101 reports this template's hidden stable text
    total = ctx.total_stable_tokens
    first = ctx.layout.volatile[0]
    yield Finding(
        INFO,
        f"the stable prefix is {prefix:,} tokens, below {MINIMUM:,} (the smallest prompt OpenAI "
        f"and Anthropic cache); moving the volatile values to the end gives a {total:,}-token "
        "prefix that crosses it (give -m MODEL and a volume to price it)",
        "Put all fixed instructions and documents first and every variable after them.",
        first.start,
        first.end,
        tokens=total,
        overlaps="cache-breaking-prefix",
    )


def _expects_caching(ctx: Context) -> bool:
    return any(key in ctx.template.front_matter for key in CACHE_INTENT_KEYS)


RULE = Rule(INFO, check)
