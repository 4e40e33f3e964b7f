"""Anthropic: Admin API `usage_report/messages` and `cost_report` JSON, and the Console CSVs.

Usage reports split input into disjoint parts already (uncached, cache read, 5-minute and
1-hour cache writes). The cost report's `amount` is in CENTS as a decimal string ("123.45" is
$1.2345); the Console cost CSV's `cost_usd` is dollars and names models by display name
("Claude Haiku 4.5"), which the registry resolves. Null dimensions mean "not grouped by it"
(and a null workspace is also the default workspace), so they are not tags.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from tokcli.importers.fields import (
    Occurrences,
    RowError,
    column_tags,
    decimal_or_none,
    is_null,
    money,
    next_day,
    stable_key,
    text_or_none,
    tokens,
    utc_time,
)
from tokcli.importers.format import BY_WINDOW, Format, Options, Parsed, structural_error
from tokcli.importers.input_files import BadRow, Source, csv_rows, json_document
from tokcli.importers.normalise import service_tier
from tokcli.money import MONEY_CONTEXT
from tokcli.store.usage import UsageRecord

USAGE = "anthropic-usage"
COSTS = "anthropic-costs"
CENTS_PER_DOLLAR = Decimal(100)
_DIMENSION_TAGS = (
    ("workspace_id", "workspace"),
    ("api_key_id", "api_key"),
    ("context_window", "context_window"),
    ("inference_geo", "inference_geo"),
    ("description", "description"),
    ("token_type", "token_type"),
    ("cost_type", "cost_type"),
)


def _buckets(document: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Buckets from one response page or a list of pages (as `--from anthropic` saves)."""
    pages = document if isinstance(document, list) else [document]
    for p_index, page in enumerate(pages):
        if not isinstance(page, dict) or not isinstance(page.get("data"), list):
            raise RowError("expected a page with a data list", f"[{p_index}]")
        for index, bucket in enumerate(page["data"]):
            yield f"[{p_index}].data[{index}]", bucket


def _parse_json(
    source: Source, convert: Callable[[dict[str, Any], dt.datetime, dt.datetime], UsageRecord]
) -> Iterator[Parsed]:
    try:
        buckets = list(_buckets(json_document(source)))
    except RowError as error:
        yield Parsed(None, error=error)
        return
    for path, bucket in buckets:
        results = bucket.get("results") or [] if isinstance(bucket, dict) else []
        if not isinstance(results, list):
            yield Parsed(None, error=RowError("expected a list of results", f"{path}.results"))
            continue
        if not results:
            yield Parsed(None, skipped="empty bucket", raw=bucket)
        for index, result in enumerate(results):
            where = f"{path}.results[{index}]"
            try:
                if not isinstance(result, dict):
                    raise RowError("expected a result object")
                start = utc_time(bucket.get("starting_at"), "starting_at")
                end = utc_time(bucket.get("ending_at"), "ending_at")
                record = convert(result, start, end)
            except RowError as error:
                error.field = f"{where}.{error.field}" if error.field else where
                yield Parsed(None, error=error, raw=result)
                continue
            yield Parsed(None, records=[record], raw=result)


def usage_record(result: dict[str, Any], start: dt.datetime, end: dt.datetime) -> UsageRecord:
    cache_creation = result.get("cache_creation") or {}
    return UsageRecord(
        record_key=stable_key(USAGE, start, end, sorted(result.items(), key=str)),
        source=USAGE,
        period_start=start,
        period_end=end,
        provider="anthropic",
        model_raw=text_or_none(result.get("model")),
        service_tier=service_tier(result.get("service_tier")),
        input_tokens=tokens(result.get("uncached_input_tokens"), "uncached_input_tokens"),
        cache_read_tokens=tokens(result.get("cache_read_input_tokens"), "cache_read_input_tokens"),
        cache_write_5m_tokens=tokens(
            cache_creation.get("ephemeral_5m_input_tokens"),
            "cache_creation.ephemeral_5m_input_tokens",
        ),
        cache_write_1h_tokens=tokens(
            cache_creation.get("ephemeral_1h_input_tokens"),
            "cache_creation.ephemeral_1h_input_tokens",
        ),
        output_tokens=tokens(result.get("output_tokens"), "output_tokens"),
        tags=_dimension_tags(result),
    )


def cost_record(result: dict[str, Any], start: dt.datetime, end: dt.datetime) -> UsageRecord:
    cents = decimal_or_none(result.get("amount"), "amount")
    if cents is None:
        raise RowError("missing amount", "amount")
    with decimal.localcontext(MONEY_CONTEXT):  # exact: 60 digits, more than any amount has
        billed = cents / CENTS_PER_DOLLAR
    return UsageRecord(
        record_key=stable_key(COSTS, start, end, sorted(result.items(), key=str)),
        source=COSTS,
        period_start=start,
        period_end=end,
        provider="anthropic",
        model_raw=text_or_none(result.get("model")),
        service_tier=service_tier(result.get("service_tier")),
        billed_cost=billed,
        currency=(text_or_none(result.get("currency")) or "USD").upper(),
        charge_kind="usage" if billed >= 0 else "credit",
        tags=_dimension_tags(result),
    )


