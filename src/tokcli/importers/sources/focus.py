"""FOCUS 1.0 to 1.3 CSV, from any provider (and tokcli's own `export --format focus`).

Only "AI and Machine Learning" services are imported unless `--all-services`. FOCUS has no
token columns: tokens come from ConsumedQuantity when ConsumedUnit is a token unit ("Tokens",
"1K Tokens"; else PricingQuantity / PricingUnit). The kind comes from FOCUS 1.3's
SkuPriceDetails TokenDirection / TokenCacheAction, else from what the SKU meter or description
names (input, output, cached), with the model's own name taken out first. The model is
SkuPriceDetails ModelId, else a vendor's `x_Model`-style column. Files
written by `tokcli export` carry `x_` columns with the exact buckets, model and record key,
so a round trip loses nothing and re-importing into the same store adds nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tokcli.importers.fields import (
    Occurrences,
    RowError,
    count,
    decimal_or_none,
    is_null,
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
from tokcli.importers.input_files import Source, csv_rows
from tokcli.importers.normalise import (
    add_tokens,
    charge_kind,
    json_tags,
    parse_json_text,
    service_tier,
    token_direction_kind,
    token_kind,
    token_unit_size,
)
from tokcli.store.usage import UsageRecord
from tokcli.tags import tag_texts

NAME = "focus"
AI_CATEGORY = "ai and machine learning"
# tokcli's own extension columns (FOCUS requires custom columns to start with `x_`).
X_BUCKETS = {
    "x_Requests": "requests",
    "x_InputTokens": "input_tokens",
    "x_CacheReadTokens": "cache_read_tokens",
    "x_CacheWrite5mTokens": "cache_write_5m_tokens",
    "x_CacheWrite1hTokens": "cache_write_1h_tokens",
    "x_OutputTokens": "output_tokens",
    "x_ReasoningTokens": "reasoning_tokens",
}


def parse(source: Source, options: Options) -> Iterator[Parsed]:
    occurrences = options.occurrences or Occurrences()
    return each_row(csv_rows(source), lambda row: _convert(row, options, occurrences))


def _convert(row: dict[str, str], options: Options, occurrences: Occurrences) -> Parsed:
    exported_by_tokcli = "x_RecordKey" in row
    if not options.all_services and not exported_by_tokcli and not is_ai_service(row):
        return Parsed(None, skipped="not an AI service (use --all-services)")
    billed = money(row.get("BilledCost"), "BilledCost", text_or_none(row.get("BillingCurrency")))
    if billed is None:
        raise RowError("missing value (BilledCost is not nullable)", "BilledCost")
    charge_kind_text = text_or_none(row.get("x_ChargeKind")) if exported_by_tokcli else None
    start = utc_time(row.get("ChargePeriodStart"), "ChargePeriodStart")
    end = utc_time(row.get("ChargePeriodEnd"), "ChargePeriodEnd")
    category = text_or_none(row.get("ChargeCategory"))
    if text_or_none(row.get("ChargeClass")) == "Correction":
        category = "correction"
    own = _tokcli_columns(row) if exported_by_tokcli else {}
    details = {} if exported_by_tokcli else _price_details(row)
    model = own.get("x_ModelRaw") or own.get("x_Model") or _model(row, details)
    record = UsageRecord(
        record_key=own.get("x_RecordKey") or occurrences.key(stable_key(NAME, *row.values())),
        source=own.get("x_Source") or NAME,
        period_start=start,
        period_end=end,
        provider=own.get("x_Provider") or _provider(row),
        model_raw=model,
        service_tier=service_tier(own.get("x_ServiceTier")),
        billed_cost=None if row.get("x_BilledCostStated") == "false" else billed,
        currency=text_or_none(row.get("BillingCurrency")),
        charge_kind=charge_kind_text or charge_kind(category, billed),
        tags=_tags(row, exported_by_tokcli),
    )
    if record.billed_cost is None:
        record.currency = None
    if "x_InputTokens" in row:
        for column, bucket in X_BUCKETS.items():
            setattr(record, bucket, count(row.get(column), column))
    elif record.charge_kind == "usage":
        _tokens_from_quantity(record, row, details)
    period = _billing_period(row)
    if exported_by_tokcli and period is not None:
        # BillingAccountId was filled in because FOCUS requires one; the tag says the truth.
        period = BillingPeriod(record.tags.get("billing_account"), period.start, period.end)
    return Parsed(None, records=[record], billing_period=period)


def is_ai_service(row: dict[str, str]) -> bool:
    category = row.get("ServiceCategory")
    return category is not None and category.strip().lower() == AI_CATEGORY


def _tokcli_columns(row: dict[str, str]) -> dict[str, str | None]:
    names = ("x_RecordKey", "x_Source", "x_Provider", "x_Model", "x_ModelRaw", "x_ServiceTier")
    return {name: text_or_none(row.get(name)) for name in names}


def _provider(row: dict[str, str]) -> str | None:
    name = text_or_none(row.get("ProviderName")) or text_or_none(row.get("ServiceProviderName"))
    return name.lower() if name else None


def _price_details(row: dict[str, str]) -> dict[str, Any]:
    """SkuPriceDetails (FOCUS 1.1+): a JSON object; FOCUS 1.3 puts the AI model's identity and
    the token direction / cache action in it."""
    details = parse_json_text(row.get("SkuPriceDetails"), "SkuPriceDetails")
    return details if isinstance(details, dict) else {}


# Vendors' model columns in FOCUS files (FOCUS requires custom columns to start with `x_`).
X_MODEL_COLUMNS = (
    "x_Model", "x_ModelId", "x_ModelName", "x_ServiceModel", "x_AIModel", "x_LlmModel",
    "x_model", "x_model_id", "x_model_name",
)  # fmt: skip


def _model(row: dict[str, str], details: dict[str, Any]) -> str | None:
    """The model as the file names it: SkuPriceDetails ModelId, else a vendor's x_ column."""
    model = details.get("ModelId")
    if isinstance(model, str) and model.strip():
        return model.strip()
    for column in X_MODEL_COLUMNS:
        value = text_or_none(row.get(column))
        if value:
            return value
    return None


