"""Writing one input into the store: one transaction per file, idempotent, with replacement.

The rules (the README, `tokcli import`, explains them to users):
- Every record has a stable `record_key`; a key already in the store is a duplicate, skipped.
- A bad row rejects the whole file (InputError, nothing written) unless `skip_bad_rows`, which
  writes the good rows and a reject file listing each bad row with its reason.
- Replacement, per format: a billing export replaces the rows an earlier import of the same
  source wrote for the same billing account and billing period; an API pull replaces the rows
  of the same source inside its time window. Rows whose key the new file also has are kept, so
  importing the same file twice changes nothing.
- A multi-part export (docs/concepts/billing-periods.md) is one `PartSet`: its parts are written
  in one transaction under one import and replace together, once all are in. A set that is not
  known to be complete (a lone `part-00002.csv`, a manifest naming a missing part) only adds
  rows: it never deletes what it does not restate. Imports sharing a `--part-of` key never
  replace each other.
- When a file adds and replaces nothing, its `imports` row is dropped too: the store is
  byte-for-byte what it was.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from tokcli.collector import FOR_BATCHES, fewer_collections
from tokcli.errors import InputError, TokcliError
from tokcli.importers.fields import Occurrences
from tokcli.importers.format import (
    BY_BILLING_PERIOD,
    BY_WINDOW,
    TOKEN_BUCKETS,
    TOKEN_FIELDS,
    BillingPeriod,
    Format,
    Options,
    Parsed,
    out_of_bounds,
)
from tokcli.importers.input_files import Limits, Source, check_row_count
from tokcli.importers.parse_worker import ParseWorker, worth_a_worker
from tokcli.importers.pricer import Pricer
from tokcli.money import MONEY_CONTEXT, plain
from tokcli.store import imports as store
from tokcli.store import transaction
from tokcli.store.imports import BILLING_ACCOUNT_TAG
from tokcli.store.rollups import RollupUpkeep
from tokcli.store.usage import (
    UsageRecord,
    begin_import,
    finish_import,
    insert_usage,
    keeping_rollups,
)
from tokcli.tags import TagMap

if TYPE_CHECKING:
    from tokcli.store.connection import Connection

PROGRESS_EVERY = 2_000
INSERT_BATCH_ROWS = 5_000  # records written per insert_usage call (one executemany each)
ProgressCallback = Callable[[int, int], None]  # (bytes done, bytes total)
# What a usage row is about, its figures aside (_slot): period, model, tier, kind and tags.
Slot = tuple[str, str, str | None, str, str, tuple[tuple[str, str], ...]]
# A rejected row as the reject file lists it: line, field, reason, the row as read.
Reject = tuple[object, str | None, str, object]


# A record's figures as Totals adds them: billed and list cost, then each TOKEN_FIELDS count.
_TOTALS_FIGURES = attrgetter("billed_cost", "list_cost", *TOKEN_FIELDS)
_token_counts = attrgetter(*TOKEN_BUCKETS)  # a record's counts, in one call


@dataclass
class Totals:
    """Money and tokens of one source and currency, as the file states them."""

    rows: int = 0
    billed_rows: int = 0  # rows that state a billed cost (usage APIs state none)
    billed: Decimal = Decimal(0)
    list_cost: Decimal = Decimal(0)
    billed_where_priced: Decimal = Decimal(0)  # the part of `billed` that has a list cost
    priced_rows: int = 0
    tokens: dict[str, int] = field(default_factory=dict)

    def add_all(self, records: list[UsageRecord]) -> None:
        """Add the records (one source and currency). Exports carry up to 30 decimals (Azure,
        the OpenAI dashboard): the caller sums in MONEY_CONTEXT, whose precision no total
        reaches, never the default 28 digits. Each figure is summed over its column in C: a
        bulk import's totals cost a pass per column, not a Python step per record and figure."""
        columns = zip(*map(_TOTALS_FIGURES, records), strict=True)
        billed_column, list_column = next(columns), next(columns)
        stated = [cost for cost in billed_column if cost is not None]
        priced = [
            (billed, listed)
            for billed, listed in zip(billed_column, list_column, strict=True)
            if listed is not None
        ]
        self.rows += len(records)
        self.billed_rows += len(stated)
        self.billed += sum(stated, Decimal(0))
        self.priced_rows += len(priced)
        self.list_cost += sum([listed for _, listed in priced], Decimal(0))
        self.billed_where_priced += sum(
            [billed for billed, _ in priced if billed is not None], Decimal(0)
        )
        for bucket, column in zip(TOKEN_FIELDS, columns, strict=True):
            self.tokens[bucket] = self.tokens.get(bucket, 0) + sum(column)

    def to_dict(self, source: str, currency: str | None) -> dict[str, Any]:
        difference = None
        if self.priced_rows and self.billed_rows and (currency or "USD").upper() == "USD":
            with decimal.localcontext(MONEY_CONTEXT):  # not rounded to the default 28 digits
                difference = self.billed_where_priced - self.list_cost
        return {
            "source": source,
            "currency": currency,
            "rows": self.rows,
            "billed": plain(self.billed) if self.billed_rows else None,
            "list": plain(self.list_cost) if self.priced_rows else None,
            "billed_where_priced": plain(self.billed_where_priced) if self.priced_rows else None,
            "billed_minus_list": plain(difference),
            "tokens": self.tokens,
        }


