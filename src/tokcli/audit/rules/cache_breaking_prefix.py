"""TC101 cache-breaking-prefix: a value that changes per call sits before stable content.

Providers cache the longest unchanged prefix. Volatile element i hides the stable run after it
(up to the next volatile element): moving elements 1..i to the end makes that run part of the
cacheable prefix. Counting run by run makes the findings of one template add up exactly to the
saving of moving every volatile value to the end.
"""

from __future__ import annotations

from tokcli.audit.findings import Finding, RuleInfo, Severity
from tokcli.audit.rules.base import Context, Rule, quote

INFO = RuleInfo(
    "TC101",
    "cache-breaking-prefix",
    Severity.error,
    "A volatile value (time, date, id, random, counter or any template variable) is placed "
    "before stable content, so that content is never served from the prompt cache.",
)
WHAT = {
    "time": "the current time",
    "date": "a date",
    "id": "an id",
    "random": "a random value",
    "counter": "a counter",
    "user": "a per-user value",
    "variable": "a template variable",
    "logic": "template logic",
}


# Without a model: the smallest prompt OpenAI and Anthropic cache (1,024 tokens). A template
# variable may be fixed per deployment, so it is only worth reporting when the stable text it
# hides could be cached at all; a time, date, id or random value changes on every call.
DEFAULT_CACHE_MINIMUM = 1024
PER_CALL = {"time", "date", "id", "random", "counter", "user"}


def check(ctx: Context):
    layout = ctx.layout
    if not layout.volatile:
        return
    minimum = ctx.pricing.min_cacheable or 0 if ctx.pricing else 0
    if not minimum:  # every run counts on its own: tokenise only the runs long enough to report
        for index, element in enumerate(layout.volatile, start=1):
            threshold = ctx.settings.stable_tokens
            if ctx.pricing is None and not _per_call(element):
                threshold = max(threshold, _stable_after(ctx, index, DEFAULT_CACHE_MINIMUM))
            run = ctx.stable_tokens_at_least(index, threshold)
            if run is not None:
                yield _finding(ctx, element, run, (0, run), run, 0)
        return
    prefix = ctx.stable_tokens(0)
    cacheable_before = prefix if prefix >= minimum else 0
    for index, element in enumerate(layout.volatile, start=1):
        run = ctx.stable_tokens(index)
        prefix += run
        cacheable_after = prefix if prefix >= minimum else 0
        if run >= ctx.settings.stable_tokens:
            yield _finding(ctx, element, run, (cacheable_before, cacheable_after), prefix, minimum)
        cacheable_before = cacheable_after


def _per_call(element) -> bool:
    from tokcli.audit.rules.unstable_serialization import unstable

    return element.literal or element.category in PER_CALL or unstable(element.text)


def _stable_after(ctx: Context, index: int, minimum: int) -> int:
    """The run's own threshold when no model is known: report a generic variable only when all
    the stable text from it to the end reaches the cache minimum (else: an unreachable count)."""
    after = sum(ctx.stable_tokens(i) for i in range(index, len(ctx.layout.stable)))
    before = ctx.stable_tokens(0)
    return 0 if after + before >= minimum else 10**9


def _finding(ctx, element, run: int, cacheable, prefix: int, minimum: int) -> Finding:
    before, after = cacheable
    gained = after - before
    shown = quote(element.text)
    if element.literal:
        what = f"a literal {element.category} `{shown}`"
        advice = (
            "If this value is generated per request, move it after the stable content; if it "
            "really is fixed, suppress this finding with `tokcli: ignore[cache-breaking-prefix]`."
        )
    else:
        what = f"{WHAT.get(element.category, 'a volatile value')} `{shown}`"
        advice = (
            f"Move `{shown}` after the stable content (for example into the last user "
            "message) so the stable text forms one cacheable prefix."
        )
    message = f"{what} comes before {run:,} tokens of stable content"
    if gained > 0:
        message += (
            f"; moved after it, the cacheable prefix grows from {before:,} to {after:,} tokens"
        )
    elif minimum and prefix < minimum:
        message += (
            f"; even moved, the stable prefix ({prefix:,} tokens) stays below the model's "
            f"minimum cacheable length ({minimum:,})"
        )
    severity = Severity.warning if element.literal else None
    if minimum and gained <= 0:
        severity = Severity.info  # saves nothing: the prefix stays below the cache minimum
    return Finding(
        INFO,
        message,
        advice,
        element.start,
        element.end,
        severity=severity,
        tokens=run,
        monthly_cost=ctx.monthly_cache_saving(gained),
    )


RULE = Rule(INFO, check)
