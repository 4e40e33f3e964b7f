"""TC202 duplicate-instruction: the same instruction twice, exactly or nearly.

Near duplicates: word-set Jaccard similarity at or above `duplicate-similarity` (default 0.8).
Candidates come from three min-hashes per sentence, so the work stays linear in the number of
sentences instead of comparing every pair.
"""

from __future__ import annotations

import re
import zlib

from tokcli.audit.findings import Finding, RuleInfo, Severity
from tokcli.audit.rules.base import Context, Rule, quote

INFO = RuleInfo(
    "TC202",
    "duplicate-instruction",
    Severity.warning,
    "The same instruction appears twice, exactly or nearly; the repeat costs tokens every call.",
)
SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)", re.MULTILINE)
BULLET = re.compile(r"^\s*(?:[-*+•>]|\d+[.)]|#+)\s*")
WORD = re.compile(r"[a-z0-9']+")
# Words that do not change what an instruction asks.
SOFT_WORDS = {"please", "always", "make", "sure", "to", "you", "must", "should", "the", "a", "an"}
MIN_WORDS_EXACT = 3
MIN_WORDS_NEAR = 5
SEEDS = (b"a", b"b", b"c")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def check(ctx: Context):
    skipped = ctx.example_blocks + [m.span() for m in FENCE.finditer(ctx.prompt)]
    exact: dict[str, tuple[int, int]] = {}
    buckets: dict[tuple[int, int], list[tuple[int, int, frozenset]]] = {}
    for start, end, words in _instructions(ctx.prompt, skipped):
        key = " ".join(w for w in words if w not in SOFT_WORDS)
        if len(words) >= MIN_WORDS_EXACT and key in exact:
            yield _finding(ctx, start, end, exact[key][0], None)
            continue
        exact.setdefault(key, (start, end))
        if len(words) < MIN_WORDS_NEAR:
            continue
        word_set = frozenset(words) - SOFT_WORDS
        match = _near(word_set, buckets, ctx.settings.duplicate_similarity)
        if match is not None:
            yield _finding(ctx, start, end, match[0], match[1])
            continue
        for index, seed in enumerate(SEEDS):
            signature = min(zlib.crc32(seed + w.encode()) for w in word_set) if word_set else 0
            buckets.setdefault((index, signature), []).append((start, end, word_set))


def _instructions(prompt: str, skipped: list[tuple[int, int]]):
    for match in SENTENCE.finditer(prompt):
        start, end = match.span()
        if any(a <= start < b for a, b in skipped):
            continue
        text = match.group()
        lead = BULLET.match(text)
        if lead:
            start += lead.end()
            text = text[lead.end() :]
        words = WORD.findall(text.lower())
        if len(words) >= MIN_WORDS_EXACT:
            yield start, end, words


def _near(word_set: frozenset, buckets, threshold: float):
    if not word_set:
        return None
    for index, seed in enumerate(SEEDS):
        signature = min(zlib.crc32(seed + w.encode()) for w in word_set)
        for start, _, other in buckets.get((index, signature), ()):
            if any(any(c.isdigit() for c in w) for w in word_set ^ other):
                continue  # different numbers: different facts ("3 bullets" vs "5 bullets")
            similarity = len(word_set & other) / len(word_set | other)
            if similarity >= threshold:
                return start, similarity
    return None


def _finding(ctx: Context, start: int, end: int, first: int, similarity: float | None):
    text = ctx.prompt[start:end]
    tokens = ctx.tokens(text)
    line = ctx.template.position(first)[0]
    how = "exactly" if similarity is None else f"nearly ({similarity:.0%} similar)"
    return Finding(
        INFO,
        f"`{quote(text)}` repeats {how} the instruction on line {line}",
        "Keep one of the two; say it once, where it belongs.",
        start,
        end,
        tokens=tokens,
        monthly_cost=ctx.monthly_input_cost(tokens),
    )


RULE = Rule(INFO, check)