@dataclass
class PartSet:
    """What is imported together: one file, or the parts of one export."""

    sources: list[Source]
    label: str  # the file, or the folder / first part for a set
    complete: bool = True  # False: rows are added, nothing is replaced
    key: str | None = None  # --part-of KEY: imports sharing it never replace each other
    why_incomplete: str | None = None


@dataclass
class FileResult:
    path: str
    format: str
    status: str = "imported"
    parts: list[str] = field(default_factory=list)
    complete: bool = True
    import_id: int | None = None
    rows_read: int = 0
    inserted: int = 0
    replaced: int = 0
    duplicates: int = 0
    rejected: int = 0
    skipped: int = 0
    skip_reasons: dict[str, int] = field(default_factory=dict)
    reject_file: str | None = None
    totals: dict[tuple[str, str | None], Totals] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "status": self.status,
            "parts": self.parts,
            "complete": self.complete,
            "import_id": self.import_id,
            "rows_read": self.rows_read,
            "inserted": self.inserted,
            "replaced": self.replaced,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "skipped": self.skipped,
            "skip_reasons": self.skip_reasons,
            "reject_file": self.reject_file,
            "by_source": [
                totals.to_dict(source, currency)
                for (source, currency), totals in sorted(
                    self.totals.items(), key=lambda item: (item[0][0], item[0][1] or "")
                )
            ],
        }


@dataclass
class ImportSettings:
    pricer: Pricer
    tag_map: TagMap = field(default_factory=TagMap)
    options: Options = field(default_factory=Options)
    skip_bad_rows: bool = False
    reject_path: Path | None = None
    now: dt.datetime | None = None
    progress: ProgressCallback | None = None
    limits: Limits = field(default_factory=Limits)
    replace_window: bool = False  # API pulls: the file replaces everything in its window


def import_source(
    conn: Connection, source: Source, fmt: Format, settings: ImportSettings
) -> FileResult:
    """Import one file (or one transcript folder) in one transaction; see the module rules."""
    return import_set(conn, PartSet([source], source.name), fmt, settings)


