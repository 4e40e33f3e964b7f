"""TC202 duplicate-instruction: the same instruction twice, exactly or nearly.

Sentences come from real segmentation (tokcli.audit.sentences: "4.5", "section 1.2",
identifiers and abbreviations do not split). Only prose instructions are compared: table rows,
markup lines (XML tags, closing tags), template syntax, code (fences, lines that read like
code), data (quoted lists, JSON) and few-shot example blocks are not instructions.

Near duplicates: content-word Jaccard similarity at or above `duplicate-similarity` (0.8) and
the same words mostly in the same order; numbers (kept whole: "1.2" is one token) must be
the same, so "section 1.2" and "section 2.1" are different facts. Candidates come from three
min-hashes per sentence, so the work stays linear in the number of sentences.
"""

from __future__ import annotations

import re
import zlib
from difflib import SequenceMatcher
from itertools import filterfalse, repeat

from tokcli.audit.findings import Finding, RuleInfo, Severity
from tokcli.audit.rules.base import Context, Rule, quote
from tokcli.audit.sentences import sentences

INFO = RuleInfo(
    "TC202",
    "duplicate-instruction",
    Severity.warning,
    "The same instruction appears twice, exactly or nearly; the repeat costs tokens every call.",
)
# Words and whole numbers ("4.5", "1,000", "v2"): a number is one token, never split at ".".
WORD = re.compile(r"\d+(?:[.,:/]\d+)*%?|[a-z]+(?:'[a-z]+)?")
# Words that do not change what an instruction asks.
SOFT_WORDS = {"please", "always", "make", "sure", "to", "you", "must", "should", "the", "a", "an"}
MIN_WORDS_EXACT = 4
MIN_WORDS_NEAR = 6
SEEDS = (0, 0x5BD1E995, 0x2545F491)  # crc32 start values: three cheap, independent hashes
EMPTY: frozenset = frozenset()
BUCKET_LIMIT = 8  # bound the comparisons per sentence: linear time on repetitive prompts
FENCE = re.compile(r"^[ \t]*(```|~~~).*?^[ \t]*\1", re.MULTILINE | re.DOTALL)
# Lines that are not prose instructions.
TABLE_ROW = re.compile(r"^\s*\|.*\||^\s*[-:| ]+$")
MARKUP_ONLY = re.compile(r"^\s*(?:</?[\w:.-]+[^>]*>\s*)+$")
DIALOGUE_TURN = re.compile(
    r"^\s*(?:human|ai|user|assistant|system|bot|customer|agent|q|a|question|answer|input|"
    r"output|example|context|query|response|result)\s*\d*\s*:",
    re.IGNORECASE,
)
CODE_LIKE = re.compile(
    r"^\s*(?:import |from \S+ import |def |class |return |print\(|const |let |var |\$ |>>> |"
    r"(?:echo|export|cd|pip|conda|python|npm|curl|git|docker|set) )|"
    r"[;{}]\s*$|\w\(.*\)\s*$|==|=>|->|\b\w+\s*=\s*\S"
)


def check(ctx: Context):
    prompt = ctx.prompt
    skipped = list(ctx.example_blocks)
    if "```" in prompt or "~~~" in prompt:
        skipped += [m.span() for m in FENCE.finditer(prompt)]
    syntax = [(e.start, e.end) for e in ctx.layout.elements if not e.literal]
    exact: dict[str, int] = {}
    buckets: dict[tuple[int, int], list[tuple[int, frozenset, frozenset, list]]] = {}
    threshold = ctx.settings.duplicate_similarity
    for start, end, words in _instructions(prompt, skipped, syntax):
        kept = list(filterfalse(SOFT_WORDS.__contains__, words))
        key = " ".join(kept)
        if key in exact:
            yield _finding(ctx, start, end, exact[key], None)
            continue
        exact[key] = start
        if len(words) < MIN_WORDS_NEAR:
            continue
        numbers = frozenset(w for w in kept if w[0].isdigit())
        content = frozenset(kept) - numbers
        if not content:
            continue
        if numbers:  # a near duplicate has the same numbers: they are the bucket
            keys = [(-1, hash(numbers))]
        else:
            encoded = list(map(str.encode, content))
            keys = [(i, min(map(zlib.crc32, encoded, repeat(s)))) for i, s in enumerate(SEEDS)]
        match = _near(content, numbers, kept, keys, buckets, threshold)
        if match is not None:
            yield _finding(ctx, start, end, match[0], match[1])
            continue
        for bucket_key in keys:
            bucket = buckets.setdefault(bucket_key, [])
            if len(bucket) < BUCKET_LIMIT:
                bucket.append((start, content, numbers, kept))


def _instructions(prompt: str, skipped: list[tuple[int, int]], syntax: list[tuple[int, int]]):
    """(start, end, words) of each prose sentence worth comparing."""
    low = prompt.lower()
    for start, end in sentences(prompt):
        if skipped and any(a <= start < b for a, b in skipped):
            continue
        line_start = prompt.rfind("\n", 0, start) + 1
        line_end = prompt.find("\n", end)
        line = prompt[line_start : line_end if line_end != -1 else len(prompt)]
        if _not_prose(line):
            continue
        text = low[start:end]
        if text.endswith((":", "?")):
            continue  # a label ("Examples:") or a question (example input), not an instruction
        if syntax and any(a < end and start < b for a, b in syntax):
            text = _without_syntax(low, start, end, syntax)
        words = WORD.findall(text)
        if sum(1 for w in words if w.isalpha()) >= MIN_WORDS_EXACT:
            yield start, end, words


def _not_prose(line: str) -> bool:
    if TABLE_ROW.match(line) or MARKUP_ONLY.match(line) or DIALOGUE_TURN.match(line):
        return True
    if line.lstrip().startswith("#"):
        return True  # a heading or a label names what follows; it is not an instruction
    if line.count('"') >= 4 or line.lstrip()[:1] in ("{", "[", '"', "`"):
        return True  # data: quoted lists, JSON
    return CODE_LIKE.search(line) is not None


def _without_syntax(low: str, start: int, end: int, syntax: list[tuple[int, int]]) -> str:
    pieces, cursor = [], start
    for a, b in syntax:
        if b <= start or a >= end:
            continue
        pieces.append(low[cursor : max(cursor, a)])
        cursor = max(cursor, b)
    pieces.append(low[cursor:end])
    return " ".join(pieces)


def _near(content, numbers, kept, keys, buckets, threshold: float):
    size = len(content)
    checked = set()
    for key in keys:
        for start, other, other_numbers, other_kept in buckets.get(key, ()):
            if start in checked or numbers != other_numbers:
                continue
            checked.add(start)
            other_size = len(other)
            if min(size, other_size) < threshold * max(size, other_size):
                continue  # Jaccard <= smaller / larger: cannot reach the threshold
            common = len(content & other)
            similarity = common / (size + other_size - common)
            if similarity < threshold:
                continue
            # The same words in another order is another instruction ("X before Y").
            if SequenceMatcher(None, kept, other_kept, autojunk=False).ratio() >= threshold:
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
