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

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal
from operator import itemgetter
from typing import Any, NamedTuple

import msgspec

from tokcli.importers.fields import (
    Occurrences,
    RowError,
    count,
    decimal_or_none,
    is_null,
    money,
    stable_key,
    stable_key_of_texts,
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
    structural_error,
)
from tokcli.importers.input_files import BadRow, CsvCells, Source
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
    """Every row of the file. Plain FOCUS files (no tokcli `x_` columns) go through `_Bulk`,
    which gives the same records as `_convert` at a fraction of the cost per row; files
    written by `tokcli export` go through `_convert` row by row."""
    occurrences = options.occurrences or Occurrences()
    table = CsvCells(source)
    names = table.header()
    if TOKCLI_COLUMNS.isdisjoint(names):
        yield from _Bulk(names, options, occurrences).parse(table)
        return
    rows = ((line, _row_dict(names, cells)) for line, cells in table)
    yield from each_row(rows, lambda row: _convert(row, options, occurrences))


def _row_dict(names: list[str], cells: list[str] | BadRow) -> dict[str, str] | BadRow:
    return cells if isinstance(cells, BadRow) else dict(zip(names, cells, strict=False))


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
    bucket = _bucket(row, details, record.model_raw)
    if quantity is not None and bucket is not None:
        add_tokens(record, bucket, quantity * size)


def _bucket(row: dict[str, str], details: dict[str, Any], model: str | None) -> str | None:
    """The token bucket a usage row's price details, meter or description name."""
    bucket = token_direction_kind(details.get("TokenDirection"), details.get("TokenCacheAction"))
    if bucket is None:
        described = " ".join(
            text_or_none(row.get(c)) or "" for c in ("SkuMeter", "ChargeDescription", "SkuId")
        )
        bucket = token_kind(described, model)
        family = details.get("ModelFamily")
        if bucket is None and isinstance(family, str):
            bucket = token_kind(described, family)
    return bucket


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


# --- the bulk path -----------------------------------------------------------------------
#
# A bill repeats itself: the same few hundred services, meters, units, periods and hours on
# every row, around a cost, a quantity and tags of its own. `_Bulk` reads a row's cells by
# position, works out what the repeated cells mean once per distinct combination (`_About`,
# by the same functions `_convert` uses), and parses per row only what is the row's own.
# Whatever it does not read the quick way (a number that is not plain, a bad value, a row of
# tokcli's own export) goes through `_convert`, so the records, errors and record keys are
# `_convert`'s, cell for cell (tests/test_import_focus_bulk.py compares the two).

# tokcli's own export columns: files that carry them go through `_convert`.
TOKCLI_COLUMNS = frozenset({"x_RecordKey", "x_InputTokens", "x_BilledCostStated"})
# The cells `_About` is worked out from: everything `_convert` reads except the row's cost,
# quantities, charge period and tags.
ABOUT_COLUMNS = (
    "ServiceCategory", "BillingCurrency", "ChargeCategory", "ChargeClass", "SkuPriceDetails",
    *X_MODEL_COLUMNS, "ProviderName", "ServiceProviderName", "ConsumedUnit", "PricingUnit",
    "SkuMeter", "ChargeDescription", "SkuId", "BillingPeriodStart", "BillingPeriodEnd",
    "BillingAccountId",
)  # fmt: skip
TAG_COLUMNS = ("Tags", "ServiceName", "SubAccountName", "SubAccountId")
# A plain decimal, which `money` and `decimal_or_none` read as exactly Decimal(text): no sign
# of a currency, separator or null to handle, at most 15 integer digits (below the 1e15 bound)
# and 40 decimals (MIN_EXPONENT). Anything else is read by them.
_PLAIN_NUMBER = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]{1,40})?")
MEMO_ENTRIES = 16_384  # per memo: bounded, so memory stays flat whatever the file holds
NOT_AI = "not an AI service (use --all-services)"


class _About(NamedTuple):
    """What a row's repeated cells mean (see `_Bulk`)."""

    ai_service: bool
    currency: str | None
    category: str | None
    provider: str | None
    model: str | None
    quantity_column: str | None  # the column holding tokens, None when no unit is tokens
    unit_size: int  # tokens per unit of that column (0 when there is none)
    bucket: str | None
    billing_period: BillingPeriod | None


