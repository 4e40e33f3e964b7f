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
_UNIT = (
    r"(?:words?|sentences?|bullets?|bullet points?|lines?|paragraphs?|characters?|tokens?|items?)"
)
_NUMBER = r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|a single|a few)"
BOUNDS = re.compile(
    "|".join(
        (
            r"\bbe (?:very |extremely )?(?:concise|brief|succinct|terse)\b",
            r"\b(?:concise|brief|short|succinct)(?:ly)?\s+(?:answer|response|reply|summary)",
            r"\bbriefly\b",
            rf"\b(?:at most|no more than|maximum of|max(?:imum)?|up to|limit(?:ed)? to|under|"
            rf"fewer than|less than|exactly|in)\s+{_NUMBER}\s+(?:\w+\s+)?{_UNIT}\b",
            rf"\b\d+\s+{_UNIT}\s+or (?:less|fewer)\b",
            r"\b(?:one|a single)\s+(?:word|sentence|line|paragraph|label|number|token|character)\b",
            r"\b(?:respond|reply|answer|output|return)\s+(?:only\s+)?(?:with\s+|in\s+|as\s+)?"
            r"(?:a\s+|an\s+|the\s+|valid\s+|only\s+|one\s+)*"
            r"(?:json|yaml|csv|xml|yes|no|true|false|label|number|integer|boolean|category)\b",
            r"\b(?:respond|reply|answer|output|return)(?:\s+\w+){0,3}\s+one of\b",
            r"\b(?:respond|reply|answer)\s+with\s+(?:\w+\s+){1,3}only\b",
            r"\bjson schema\b",
            r"\"type\"\s*:\s*\"object\"",
            r"\bkeep (?:it|your (?:answer|response|reply)|the (?:answer|response|reply)) "
            r"(?:short|brief|concise|under)\b",
            r"\b(?:yes or no|true or false)\b",
        )
    ),
    re.IGNORECASE,
)


def check(ctx: Context):
    if ctx.settings.max_tokens is not None or ctx.template.max_tokens is not None:
        return
    if _bounded_by_settings(ctx.template.front_matter):
        return
    if BOUNDS.search(ctx.prompt):
        return
    message = "no max_tokens and no length or format instruction: the answer can run long"
    model = ctx.pricing.model if ctx.pricing else None
    if model is not None and model.max_output:
        worst = ctx.pricing.output_cost_per_call(model.max_output)
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
