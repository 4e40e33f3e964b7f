"""Recognise an input's format from its content (never from its file name alone).

CSV files are told apart by their header columns, JSON by the keys of the first object,
a folder by holding Claude Code transcripts. Naming the `source` (`--source NAME`) overrides
all of this.
"""

from __future__ import annotations

import json
from typing import Any

from tokcli.errors import InputError, OptionError
from tokcli.importers.input_files import Source, csv_header, limit_hint, looks_like_json_lines

# (format, columns that must all be present), most specific first.
_CSV_SIGNATURES: tuple[tuple[str, frozenset[str]], ...] = (
    ("focus", frozenset({"BilledCost", "ChargePeriodStart", "ChargeCategory"})),
    ("azure-cost", frozenset({"MeterCategory", "Quantity", "UnitOfMeasure"})),
    ("aws-cur", frozenset({"lineItem/UsageType", "lineItem/UnblendedCost"})),
    ("aws-cur", frozenset({"line_item_usage_type", "line_item_unblended_cost"})),
    ("gcp-billing", frozenset({"billing_account_id", "usage_start_time", "cost"})),
    ("anthropic-usage-csv", frozenset({"usage_date_utc", "usage_input_tokens_no_cache"})),
    ("anthropic-usage-csv", frozenset({"usage_date_utc", "usage_output_tokens"})),
    ("anthropic-costs-csv", frozenset({"usage_date_utc", "cost_usd"})),
    ("openai-costs-csv", frozenset({"start_time_iso", "amount_value"})),
    ("openai-usage-csv", frozenset({"start_time_iso", "num_model_requests"})),
    ("openai-usage-csv", frozenset({"start_time", "end_time", "start_time_iso", "end_time_iso"})),
    ("litellm", frozenset({"request_id", "spend", "startTime"})),
)


def detect(source: Source) -> str:
    if source.is_dir:
        return "claude-code"
    head = source.head()
    stripped = head.lstrip()
    if not stripped:
        raise InputError("the file is empty", path=source.name)
    try:
        found = _detect_json(stripped, head) if stripped[0] in "[{" else _detect_csv(head)
    except RecursionError:
        raise InputError(
            f"JSON nested deeper than {source.limits.json_depth} levels",
            path=source.name,
            hint=limit_hint("json_depth"),
        ) from None
    if found is None:
        raise InputError(
            "cannot tell the format from the content",
            path=source.name,
            hint=OptionError("; name it with {source} (see `tokcli import --help`)"),
        )
    return found


def _detect_csv(head: str) -> str | None:
    columns = set(csv_header(head))
    for name, required in _CSV_SIGNATURES:
        if required <= columns:
            return name
    return None


def _detect_json(stripped: str, head: str) -> str | None:
    if looks_like_json_lines(head):
        first = json.loads(next(line for line in head.splitlines() if line.strip()))
        return _detect_json_lines(first, head)
    sample = _first_object(stripped)
    return _detect_document(sample, stripped)


def _detect_json_lines(first: dict[str, Any], head: str) -> str | None:
    if "resourceSpans" in first or "resourceMetrics" in first:
        return "otlp"
    if "request_id" in first and "spend" in first:
        return "litellm"
    if "billing_account_id" in first and ("sku" in first or "sku_description" in first):
        return "gcp-billing"
    if "sessionId" in head or '"type":"assistant"' in head or '"usage":{' in head:
        return "claude-code"
    return None


def _first_object(text: str) -> dict[str, Any]:
    """The first JSON object of a (possibly truncated) document, parsed far enough to read
    its keys: the head is decoded object by object."""
    decoder = json.JSONDecoder()
    index = 1 if text.startswith("[") else 0
    while index < len(text) and text[index] in " \r\n\t":
        index += 1
    try:
        value, _ = decoder.raw_decode(text, index)
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _detect_document(sample: dict[str, Any], text: str) -> str | None:
    keys = set(sample)
    if "resourceSpans" in keys or "resourceMetrics" in keys:
        return "otlp"
    if '"organization.costs.result"' in text:
        return "openai-costs"
    if '"organization.usage.' in text or (keys >= {"start_time", "end_time", "results"}):
        return "openai-usage"
    if '"starting_at"' in text and '"results"' in text:
        return "anthropic-costs" if '"amount"' in text else "anthropic-usage"
    if "request_id" in keys and "spend" in keys:
        return "litellm"
    if "billing_account_id" in keys:
        return "gcp-billing"
    return None