def _dimension_tags(result: dict[str, Any]) -> dict[str, str]:
    return column_tags(result, _DIMENSION_TAGS)


def _usage_json(source: Source, options: Options) -> Iterator[Parsed]:
    return _parse_json(source, usage_record)


def _costs_json(source: Source, options: Options) -> Iterator[Parsed]:
    return _parse_json(source, cost_record)


def _console_rows(
    source: Source, convert: Callable[[dict[str, str], dt.datetime], UsageRecord]
) -> Iterator[Parsed]:
    occurrences = Occurrences()
    for line, row in csv_rows(source):
        if isinstance(row, BadRow):
            yield structural_error(line, row)
            continue
        try:
            day = utc_time(row.get("usage_date_utc"), "usage_date_utc")
            record = convert(row, day)
        except RowError as error:
            yield Parsed(line, error=error, raw=row)
            continue
        record.record_key = occurrences.key(record.record_key)
        yield Parsed(line, records=[record], raw=row)


def console_usage_record(row: dict[str, str], day: dt.datetime) -> UsageRecord:
    if "usage_input_tokens_cache_write_5m" in row:
        write_5m = tokens(row.get("usage_input_tokens_cache_write_5m"), "cache_write_5m")
        write_1h = tokens(row.get("usage_input_tokens_cache_write_1h"), "cache_write_1h")
    else:  # older exports: one cache-write column, billed at the 5-minute rate
        write_5m = tokens(
            row.get("usage_input_tokens_cache_write"), "usage_input_tokens_cache_write"
        )
        write_1h = 0
    return UsageRecord(
        record_key=stable_key(USAGE, *row.values()),
        source=USAGE,
        period_start=day,
        period_end=next_day(day),
        provider="anthropic",
        model_raw=text_or_none(row.get("model_version")),
        service_tier=service_tier(row.get("usage_type")),
        input_tokens=tokens(row.get("usage_input_tokens_no_cache"), "usage_input_tokens_no_cache"),
        cache_read_tokens=tokens(
            row.get("usage_input_tokens_cache_read"), "usage_input_tokens_cache_read"
        ),
        cache_write_5m_tokens=write_5m,
        cache_write_1h_tokens=write_1h,
        output_tokens=tokens(row.get("usage_output_tokens"), "usage_output_tokens"),
        tags=_console_tags(row),
    )


def console_cost_record(row: dict[str, str], day: dt.datetime) -> UsageRecord:
    billed = money(row.get("cost_usd"), "cost_usd", "USD")
    if billed is None:
        raise RowError("missing value", "cost_usd")
    tags = _console_tags(row)
    if not is_null(row.get("token_type")):
        tags["token_type"] = row["token_type"].strip()
    return UsageRecord(
        record_key=stable_key(COSTS, *row.values()),
        source=COSTS,
        period_start=day,
        period_end=next_day(day),
        provider="anthropic",
        model_raw=text_or_none(row.get("model")),
        service_tier=service_tier(row.get("usage_type")),
        billed_cost=billed,
        currency="USD",
        charge_kind="usage" if billed >= 0 else "credit",
        tags=tags,
    )


def _console_tags(row: dict[str, str]) -> dict[str, str]:
    # Console exports name keys and workspaces by their names, not their ids.
    columns = ("api_key", "workspace", "context_window", "inference_geo")
    return column_tags(row, [(column, column) for column in columns])


def _usage_csv(source: Source, options: Options) -> Iterator[Parsed]:
    return _console_rows(source, console_usage_record)


def _costs_csv(source: Source, options: Options) -> Iterator[Parsed]:
    return _console_rows(source, console_cost_record)


USAGE_JSON = Format(
    USAGE, "Anthropic Admin API usage_report/messages JSON", _usage_json, BY_WINDOW, "anthropic"
)
COSTS_JSON = Format(
    COSTS, "Anthropic Admin API cost_report JSON", _costs_json, BY_WINDOW, "anthropic"
)
USAGE_CSV = Format(
    "anthropic-usage-csv",
    "Anthropic Console usage CSV",
    _usage_csv,
    BY_WINDOW,
    "anthropic",
    USAGE,
)
COSTS_CSV = Format(
    "anthropic-costs-csv", "Anthropic Console cost CSV", _costs_csv, BY_WINDOW, "anthropic", COSTS
)
