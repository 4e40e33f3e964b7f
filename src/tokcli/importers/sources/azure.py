"""Azure Cost Management exports (EA and MCA; actual or amortized cost) for Azure OpenAI.

Layout of the EA export (finops-toolkit sample): `Date` as MM/DD/YYYY, `Tags` as a JSON object
without its braces, `UnitOfMeasure` blocks such as `1K` (tokens per billed unit), UTF-8 BOM.
MCA exports name a few columns differently (`CostInBillingCurrency`, `BillingCurrencyCode`).
Token kind, tier and model are read from the meter name (`gpt-4o-mini-0718-Batch-Inp-glbl
Tokens`); the model id that Azure spells there rarely matches a registry id, so such rows are
imported with their billed cost and a warning.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tokcli.importers.fields import (
    Occurrences,
    RowError,
    column_tags,
    decimal_or_none,
    money,
    next_day,
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
from tokcli.importers.input_files import Source, csv_rows
from tokcli.importers.normalise import (
    add_tokens,
    charge_kind,
    json_tags,
    token_kind,
    token_unit_size,
)
from tokcli.store.usage import UsageRecord
from tokcli.tags import tag_texts

NAME = "azure-cost"
AI_SERVICES = ("microsoft.cognitiveservices", "microsoft.machinelearningservices")
AI_METER_WORDS = re.compile(r"openai|cognitive|foundry|\bai\b|machine learning", re.I)
_METER_MODEL_END = re.compile(
    r"[- ](?=(?:batch|inp|outp|input|output|cached|cchd|cd|pp|glbl|regnl|dz)\b)", re.I
)


def parse(source: Source, options: Options) -> Iterator[Parsed]:
    occurrences = options.occurrences or Occurrences()
    return each_row(csv_rows(source), lambda row: _convert(row, options, occurrences))


def is_ai_service(row: dict[str, str]) -> bool:
    service = (row.get("ConsumedService") or "").strip().lower()
    category = " ".join(row.get(c) or "" for c in ("MeterCategory", "MeterSubCategory"))
    return service in AI_SERVICES or bool(AI_METER_WORDS.search(category))


def _convert(row: dict[str, str], options: Options, occurrences: Occurrences) -> Parsed:
    if not options.all_services and not is_ai_service(row):
        return Parsed(None, skipped="not an AI service (use --all-services)")
    cost_column = "Cost" if "Cost" in row else "CostInBillingCurrency"
    currency = text_or_none(row.get("BillingCurrency")) or text_or_none(
        row.get("BillingCurrencyCode")
    )
    billed = money(row.get(cost_column), cost_column, currency)
    if billed is None:
        raise RowError("missing cost", cost_column)
    day = utc_time(row.get("Date"), "Date")
    meter = text_or_none(row.get("MeterName")) or ""
    record = UsageRecord(
        record_key=occurrences.key(stable_key(NAME, *row.values())),
        source=NAME,
        period_start=day,
        period_end=next_day(day),
        provider="azure",
        service_tier=_tier(meter),
        billed_cost=billed,
        currency=currency,
        charge_kind=charge_kind(text_or_none(row.get("ChargeType")), billed),
        tags=_tags(row),
    )
    if record.charge_kind == "usage":
        _tokens_from_meter(record, row, meter)
    return Parsed(None, records=[record], billing_period=_billing_period(row))


def _tokens_from_meter(record: UsageRecord, row: dict[str, str], meter: str) -> None:
    size = token_unit_size(text_or_none(row.get("UnitOfMeasure")))
    if size is None or "token" not in meter.lower():
        return
    bucket = token_kind(meter)
    quantity = decimal_or_none(row.get("Quantity"), "Quantity")
    if bucket is None or quantity is None:
        return
    add_tokens(record, bucket, quantity * size)
    record.model_raw = _METER_MODEL_END.split(meter, maxsplit=1)[0].strip() or None


def _tier(meter: str) -> str:
    lowered = meter.lower()
    if "batch" in lowered:
        return "batch"
    if re.search(r"\bpp\b|priority", lowered):
        return "priority"
    return "standard"


def _tags(row: dict[str, str]) -> dict[str, str]:
    tags = tag_texts(json_tags(row.get("Tags"), "Tags"))
    columns = (
        ("SubscriptionName", "subscription"),
        ("ResourceGroup", "resource_group"),
        ("MeterCategory", "service"),
    )
    for tag, value in column_tags(row, columns).items():
        tags.setdefault(tag, value)  # the resource's own Tags win
    return tags


def _billing_period(row: dict[str, str]) -> BillingPeriod | None:
    start = text_or_none(row.get("BillingPeriodStartDate"))
    end = text_or_none(row.get("BillingPeriodEndDate"))
    if not start or not end:
        return None
    return BillingPeriod(
        account=text_or_none(row.get("BillingAccountId")),
        start=utc_time(start, "BillingPeriodStartDate"),
        # The export's end date is the last day of the period, inclusive.
        end=next_day(utc_time(end, "BillingPeriodEndDate")),
    )


FORMAT = Format(NAME, "Azure Cost Management export (EA / MCA)", parse, BY_BILLING_PERIOD)
