"""TC202 duplicate-instruction: the same instruction twice, exactly or nearly.

Near duplicates: word-set Jaccard similarity at or above `duplicate-similarity` (default 0.8).
Candidates come from three min-hashes per sentence, so the work stays linear in the number of
sentences instead of comparing every pair.
"""

from __future__ import annotations

import re
import zlib
from itertools import filterfalse, repeat

from tokcli.audit.findings import Finding, RuleInfo, Severity
from tokcli.audit.rules.base import Context, Rule, quote

INFO = RuleInfo(
    "TC202",
    "duplicate-instruction",
    Severity.warning,
    "The same instruction appears twice, exactly or nearly; the repeat costs tokens every call.",
)
# A sentence, after any list bullet or heading marks (group 1 is the sentence itself).
SENTENCE = re.compile(
    r"[ \t]*(?:(?:[-*+•>]|\d+[.)]|#+)[ \t]*)?([^.!?\n]+(?:[.!?]+|$))", re.MULTILINE
)
PUNCTUATION_TO_SPACE = str.maketrans({c: " " for c in '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'})
# Words that do not change what an instruction asks.
SOFT_WORDS = {"please", "always", "make", "sure", "to", "you", "must", "should", "the", "a", "an"}
MIN_WORDS_EXACT = 3
MIN_WORDS_NEAR = 5
# Three min-hashes: a near duplicate shares at least one of the three minimum hashes with high
# probability, so it lands in a shared bucket.
SEEDS = (0, 0x5BD1E995, 0x2545F491)  # crc32 start values: three cheap, independent hashes
EMPTY: frozenset = frozenset()
BUCKET_LIMIT = 8  # bound the comparisons per sentence: linear time on repetitive prompts
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def check(ctx: Context):
    skipped = list(ctx.example_blocks)
    if "```" in ctx.prompt:
        skipped += [m.span() for m in FENCE.finditer(ctx.prompt)]
    exact: dict[str, int] = {}
    buckets: dict[tuple[int, int], list[tuple[int, frozenset, frozenset]]] = {}
    threshold = ctx.settings.duplicate_similarity
    for start, end, words in _instructions(ctx.prompt, skipped):
        kept = list(filterfalse(SOFT_WORDS.__contains__, words))
        key = " ".join(kept)
        if key in exact:
            yield _finding(ctx, start, end, exact[key], None)
            continue
        exact[key] = start
        if len(words) < MIN_WORDS_NEAR:
            continue
        # Different numbers mean different facts ("3 bullets" vs "5 bullets"): never duplicates.
        content = frozenset(kept)
        numbers = EMPTY
        if not key.replace(" ", "").isalpha():
            numbers = frozenset(filterfalse(str.isalpha, kept))
            content -= numbers
        if not content:
            continue
        if numbers:  # a near duplicate has the same numbers: they are the bucket
            keys = [(-1, numbers)]
        else:
            encoded = list(map(str.encode, content))
            keys = [(i, min(map(zlib.crc32, encoded, repeat(s)))) for i, s in enumerate(SEEDS)]
        match = _near(content, numbers, keys, buckets, threshold)
        if match is not None:
            yield _finding(ctx, start, end, match[0], match[1])
            continue
        for key_ in keys:
            bucket = buckets.setdefault(key_, [])
            if len(bucket) < BUCKET_LIMIT:
                bucket.append((start, content, numbers))


def _instructions(prompt: str, skipped: list[tuple[int, int]]):
    # Words come from one normalised copy (lower case, punctuation as spaces, same offsets).
    words_of = prompt.lower().translate(PUNCTUATION_TO_SPACE)
    if len(words_of) != len(prompt):  # a few characters lower-case to two ("İ"): keep offsets
        words_of = "".join(c.lower()[:1] for c in prompt).translate(PUNCTUATION_TO_SPACE)
    for match in SENTENCE.finditer(prompt):
        start, end = match.span(1)
        if skipped and any(a <= start < b for a, b in skipped):
            continue
        words = words_of[start:end].split()
        if len(words) >= MIN_WORDS_EXACT:
            yield start, end, words


def _near(content, numbers, keys, buckets, threshold: float):
    size = len(content)
    checked = set()
    for key in keys:
        for start, other, other_numbers in buckets.get(key, ()):
            if start in checked or numbers != other_numbers:
                continue
            checked.add(start)
            other_size = len(other)
            if min(size, other_size) < threshold * max(size, other_size):
                continue  # Jaccard <= smaller / larger: cannot reach the threshold
            common = len(content & other)
            similarity = common / (size + other_size - common)
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
