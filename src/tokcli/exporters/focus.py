"""`tokcli export --format focus`: the store, or a slice of it, as FOCUS 1.2 CSV.

Every FOCUS 1.2 column is written (null where the store has nothing to say), plus `x_` columns
(the spec's prefix for custom columns) carrying what FOCUS has no column for: the disjoint token
buckets, the canonical model, the service tier and tokcli's record key. `tokcli import` reads
them back, so export then import gives the same totals, and importing an export into the store
it came from adds nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TextIO

from tokcli.money import MONEY_CONTEXT, ZERO, plain
from tokcli.sanitise import csv_cell
from tokcli.store.exports import usage_with_tags

if TYPE_CHECKING:
    from tokcli.store.connection import Connection

FOCUS_VERSION = "1.2"
AI_CATEGORY = "AI and Machine Learning"
FOCUS_COLUMNS = (
    "AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName",
    "BillingAccountType", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart",
    "CapacityReservationId", "CapacityReservationStatus", "ChargeCategory", "ChargeClass",
    "ChargeDescription", "ChargeFrequency", "ChargePeriodEnd", "ChargePeriodStart",
    "CommitmentDiscountCategory", "CommitmentDiscountId", "CommitmentDiscountName",
    "CommitmentDiscountQuantity", "CommitmentDiscountStatus", "CommitmentDiscountType",
    "CommitmentDiscountUnit", "ConsumedQuantity", "ConsumedUnit", "ContractedCost",
    "ContractedUnitPrice", "EffectiveCost", "InvoiceId", "InvoiceIssuerName", "ListCost",
    "ListUnitPrice", "PricingCategory", "PricingCurrency", "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost", "PricingCurrencyListUnitPrice", "PricingQuantity",
    "PricingUnit", "ProviderName", "PublisherName", "RegionId", "RegionName", "ResourceId",
    "ResourceName", "ResourceType", "ServiceCategory", "ServiceName", "ServiceSubcategory",
    "SkuId", "SkuMeter", "SkuPriceDetails", "SkuPriceId", "SubAccountId", "SubAccountName",
    "SubAccountType", "Tags",
)  # fmt: skip
EXTENSION_COLUMNS = (
    "x_RecordKey", "x_Source", "x_Provider", "x_Model", "x_ModelRaw", "x_ServiceTier",
    "x_ChargeKind", "x_BilledCostStated", "x_Requests", "x_InputTokens", "x_CacheReadTokens",
    "x_CacheWrite5mTokens", "x_CacheWrite1hTokens", "x_OutputTokens", "x_ReasoningTokens",
)  # fmt: skip
_BUCKET_COLUMNS = (
    ("x_Requests", "requests"),
    ("x_InputTokens", "input_tokens"),
    ("x_CacheReadTokens", "cache_read_tokens"),
    ("x_CacheWrite5mTokens", "cache_write_5m_tokens"),
    ("x_CacheWrite1hTokens", "cache_write_1h_tokens"),
    ("x_OutputTokens", "output_tokens"),
    ("x_ReasoningTokens", "reasoning_tokens"),
)
_CATEGORIES = {
    "usage": "Usage",
    "refund": "Usage",
    "credit": "Credit",
    "adjustment": "Adjustment",
    "tax": "Tax",
    "commitment": "Purchase",
    "fee": "Purchase",
}
_TOKEN_BUCKETS = [bucket for column, bucket in _BUCKET_COLUMNS if column != "x_Requests"]


@dataclass
class ExportFilter:
    since: dt.date | None = None
    until: dt.date | None = None  # inclusive
    tags: dict[str, str] = field(default_factory=dict)
    source: str | None = None


@dataclass
class ExportStats:
    rows: int = 0
    billed: dict[str, Decimal] = field(default_factory=dict)  # by currency


def export_focus(conn: Connection, out: TextIO, where: ExportFilter) -> ExportStats:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow((*FOCUS_COLUMNS, *EXTENSION_COLUMNS))
    stats = ExportStats()
    for row in _rows(conn, where):
        values = focus_row(row)
        writer.writerow(
            [
                csv_cell(str(values.get(column, "")))
                for column in (*FOCUS_COLUMNS, *EXTENSION_COLUMNS)
            ]
        )
        stats.rows += 1
        currency = values["BillingCurrency"]
        billed = Decimal(values["BilledCost"])  # exact, as stored; summed in MONEY_CONTEXT
        stats.billed[currency] = MONEY_CONTEXT.add(stats.billed.get(currency, ZERO), billed)
    return stats


def _rows(conn: Connection, where: ExportFilter) -> Iterator[dict[str, Any]]:
    return usage_with_tags(
        conn, since=where.since, until=where.until, source=where.source, tags=where.tags
    )


def focus_row(row: dict[str, Any]) -> dict[str, str]:
    """One store row as FOCUS 1.2 values (text; empty for null)."""
    tags = row["tags"]
    start = _parse(row["period_start"])
    billed = row["billed_cost"]
    billed_text = billed if billed is not None else "0"
    list_text = row["list_cost"] if row["list_cost"] is not None else billed_text
    provider = row["provider"] or "unknown"
    tokens = sum(row[b] for b in _TOKEN_BUCKETS)
    is_token_usage = row["charge_kind"] in ("usage", "refund") and tokens > 0
    period_start, period_end = _month(start)
    values = {
        "BilledCost": billed_text,
        "BillingAccountId": tags.get("billing_account") or provider,
        "BillingCurrency": row["currency"] or "USD",
        "BillingPeriodStart": period_start,
        "BillingPeriodEnd": period_end,
        "ChargeCategory": _CATEGORIES.get(row["charge_kind"], "Usage"),
        "ChargeDescription": _description(row),
        "ChargeFrequency": "Usage-Based" if row["charge_kind"] == "usage" else "One-Time",
        "ChargePeriodStart": row["period_start"],
        "ChargePeriodEnd": row["period_end"],
        "ConsumedQuantity": str(tokens) if is_token_usage else "",
        "ConsumedUnit": "Tokens" if is_token_usage else "",
        "PricingQuantity": str(tokens) if is_token_usage else "",
        "PricingUnit": "Tokens" if is_token_usage else "",
        "ContractedCost": billed_text,
        "EffectiveCost": billed_text,
        "ListCost": list_text,
        "InvoiceIssuerName": provider,
        "ProviderName": provider,
        "PublisherName": provider,
        "PricingCategory": "Standard",
        "ServiceCategory": AI_CATEGORY,
        "ServiceName": tags.get("service") or provider,
        "ServiceSubcategory": "Generative AI",
        "SkuId": row["model"] or row["model_raw"] or "",
        "Tags": json.dumps(tags, ensure_ascii=False, sort_keys=True) if tags else "",
        "x_RecordKey": row["record_key"],
        "x_Source": row["source"],
        "x_Provider": row["provider"] or "",
        "x_Model": row["model"] or "",
        "x_ModelRaw": row["model_raw"] or "",
        "x_ServiceTier": row["service_tier"],
        "x_ChargeKind": row["charge_kind"],
        "x_BilledCostStated": "true" if billed is not None else "false",
    }
    for column, bucket in _BUCKET_COLUMNS:
        values[column] = str(row[bucket])
    return values


def _description(row: dict[str, Any]) -> str:
    model = row["model"] or row["model_raw"]
    if row["charge_kind"] not in ("usage", "refund"):
        return f"{row['charge_kind']} ({row['source']})"
    return f"{model or 'usage'}, {row['service_tier']} tier ({row['source']})"


def _parse(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


def _month(moment: dt.datetime) -> tuple[str, str]:
    start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    return f"{start:%Y-%m-%dT%H:%M:%SZ}", f"{end:%Y-%m-%dT%H:%M:%SZ}"


def totals_text(stats: ExportStats) -> dict[str, str]:
    return {currency: plain(amount) or "0" for currency, amount in sorted(stats.billed.items())}
