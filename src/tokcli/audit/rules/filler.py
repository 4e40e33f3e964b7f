"""TC201 filler: stacked adjectives in role lines, pleasantries and repeated emphasis, each with
the tokens the tighter wording saves on every call."""

from __future__ import annotations

import re

from tokcli.audit.findings import Finding, RuleInfo, Severity
from tokcli.audit.rules.base import Context, Rule, quote

INFO = RuleInfo(
    "TC201",
    "filler",
    Severity.info,  # true but trivial (a few tokens a call) on the labelled corpus
    "Filler wording (stacked adjectives, pleasantries, repeated emphasis) that costs tokens on "
    "every call and adds nothing.",
)
_I = re.IGNORECASE
# phrase -> tighter wording ("" = drop it)
PLEASANTRIES = (
    (re.compile(r"\bplease make sure (?:to|that you|that)\s+", _I), ""),
    (re.compile(r"\bplease ensure (?:that )?(?:you )?", _I), ""),
    (re.compile(r"\bmake sure (?:to|that you)\s+", _I), ""),
    (
        re.compile(
            r"\bit(?: is|'s) (?:very |extremely |really |absolutely |super )?"
            r"(?:important|crucial|essential|vital|critical) (?:that you |that |to )",
            _I,
        ),
        "",
    ),
    (re.compile(r"\b(?:always )?remember to\s+", _I), ""),
    (re.compile(r"\b(?:don't|do not) forget to\s+", _I), ""),
    (re.compile(r"\bi (?:would like|want) you to\s+", _I), ""),
    (re.compile(r"\b(?:could|can|would) you please\s+", _I), ""),
    (re.compile(r"\bplease note that\s+", _I), ""),
    (re.compile(r"\bfeel free to\s+", _I), "you may "),
    (re.compile(r"\bkindly\s+", _I), ""),
    (re.compile(r"\bas an ai (?:language model|assistant),?\s+", _I), ""),
    (
        re.compile(
            r"\b(?:thank you|thanks)(?: so much| very much)?(?: in advance)?"
            r"(?: for your help)?[.!]*",
            _I,
        ),
        "",
    ),
)
# A word each pleasantry must contain (lower case), in the order of PLEASANTRIES.
KEYWORDS = (
    ("make sure",),
    ("ensure",),
    ("make sure",),
    ("important", "crucial", "essential", "vital", "critical"),
    ("remember",),
    ("forget",),
    ("you to",),
    ("you please",),
    ("note that",),
    ("feel free",),
    ("kindly",),
    ("as an ai",),
    ("thank",),
)
ROLE_ADJECTIVES = re.compile(
    r"\b(?P<lead>you are|you're|act as|acting as)\s+(?P<article>an?|the)\s+"
    r"(?P<list>[a-z-]+(?:\s*,\s*(?:and\s+|or\s+)?[a-z-]+|\s+and\s+[a-z-]+)+)\s+(?P<noun>[a-z-]+)",
    _I,
)
MIN_STACKED = 3
INTENSIFIERS = ("very", "really", "extremely", "absolutely", "super")
DOUBLED = re.compile(r"\b(very|really|extremely|absolutely|super)(?:,?\s+\1\b)+", _I)
SHOUTED = re.compile(r"\b(IMPORTANT|CRITICAL|CRUCIAL|ESSENTIAL)\b[:!]*")
MAX_SHOUTS = 2


def check(ctx: Context):
    yield from _role_lines(ctx)
    lowered = ctx.prompt.lower()
    candidates = [
        (match.start(), match.end(), tighter, "pleasantry")
        for (pattern, tighter), keywords in zip(PLEASANTRIES, KEYWORDS, strict=True)
        if any(k in lowered for k in keywords)  # a substring test is far cheaper than a regex
        for match in pattern.finditer(ctx.prompt)
    ]
    if any(f"{w} {w}" in lowered or f"{w}, {w}" in lowered for w in INTENSIFIERS):
        candidates += [
            (m.start(), m.end(), m.group(1), "repeated emphasis")
            for m in DOUBLED.finditer(ctx.prompt)
        ]
    candidates.sort(key=lambda c: (c[0], -c[1]))
    last_end = -1
    for start, end, tighter, what in candidates:
        if start >= last_end:  # "please make sure to" also contains "make sure to"
            yield from _wordy(ctx, start, end, tighter, what)
            last_end = end
    yield from _shouting(ctx)


def _role_lines(ctx: Context):
    lowered = ctx.prompt.lower()
    if len(lowered) != len(ctx.prompt):  # offsets must match the prompt's
        lowered = "".join(c.lower()[:1] for c in ctx.prompt)
    for match in _matches_at(lowered, ("you are", "you're", "act as", "acting as"), ctx.prompt):
        adjectives = re.split(r"\s*,\s*(?:and\s+|or\s+)?|\s+and\s+", match["list"])
        if len(adjectives) < MIN_STACKED:
            continue
        article = "an" if match["noun"][0].lower() in "aeiou" else "a"
        if match["article"].lower() == "the":
            article = match["article"]
        tighter = f"{match['lead']} {article} {match['noun']}"
        yield from _wordy(
            ctx,
            match.start(),
            match.end(),
            tighter,
            f"{len(adjectives)} stacked adjectives in the role line",
        )


def _matches_at(lowered: str, leads: tuple[str, ...], prompt: str):
    """ROLE_ADJECTIVES matches, tried only where a lead phrase occurs: a regex that starts with
    \\b is slow to scan a whole prompt with, str.find is not."""
    starts = set()
    for lead in leads:
        index = lowered.find(lead)
        while index != -1:
            starts.add(index)
            index = lowered.find(lead, index + 1)
    for start in sorted(starts):
        match = ROLE_ADJECTIVES.match(prompt, start)
        if match:
            yield match


def _wordy(ctx: Context, start: int, end: int, tighter: str, what: str):
    if ctx.in_syntax(start, end):
        return
    text = ctx.prompt[start:end]
    saved = ctx.tokens(text) - ctx.tokens(tighter)
    if saved <= 0:
        return
    rewrite = f"`{tighter.strip()}`" if tighter.strip() else "nothing"
    yield Finding(
        INFO,
        f"{what}: `{quote(text)}` costs {saved:,} tokens per call",
        f"Replace it with {rewrite}; the instruction reads the same to the model.",
        start,
        end,
        tokens=saved,
        monthly_cost=ctx.monthly_input_cost(saved),
    )


def _shouting(ctx: Context):
    if not any(word in ctx.prompt for word in ("IMPORTANT", "CRITICAL", "CRUCIAL", "ESSENTIAL")):
        return
    matches = [m for m in SHOUTED.finditer(ctx.prompt) if not ctx.in_syntax(*m.span())]
    if len(matches) <= MAX_SHOUTS:
        return
    extra = matches[1:]
    saved = sum(ctx.tokens(m.group()) for m in extra)
    third = matches[MAX_SHOUTS]
    yield Finding(
        INFO,
        f"repeated emphasis: {len(matches)} shouted markers such as `{third.group()}`; "
        "emphasis repeated this often stops standing out",
        "Keep one marker for the one rule that matters most and state the others plainly.",
        third.start(),
        third.end(),
        tokens=saved,
        monthly_cost=ctx.monthly_input_cost(saved),
    )


RULE = Rule(INFO, check)
