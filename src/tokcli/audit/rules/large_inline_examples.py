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
BLOCKS_KEY = "large-inline-examples.blocks"  # (digest, path, line) of every large block
EARLIER = "{earlier}"  # filled in by resolve_repeats once every template has been read


def check(ctx: Context):
    blocks = ctx.shared.setdefault(BLOCKS_KEY, [])
    first_volatile = ctx.layout.first_volatile
    for start, end in ctx.example_blocks:
        text = ctx.prompt[start:end]
        if len(text.encode()) < ctx.settings.example_tokens:
            continue  # a token is at least one byte: cannot reach the threshold
        tokens = ctx.tokens(text)
        if tokens < ctx.settings.example_tokens:
            continue
        digest = hashlib.sha1(" ".join(text.lower().split()).encode()).hexdigest()
        blocks.append((digest, ctx.template.path, ctx.template.position(start)[0]))
        if first_volatile is not None and first_volatile < start:
            yield _after_volatile(ctx, start, tokens)
        else:  # a candidate: kept only if an earlier template has the same block
            yield Finding(
                INFO,
                f"the same {tokens:,}-token example block is in {EARLIER}",
                "Keep the examples in one place and share them as one fixed, cacheable prefix "
                "(or trim them to the few that change the answers).",
                start,
                start,
                severity=Severity.info,  # a repeat costs nothing per call: each call pays once
                tokens=tokens,
                extra={"repeat_of": digest},
            )


def resolve_repeats(findings: list[Finding], blocks: list[tuple[str, str, int]]) -> list[Finding]:
    """Keep a repeated-block candidate only where an earlier template (in file order) holds the
    same block. Runs after every file is read, so it works the same with parallel workers."""
    first: dict[str, tuple[str, int]] = {}
    for digest, path, line in blocks:
        first.setdefault(digest, (path, line))
    kept = []
    for finding in findings:
        repeat_of = finding.extra.get("repeat_of")
        if repeat_of is not None:
            first_path, first_line = first[repeat_of]
            if (first_path, first_line) == (finding.path, finding.line):
                continue  # the first occurrence is not a repeat
            finding.message = finding.message.replace(EARLIER, f"{first_path}:{first_line}")
        kept.append(finding)
    return kept


def _after_volatile(ctx: Context, start: int, tokens: int) -> Finding:
    volatile_line = ctx.template.position(ctx.layout.volatile[0].start)[0]
    message = (
        f"{tokens:,} tokens of few-shot examples come after volatile content (line "
        f"{volatile_line}), so they are never cached"
    )
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
