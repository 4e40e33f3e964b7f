"""TC104 large-inline-examples: few-shot examples over a token threshold placed after volatile
content (so they are never cached), or the same block repeated across templates."""

from __future__ import annotations

import hashlib

from tokcli.audit.findings import Finding, RuleInfo, Severity
from tokcli.audit.rules.base import Context, Rule

INFO = RuleInfo(
    "TC104",
    "large-inline-examples",
    Severity.warning,
    "Large few-shot examples placed after volatile content, or repeated across templates.",
)
SEEN_KEY = "large-inline-examples.seen"


def check(ctx: Context):
    seen: dict[str, tuple[str, int]] = ctx.shared.setdefault(SEEN_KEY, {})
    first_volatile = ctx.layout.first_volatile
    for start, end in ctx.example_blocks:
        text = ctx.prompt[start:end]
        if len(text.encode()) < ctx.settings.example_tokens:
            continue  # a token is at least one byte: cannot reach the threshold
        tokens = ctx.tokens(text)
        if tokens < ctx.settings.example_tokens:
            continue
        line = ctx.template.position(start)[0]
        digest = hashlib.sha1(" ".join(text.lower().split()).encode()).hexdigest()
        earlier = seen.setdefault(digest, (ctx.template.path, line))
        repeated = earlier != (ctx.template.path, line)
        if first_volatile is not None and first_volatile < start:
            yield _after_volatile(ctx, start, tokens, earlier if repeated else None)
        elif repeated:
            yield Finding(
                INFO,
                f"the same {tokens:,}-token example block is in {earlier[0]}:{earlier[1]}",
                "Keep the examples in one place and share them as one fixed, cacheable prefix "
                "(or trim them to the few that change the answers).",
                start,
                start,
                tokens=tokens,
            )


def _after_volatile(ctx: Context, start: int, tokens: int, earlier) -> Finding:
    volatile_line = ctx.template.position(ctx.layout.volatile[0].start)[0]
    message = (
        f"{tokens:,} tokens of few-shot examples come after volatile content (line "
        f"{volatile_line}), so they are never cached"
    )
    if earlier:
        message += f"; the same block is in {earlier[0]}:{earlier[1]}"
    return Finding(
        INFO,
        message,
        "Move the examples before every variable, right after the fixed instructions.",
        start,
        start,
        tokens=tokens,
        monthly_cost=ctx.monthly_cache_saving(tokens),
        overlaps="cache-breaking-prefix",
    )


RULE = Rule(INFO, check)
