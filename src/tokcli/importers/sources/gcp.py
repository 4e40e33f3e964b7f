"""Google Cloud Billing export rows (BigQuery standard or detailed export) for Vertex AI and
Gemini: newline-delimited JSON as `bq extract` writes it (nested records), or CSV from a query
that flattened them (`service.description` or `service_description` both work).

`cost` is gross; `credits[]` (negative) are kept as their own credit rows, so net spend is the
sum and no credit is lost. Tokens come from `usage.amount` when the SKU names a token kind
("Gemini 2.5 Flash GA Text Input - Predictions") and the unit counts tokens; cache storage is
billed per hour and carries no tokens. The invoice month is the billing period.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

from tokcli.importers.fields import (
    Occurrences,
    RowError,
    decimal_or_none,
    money,
    stable_key,
    text_or_none,
    utc_time,
)
from tokcli.importers.format import (
    BY_BILLING_PERIOD,
    BillingPeriod,
    Format,
    Options,
    Parsed,
    each_row,
)
from tokcli.importers.input_files import Source, csv_rows, json_lines
from tokcli.importers.normalise import (
    add_tokens,
    charge_kind,
    parse_json_text,
    token_kind,
    token_unit_size,
)
from tokcli.store.usage import UsageRecord

NAME = "gcp-billing"
AI_SERVICES = re.compile(r"vertex ai|gemini|generative language", re.I)
_SKU_MODEL = re.compile(
    r"^(.*?)\s+(?:GA\s+|Preview\s+)?(?:Global\s+)?(?:Text|Image|Audio|Video|Thinking|Input|"
    r"Output|Context|Caching)\b",
    re.I,
)


def parse(source: Source, options: Options) -> Iterator[Parsed]:
    occurrences = options.occurrences or Occurrences()
    head = source.head(1).lstrip()
    rows = json_lines(source) if head.startswith("{") else csv_rows(source)
    return each_row(rows, lambda row: _convert(_flatten(row), options, occurrences))


def _flatten(row: Any, prefix: str = "") -> dict[str, Any]:
    """Nested records as dotted keys; `a_b` CSV spellings also answer to `a.b`."""
    if not isinstance(row, dict):
        raise RowError("expected an object per line")
    flat: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _get(row: dict[str, Any], dotted: str) -> Any:
    if dotted in row:
        return row[dotted]
    return row.get(dotted.replace(".", "_"))


def is_ai_service(row: dict[str, Any]) -> bool:
    return bool(AI_SERVICES.search(str(_get(row, "service.description") or "")))


def _convert(row: dict[str, Any], options: Options, occurrences: Occurrences) -> Parsed:
    if not options.all_services and not is_ai_service(row):
        return Parsed(None, skipped="not an AI service (use --all-services)")
    cost = money(_get(row, "cost"), "cost", text_or_none(_get(row, "currency")))
    if cost is None:
        raise RowError("missing value", "cost")
    key = occurrences.key(stable_key(NAME, sorted(row.items(), key=str)))
    sku = text_or_none(_get(row, "sku.description")) or ""
    record = UsageRecord(
        record_key=key,
        source=NAME,
        period_start=utc_time(_get(row, "usage_start_time"), "usage_start_time"),
        period_end=utc_time(_get(row, "usage_end_time"), "usage_end_time"),
        provider="google",
        billed_cost=cost,
        currency=text_or_none(_get(row, "currency")),
        charge_kind=charge_kind(text_or_none(_get(row, "cost_type")) or "usage", cost),
        tags=_tags(row),
    )
    if record.charge_kind == "usage":
        _tokens_from_sku(record, row, sku)
    records = [record, *_credits(row, record)]
    return Parsed(None, records=records, billing_period=_billing_period(row))


def _tokens_from_sku(record: UsageRecord, row: dict[str, Any], sku: str) -> None:
    if "storage" in sku.lower():
        return  # context-cache storage is billed per hour, not per token
    bucket = token_kind(sku)
    unit = text_or_none(_get(row, "usage.unit"))
    size = token_unit_size(unit)
    amount = decimal_or_none(_get(row, "usage.amount"), "usage.amount")
    if bucket is None or size is None or amount is None:
        return
    add_tokens(record, bucket, amount * size)
    match = _SKU_MODEL.match(sku)
    record.model_raw = match.group(1).strip() if match else None


def _credits(row: dict[str, Any], usage: UsageRecord) -> list[UsageRecord]:
    credits = parse_json_text(_get(row, "credits"), "credits") or []
    if not isinstance(credits, list):
        raise RowError("expected a list of credits", "credits")
    records = []
    for index, credit in enumerate(credits):
        if credit is None:
            continue
        if not isinstance(credit, dict):
            raise RowError("expected an object per credit", f"credits[{index}]")
        amount = decimal_or_none(credit.get("amount"), f"credits[{index}].amount")
        if not amount:
            continue
        records.append(
            UsageRecord(
                record_key=f"{usage.record_key}:credit{index}",
                source=NAME,
                period_start=usage.period_start,
                period_end=usage.period_end,
                provider="google",
                billed_cost=amount,
                currency=usage.currency,
                charge_kind="credit",
                tags={**usage.tags, "credit": str(credit.get("name") or credit.get("type"))},
            )
        )
    return records


def _tags(row: dict[str, Any]) -> dict[str, str]:
    tags: dict[str, str] = {}
    labels = parse_json_text(_get(row, "labels"), "labels") or []
    for label in labels if isinstance(labels, list) else []:
        if isinstance(label, dict) and label.get("key"):
            tags[str(label["key"])] = str(label.get("value") or "")
    for column, tag in (
        ("project.id", "project"),
        ("service.description", "service"),
        ("location.region", "region"),
    ):
        value = text_or_none(_get(row, column))
        if value:
            tags.setdefault(tag, value)
    return tags


def _billing_period(row: dict[str, Any]) -> BillingPeriod | None:
    month = text_or_none(_get(row, "invoice.month"))
    if not month:
        return None
    if not re.fullmatch(r"\d{6}", month):
        raise RowError(f"expected YYYYMM, got {month!r}", "invoice.month")
    try:
        start = dt.datetime(int(month[:4]), int(month[4:]), 1, tzinfo=dt.UTC)
    except ValueError:  # 000000, 202513: six digits that are no month
        raise RowError(f"expected YYYYMM, got {month!r}", "invoice.month") from None
    end = dt.datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=dt.UTC)
    return BillingPeriod(text_or_none(_get(row, "billing_account_id")), start, end)


FORMAT = Format(NAME, "Google Cloud Billing export (CSV or JSONL)", parse, BY_BILLING_PERIOD)
