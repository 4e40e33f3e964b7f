"""Normalisation shared by several formats: service tiers, token kinds named in billing
meters, unit blocks ("1K", "1000_tokens"), charge kinds, and JSON walking with paths."""

from __future__ import annotations

import decimal
import functools
import json
import re
from decimal import Decimal
from typing import Any

from tokcli.importers.fields import RowError
from tokcli.store.usage import UsageRecord

_TIER_ALIASES = {
    "standard": "standard",
    "default": "standard",
    "auto": "standard",
    "on_demand": "standard",
    "batch": "batch",
    "flex": "flex",
    "flex_discount": "flex",
    "priority": "priority",
    "priority_on_demand": "priority",
    "scale": "priority",
}


def service_tier(value: object, *, batch: object = None) -> str:
    """The store's tier (standard, batch, flex, priority) from a source's spelling."""
    if batch is True or str(batch).lower() == "true":
        return "batch"
    if value is None:
        return "standard"
    return _TIER_ALIASES.get(str(value).strip().lower(), "standard")


# Token kind from a meter / SKU / line-item description. Order matters: "cached input" and
# "cache write input" must win over "input". The word "reasoning" alone names nothing: it is as
# often part of a model's name ("Solora Reasoning Pro") as a meter.
_TOKEN_KINDS = (
    ("cache_write_1h_tokens", re.compile(r"cache.?(write|creation).{0,12}1\s?h", re.I)),
    ("cache_write_5m_tokens", re.compile(r"cache.?(write|creation|wr)|cd\s?wr", re.I)),
    ("cache_read_tokens", re.compile(r"cache.?read|cached|cchd|\bcd\b|caching", re.I)),
    # "Thinking Text Output" (Vertex AI), "reasoning tokens": the word followed by what is
    # billed. "Output tokens for Solora Reasoning Pro" is output.
    (
        "reasoning_tokens",
        re.compile(r"(thinking|reasoning)[\s_-]+(text[\s_-]+)?(output|tokens?)", re.I),
    ),
    ("output_tokens", re.compile(r"output|outp|completion|\bout\b", re.I)),
    ("input_tokens", re.compile(r"input|\binp\b|-inp-|prompt|\bin\b", re.I)),
)


@functools.lru_cache(maxsize=4096)
def token_kind(text: str, model: str | None = None) -> str | None:
    """Which usage bucket a billing line's description names, or None when it names none.
    The model's own name is taken out of the text first: token kinds come from what the meter
    says, never from what the model is called."""
    if model:
        for spelling in {model, model.replace("-", " "), model.replace(" ", "-")}:
            text = re.sub(re.escape(spelling), " ", text, flags=re.I)
    for bucket, pattern in _TOKEN_KINDS:
        if pattern.search(text):
            return bucket
    return None


# FOCUS 1.3 SkuPriceDetails for AI: TokenDirection (Input / Output) and TokenCacheAction
# (Uncached / Read / Write).
_DIRECTION_BUCKETS = {
    ("input", None): "input_tokens",
    ("input", "uncached"): "input_tokens",
    ("input", "read"): "cache_read_tokens",
    ("input", "write"): "cache_write_5m_tokens",
    ("output", None): "output_tokens",
    ("output", "uncached"): "output_tokens",
    ("reasoning", None): "reasoning_tokens",
}


def token_direction_kind(direction: object, cache_action: object) -> str | None:
    """The bucket a FOCUS TokenDirection / TokenCacheAction pair names, or None."""
    if not isinstance(direction, str):
        return None
    action = cache_action.strip().lower() if isinstance(cache_action, str) else None
    return _DIRECTION_BUCKETS.get((direction.strip().lower(), action))


_BLOCK = re.compile(r"^\s*(\d+(?:\.\d+)?)?\s*([KMB])?\s*(tokens?)?\s*$", re.I)
_MULTIPLIER = {None: 1, "K": 1_000, "M": 1_000_000, "B": 1_000_000_000}


@functools.lru_cache(maxsize=1024)
def token_unit_size(unit: str | None) -> int | None:
    """Tokens per billed unit: "1K" -> 1000, "1M Tokens" -> 1e6, "1000_tokens" -> 1000,
    "Tokens" -> 1. None when the unit is not a token count (hours, GB, requests)."""
    if not unit:
        return None
    text = unit.strip().replace("_", " ")
    if text.lower() in ("tokens", "token", "count"):
        return 1
    match = _BLOCK.match(text.replace("  ", " "))
    if not match or not (match.group(2) or match.group(3)):
        return None
    number = Decimal(match.group(1) or 1) * _MULTIPLIER[(match.group(2) or "").upper() or None]
    return int(number)


def add_tokens(record: UsageRecord, bucket: str, quantity: Decimal) -> None:
    """Add a billed quantity of tokens to a bucket. Token buckets are counts and stay >= 0:
    a negative quantity (a refund row) keeps its negative cost and adds no tokens. Block units
    can leave a fraction of a token after conversion; it is rounded half-even."""
    if quantity <= 0:
        return
    whole = int(quantity.to_integral_value(rounding=decimal.ROUND_HALF_EVEN))
    setattr(record, bucket, getattr(record, bucket) + whole)


_CHARGE_KINDS = {
    "usage": "usage",
    "credit": "credit",
    "edpdiscount": "credit",
    "bundleddiscount": "credit",
    "privaterate discount": "credit",
    "discount": "credit",
    "promotion": "credit",
    "refund": "refund",
    "tax": "tax",
    "adjustment": "adjustment",
    "correction": "adjustment",
    "rounding error": "adjustment",
    "roundingadjustment": "adjustment",
    "purchase": "commitment",
    "savingsplanrecurringfee": "commitment",
    "rifee": "commitment",
    "unusedreservation": "commitment",
    "fee": "fee",
}


def charge_kind(category: str | None, cost: Decimal | None) -> str:
    """The store's charge kind from FOCUS ChargeCategory, an AWS line item type or an Azure
    ChargeType. Negative usage is a refund: kept as its own row, never netted away."""
    kind = _CHARGE_KINDS.get((category or "usage").strip().lower(), "usage")
    if kind == "usage" and cost is not None and cost < 0:
        return "refund"
    return kind


def parse_json_text(value: object, field: str) -> Any:
    """A JSON value that a CSV cell or a JSON string field carries encoded as text."""
    if value is None or isinstance(value, dict | list):
        return value
    text = str(value).strip()
    if not text or text in ("NULL", "null"):
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RowError(f"invalid JSON: {exc.msg}", field) from None


def json_tags(value: object, field: str) -> dict[str, Any]:
    """A tag object serialised as JSON (FOCUS Tags), or Azure EA's object without braces."""
    if isinstance(value, dict):
        return value
    text = "" if value is None else str(value).strip()
    if not text or text in ("NULL", "null", "{}"):
        return {}
    if not text.startswith("{"):
        text = "{" + text + "}"
    parsed = parse_json_text(text, field)
    if not isinstance(parsed, dict):
        raise RowError("expected a JSON object of tags", field)
    return parsed