def _tokens_from_quantity(
    record: UsageRecord, row: dict[str, str], details: dict[str, Any]
) -> None:
    quantity_column, unit_column = "ConsumedQuantity", "ConsumedUnit"
    size = token_unit_size(text_or_none(row.get(unit_column)))
    if size is None:  # some files state the token block only as the pricing unit
        quantity_column, unit_column = "PricingQuantity", "PricingUnit"
        size = token_unit_size(text_or_none(row.get(unit_column)))
    if size is None:
        return
    quantity = decimal_or_none(row.get(quantity_column), quantity_column)
    bucket = token_direction_kind(details.get("TokenDirection"), details.get("TokenCacheAction"))
    if bucket is None:
        described = " ".join(
            text_or_none(row.get(c)) or "" for c in ("SkuMeter", "ChargeDescription", "SkuId")
        )
        bucket = token_kind(described, record.model_raw)
        family = details.get("ModelFamily")
        if bucket is None and isinstance(family, str):
            bucket = token_kind(described, family)
    if quantity is not None and bucket is not None:
        add_tokens(record, bucket, quantity * size)


def _tags(row: dict[str, str], exported_by_tokcli: bool) -> dict[str, str]:
    tags = tag_texts(json_tags(row.get("Tags"), "Tags"))
    if exported_by_tokcli:
        return tags  # already tokcli's own tags, billing account included
    service = text_or_none(row.get("ServiceName"))
    if service:
        tags.setdefault("service", service)
    sub_account = text_or_none(row.get("SubAccountName")) or text_or_none(row.get("SubAccountId"))
    if sub_account:
        tags.setdefault("sub_account", sub_account)
    return tags


def _billing_period(row: dict[str, str]) -> BillingPeriod | None:
    start, end = row.get("BillingPeriodStart"), row.get("BillingPeriodEnd")
    if is_null(start) or is_null(end):
        return None  # not a complete FOCUS file: its rows are only added, never replace
    return BillingPeriod(
        account=text_or_none(row.get("BillingAccountId")),
        start=utc_time(start, "BillingPeriodStart"),
        end=utc_time(end, "BillingPeriodEnd"),
    )


FORMAT = Format(NAME, "FOCUS 1.0-1.3 CSV", parse, BY_BILLING_PERIOD)