def import_set(
    conn: Connection, parts: PartSet, fmt: Format, settings: ImportSettings
) -> FileResult:
    """Import one file or every part of one export in one transaction; see the module rules.
    Every row is parsed and checked before the transaction commits: a bad row anywhere leaves
    the store as it was."""
    result = FileResult(path=parts.label, format=fmt.name, complete=parts.complete)
    if len(parts.sources) > 1:
        result.parts = [source.name for source in parts.sources]
    digest = _sha256(parts.sources[0].path) if len(parts.sources) == 1 else None
    with transaction(conn), keeping_rollups(conn) as upkeep:
        import_id = begin_import(
            conn,
            fmt=fmt.name,
            path=parts.label,
            sha256=digest,
            started_at=settings.now,
            part_set=parts.key,
        )
        store.prepare_kept_keys(conn)
        writer = _Writer(conn, import_id, settings, result)
        writer.upkeep = upkeep  # the report rollups' sums, added once before the commit
        writer.bytes_total = sum(source.size for source in parts.sources)
        writer.keeps_slots = fmt.replace == BY_WINDOW
        options = replace(settings.options, occurrences=Occurrences())
        with fewer_collections(FOR_BATCHES):  # batches of rows alive at once
            _write_sources(writer, fmt, parts.sources, options)
        if parts.complete:
            result.replaced = _replace_older(conn, fmt, import_id, writer, parts.key)
        if writer.unrestated:
            settings.pricer.warnings[f"unrestated|{parts.label}"] = (
                f"{parts.label}: {writer.unrestated:,} rows that earlier imports wrote inside "
                "this file's time window are not restated by it and were kept (this file may "
                "cover only part of that data); to replace the whole window with this file, "
                "import it again with --replace-window"
            )
        if writer.without_model:
            settings.pricer.warnings[f"no-model|{parts.label}"] = (
                f"{parts.label}: {writer.without_model:,} rows with token usage name no model; "
                "`report --by model` shows them together as one row without a model"
            )
        if writer.rejects:
            first = parts.sources[0]
            result.reject_file = str(_write_rejects(settings, first, writer.rejects))
        if result.inserted == 0 and result.replaced == 0:
            # Nothing changed: leave no trace, so a repeated import is a true no-op.
            store.forget_import(conn, import_id)
            result.status = "unchanged"
        else:
            result.import_id = import_id
            finish_import(
                conn,
                import_id,
                status="ok",
                rows_read=result.rows_read,
                rows_inserted=result.inserted,
                details=_details(result, writer),
                finished_at=settings.now,
            )
    return result


def _write_sources(writer: _Writer, fmt: Format, sources: list[Source], options: Options) -> None:
    """Parse and write every source of a set, in order; a large input of a format that allows
    it is parsed in a second process while this one writes (parse_worker.py)."""
    if not (fmt.parse_in_worker and worth_a_worker(sources)):
        for source in sources:
            writer.write_all(fmt.parse(source, options), source)
        return
    with ParseWorker(fmt.parse, sources, options) as worker:
        for source in sources:
            writer.write_all(worker.rows(source), source)


