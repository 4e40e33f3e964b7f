"""Writing usage records: the one insert path shared by `import` and `batch`.

Callers open the transaction (`with transaction(conn):`) so that a file is written whole or not
at all; these functions never commit.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
from collections.abc import Iterable, Iterator, Set
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tokcli.money import plain
from tokcli.store.connection import Connection

if TYPE_CHECKING:
    from tokcli.store.rollups import RollupUpkeep


@dataclass
class UsageRecord:
    """One normalised usage row. Token buckets are disjoint (see `tokcli.cost.Usage`)."""

    record_key: str  # stable id: importing the same data twice adds nothing
    source: str  # format name, e.g. "openai-usage", "focus", "batch"
    period_start: dt.datetime  # UTC
    period_end: dt.datetime  # UTC
    provider: str | None = None
    model: str | None = None  # canonical registry id, None when unknown
    model_raw: str | None = None  # as the source wrote it
    service_tier: str = "standard"
    requests: int = 0
    input_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    billed_cost: Decimal | None = None
    currency: str | None = None
    list_cost: Decimal | None = None
    charge_kind: str = "usage"
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class InsertStats:
    inserted: int = 0
    duplicates: int = 0
    duplicate_keys: list[str] = field(default_factory=list)  # the keys counted in `duplicates`


# The columns of a `usage` row as the store writes it (store copy moves the same ones).
USAGE_COLUMNS = (
    "record_key", "import_id", "source", "period_start", "period_end", "provider", "model",
    "model_raw", "service_tier", "requests", "input_tokens", "cache_read_tokens",
    "cache_write_5m_tokens", "cache_write_1h_tokens", "output_tokens", "reasoning_tokens",
    "billed_cost", "currency", "list_cost", "charge_kind",
)  # fmt: skip
_INSERT = (
    f"INSERT INTO usage ({', '.join(USAGE_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in USAGE_COLUMNS)})"
)


@functools.lru_cache(maxsize=8192)
def _utc_text(moment: dt.datetime) -> str:
    # Cached: a bulk import repeats the same few thousand hours, and strftime is slow. Equal
    # datetimes (same instant) always give the same text, so the cache cannot mix two up.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _row(record: UsageRecord, import_id: int | None) -> tuple[Any, ...]:
    return (
        record.record_key, import_id, record.source, _utc_text(record.period_start),
        _utc_text(record.period_end), record.provider, record.model, record.model_raw,
        record.service_tier, record.requests, record.input_tokens, record.cache_read_tokens,
        record.cache_write_5m_tokens, record.cache_write_1h_tokens, record.output_tokens,
        record.reasoning_tokens, plain(record.billed_cost), record.currency,
        plain(record.list_cost), record.charge_kind,
    )  # fmt: skip


_NEXT_ID = "SELECT COALESCE(MAX(id), 0) + 1 FROM usage"
_LAST_ID = "SELECT MAX(id) FROM usage"
BATCH_ROWS = 5_000  # rows per executemany: large enough to amortise, small enough to stay flat
# One JSON array parameter instead of N placeholders: no limit on host parameters to meet.
_KEYS_PRESENT = "SELECT record_key FROM usage WHERE record_key IN (SELECT value FROM json_each(?))"
_IDS_OF_KEYS = (
    "SELECT record_key, id FROM usage WHERE record_key IN (SELECT value FROM json_each(?))"
)


def insert_usage(
    conn: Connection,
    records: Iterable[UsageRecord],
    import_id: int | None = None,
    upkeep: RollupUpkeep | None = None,
) -> InsertStats:
    """Insert records whose record_key is new; count (and list) the ones already present.

    Rows go in batches: one executemany for the usage rows (on SQLite with the ids it would
    give them; PostgreSQL: COPY, then one SELECT for their ids), one executemany for their
    tags, and the batch's sums added to the report rollups of its days (migration m0013
    dropped the per-row triggers that marked them). The sums go to `upkeep` when the caller
    keeps one for its whole transaction (see `keeping_rollups`), and it flushes them before it
    commits; else they are added to the stored rollups before this returns."""
    stats = InsertStats()
    own_upkeep = None
    if upkeep is None and _has_rollups(conn):
        upkeep = own_upkeep = _upkeep(conn)
    batch: list[UsageRecord] = []
    for record in records:
        batch.append(record)
        if len(batch) >= BATCH_ROWS:
            _insert_batch(conn, batch, import_id, stats, upkeep)
            batch = []
    if batch:
        _insert_batch(conn, batch, import_id, stats, upkeep)
    if own_upkeep is not None:
        own_upkeep.flush(conn)
    return stats


@contextlib.contextmanager
def keeping_rollups(conn: Connection) -> Iterator[RollupUpkeep | None]:
    """An upkeep for every insert_usage call of one transaction, flushed when the block ends
    without an error (an error rolls the transaction back, rows and sums alike). None on a store
    not yet at the rollup schema."""
    if not _has_rollups(conn):
        yield None
        return
    upkeep = _upkeep(conn)
    yield upkeep
    upkeep.flush(conn)


def _upkeep(conn: Connection) -> RollupUpkeep:
    from tokcli.store import has_table
    from tokcli.store.rollups import UNROLLED_TABLE, RollupUpkeep, unrolled_tag_keys

    return RollupUpkeep(unrolled_tag_keys(conn), may_unroll=has_table(conn, UNROLLED_TABLE))


def _insert_batch(
    conn: Connection,
    batch: list[UsageRecord],
    import_id: int | None,
    stats: InsertStats,
    upkeep: RollupUpkeep | None,
) -> None:
    keys = [record.record_key for record in batch]
    present = {row[0] for row in conn.execute(_KEYS_PRESENT, (json.dumps(keys),))}
    fresh: list[UsageRecord] = []
    for record in batch:
        if record.record_key in present:  # stored before, or earlier in this batch
            stats.duplicates += 1
            stats.duplicate_keys.append(record.record_key)
        else:
            present.add(record.record_key)
            fresh.append(record)
    if not fresh:
        return
    rows = [_row(record, import_id) for record in fresh]
    bulk = getattr(conn, "copy_rows", None)  # PostgreSQL: COPY, many times faster per row
    first_id = None
    if bulk is not None:
        bulk("usage", USAGE_COLUMNS, rows)
    else:
        # SQLite gives a new row the largest id + 1, so the batch's ids are known without a
        # SELECT of them; the caller's write transaction keeps any other writer out. The
        # largest id afterwards confirms it (SQLite picks others only past 2**63 - 1).
        first_id = conn.execute(_NEXT_ID).fetchone()[0]
        conn.executemany(_INSERT, rows)
        if conn.execute(_LAST_ID).fetchone()[0] != first_id + len(rows) - 1:
            first_id = None
    stats.inserted += len(fresh)
    tagged = [(n, record) for n, record in enumerate(fresh) if record.tags]
    if tagged:
        if first_id is not None:
            ids = [first_id + n for n, _ in tagged]
        else:
            tagged_keys = [record.record_key for _, record in tagged]
            id_of = dict(conn.execute(_IDS_OF_KEYS, (json.dumps(tagged_keys),)).fetchall())
            ids = [id_of[key] for key in tagged_keys]
        tag_rows = [
            (usage_id, key, str(value))
            for usage_id, (_, record) in zip(ids, tagged, strict=True)
            for key, value in record.tags.items()
        ]
        if bulk is not None:
            bulk("usage_tags", ("usage_id", "key", "value"), tag_rows)
        else:
            conn.executemany(
                "INSERT INTO usage_tags (usage_id, key, value) VALUES (?, ?, ?)", tag_rows
            )
    if upkeep is not None:
        unrolled = upkeep.unrolled  # left out of the rollups: not worth a tuple of each row
        written = [_written(record, row, unrolled) for record, row in zip(fresh, rows, strict=True)]
        upkeep.add(written, unrolled_left_out=True)
        if upkeep.pending_keys() > upkeep.FLUSH_KEYS:  # memory stays flat in the row count
            upkeep.flush(conn)


def _written(
    record: UsageRecord, row: tuple[Any, ...], unrolled: Set[str] = frozenset()
) -> tuple[Any, ...]:
    """The row as the rollup upkeep reads it (store.rollups.WrittenRow): keys as the rollup
    tables spell them (COALESCE of the SQL), money as Decimal, tags as stored (text) but those
    of the `unrolled` keys, as a tuple of (key, value) pairs."""
    model = record.model if record.model is not None else record.model_raw
    return (
        row[3][:10], record.provider if record.provider is not None else "",
        model if model is not None else "", record.service_tier, record.source,
        record.currency if record.currency is not None else "",
        record.billed_cost, record.list_cost, record.requests, record.input_tokens,
        record.cache_read_tokens, record.cache_write_5m_tokens + record.cache_write_1h_tokens,
        record.output_tokens, record.reasoning_tokens,
        tuple([(key, str(value)) for key, value in record.tags.items() if key not in unrolled])
        if record.tags
        else (),
    )  # fmt: skip


def _has_rollups(conn: Connection) -> bool:
    # A store opened at an older schema version (tests of upgrades) has no rollup tables yet.
    from tokcli.store import has_table

    return has_table(conn, "report_dirty_days")


def begin_import(
    conn: Connection,
    *,
    fmt: str,
    path: str | None = None,
    sha256: str | None = None,
    source: str | None = None,
    started_at: dt.datetime | None = None,
    part_set: str | None = None,
) -> int:
    started = _utc_text(started_at or dt.datetime.now(dt.UTC))
    cursor = conn.execute(
        "INSERT INTO imports (path, sha256, format, source, started_at, status, part_set) "
        "VALUES (?, ?, ?, ?, ?, 'running', ?) RETURNING id",
        (path, sha256, fmt, source, started, part_set),
    )
    return int(cursor.fetchone()[0])


def finish_import(
    conn: Connection,
    import_id: int,
    *,
    status: str,
    rows_read: int,
    rows_inserted: int,
    details: dict[str, Any] | None = None,
    finished_at: dt.datetime | None = None,
) -> None:
    conn.execute(
        "UPDATE imports SET status = ?, rows_read = ?, rows_inserted = ?, details = ?, "
        "finished_at = ? WHERE id = ?",
        (
            status,
            rows_read,
            rows_inserted,
            json.dumps(details, default=str) if details is not None else None,
            _utc_text(finished_at or dt.datetime.now(dt.UTC)),
            import_id,
        ),
    )
