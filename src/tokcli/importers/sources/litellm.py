"""LiteLLM proxy spend logs (`LiteLLM_SpendLogs`), as CSV, a JSON array or JSON Lines.

`spend` is USD as the proxy computed it from its own price table (an estimate of the provider
bill; kept as the billed cost with that caveat in the README). `prompt_tokens` INCLUDES
cache reads (and, in newer versions, cache writes): the cache figures in
`metadata.additional_usage_values` are subtracted to get the uncached bucket. `metadata` and
`request_tags` arrive as JSON text; request tags are `key:value` strings.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tokcli.importers.fields import (
    RowError,
    column_tags,
    money,
    stable_key,
    text_or_none,
    tokens,
    utc_time,
)
from tokcli.importers.format import APPEND_ONLY, Format, Options, Parsed, each_row
from tokcli.importers.input_files import Source, csv_rows, json_document, json_lines
from tokcli.importers.normalise import parse_json_text
from tokcli.store.usage import UsageRecord
from tokcli.tags import parse_key_value_list

NAME = "litellm"


def parse(source: Source, options: Options) -> Iterator[Parsed]:
    return each_row(_rows(source), convert)


def _rows(source: Source) -> Iterator[tuple[int | None, Any]]:
    head = source.head(4096).lstrip()
    if head.startswith("["):
        for index, row in enumerate(json_document(source)):
            yield index + 1, row
    elif head.startswith("{"):
        yield from json_lines(source)
    else:
        yield from csv_rows(source)


def convert(row: Any) -> list[UsageRecord]:
    if not isinstance(row, dict):
        raise RowError("expected an object per row")
    request_id = text_or_none(row.get("request_id"))
    if request_id is None:
        raise RowError("missing value", "request_id")
    metadata = parse_json_text(row.get("metadata"), "metadata") or {}
    prompt = tokens(row.get("prompt_tokens"), "prompt_tokens")
    cache_read, cache_write = _cache_tokens(metadata)
    uncached = prompt - cache_read - cache_write
    if uncached < 0:  # older versions added only the cache reads to prompt_tokens
        uncached = max(prompt - cache_read, 0)
    spend = money(row.get("spend"), "spend", "USD")
    record = UsageRecord(
        record_key=stable_key(NAME, request_id),
        source=NAME,
        period_start=utc_time(row.get("startTime"), "startTime"),
        period_end=utc_time(row.get("endTime") or row.get("startTime"), "endTime"),
        provider=text_or_none(row.get("custom_llm_provider")),
        model_raw=text_or_none(row.get("model")) or text_or_none(row.get("model_group")),
        requests=1,
        input_tokens=uncached,
        cache_read_tokens=cache_read,
        cache_write_5m_tokens=cache_write,
        output_tokens=tokens(row.get("completion_tokens"), "completion_tokens"),
        billed_cost=spend,
        currency="USD" if spend is not None else None,
        tags=_tags(row, metadata),
    )
    return [record]


def _cache_tokens(metadata: Any) -> tuple[int, int]:
    extra = metadata.get("additional_usage_values") if isinstance(metadata, dict) else None
    if not isinstance(extra, dict):
        return 0, 0
    read = extra.get("cache_read_input_tokens")
    if read is None:
        read = (extra.get("prompt_tokens_details") or {}).get("cached_tokens")
    return (
        tokens(read, "metadata.additional_usage_values.cache_read_input_tokens"),
        tokens(
            extra.get("cache_creation_input_tokens"),
            "metadata.additional_usage_values.cache_creation_input_tokens",
        ),
    )


def _tags(row: dict[str, Any], metadata: Any) -> dict[str, str]:
    tags = column_tags(
        row,
        (
            ("team_id", "team"),
            ("user", "user"),
            ("end_user", "end_user"),
            ("api_key", "api_key"),
            ("organization_id", "organization"),
        ),
    )
    if isinstance(metadata, dict):
        for key, tag in (
            ("user_api_key_alias", "api_key_alias"),
            ("user_api_key_team_alias", "team_alias"),
        ):
            if text_or_none(metadata.get(key)):
                tags[tag] = str(metadata[key]).strip()
        caller = metadata.get("spend_logs_metadata")
        if isinstance(caller, dict):
            tags.update({str(k): str(v) for k, v in caller.items() if v is not None})
    request_tags = parse_json_text(row.get("request_tags"), "request_tags")
    tags.update(parse_key_value_list(request_tags))
    return tags


FORMAT = Format(NAME, "LiteLLM spend logs (CSV / JSON)", parse, APPEND_ONLY)