class _Writer:
    """Turns parsed rows into stored records, counting what happened to each."""

    def __init__(
        self, conn: Connection, import_id: int, settings: ImportSettings, result: FileResult
    ):
        self.conn = conn
        self.import_id = import_id
        self.settings = settings
        self.result = result
        self.rejects: list[Reject] = []
        self.billing_periods: set[BillingPeriod] = set()
        self.window: tuple[dt.datetime, dt.datetime] | None = None
        self.without_model = 0  # rows with tokens but no model: one "(none)" row by model
        self.bytes_before = 0  # progress over all the parts of a set
        self.slots: set[Slot] = set()  # what each row is about, figures aside (_slot)
        self.unrestated = 0  # earlier rows in this file's window that it does not restate
        self.bytes_total = 0
        self.pending: list[UsageRecord] = []  # parsed and checked, not yet written (flush)
        self.upkeep: RollupUpkeep | None = None
        self.tag_keys: dict[Any, str] = {}  # a tag's key as read -> as stored ("" drops it)
        # Only a window import compares slots (_replace_window); a billing export would only
        # grow memory with one slot per row.
        self.keeps_slots = True

    def write_all(self, parsed_rows: Iterable[Parsed], source: Source) -> None:
        progress = self.settings.progress
        rows = 0
        last_period = None
        for parsed in parsed_rows:
            rows += parsed.lines
            self.result.rows_read += parsed.lines
            check_row_count(rows, source, parsed.line)
            if parsed.error is not None:
                self._bad_row(parsed, source)
            elif parsed.skipped is not None:
                self.result.skipped += parsed.lines
                reasons = self.result.skip_reasons
                reasons[parsed.skipped] = reasons.get(parsed.skipped, 0) + parsed.lines
            elif not parsed.in_bounds and (problem := out_of_bounds(parsed.records)) is not None:
                parsed.error = problem
                self._bad_row(parsed, source)
            else:
                period = parsed.billing_period
                if period is not None and period is not last_period:
                    self.billing_periods.add(period)  # rows share a period: hash it once
                    last_period = period
                for record in parsed.records:
                    self._store(record, parsed.billing_period)
            if progress is not None and self.result.rows_read % PROGRESS_EVERY < parsed.lines:
                progress(self.bytes_before + source.bytes_done(), self.bytes_total)
        self.bytes_before += source.size
        if progress is not None:
            progress(self.bytes_before, self.bytes_total)
        self.flush()

    def _bad_row(self, parsed: Parsed, source: Source) -> None:
        error = parsed.error
        assert error is not None  # called for a bad row only
        if not self.settings.skip_bad_rows:
            raise InputError(
                str(error),
                path=parsed.path or source.name,
                line=parsed.line,
                field=error.field,
                hint=error.hint,
            )
        self.result.rejected += 1
        line = f"{parsed.path}:{parsed.line}" if parsed.path else parsed.line
        if parsed.path is None and source.name != self.result.path:  # a part of a set
            line = f"{source.name}:{parsed.line}"
        self.rejects.append((line, error.field, str(error), parsed.raw))

    def _store(self, record: UsageRecord, period: BillingPeriod | None) -> None:
        record.tags = self._normalised(record.tags)
        if period is not None and period.account:
            record.tags[BILLING_ACCOUNT_TAG] = period.account
        self.settings.pricer.complete(record)
        if record.model_raw is None and any(_token_counts(record)):
            self.without_model += 1
        self.pending.append(record)
        if len(self.pending) >= INSERT_BATCH_ROWS:
            self.flush()
        self._widen_window(record)
        if self.keeps_slots:
            self.slots.add(_slot(record))

    def _normalised(self, tags: dict[str, Any]) -> dict[str, str]:
        """`tag_map.normalise(tags)`, with each key's canonical spelling looked up once per
        import rather than once per row (a bulk import repeats a handful of keys)."""
        keys, tag_map = self.tag_keys, self.settings.tag_map
        result: dict[str, str] = {}
        for raw_key, value in tags.items():
            if type(value) is not str:  # None, numbers, booleans: the general rule
                result.update(tag_map.normalise({raw_key: value}))
                continue
            key = keys.get(raw_key)
            if key is None:
                key = keys[raw_key] = next(iter(tag_map.normalise({raw_key: "x"})), "")
            text = value.strip()
            if key and text:  # an empty key or value says nothing: dropped
                result[key] = text
        return result

    def flush(self) -> None:
        """Write the rows waiting in `pending` (one batch: see store.usage.insert_usage)."""
        if not self.pending:
            return
        self._add_totals(self.pending)
        stats = insert_usage(self.conn, self.pending, self.import_id, self.upkeep)
        self.pending = []
        self.result.inserted += stats.inserted
        self.result.duplicates += stats.duplicates
        if stats.duplicate_keys:
            store.keep_keys(self.conn, stats.duplicate_keys)

    def _add_totals(self, records: list[UsageRecord]) -> None:
        totals = self.result.totals
        groups: dict[tuple[str, str | None], list[UsageRecord]] = {}
        for record in records:  # a batch is nearly always of one source and currency
            key = (record.source, record.currency)
            group = groups.get(key)
            if group is None:
                group = groups[key] = []
            group.append(record)
        with decimal.localcontext(MONEY_CONTEXT):  # once per batch: see Totals.add_all
            for key, group in groups.items():
                by_key = totals.get(key)
                if by_key is None:
                    by_key = totals[key] = Totals()
                by_key.add_all(group)

    def _widen_window(self, record: UsageRecord) -> None:
        start, end = record.period_start, record.period_end
        if start.tzinfo is not dt.UTC:  # parsers give UTC; anything else is converted
            start = _utc(start)
        if end.tzinfo is not dt.UTC:
            end = _utc(end)
        window = self.window
        if window is None:
            self.window = (start, end)
        elif start < window[0] or end > window[1]:
            self.window = (min(window[0], start), max(window[1], end))