class _Memo(dict[Any, Any]):
    """A dict that starts over when full: bounded memory, and a bill's values repeat soon."""

    def put(self, key: Any, value: Any) -> Any:
        if len(self) >= MEMO_ENTRIES:
            self.clear()
        self[key] = value
        return value


class _Bulk:
    """The rows of one plain FOCUS file, read by column position (see the comment above)."""

    def __init__(self, names: list[str], options: Options, occurrences: Occurrences) -> None:
        self.names = names
        self.options = options
        self.occurrences = occurrences
        missing = len(names)  # a column the file lacks reads as None (`convert` adds the cell)
        index = {name: i for i, name in enumerate(names)}

        def getter(columns: tuple[str, ...]) -> Any:
            return itemgetter(*(index.get(c, missing) for c in columns))

        self.about_cells = getter(ABOUT_COLUMNS)
        self.tag_cells = getter(TAG_COLUMNS)
        self.present = {c for c in (*ABOUT_COLUMNS, *TAG_COLUMNS) if c in index}
        self.cost = index.get("BilledCost", missing)
        self.start = index.get("ChargePeriodStart", missing)
        self.end = index.get("ChargePeriodEnd", missing)
        self.quantity = {c: index.get(c, missing) for c in ("ConsumedQuantity", "PricingQuantity")}
        self.abouts, self.times, self.tags = _Memo(), _Memo(), _Memo()
        # One object per billing period: rows of one period then share it, so the writer
        # (and the pickle to it from a parse worker) sees the same object, not an equal one.
        self.periods = _Memo()

    def parse(self, table: CsvCells) -> Iterator[Parsed]:
        for line, cells in table:
            if isinstance(cells, BadRow):
                yield structural_error(line, cells)
                continue
            try:
                parsed = self.convert(cells)
            except RowError as error:
                yield Parsed(line, error=error, raw=CsvRow(self.names, cells))
                continue
            parsed.line, parsed.raw = line, CsvRow(self.names, cells)
            yield parsed

    def convert(self, cells: list[str]) -> Parsed:
        """`_convert` of the row, the quick way where it can be taken."""
        # The same text, hash and key as `_convert`'s stable_key (the cells are all str).
        base_key = stable_key_of_texts(NAME, *cells)
        cells.append(None)  # type: ignore[arg-type]  # the cell of every missing column
        try:
            return self._quick(cells, base_key)
        except (RowError, _NotPlain):
            # Read the slow way, which raises the row's first error as `_convert` words it.
            row = dict(zip(self.names, cells, strict=False))
            return _convert(row, self.options, self.occurrences)

    def _quick(self, cells: list[str], base_key: str) -> Parsed:
        about_key = self.about_cells(cells)
        about = self.abouts.get(about_key)
        if about is None:
            about = self.abouts.put(about_key, self._about(about_key))
        if not about.ai_service and not self.options.all_services:
            return Parsed(None, skipped=NOT_AI)
        billed = _plain_number(cells[self.cost])
        kind = charge_kind(about.category, billed)
        record = UsageRecord(
            record_key=base_key,  # numbered below, once nothing can fail
            source=NAME,
            period_start=self._time(cells[self.start], "ChargePeriodStart"),
            period_end=self._time(cells[self.end], "ChargePeriodEnd"),
            provider=about.provider,
            model_raw=about.model,
            billed_cost=billed,
            currency=about.currency,
            charge_kind=kind,
            tags=self._tags(cells),
        )
        if kind == "usage" and about.quantity_column is not None:
            quantity = _plain_number(cells[self.quantity[about.quantity_column]])
            if about.bucket is not None:
                add_tokens(record, about.bucket, quantity * about.unit_size)
        record.record_key = self.occurrences.key(base_key)
        return Parsed(None, records=[record], billing_period=about.billing_period)

    def _about(self, cells: tuple[str, ...]) -> _About:
        # The columns the file has (a missing one's None cell left out, as a DictReader row).
        row = {c: v for c, v in zip(ABOUT_COLUMNS, cells, strict=True) if c in self.present}
        category = text_or_none(row.get("ChargeCategory"))
        if text_or_none(row.get("ChargeClass")) == "Correction":
            category = "correction"
        details = _price_details(row)
        model = _model(row, details)
        quantity_column, size, bucket = _token_reading(row, details, model)
        return _About(
            ai_service=is_ai_service(row),
            currency=text_or_none(row.get("BillingCurrency")),
            category=category,
            provider=_provider(row),
            model=model,
            quantity_column=quantity_column,
            unit_size=size,
            bucket=bucket,
            billing_period=self._period(_billing_period(row)),
        )

    def _period(self, period: BillingPeriod | None) -> BillingPeriod | None:
        if period is None:
            return None
        shared: BillingPeriod | None = self.periods.get(period)
        return shared if shared is not None else self.periods.put(period, period)

    def _time(self, cell: str, column: str) -> dt.datetime:
        moment: dt.datetime | None = self.times.get(cell)
        if moment is None:
            moment = self.times.put(cell, utc_time(cell, column))
        return moment

    def _tags(self, cells: list[str]) -> dict[str, str]:
        key = self.tag_cells(cells)
        tags = self.tags.get(key)
        if tags is None:
            tags = _plain_tags(*key)
            if tags is None:
                row = {c: v for c, v in zip(TAG_COLUMNS, key, strict=True) if c in self.present}
                tags = _tags(row, exported_by_tokcli=False)
            self.tags.put(key, tags)
        return dict(tags)  # the writer's to change


