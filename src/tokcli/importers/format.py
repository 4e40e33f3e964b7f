"""What every format module provides: a `Format` whose `parse` turns one input into `Parsed`
rows, and the small types write.py needs to write them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from tokcli.importers.fields import MAX_MAGNITUDE, Occurrences, RowError
from tokcli.importers.input_files import BadRow, Source
from tokcli.store.usage import UsageRecord

# How a new import replaces what an earlier one wrote (README, `tokcli import`, "Replace"):
BY_BILLING_PERIOD = "billing_period"  # billing files: the export for an account and period wins
BY_WINDOW = "window"  # API pulls: the newest covering a time window wins inside that window
APPEND_ONLY = "append"  # event logs (transcripts, spans): rows are only ever added


# The disjoint token buckets of a UsageRecord: what a parser fills from token counts.
TOKEN_BUCKETS = (
    "input_tokens",
    "cache_read_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "reasoning_tokens",
)
TOKEN_FIELDS = ("requests", *TOKEN_BUCKETS)  # the counts a summary adds up


@dataclass(frozen=True)
class BillingPeriod:
    account: str | None
    start: dt.datetime
    end: dt.datetime


@dataclass
class Parsed:
    """One input row (CSV line, JSON bucket result, log line): the records it yields, or why
    it yields none (`skipped`: not LLM usage, empty bucket), or why it is bad (`error`)."""

    line: int | None
    records: list[UsageRecord] = field(default_factory=list)
    error: RowError | None = None
    raw: Any = None
    skipped: str | None = None
    billing_period: BillingPeriod | None = None
    path: str | None = None  # the file, when the input is a folder of files
    # How many input rows this outcome stands for: a format may report many skipped lines as
    # one (Claude Code: the lines that are no API response), from `line` on.
    lines: int = 1
    # True when `out_of_bounds` is known to find nothing in `records` (the parse worker checked
    # them before sending), so the writer need not check again.
    in_bounds: bool = False


@dataclass
class Options:
    all_services: bool = False  # FOCUS / cloud bills: also import services that are not AI
    mapping: dict[str, str | bool] | None = None  # generic CSV/JSONL: usage field -> input column
    # The parts of one export share their numbering of identical rows, so that an identical
    # line item in two parts is two rows, not one row and a "duplicate" (write.import_set).
    occurrences: Occurrences | None = None


@dataclass(frozen=True)
class Format:
    name: str  # the `--source` name and the `usage.source` value
    title: str
    parse: Callable[[Source, Options], Iterator[Parsed]]
    replace: str = APPEND_ONLY
    provider: str | None = None
    # The `usage.source` its rows carry when it differs from `name`: two spellings of the same
    # data (the OpenAI dashboard CSV and the Usage API) share one, so they replace each other.
    source: str | None = None
    # Large inputs are parsed in a second process while this one writes (parse_worker.py):
    # for formats whose rows are many and cheap to send (billing CSVs).
    parse_in_worker: bool = False

    @property
    def store_source(self) -> str:
        return self.source or self.name


def each_row(
    rows: Iterable[tuple[int | None, Any]],
    convert: Callable[[Any], Parsed | list[UsageRecord] | str],
) -> Iterator[Parsed]:
    """Apply `convert` to every (line, row); a RowError becomes a bad row, a string a skip."""
    for line, row in rows:
        if isinstance(row, BadRow):
            yield structural_error(line, row)
            continue
        try:
            outcome = convert(row)
        except RowError as error:
            yield Parsed(line, error=error, raw=row)
            continue
        if isinstance(outcome, Parsed):
            outcome.line = line
            outcome.raw = row
            yield outcome
        elif isinstance(outcome, str):
            yield Parsed(line, skipped=outcome, raw=row)
        else:
            yield Parsed(line, records=outcome, raw=row)


def structural_error(line: int | None, row: BadRow) -> Parsed:
    """The bad row for a CSV row with the wrong number of cells."""
    return Parsed(line, error=RowError(row.message, row.field), raw=row.raw)


def out_of_bounds(records: list[UsageRecord]) -> RowError | None:
    """A record no later read or write could handle: a token count beyond 1e15 (a quantity
    times its unit block can get there even when each value read was within bounds), or text
    that is not Unicode (`not_unicode`)."""
    for record in records:
        for bucket in TOKEN_FIELDS:
            if getattr(record, bucket) > MAX_MAGNITUDE:
                return RowError(f"out of range (beyond 1e15): {getattr(record, bucket)}", bucket)
        problem = not_unicode(record)
        if problem is not None:
            return problem
    return None


# The record's text fields, read in one call; each must be Unicode text to be stored.
TEXT_FIELDS = (
    "record_key", "source", "provider", "model", "model_raw", "service_tier", "currency",
    "charge_kind",
)  # fmt: skip
_text_values = attrgetter(*TEXT_FIELDS)


def not_unicode(record: UsageRecord) -> RowError | None:
    """A text field or tag holding a lone surrogate: what a JSON escape such as "\\ud800"
    (valid JSON, and read as such) or a UTF-16 file's broken pair decodes to. It is no Unicode
    text, so no store can hold it (SQLite and PostgreSQL refuse the whole batch): the row is
    a bad row, named by its line and field, instead."""
    for name, value in zip(TEXT_FIELDS, _text_values(record), strict=True):
        if type(value) is str and not value.isascii() and not _encodable(value):
            return RowError(f"not Unicode text (a lone surrogate): {value!r}", name)
    for key, value in record.tags.items():
        for text in (key, value):
            if type(text) is str and not text.isascii() and not _encodable(text):
                return RowError(f"tag {key!r}: not Unicode text (a lone surrogate): {text!r}",
                                "tags")  # fmt: skip
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