def _replace_older(
    conn: Connection, fmt: Format, import_id: int, writer: _Writer, part_set: str | None = None
) -> int:
    """Delete what earlier imports of this source said about the periods this file covers,
    except what other parts of the same `--part-of` set wrote."""
    replaced = 0
    if fmt.replace == BY_BILLING_PERIOD:
        for period in writer.billing_periods:
            replaced += store.replace_billing_period(
                conn,
                source=fmt.store_source,
                import_id=import_id,
                start=_text(period.start),
                end=_text(period.end),
                account=period.account,
                part_set=part_set,
            )
    elif fmt.replace == BY_WINDOW and writer.window is not None:
        replaced += _replace_window(conn, fmt, import_id, writer, part_set)
    return replaced


def _slot(record: UsageRecord) -> Slot:
    """What a usage row is about, its figures aside: its bucket, model, tier and dimensions.
    A newer row in the same slot restates an older one."""
    tags = tuple(sorted((str(k), str(v)) for k, v in record.tags.items()))
    return (
        _text(record.period_start),
        _text(record.period_end),
        record.model_raw,
        record.service_tier,
        record.charge_kind,
        tags,
    )


class _Window(TypedDict):
    """Which rows a window import replaces, as the store's functions take it."""

    source: str
    import_id: int
    start: str
    end: str
    part_set: str | None


def _replace_window(
    conn: Connection, fmt: Format, import_id: int, writer: _Writer, part_set: str | None
) -> int:
    """API pulls: within this file's window, delete the earlier rows this file restates (same
    slot, newer figures). Earlier rows it does not restate (a group the file does not carry,
    e.g. a dashboard export filtered to one project) are kept and counted in `unrestated`,
    unless `--replace-window` asks to replace the whole window."""
    assert writer.window is not None  # _replace_older calls this only for a window
    start, end = writer.window
    window: _Window = {
        "source": fmt.store_source,
        "import_id": import_id,
        "start": _text(start),
        "end": _text(end),
        "part_set": part_set,
    }
    if writer.settings.replace_window:
        return store.replace_window(conn, **window)
    candidates = store.rows_in_window(conn, **window)
    restated = []
    for row in candidates:
        slot = (row[1], row[2], row[3], row[4], row[5], tuple(sorted(row[6])))
        if slot in writer.slots:
            restated.append(row[0])
    writer.unrestated = len(candidates) - len(restated)
    return store.delete_usage(conn, restated)


def _write_rejects(settings: ImportSettings, source: Source, rejects: list[Reject]) -> Path:
    path = settings.reject_path or Path.cwd() / f"{source.path.name}.rejects.csv"
    try:
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["line", "field", "reason", "row"])
            for line, column, reason, raw in rejects:
                writer.writerow([line, column or "", reason, _raw_text(raw)])
    except OSError as exc:
        raise TokcliError(f"{path}: cannot write the reject file: {exc.strerror}") from None
    return path


def _raw_text(raw: object) -> str:
    if isinstance(raw, str):
        return raw
    as_dict = getattr(raw, "as_dict", None)  # a row kept as cells (sources/focus.py, CsvRow)
    if as_dict is not None:
        raw = as_dict()
    return json.dumps(raw, default=str, ensure_ascii=False)


def _details(result: FileResult, writer: _Writer) -> dict[str, Any]:
    details = result.to_dict()
    details["billing_periods"] = sorted(
        ([p.account, _text(p.start), _text(p.end)] for p in writer.billing_periods),
        key=lambda period: (period[0] or "", period[1]),
    )
    if writer.window:
        details["window"] = [_text(writer.window[0]), _text(writer.window[1])]
    return details


def _sha256(path: Path) -> str | None:
    if path.is_dir():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _text(moment: dt.datetime) -> str:
    # The store's own spelling of a UTC time (store/usage.py), so text comparison orders it.
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")
