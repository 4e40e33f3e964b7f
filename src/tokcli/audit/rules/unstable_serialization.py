"""TC103 unstable-serialization: template code whose output order can change between calls
(a dict dumped without sort_keys, dict/set iteration, a tool list in caller order) in front of
stable content. Best effort, so low severity: audit reads the template, not the caller's code."""

from __future__ import annotations

import re

from tokcli.audit.findings import Finding, RuleInfo, Severity
from tokcli.audit.rules.base import Context, Rule, quote

INFO = RuleInfo(
    "TC103",
    "unstable-serialization",
    Severity.info,
    "Content whose rendering can change order between calls (unsorted dict dump, set or dict "
    "iteration, unsorted tool list) inside the cacheable prefix.",
)
SORTED = re.compile(r"sort_keys\s*=\s*True|\bsorted\(|\|\s*(?:dictsort|sort)\b")
PATTERNS = (
    (re.compile(r"\bjson\.dumps\("), "a dict dumped without sort_keys=True"),
    (re.compile(r"\.(?:items|keys|values)\(\)"), "iteration over a dict"),
    (re.compile(r"\b(?:frozen)?set\("), "iteration over a set"),
    (re.compile(r"\b(?:tools|functions|tool_defs|tool_list)\b"), "a tool list in caller order"),
)


def check(ctx: Context):
    candidates = [
        index
        for index, element in enumerate(ctx.layout.volatile)
        if not element.literal
        and not SORTED.search(element.text)
        and any(pattern.search(element.text) for pattern, _ in PATTERNS)
    ]
    if not candidates:
        return
    stable_after = _stable_tokens_after(ctx)
    for index, element in enumerate(ctx.layout.volatile):
        if element.literal or SORTED.search(element.text):
            continue
        if stable_after[index] < max(ctx.settings.stable_tokens, _cache_minimum(ctx)):
            continue  # nothing cacheable follows: order changes cost nothing
        for pattern, what in PATTERNS:
            if pattern.search(element.text):
                yield Finding(
                    INFO,
                    f"`{quote(element.text)}` renders {what}: its order can change between "
                    f"calls and break the cache for the {stable_after[index]:,} stable tokens "
                    "after it",
                    "Render it in a fixed order: json.dumps(..., sort_keys=True), `|dictsort`, "
                    "or tools sorted by name.",
                    element.start,
                    element.end,
                    tokens=stable_after[index],
                )
                break


def _cache_minimum(ctx: Context) -> int:
    """An order that changes per call matters only if what follows can be cached: the model's
    minimum when it is known (without a model, `stable-tokens` alone decides)."""
    return ctx.pricing.min_cacheable or 0 if ctx.pricing else 0


def unstable(text: str) -> bool:
    """Does this template expression render in an order that can change between calls?"""
    return not SORTED.search(text) and any(pattern.search(text) for pattern, _ in PATTERNS)


def _stable_tokens_after(ctx: Context) -> list[int]:
    counts = [ctx.stable_tokens(i) for i in range(len(ctx.layout.stable))]
    after = []
    running = 0
    for count in reversed(counts[1:]):
        running += count
        after.append(running)
    return list(reversed(after))


RULE = Rule(INFO, check)
