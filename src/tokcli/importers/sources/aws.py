"""AWS Cost and Usage Report rows for Amazon Bedrock: legacy CUR (`lineItem/UsageType`, tag
columns `resourceTags/user:team`) and CUR 2.0 (`line_item_usage_type`, tags as a map in
`resource_tags` / `tags`), CSV, usually gzip-compressed.

Bedrock bills each token kind as its own line item; the usage type names the kind, tier and
model (`USE1-Claude4.6Sonnet-cache-read-input-token-count`, `...-batch`). Token quantities are
read through `pricing/unit` ("1K tokens" -> x1000); when the unit does not say, the row keeps
its cost and no tokens are invented. Marketplace-billed models ("Claude 3.5 Sonnet (Amazon
Bedrock Edition)") take the model from the product name. CUR files are re-issued during and
after the month: an import replaces that payer account's billing period.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

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
from tokcli.importers.input_files import Source, csv_rows
from tokcli.importers.normalise import (
    add_tokens,
    charge_kind,
    parse_json_text,
    token_kind,
    token_unit_size,
)
from tokcli.store.usage import UsageRecord

NAME = "aws-cur"
BEDROCK_PRODUCTS = {"amazonbedrock", "amazonbedrockservice"}
MARKETPLACE_SUFFIX = " (Amazon Bedrock Edition)"
# canonical -> (legacy CUR header, CUR 2.0 header)
COLUMNS = {
    "line_item_id": ("identity/LineItemId", "identity_line_item_id"),
    "period_start": ("bill/BillingPeriodStartDate", "bill_billing_period_start_date"),
    "period_end": ("bill/BillingPeriodEndDate", "bill_billing_period_end_date"),
    "payer": ("bill/PayerAccountId", "bill_payer_account_id"),
    "usage_start": ("lineItem/UsageStartDate", "line_item_usage_start_date"),
    "usage_end": ("lineItem/UsageEndDate", "line_item_usage_end_date"),
    "product_code": ("lineItem/ProductCode", "line_item_product_code"),
    "usage_type": ("lineItem/UsageType", "line_item_usage_type"),
    "usage_amount": ("lineItem/UsageAmount", "line_item_usage_amount"),
    "cost": ("lineItem/UnblendedCost", "line_item_unblended_cost"),
    "currency": ("lineItem/CurrencyCode", "line_item_currency_code"),
    "line_item_type": ("lineItem/LineItemType", "line_item_line_item_type"),
    "usage_account": ("lineItem/UsageAccountId", "line_item_usage_account_id"),
    "product_name": ("product/ProductName", "product_product_name"),
    "pricing_unit": ("pricing/unit", "pricing_unit"),
    "iam_principal": ("lineItem/IamPrincipal", "line_item_iam_principal"),
}
_REGION_PREFIX = re.compile(r"^[A-Z]{2,4}\d?-(?:MP:[A-Z]{2,4}\d?_)?")
_MODEL_END = re.compile(r"[-_](?=(?:mantle-)?(?:input|output|cache|Input|Output|Cache))")
_TIER_WORDS = (("batch", "batch"), ("priority", "priority"), ("flex", "flex"))


def parse(source: Source, options: Options) -> Iterator[Parsed]:
    occurrences = options.occurrences or Occurrences()
    return each_row(csv_rows(source), lambda row: _convert(row, options, occurrences))


def _get(row: dict[str, str], name: str) -> str | None:
    legacy, snake = COLUMNS[name]
    value = row.get(legacy, row.get(snake))
    if value is None and name == "product_name":
        product = parse_json_text(row.get("product"), "product") or {}
        value = product.get("product_name") if isinstance(product, dict) else None
    return text_or_none(value)


def _column(row: dict[str, str], name: str) -> str:
    legacy, snake = COLUMNS[name]
    return legacy if legacy in row else snake


def is_bedrock(row: dict[str, str]) -> bool:
    code = (_get(row, "product_code") or "").lower()
    return code in BEDROCK_PRODUCTS or "bedrock" in (_get(row, "product_name") or "").lower()


def _convert(row: dict[str, str], options: Options, occurrences: Occurrences) -> Parsed:
    if not options.all_services and not is_bedrock(row):
        return Parsed(None, skipped="not Amazon Bedrock (use --all-services)")
    cost = money(_get(row, "cost"), _column(row, "cost"), _get(row, "currency") or "USD")
    if cost is None:
        raise RowError("missing value", _column(row, "cost"))
    usage_type = _get(row, "usage_type") or ""
    record = UsageRecord(
        record_key=occurrences.key(stable_key(NAME, *row.values())),
        source=NAME,
        period_start=utc_time(_get(row, "usage_start"), _column(row, "usage_start")),
        period_end=utc_time(_get(row, "usage_end"), _column(row, "usage_end")),
        provider="aws",
        service_tier=_tier(usage_type),
        billed_cost=cost,
        currency=_get(row, "currency") or "USD",
        charge_kind=charge_kind(_get(row, "line_item_type"), cost),
        tags=_tags(row),
    )
    if record.charge_kind == "usage":
        _tokens(record, row, usage_type)
    return Parsed(None, records=[record], billing_period=_billing_period(row))


def _tokens(record: UsageRecord, row: dict[str, str], usage_type: str) -> None:
    bucket = token_kind(usage_type.replace("-", " ").replace("_", " "))
    size = token_unit_size(_get(row, "pricing_unit"))
    amount = decimal_or_none(_get(row, "usage_amount"), _column(row, "usage_amount"))
    if bucket is None or "token" not in usage_type.lower():
        return
    record.model_raw = _model(row, usage_type)
    if size is None and "tokencount" in usage_type.lower().replace("_", ""):
        size = 1  # Marketplace `…InputTokenCount-Units`: one unit per token
    if size is not None and amount is not None:
        add_tokens(record, bucket, amount * size)


def _model(row: dict[str, str], usage_type: str) -> str | None:
    product = _get(row, "product_name") or ""
    if product.endswith(MARKETPLACE_SUFFIX):
        return product.removesuffix(MARKETPLACE_SUFFIX)
    bare = _REGION_PREFIX.sub("", usage_type)
    return _MODEL_END.split(bare, maxsplit=1)[0] or None


def _tier(usage_type: str) -> str:
    lowered = usage_type.lower()
    for word, tier in _TIER_WORDS:
        if word in lowered:
            return tier
    return "standard"


def _tags(row: dict[str, str]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for column, value in row.items():
        if column.startswith("resourceTags/") and text_or_none(value):
            tags[column.removeprefix("resourceTags/")] = value.strip()
    for column in ("resource_tags", "tags"):
        mapping = parse_json_text(row.get(column), column) or {}
        if isinstance(mapping, dict):
            for key, value in mapping.items():
                if text_or_none(value):
                    tags[str(key).removeprefix("resourceTags/")] = str(value).strip()
    for name, tag in (("usage_account", "aws_account"), ("iam_principal", "iam_principal")):
        column_value = _get(row, name)
        if column_value:
            tags.setdefault(tag, column_value)
    return tags


def _billing_period(row: dict[str, str]) -> BillingPeriod | None:
    start, end = _get(row, "period_start"), _get(row, "period_end")
    if not start or not end:
        return None
    return BillingPeriod(
        _get(row, "payer"),
        utc_time(start, _column(row, "period_start")),
        utc_time(end, _column(row, "period_end")),
    )


FORMAT = Format(NAME, "AWS Cost and Usage Report (CUR 2.0 / legacy)", parse, BY_BILLING_PERIOD)
