"""TC301 unbounded-output: nothing bounds the answer: no max_tokens in front matter or config
and no length or format instruction in the prompt."""

from __future__ import annotations

import re

from tokcli.audit.findings import Finding, RuleInfo, Severity
from tokcli.audit.rules.base import Context, Rule
from tokcli.money import plain

INFO = RuleInfo(
    "TC301",
    "unbounded-output",
    Severity.warning,
    "No max_tokens and no length or format instruction: output length (billed at the output "
    "price) is unbounded.",
    default_enabled=False,  # 0% real findings on the labelled corpus: opt in with --select
)
MAX_TOKEN_KEYS = {
    "max_tokens",
    "max_output_tokens",
    "max_completion_tokens",
    "maxoutputtokens",
    "maxtokens",
    "max_new_tokens",
    "num_predict",
}
SCHEMA_KEYS = {"response_format", "json_schema", "output_schema", "output", "outputs", "schema"}
UNITS = ("word", "sentence", "bullet", "line", "paragraph", "character", "token", "item")
_NUMBER = r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|a single|a few)"
# "... at most 3 bullet" / "in 2 short" / "{{$length}} sentences": the words before a unit
# word, anchored at its start (a template variable there is a count given per call).
COUNT_BEFORE_UNIT = re.compile(
    rf"(?:\b(?:at most|no more than|maximum of|max(?:imum)?|up to|limit(?:ed)? to|under|"
    rf"fewer than|less than|exactly|in)\s+{_NUMBER}|\b\d+|\}}\}}|\}})\s+(?:\w+\s+)?$"
)
# (substrings one of which must occur, pattern): a substring test first, because Python's re
# has no fast path for patterns that start with \b (~0.3 ms per 4 KB prompt each). Searched
# in the lower-cased prompt.
BOUNDS = tuple(
    (keywords, re.compile(pattern))
    for keywords, pattern in (
        (
            ("concise", "brief", "succinct", "terse", "short"),
            r"\bbe (?:very |extremely )?(?:concise|brief|succinct|terse)\b|"
            r"\b(?:briefly|concisely|succinctly|tersely)\b|"
            r"\b(?:concise|brief|short|succinct)(?:ly)?\s+(?:answer|response|reply|summary)|"
            r"\bkeep (?:it|your (?:answer|response|reply)|the (?:answer|response|reply)) "
            r"(?:short|brief|concise|under)\b",
        ),
        (
            ("one ", "single "),
            r"\b(?:one|a single)\s+(?:word|sentence|line|paragraph|label|number|token|character)\b",
        ),
        (
            ("respond", "reply", "answer", "output", "return"),
            r"\b(?:respond|reply|answer|output|return)\s+(?:only\s+)?(?:with\s+|in\s+|as\s+)?"
            r"(?:a\s+|an\s+|the\s+|valid\s+|only\s+|one\s+)*"
            r"(?:json|yaml|csv|xml|yes|no|true|false|label|number|integer|boolean|category)\b|"
            r"\b(?:respond|reply|answer|output|return)(?:\s+\w+){0,3}\s+one of\b|"
            r"\b(?:respond|reply|answer)\s+with\s+(?:\w+\s+){1,3}only\b",
        ),
        (("json schema",), r"json schema"),
        # "no more explanation is needed", "scores ONLY", "only the answer", "can be returned"
        (
            ("explanation", "only", "returned"),
            r"\bno (?:more |further |other )?explanations?\b|\b(?:scores?|labels?|numbers?) only\b|"
            r"\bonly (?:the |a |one )?(?:answer|label|score|number|category|word)\b|"
            r"\bcan be returned\b",
        ),
        # "keep your answer to two sentences", "limit it to 3 items"
        (
            ("keep", "limit"),
            rf"\b(?:keep|limit)\s+(?:it|your \w+|the \w+)\s+(?:to|under|within)\s+{_NUMBER}\b",
        ),
        (
            ("haiku", "limerick", "tweet", "headline", "slogan", "title"),
            r"\b(?:haiku|limerick|tweet|headline|slogan|title)s?\b",
        ),
        (('"type"',), r"\"type\"\s*:\s*\"object\""),
        (("yes or no", "true or false"), r"yes or no|true or false"),
    )
)


