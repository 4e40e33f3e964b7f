"""Any CSV or JSON Lines file, with a column mapping from `--map` or the config.

    tokcli import usage.csv --map "period_start=day,model=llm,input_tokens=in,output_tokens=out,
        billed_cost=usd,tag.team=squad"

or, in tokcli.toml, a named mapping used with `--map gateway`:

    [import.maps.gateway]
    period_start = "ts"
    model = "request.model"          # JSON Lines: dotted paths reach into objects
    input_tokens = "usage.prompt_tokens"
    input_includes_cached = true     # subtract cache_read_tokens from input_tokens
    "tag.team" = "metadata.team"

Fields: period_start (required), period_end (default: period_start), record_key (default: a
hash of the row, numbered when rows repeat), provider, model, service_tier, currency (default
USD when billed_cost is mapped), requests, the six token buckets, billed_cost, tag.NAME.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from tokcli.errors import OptionError
from tokcli.importers.fields import (
    Occurrences,
    RowError,
    count,
    money,
    stable_key,
    text_or_none,
    tokens,
    utc_time,
)
from tokcli.importers.format import APPEND_ONLY, TOKEN_BUCKETS, Format, Options, Parsed, each_row
from tokcli.importers.input_files import Source, csv_rows, json_lines
from tokcli.importers.normalise import service_tier
from tokcli.store.usage import UsageRecord

if TYPE_CHECKING:
    from tokcli.config import Config

NAME = "mapped"
TEXT_FIELDS = ("record_key", "provider", "model", "service_tier", "currency")
TIME_FIELDS = ("period_start", "period_end")
FIELDS = (*TIME_FIELDS, *TEXT_FIELDS, "requests", *TOKEN_BUCKETS, "billed_cost")
FLAGS = ("input_includes_cached",)


def parse_mapping(spec: str, config: Mapping[str, Any] | Config) -> dict[str, str | bool]:
    """`--map` value: inline `field=column,...` pairs, or the name of [import.maps.NAME]."""
    mapping: dict[str, str | bool]
    if "=" in spec:
        mapping = {}
        for pair in spec.split(","):
            field, found, column = pair.partition("=")
            if not found or not field.strip() or not column.strip():
                raise OptionError(
                    "{mapping}: expected field=column, got {pair!r}", pair=pair.strip()
                )
            mapping[field.strip()] = column.strip()
    else:
        table = config.get(f"import.maps.{spec}")
        if not isinstance(table, dict):
            raise OptionError("{mapping}: no [import.maps.{name}] table in the config", name=spec)
        # Columns are text; flags (input_includes_cached = true) stay booleans.
        mapping = {str(k): v if isinstance(v, bool) else str(v) for k, v in table.items()}
    _check(mapping)
    return mapping


def _check(mapping: Mapping[str, Any]) -> None:
    for field in mapping:
        if field not in FIELDS and field not in FLAGS and not field.startswith("tag."):
            raise OptionError(
                "{mapping}: unknown field {field!r}; use {fields} or tag.NAME",
                field=field,
                fields=", ".join(FIELDS),
            )
    if "period_start" not in mapping:
        raise OptionError("{mapping}: period_start is required (the column with the usage time)")


def parse(source: Source, options: Options) -> Iterator[Parsed]:
    if not options.mapping:
        raise OptionError("the mapped format needs {mapping} (see `tokcli import --help`)")
    mapping = options.mapping
    occurrences = options.occurrences or Occurrences()
    head = source.head(4096).lstrip()
    rows = json_lines(source) if head.startswith("{") else csv_rows(source)
    return each_row(rows, lambda row: [_record(row, mapping, occurrences)])


def _value(row: Any, path: str) -> Any:
    if isinstance(row, dict) and path in row:
        return row[path]
    node = row
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _record(row: Any, mapping: Mapping[str, Any], occurrences: Occurrences) -> UsageRecord:
    if not isinstance(row, dict):
        raise RowError("expected an object per line")

    def get(field: str) -> Any:
        column = mapping.get(field)
        return _value(row, column) if isinstance(column, str) else None

    def column(field: str) -> str:
        return str(mapping.get(field, field))

    start = utc_time(get("period_start"), column("period_start"))
    billed = money(get("billed_cost"), column("billed_cost"), text_or_none(get("currency")))
    record = UsageRecord(
        record_key=text_or_none(get("record_key")) or "",
        source=NAME,
        period_start=start,
        period_end=utc_time(get("period_end"), column("period_end"))
        if get("period_end") is not None
        else start,
        provider=text_or_none(get("provider")),
        model_raw=text_or_none(get("model")),
        service_tier=service_tier(text_or_none(get("service_tier"))),
        requests=count(get("requests"), column("requests")) if "requests" in mapping else 1,
        billed_cost=billed,
        currency=text_or_none(get("currency")) or ("USD" if billed is not None else None),
        tags={
            f.removeprefix("tag."): text
            for f, c in mapping.items()
            if f.startswith("tag.") and (text := text_or_none(_value(row, c)))
        },
    )
    for field in TOKEN_BUCKETS:
        setattr(record, field, tokens(get(field), column(field)))
    if mapping.get("input_includes_cached") in (True, "true", "yes", "1"):
        record.input_tokens -= record.cache_read_tokens
        if record.input_tokens < 0:
            raise RowError("smaller than cache_read_tokens", column("input_tokens"))
    if not record.record_key:
        content = row.values() if isinstance(row, dict) else row
        record.record_key = occurrences.key(stable_key(NAME, *map(str, content)))
    else:
        record.record_key = stable_key(NAME, record.record_key)
    return record


FORMAT = Format(NAME, "Any CSV / JSON Lines with --map", parse, APPEND_ONLY)
