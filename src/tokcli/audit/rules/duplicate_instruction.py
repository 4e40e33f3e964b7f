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
NOT_PROSE_START = re.compile(
    "|".join(f"(?:{p.pattern})" for p in (TABLE_ROW, MARKUP_ONLY, DIALOGUE_TURN)), re.IGNORECASE
)
_HAS_DIGIT = re.compile(r"\d")
# Letters and apostrophes stay; every other character is a word break (same length).
PUNCTUATION_TO_SPACE = str.maketrans(dict.fromkeys('!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~', " "))
# The same, but ".", ",", ":", "/" and "%" stay inside numbers (stripped from word ends after).
KEEP_NUMBERS = str.maketrans(dict.fromkeys('!"#$&()*+-;<=>?@[\\]^_`{|}~', " "))
CODE_HINTS = "(){};=>$"
# Lines that read like code or shell. Cheap tests first: Python's re has no fast path for a
# pattern that starts with a class or \b, and most lines are prose.
CODE_START = re.compile(
    r"\s*(?:import |from \S+ import |def |class |return |print\(|const |let |var |\$ |>>> |"
    r"(?:echo|export|cd|pip|conda|python|npm|curl|git|docker|set) )"
)
CALL = re.compile(r"\w\(")
ASSIGNMENT = re.compile(r"\w\s*=\s*\S")


def _code_like(line: str) -> bool:
    if CODE_START.match(line):
        return True
    tail = line.rstrip()[-1:]
    if tail in (";", "{", "}") or (tail == ")" and CALL.search(line)):
        return True
    if "=" in line:
        return "==" in line or "=>" in line or ASSIGNMENT.search(line) is not None
    return "->" in line


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
        numbers = EMPTY
        content = frozenset(kept)
        if not key.replace(" ", "").isalpha():  # only then can there be numbers
            numbers = frozenset(w for w in kept if w[0].isdigit())
            content -= numbers
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
    # One mark per character of skipped text and of template syntax: each sentence is then
    # checked with one C-level search instead of a loop over every span.
    skip_mask = _mask(len(prompt), skipped)
    syntax_mask = _mask(len(prompt), syntax)
    prose: dict[int, bool] = {}  # line start -> is the line prose?
    for start, end in sentences(prompt):
        if skip_mask is not None and skip_mask[start]:
            continue
        line_start = prompt.rfind("\n", 0, start) + 1
        if line_start not in prose:
            line_end = prompt.find("\n", end)
            line = prompt[line_start : line_end if line_end != -1 else len(prompt)]
            prose[line_start] = not _not_prose(line)
        if not prose[line_start]:
            continue
        text = low[start:end]
        if text.endswith((":", "?")):
            continue  # a label ("Examples:") or a question (example input), not an instruction
        if syntax_mask is not None and syntax_mask.find(1, start, end) != -1:
            text = _without_syntax(low, start, end, syntax)
        if _HAS_DIGIT.search(text):  # numbers are whole tokens: "4.5", "1,000", "1.2"
            words = [w.strip(".,:/") for w in text.translate(KEEP_NUMBERS).split()]
            words = [w for w in words if w]
        else:
            words = text.translate(PUNCTUATION_TO_SPACE).split()
        if len(words) >= MIN_WORDS_EXACT and sum(map(str.isalpha, words)) >= MIN_WORDS_EXACT:
            yield start, end, words


def _mask(size: int, spans: list[tuple[int, int]]) -> bytearray | None:
    if not spans:
        return None
    mask = bytearray(size + 1)
    for start, end in spans:
        mask[start:end] = b"\x01" * (min(end, size) - start)
    return mask


def _not_prose(line: str) -> bool:
    if NOT_PROSE_START.match(line):
        return True
    if line.lstrip().startswith("#"):
        return True  # a heading or a label names what follows; it is not an instruction
    if line.count('"') >= 4 or line.lstrip()[:1] in ("{", "[", '"', "`"):
        return True  # data: quoted lists, JSON
    if not any(hint in line for hint in CODE_HINTS) and not line.lstrip()[:1].islower():
        return False  # nothing that code is made of: skip the slower pattern
    return _code_like(line)


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
