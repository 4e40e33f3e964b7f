"""Split a prompt into volatile spans (values that change between calls) and stable text.

Volatile: template variables and logic (Jinja2, Handlebars/Dotprompt, str.format and f-string
`{var}`), and literal values that look generated per request (timestamps, uuids, request ids,
"today is <date>"). Neutral: template syntax that sends nothing variable (comments, `{% endif %}`,
`{{role "user"}}`). Everything else is stable text, the part a provider can cache.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

JINJA_COMMENT = r"\{#.*?#\}"
HANDLEBARS_COMMENT = r"\{\{!--.*?--\}\}|\{\{![^}]*\}\}"
JINJA_STATEMENT = r"\{%[-+]?\s*(?P<keyword>\w*)(?P<args>.*?)[-+]?%\}"
EXPRESSION = r"\{\{\{?[-~]?\s*(?P<expr>.*?)\s*[-~]?\}?\}\}"
TEMPLATE_SYNTAX = re.compile(
    "|".join(f"(?:{p})" for p in (JINJA_COMMENT, HANDLEBARS_COMMENT, JINJA_STATEMENT, EXPRESSION)),
    re.DOTALL,
)
# Jinja/Handlebars/Semantic Kernel tags; not `{{"`, which is how a str.format template
# escapes a JSON brace.
JINJA_HINT = re.compile(r"\{\{\s*[-~#/>!$]?\s*[A-Za-z_]|\{%|\{#")
# Text that is shown, not templated, in plain-text and markdown prompts: fenced code blocks
# and inline code spans.
CODE_FENCE = re.compile(r"^[ \t]*(```|~~~)[^\n]*\n.*?^[ \t]*\1[ \t]*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]+`")
# A documentation placeholder, not an expression: Go templates ({{.Name}}, {{Model: ...}}),
# prose ({{your name here}}), ellipses.
GO_OR_DOC = re.compile(r"^(?:\.|[A-Za-z_]\w*\s*:(?!:)|.*\.\.\.)")
PROSE = re.compile(r"^[A-Za-z]+(?:\s+[A-Za-z]+)+$")
JINJA_WORDS = {"if", "else", "not", "and", "or", "in", "is", "recall"}
# str.format / f-string placeholders: {name}, {name.attr}, {name[0]}, {f(x)}, {0}, {name!r:>10}
FORMAT_FIELD = re.compile(
    r"\{(?<!\{\{)(?!\{)\s*(?P<expr>[A-Za-z_](?:[\w.]|\([^{}()\n]*\)|\[[^\]{}\n]*\])*|\d+)\s*"
    r"(?:![rsa])?(?::[^{}\n]*)?\}(?!\})"
)
# The literal "{" first (then a look-behind for "{{"): re scans fast for a literal start.
JSON_OBJECT = re.compile(r'\{(?<!\{\{)\s*"')
# Statements whose keyword makes the text that follows depend on a variable.
LOGIC_KEYWORDS = {"if", "elif", "for", "with", "filter", "call", "while"}
NEUTRAL_EXPRESSIONS = re.compile(r"^(?:[/>]|else\b|(?:role|section)\s+[\"']|[\"'])")

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DATE = (
    rf"(?:\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}/\d{{1,2}}/\d{{2,4}}"
    rf"|{_MONTH} \d{{1,2}},? \d{{4}}|\d{{1,2}} {_MONTH} \d{{4}})"
)
# Literal values that look generated per request. Python's re has no fast path for patterns that
# start with \b or a character class (~0.3 ms per 4 KB each), so every pattern has a cheap
# substring test first: (kind, test on (lower-cased text, digit shape), pattern).
DIGIT_SHAPE = str.maketrans("0123456789", "0000000000")
LITERALS = (
    (
        "timestamp",
        lambda low, shape: "0000-00-00" in shape,
        re.compile(
            r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2}|\b)"
        ),
    ),
    (
        "uuid",
        lambda low, shape: _UUID_HINT.search(low) is not None,
        re.compile(
            r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
        ),
    ),
    (
        "request id",
        lambda low, shape: any(needle in low for needle in ID_NEEDLES),
        re.compile(r"\b(?:req|request|sess|session|trace|msg|run|chatcmpl)[_-][A-Za-z0-9]{10,}\b"),
    ),
    (
        "date",
        lambda low, shape: any(p in low for p in ("today", "current date", "the date is")),
        re.compile(
            rf"(?i)\b(?:today is|today's date is|current date(?: is)?:?|the date is|date today:?)"
            rf"\s*(?:\w+,\s*)?{_DATE}"
        ),
    ),
    (
        "time",
        lambda low, shape: any(
            p in low for p in ("current time", "the time is", "time now", "is now")
        ),
        re.compile(
            r"(?i)\b(?:current time|the time is|time now|it is now)\s*(?:is)?:?\s*\d{1,2}:\d{2}"
        ),
    ),
    (
        "timestamp",
        lambda low, shape: "0000000000" in shape and ("timestamp" in low or "epoch" in low),
        re.compile(r"(?i)\b(?:timestamp|epoch)\s*[:=]?\s*\d{10,13}\b"),
    ),
)
# Prefixes of request-like ids with their separator: "req_", "request-", "chatcmpl-", ...
ID_NEEDLES: tuple[str, ...] = tuple(
    f"{prefix}{sep}"
    for prefix in ("req", "request", "sess", "session", "trace", "msg", "run", "chatcmpl")
    for sep in "_-"
)
_UUID_HINT: re.Pattern[str] = re.compile(r"-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-")

# Word parts of a variable name -> what kind of volatile value it is.
CATEGORY_WORDS = (
    ("time", {"now", "time", "timestamp", "datetime", "clock", "utcnow", "hour", "minute"}),
    ("date", {"date", "today", "day", "year", "month", "week", "weekday"}),
    ("id", {"uuid", "uuid4", "guid", "id", "ids", "nonce", "token"}),
    ("random", {"random", "rand", "randint", "seed", "shuffle", "sample", "choice"}),
    ("counter", {"count", "counter", "attempt", "retry", "turn", "step", "iteration", "seq"}),
    ("user", {"user", "username", "customer", "email", "userid"}),
)
_WORD_SPLIT = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


@dataclass(frozen=True)
class Element:
    start: int
    end: int
    volatile: bool
    category: str  # time | date | id | random | counter | variable | logic | <literal kind> | ""
    text: str
    literal: bool = False  # a literal value in the file, not template syntax


@dataclass
class Layout:
    """The prompt cut at its volatile elements: stable[i] is the stable text after volatile[i-1]
    (stable[0] before the first volatile element), with neutral syntax removed."""

    prompt: str
    elements: list[Element]
    volatile: list[Element] = field(default_factory=list)
    stable: list[str] = field(default_factory=list)
    stable_ranges: list[tuple[int, int]] = field(default_factory=list)

    @property
    def first_volatile(self) -> int | None:
        return self.volatile[0].start if self.volatile else None


def classify_name(expression: str) -> str:
    parts = {p.lower() for p in _WORD_SPLIT.findall(expression)}
    for category, words in CATEGORY_WORDS:
        if parts & words:
            return category
    return "variable"


def scan(prompt: str, syntax: str = "auto") -> Layout:
    """`syntax`: "jinja" (also Handlebars), "format" (str.format, where `{{` is a literal
    brace), or "auto": Jinja when the text has Jinja tags, else str.format."""
    elements = _template_elements(prompt, syntax)
    taken = [(e.start, e.end) for e in elements]
    elements += [e for e in _literal_elements(prompt) if not _overlaps(e, taken)]
    elements.sort(key=lambda e: e.start)
    return _layout(prompt, elements)


def _template_elements(prompt: str, syntax: str) -> list[Element]:
    if "{" not in prompt:
        return []
    shown = _shown_code(prompt) if syntax != "jinja" else []
    if syntax == "jinja" or (syntax == "auto" and JINJA_HINT.search(_blank(prompt, shown))):
        elements = [_syntax_element(m) for m in TEMPLATE_SYNTAX.finditer(prompt)]
        if syntax == "auto":  # prose placeholders are documentation in plain text only
            elements = [e for e in elements if not _documentation(e, prose=True)]
        else:
            elements = [e for e in elements if not _documentation(e, prose=False)]
        return _outside(elements, shown)
    fields = [
        Element(m.start(), m.end(), True, classify_name(m["expr"]), m.group())
        for m in FORMAT_FIELD.finditer(prompt)
    ]
    fields = _outside(fields, shown)
    if fields and syntax == "auto" and JSON_OBJECT.search(prompt):
        # str.format would fail on an unescaped JSON object, so this text is not a str.format
        # template and its "{id}" (an API path, say) is literal.
        return []
    return fields


def _shown_code(prompt: str) -> list[tuple[int, int]]:
    """Spans of code shown to the model (fences, inline code): braces there are text."""
    if "`" not in prompt and "~~~" not in prompt:
        return []
    spans = [m.span() for m in CODE_FENCE.finditer(prompt)]
    spans += [m.span() for m in INLINE_CODE.finditer(prompt) if not _inside(m.start(), spans)]
    return spans


def _inside(offset: int, spans: list[tuple[int, int]]) -> bool:
    return any(start <= offset < end for start, end in spans)


def _blank(prompt: str, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return prompt
    pieces, cursor = [], 0
    for start, end in sorted(spans):
        pieces.append(prompt[cursor:start])
        cursor = max(cursor, end)
    pieces.append(prompt[cursor:])
    return " ".join(pieces)


def _outside(elements: list[Element], spans: list[tuple[int, int]]) -> list[Element]:
    if not spans:
        return elements
    return [e for e in elements if not _inside(e.start, spans)]


def _documentation(element: Element, *, prose: bool) -> bool:
    """`{{.Name}}`, `{{Model: gpt-4o}}`, `{{ ... }}` (and `{{your name}}` in plain text) are
    placeholders a human fills in, not template expressions."""
    if not element.volatile or element.category == "logic" or not element.text.startswith("{{"):
        return False
    expression = element.text.strip("{}-~ ").strip()
    if GO_OR_DOC.match(expression):
        return True
    words = expression.split()
    return prose and PROSE.match(expression) is not None and not JINJA_WORDS & set(words)


def _syntax_element(match: re.Match) -> Element:
    text = match.group()
    start, end = match.span()
    if match["keyword"] is not None:  # {% ... %}
        keyword = match["keyword"]
        if keyword in LOGIC_KEYWORDS:
            return Element(start, end, True, "logic", text)
        return Element(start, end, False, "", text)
    expression = match["expr"]
    if expression is None:  # a comment
        return Element(start, end, False, "", text)
    if expression.startswith("#"):  # handlebars block helper: {{#if x}}, {{#each items}}
        return Element(start, end, True, "logic", text)
    if not expression or NEUTRAL_EXPRESSIONS.match(expression):
        return Element(start, end, False, "", text)
    return Element(start, end, True, classify_name(expression), text)


def _literal_elements(prompt: str) -> list[Element]:
    found = []
    low, shape = prompt.lower(), prompt.translate(DIGIT_SHAPE)
    for category, hint, pattern in LITERALS:
        if not hint(low, shape):
            continue
        for match in pattern.finditer(prompt):
            found.append(Element(*match.span(), True, category, match.group(), literal=True))
    found.sort(key=lambda e: (e.start, -e.end))
    kept: list[Element] = []
    for element in found:  # one element per place: the first, longest match
        if not kept or element.start >= kept[-1].end:
            kept.append(element)
    return kept


def _overlaps(element: Element, spans: list[tuple[int, int]]) -> bool:
    return any(element.start < end and start < element.end for start, end in spans)


def _layout(prompt: str, elements: list[Element]) -> Layout:
    layout = Layout(prompt, elements)
    pieces: list[str] = []
    cursor = segment_start = 0
    for element in elements:
        pieces.append(prompt[cursor : element.start])
        cursor = element.end
        if element.volatile:
            layout.stable.append("".join(pieces))
            layout.stable_ranges.append((segment_start, element.start))
            layout.volatile.append(element)
            pieces = []
            segment_start = element.end
    pieces.append(prompt[cursor:])
    layout.stable.append("".join(pieces))
    layout.stable_ranges.append((segment_start, len(prompt)))
    return layout