def has_output_bound(prompt: str) -> bool:
    low = prompt.lower()
    if _has_count_limit(low):
        return True
    for keywords, pattern in BOUNDS:
        if any(k in low for k in keywords) and pattern.search(low):
            return True
    return False


def _has_count_limit(low: str) -> bool:
    """'at most 3 bullets', 'in 2 sentences', '100 words or fewer': find each unit word, then
    look at the few words before it."""
    for unit in UNITS:
        start = low.find(unit)
        while start != -1:
            if COUNT_BEFORE_UNIT.search(low, max(0, start - 40), start):
                return True
            start = low.find(unit, start + 1)
    return False


# Models that return no generated text (vectors, images): output tokens are not the cost.
NOT_TEXT_MODELS = ("embed", "dall-e", "imagen", "tts", "whisper", "moderation", "rerank")
NOT_TEXT_APIS = {"embedding", "embeddings", "image", "images", "audio"}


def check(ctx: Context):
    if ctx.settings.max_tokens is not None or ctx.template.max_tokens is not None:
        return
    if _not_a_text_model(ctx) or _bounded_by_settings(_sibling_config(ctx.template.path)):
        return
    if _bounded_by_settings(ctx.template.front_matter):
        return
    if has_output_bound(ctx.prompt):
        return
    message = "no max_tokens and no length or format instruction: the answer can run long"
    pricing = ctx.pricing
    model = pricing.model if pricing else None
    if pricing is not None and model is not None and model.max_output:
        worst = pricing.output_cost_per_call(model.max_output)
        message += (
            f" (up to {model.max_output:,} output tokens, ${plain(worst)} per call on {model.id})"
        )
    yield Finding(
        INFO,
        message,
        "Set max_tokens in the front matter (or `max-tokens` in [audit] config), or ask for a "
        "bounded answer: a JSON schema, 'answer in 3 bullets', 'be concise'.",
        0,
        0,
    )


def _not_a_text_model(ctx: Context) -> bool:
    front = ctx.template.front_matter
    model = front.get("model")
    names = [ctx.pricing.model.id] if ctx.pricing else []
    apis = []
    if isinstance(model, str):
        names.append(model)
    elif isinstance(model, dict):
        names += [str(model.get(k)) for k in ("id", "name") if model.get(k)]
        configuration = model.get("configuration")
        if isinstance(configuration, dict):
            names += [str(v) for k, v in configuration.items() if k in ("name", "model")]
            names.append(str(configuration.get("azure_deployment", "")))
        apis += [str(model.get(k, "")).lower() for k in ("api", "apiType")]
    return any(n in name.lower() for name in names for n in NOT_TEXT_MODELS) or bool(
        NOT_TEXT_APIS & set(apis)
    )


def _sibling_config(path: str):
    """Semantic Kernel: skprompt.txt's execution settings live in config.json beside it."""
    from pathlib import Path

    config = Path(path).with_name("config.json")
    if Path(path).name != "skprompt.txt" or not config.is_file():
        return None
    import json

    try:
        return json.loads(config.read_text(encoding="utf-8"))
    except (ValueError, OSError, RecursionError):
        return None


def _bounded_by_settings(node) -> bool:
    """max_tokens or an output schema anywhere in the front matter (prompty nests them)."""
    if isinstance(node, dict):
        for key, value in node.items():
            name = str(key).lower()
            if name in MAX_TOKEN_KEYS and value is not None:
                return True
            if name in SCHEMA_KEYS and value:
                return True
            if _bounded_by_settings(value):
                return True
    elif isinstance(node, list):
        return any(_bounded_by_settings(item) for item in node)
    return False


RULE = Rule(INFO, check)
