"""TC101 cache-breaking-prefix: a value that changes per call sits before stable content.

Providers cache the longest unchanged prefix. Volatile element i hides the stable run after it
(up to the next volatile element): moving elements 1..i to the end makes that run part of the
cacheable prefix. Counting run by run makes the findings of one template add up exactly to the
saving of moving every volatile value to the end.
"""

from __future__ import annotations

import re

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
    if ctx.pricing is None:
        yield from _without_model(ctx)
        return
    minimum = ctx.pricing.min_cacheable or 0
    if not minimum:  # every run counts on its own: tokenise only the runs long enough to report
        for index, element in enumerate(layout.volatile, start=1):
            if _documentation(ctx, element):
                continue
            run = ctx.stable_tokens_at_least(index, ctx.settings.stable_tokens)
            if run is not None:
                yield _finding(ctx, element, run, (0, run), run, 0)
        return
    prefix = ctx.stable_tokens(0)
    cacheable_before = prefix if prefix >= minimum else 0
    for index, element in enumerate(layout.volatile, start=1):
        run = ctx.stable_tokens(index)
        prefix += run
        cacheable_after = prefix if prefix >= minimum else 0
        if run >= ctx.settings.stable_tokens and not _documentation(ctx, element):
            yield _finding(ctx, element, run, (cacheable_before, cacheable_after), prefix, minimum)
        cacheable_before = cacheable_after


def _without_model(ctx: Context):
    """No model: a run counts on its own, and the template's stable text is measured against
    1,024 tokens, the smallest prompt OpenAI and Anthropic cache. Below it a generic variable
    (maybe fixed per deployment) is not reported and a per-call value is `info`."""
    cacheable = ctx.total_stable_tokens >= DEFAULT_CACHE_MINIMUM
    for index, element in enumerate(ctx.layout.volatile, start=1):
        if (not cacheable and not _per_call(element)) or _documentation(ctx, element):
            continue
        run = ctx.stable_tokens_at_least(index, ctx.settings.stable_tokens)
        if run is None:
            continue
        finding = _finding(ctx, element, run, (0, run), run, 0)
        if not cacheable:
            finding.severity = Severity.info
            finding.message += (
                f"; the whole template has {ctx.total_stable_tokens:,} stable tokens, below "
                f"{DEFAULT_CACHE_MINIMUM:,} (the smallest prompt OpenAI and Anthropic cache)"
            )
        yield finding


EXAMPLE_LINE = re.compile(r"\s*(?:example|e\.g\.|usage|sample|for example)\b", re.IGNORECASE)


def _documentation(ctx: Context, element) -> bool:
    """A literal value in a documented example ("Example: CalendarEvents -from 2022-05-22...")
    or in a few-shot block is part of the fixed text, not a per-request value."""
    if not element.literal:
        return False
    if any(start <= element.start < end for start, end in ctx.example_blocks):
        return True
    line_start = ctx.prompt.rfind("\n", 0, element.start) + 1
    return EXAMPLE_LINE.match(ctx.prompt, line_start) is not None


def _per_call(element) -> bool:
    from tokcli.audit.rules.unstable_serialization import unstable

    return element.literal or element.category in PER_CALL or unstable(element.text)


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
