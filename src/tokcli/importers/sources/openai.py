"""OpenAI: organization Usage API and Costs API JSON, and the dashboard CSV exports.

Usage results count tokens; `input_tokens` INCLUDES cached and cache-write tokens, so the
uncached bucket is `input_uncached_tokens` when the (newer) field is there, else
`input_tokens - input_cached_tokens - input_cache_write_tokens`. Costs results are dollars
(number or numeric string), currency lowercase ISO 4217.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from tokcli.importers.fields import (
    Occurrences,
    RowError,
    column_tags,
    decimal_or_none,
    is_null,
    money,
    stable_key,
    text_or_none,
    tokens,
    utc_from_unix,
)
from tokcli.importers.format import BY_WINDOW, Format, Options, Parsed, structural_error
from tokcli.importers.input_files import BadRow, Source, csv_rows, json_document
from tokcli.importers.normalise import add_tokens, service_tier, token_kind, token_unit_size
from tokcli.store.usage import UsageRecord

# usage_record / cost_record: one result of a bucket -> a record, or why it is skipped.
_Convert = Callable[[dict[str, Any], dt.datetime, dt.datetime], UsageRecord | str]

USAGE = "openai-usage"
COSTS = "openai-costs"
_DIMENSION_TAGS = (("project_id", "project"), ("user_id", "user"), ("api_key_id", "api_key"))
_TIME_COLUMNS = {"start_time", "end_time", "start_time_iso", "end_time_iso"}
_TOKEN_RESULTS = {
    "organization.usage.completions.result",
    "organization.usage.embeddings.result",
}


def buckets(document: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """(JSON path, bucket) from a page, a list of pages, or a bare list of buckets."""
    if isinstance(document, dict):
        document = [document]
    if not isinstance(document, list):
        return
    for index, item in enumerate(document):
        is_page = isinstance(item, dict) and "data" in item and "start_time" not in item
        if is_page:
            for inner, bucket in enumerate(item.get("data") or []):
                yield f"[{index}].data[{inner}]", bucket
        else:
            yield f"[{index}]", item


def _json_rows(source: Source) -> Iterator[tuple[str, dict[str, Any], dict[str, Any] | None]]:
    """(path, bucket, result) for every result; empty buckets as (path, bucket, None)."""
    for path, bucket in buckets(json_document(source)):
        if not isinstance(bucket, dict) or "start_time" not in bucket:
            raise RowError("expected a bucket with start_time, end_time and results", path)
        results = bucket.get("results") or []
        if not isinstance(results, list):
            raise RowError("expected a list of results", f"{path}.results")
        if not results:
            yield path, bucket, None
        for index, result in enumerate(results):
            yield f"{path}.results[{index}]", bucket, result


def _parse_json(source: Source, convert: _Convert) -> Iterator[Parsed]:
    try:
        rows = list(_json_rows(source))
    except RowError as error:
        yield Parsed(None, error=error)
        return
    for path, bucket, result in rows:
        if result is None:
            yield Parsed(None, skipped="empty bucket", raw=bucket)
            continue
        try:
            if not isinstance(result, dict):
                raise RowError("expected a result object")
            start = utc_from_unix(bucket.get("start_time"), f"{path}.start_time")
            end = utc_from_unix(bucket.get("end_time"), f"{path}.end_time")
            outcome = convert(result, start, end)
        except RowError as error:
            error.field = f"{path}.{error.field}" if error.field else path
            yield Parsed(None, error=error, raw=result)
            continue
        if isinstance(outcome, str):
            yield Parsed(None, skipped=outcome, raw=result)
        else:
            yield Parsed(None, records=[outcome], raw=result)


def usage_record(result: dict[str, Any], start: dt.datetime, end: dt.datetime) -> UsageRecord | str:
    kind = result.get("object") or "organization.usage.completions.result"
    if not isinstance(kind, str) or kind not in _TOKEN_RESULTS:
        return f"not token usage ({kind})"
    total_input = tokens(result.get("input_tokens"), "input_tokens")
    cached = tokens(result.get("input_cached_tokens"), "input_cached_tokens")
    cache_write = tokens(result.get("input_cache_write_tokens"), "input_cache_write_tokens")
    if not is_null(result.get("input_uncached_tokens")):
        uncached = tokens(result.get("input_uncached_tokens"), "input_uncached_tokens")
    else:
        uncached = total_input - cached - cache_write
        if uncached < 0:
            raise RowError("input_tokens is smaller than its cached part", "input_tokens")
    return UsageRecord(
        record_key=stable_key(USAGE, start, end, sorted(result.items(), key=str)),
        source=USAGE,
        period_start=start,
        period_end=end,
        provider="openai",
        model_raw=text_or_none(result.get("model")),
        service_tier=service_tier(result.get("service_tier"), batch=result.get("batch")),
        requests=tokens(result.get("num_model_requests"), "num_model_requests"),
        input_tokens=uncached,
        cache_read_tokens=cached,
        cache_write_5m_tokens=cache_write,
        output_tokens=tokens(result.get("output_tokens"), "output_tokens"),
        tags=_dimension_tags(result),
    )


def cost_record(result: dict[str, Any], start: dt.datetime, end: dt.datetime) -> UsageRecord:
    amount = result.get("amount")
    if isinstance(amount, dict):
        value, currency = amount.get("value"), amount.get("currency")
    else:  # the dashboard CSV flattens it
        value, currency = result.get("amount_value"), result.get("amount_currency")
    billed = money(value, "amount.value", text_or_none(currency))
    if billed is None:
        raise RowError("missing amount", "amount.value")
    line_item = text_or_none(result.get("line_item"))
    record = UsageRecord(
        record_key=stable_key(COSTS, start, end, sorted(result.items(), key=str)),
        source=COSTS,
        period_start=start,
        period_end=end,
        provider="openai",
        billed_cost=billed,
        currency=(text_or_none(currency) or "usd").upper(),
        charge_kind="usage" if billed >= 0 else "credit",
        tags=_dimension_tags(result),
    )
    if line_item:
        record.tags["line_item"] = line_item
        _tokens_from_line_item(record, line_item, result)
    return record


def _tokens_from_line_item(record: UsageRecord, line_item: str, result: dict[str, Any]) -> None:
    """`gpt-4o-2024-08-06, input` with quantity in tokens: the model and a token bucket."""
    model, _, kind_text = line_item.partition(", ")
    bucket = token_kind(kind_text) if kind_text else None
    if bucket is None:
        return  # web search calls, storage, ...: money only
    record.model_raw = model.strip()
    quantity = decimal_or_none(result.get("quantity"), "quantity")
    size = token_unit_size(text_or_none(result.get("quantity_unit")) or "tokens")
    if quantity is not None and size is not None:
        add_tokens(record, bucket, quantity * size)


def _dimension_tags(result: dict[str, Any]) -> dict[str, str]:
    names = (("project_name", "project_name"), ("user_email", "user_email"))
    return column_tags(result, (*_DIMENSION_TAGS, *names))


def _parse_usage_json(source: Source, options: Options) -> Iterator[Parsed]:
    return _parse_json(source, usage_record)


def _parse_costs_json(source: Source, options: Options) -> Iterator[Parsed]:
    return _parse_json(source, cost_record)


def _parse_dashboard_csv(source: Source, convert: _Convert) -> Iterator[Parsed]:
    """Dashboard exports: one row per group per bucket; rows with only the time columns are
    empty buckets. Identical rows are numbered so each one is kept (they are summed, not
    de-duplicated)."""
    occurrences = Occurrences()
    # The dashboard writes an empty bucket as a row of only its four time columns.
    for line, row in csv_rows(source, short_rows_of=len(_TIME_COLUMNS)):
        if isinstance(row, BadRow):
            yield structural_error(line, row)
            continue
        try:
            if all(is_null(v) for k, v in row.items() if k not in _TIME_COLUMNS):
                yield Parsed(line, skipped="empty bucket", raw=row)
                continue
            start = utc_from_unix(row.get("start_time"), "start_time")
            end = utc_from_unix(row.get("end_time"), "end_time")
            cleaned = {k: v for k, v in row.items() if not is_null(v)}
            outcome = convert(cleaned, start, end)
        except RowError as error:
            yield Parsed(line, error=error, raw=row)
            continue
        if isinstance(outcome, str):
            yield Parsed(line, skipped=outcome, raw=row)
            continue
        outcome.record_key = occurrences.key(outcome.record_key)
        yield Parsed(line, records=[outcome], raw=row)


def _usage_csv(source: Source, options: Options) -> Iterator[Parsed]:
    return _parse_dashboard_csv(source, usage_record)


def _costs_csv(source: Source, options: Options) -> Iterator[Parsed]:
    return _parse_dashboard_csv(source, cost_record)


USAGE_JSON = Format(
    USAGE, "OpenAI Usage API JSON (completions buckets)", _parse_usage_json, BY_WINDOW, "openai"
)
COSTS_JSON = Format(COSTS, "OpenAI Costs API JSON", _parse_costs_json, BY_WINDOW, "openai")
USAGE_CSV = Format(
    "openai-usage-csv", "OpenAI dashboard usage CSV", _usage_csv, BY_WINDOW, "openai", USAGE
)
COSTS_CSV = Format(
    "openai-costs-csv", "OpenAI dashboard cost CSV", _costs_csv, BY_WINDOW, "openai", COSTS
)