# A JSON object of text values, the last of a repeated name kept (as json.loads keeps it).
_TEXT_OBJECT = msgspec.json.Decoder(dict[str, str])


def _plain_tags(
    tags: str | None, service: str | None, sub_name: str | None, sub_id: str | None
) -> dict[str, str] | None:
    """`_tags` of a row whose Tags cell is a JSON object of text values (nearly every bill's
    rows), decoded by msgspec (a sixth of json.loads' time); None for anything else, which
    `_tags` reads with json.loads: a value that is no text, or JSON msgspec refuses (an escaped
    lone surrogate, which json.loads takes)."""
    if tags is None or tags[:1] != "{":
        return None
    try:
        parsed = _TEXT_OBJECT.decode(tags)
    except ValueError:  # msgspec.DecodeError (ValidationError too), UnicodeEncodeError
        return None
    texts = {name: value.strip() for name, value in parsed.items()}
    service = text_or_none(service)
    if service:
        texts.setdefault("service", service)
    sub_account = text_or_none(sub_name) or text_or_none(sub_id)
    if sub_account:
        texts.setdefault("sub_account", sub_account)
    return texts


class _NotPlain(Exception):
    """A number `_plain_number` leaves to `money` / `decimal_or_none` (and `_convert`)."""


def _plain_number(cell: str | None) -> Decimal:
    if cell is None or not _PLAIN_NUMBER.fullmatch(cell):
        raise _NotPlain
    number = Decimal(cell)
    if number.is_zero() and number.is_signed():
        raise _NotPlain  # -0: `money` makes it 0
    return number


def _token_reading(
    row: dict[str, str], details: dict[str, Any], model: str | None
) -> tuple[str | None, int, str | None]:
    """(quantity column, tokens per unit, bucket) as `_tokens_from_quantity` finds them."""
    quantity_column, unit_column = "ConsumedQuantity", "ConsumedUnit"
    size = token_unit_size(text_or_none(row.get(unit_column)))
    if size is None:
        quantity_column, unit_column = "PricingQuantity", "PricingUnit"
        size = token_unit_size(text_or_none(row.get(unit_column)))
    if size is None:
        return None, 0, None
    return quantity_column, size, _bucket(row, details, model)


class CsvRow:
    """A CSV row as cells, made a dict by header name only when it is shown (a reject file)."""

    __slots__ = ("cells", "names")

    def __init__(self, names: list[str], cells: list[str]) -> None:
        self.names, self.cells = names, cells

    def as_dict(self) -> dict[str, str]:
        return dict(zip(self.names, self.cells, strict=False))


FORMAT = Format(NAME, "FOCUS 1.0-1.3 CSV", parse, BY_BILLING_PERIOD, parse_in_worker=True)
