"""`tokcli store copy SRC DST`: move a store between backends (a laptop's SQLite into the team's
PostgreSQL, and back), in one transaction on the destination, verified by totals.

What is copied is what cannot be derived: import records, usage rows with their tags, and batch
jobs with their parts and intent log. Report rollups are derived: every copied day is marked
dirty and rebuilt by the destination's next report. Rows the destination already holds (same
record key, same batch job id) are kept, not duplicated, so copying twice adds nothing; the
verification then compares the destination's rows for the source's record keys with the source.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tokcli.collector import FOR_BATCHES, fewer_collections
from tokcli.errors import TokcliError
from tokcli.store import has_table, transaction
from tokcli.store.connection import Connection
from tokcli.store.rollups import UNROLLED_TABLE, unroll_tag_keys, unrolled_tag_keys
from tokcli.store.usage import USAGE_COLUMNS

_IMPORT_COLUMNS = (
    "path", "sha256", "format", "started_at", "finished_at", "status", "rows_read",
    "rows_inserted", "source", "details", "part_set",
)  # fmt: skip
_JOB_COLUMNS = (
    "id", "provider", "endpoint", "base_url", "input_path", "input_sha256", "input_bytes",
    "request_count", "fingerprint", "tags", "estimate", "state", "created_at", "updated_at",
    "finished_at", "results_path", "results_at", "superseded", "wire_ids", "acked_at",
)  # fmt: skip
_PART_COLUMNS = (
    "job_id", "part", "first_line", "start_offset", "end_offset", "request_count", "token",
    "step", "file_id", "batch_id", "remote_status", "status", "counts", "remote",
    "usage_recorded", "updated_at",
)  # fmt: skip
_STEP_COLUMNS = ("job_id", "part", "step", "phase", "detail", "wall_time", "at")
CHUNK = 5_000


@dataclass
class Totals:
    rows: int = 0
    requests: int = 0
    tokens: int = 0
    money: dict[tuple[str, str], Decimal] = field(default_factory=dict)  # (column, currency)

    def add(self, row: Sequence[Any]) -> None:
        self.rows += 1
        self.requests += int(row[9])
        self.tokens += sum(int(row[i]) for i in range(10, 16))
        currency = row[17] or ""
        for column, index in (("billed_cost", 16), ("list_cost", 18)):
            if row[index] is not None:
                key = (column, currency)
                self.money[key] = self.money.get(key, Decimal(0)) + Decimal(str(row[index]))

    def as_dict(self) -> dict[str, Any]:
        money: dict[str, dict[str, str]] = {}
        for (column, currency), amount in sorted(self.money.items()):
            money.setdefault(column, {})[currency or "none"] = format(amount, "f")
        return {"rows": self.rows, "requests": self.requests, "tokens": self.tokens, "money": money}


@dataclass
class CopyResult:
    imports: int = 0
    usage_copied: int = 0
    usage_present: int = 0
    batch_jobs_copied: int = 0
    batch_jobs_present: int = 0
    source_totals: Totals = field(default_factory=Totals)
    destination_totals: Totals = field(default_factory=Totals)

    @property
    def verified(self) -> bool:
        return self.source_totals == self.destination_totals


def copy_store(src: Connection, dst: Connection) -> CopyResult:
    """Copy every import, usage row (with tags) and batch job of `src` into `dst`."""
    result = CopyResult()
    with transaction(dst), fewer_collections(FOR_BATCHES):  # batches of rows alive at once
        import_ids = _copy_imports(src, dst, result)
        _copy_unrolled_tag_keys(src, dst)
        _copy_usage(src, dst, import_ids, result)
        _copy_batch(src, dst, result)
    _verify(src, dst, result)
    return result


def _copy_imports(src: Connection, dst: Connection, result: CopyResult) -> dict[int, int]:
    """Import records keep their content and get the destination's ids."""
    mapping: dict[int, int] = {}
    columns = ", ".join(_IMPORT_COLUMNS)
    for row in src.execute(f"SELECT id, {columns} FROM imports ORDER BY id").fetchall():
        same = dst.execute(  # copied before: the same import, started at the same moment
            "SELECT id FROM imports WHERE format = ? AND started_at = ? "
            "AND path IS NOT DISTINCT FROM ? AND sha256 IS NOT DISTINCT FROM ?",
            (row[3], row[4], row[1], row[2]),
        ).fetchone()
        if same:
            mapping[row[0]] = same[0]
            continue
        new = dst.execute(
            f"INSERT INTO imports ({columns}) VALUES ({_marks(_IMPORT_COLUMNS)}) RETURNING id",
            tuple(row[1:]),
        ).fetchone()[0]
        mapping[row[0]] = new
        result.imports += 1
    return mapping


def _copy_unrolled_tag_keys(src: Connection, dst: Connection) -> None:
    """The tag keys the source's rollups leave out stay out of the destination's (its rebuilds
    would otherwise roll up a request id again)."""
    keys = unrolled_tag_keys(src)
    if keys and has_table(dst, UNROLLED_TABLE):
        unroll_tag_keys(dst, keys)


def _copy_usage(
    src: Connection, dst: Connection, import_ids: dict[int, int], result: CopyResult
) -> None:
    columns = ", ".join(USAGE_COLUMNS)
    insert = f"INSERT INTO usage ({columns}) VALUES ({_marks(USAGE_COLUMNS)})"
    for chunk in _chunks(src, f"SELECT id, {columns} FROM usage ORDER BY id"):
        keys = [row[1] for row in chunk]
        present = {
            row[0]
            for row in dst.execute(
                "SELECT record_key FROM usage WHERE record_key IN (SELECT value FROM json_each(?))",
                (json.dumps(keys),),
            )
        }
        fresh = [row for row in chunk if row[1] not in present]
        result.usage_present += len(chunk) - len(fresh)
        if not fresh:
            continue
        dst.executemany(
            insert,
            [(row[1], import_ids.get(row[2]), *_money_as_text(tuple(row[3:]))) for row in fresh],
        )
        result.usage_copied += len(fresh)
        _copy_tags(src, dst, fresh)
        days = sorted({str(row[4])[:10] for row in fresh})
        dst.executemany(
            "INSERT OR IGNORE INTO report_dirty_days (day) VALUES (?)", [(d,) for d in days]
        )


def _money_as_text(values: tuple[Any, ...]) -> tuple[Any, ...]:
    # billed_cost and list_cost are exact decimal text on SQLite and NUMERIC on PostgreSQL;
    # both accept the text form, which keeps every digit.
    return tuple(str(v) if isinstance(v, Decimal) else v for v in values)


def _copy_tags(src: Connection, dst: Connection, fresh: list[Any]) -> None:
    by_old: dict[int, list[tuple[str, str]]] = {}
    for usage_id, key, value in src.execute(
        "SELECT t.usage_id, t.key, t.value FROM usage_tags t JOIN usage u ON u.id = t.usage_id "
        "WHERE u.record_key IN (SELECT value FROM json_each(?))",
        (json.dumps([row[1] for row in fresh]),),
    ):
        by_old.setdefault(usage_id, []).append((key, value))
    if not by_old:
        return
    keys = {row[0]: row[1] for row in fresh}
    new_ids = dict(
        dst.execute(
            "SELECT record_key, id FROM usage WHERE record_key IN (SELECT value FROM json_each(?))",
            (json.dumps([keys[old] for old in by_old]),),
        ).fetchall()
    )
    dst.executemany(
        "INSERT INTO usage_tags (usage_id, key, value) VALUES (?, ?, ?)",
        [(new_ids[keys[old]], key, value) for old, pairs in by_old.items() for key, value in pairs],
    )


def _copy_batch(src: Connection, dst: Connection, result: CopyResult) -> None:
    jobs = ", ".join(_JOB_COLUMNS)
    parts = ", ".join(_PART_COLUMNS)
    steps = ", ".join(_STEP_COLUMNS)
    for job in src.execute(f"SELECT {jobs} FROM batch_jobs ORDER BY created_at").fetchall():
        if dst.execute("SELECT 1 FROM batch_jobs WHERE id = ?", (job[0],)).fetchone():
            result.batch_jobs_present += 1
            continue
        dst.execute(f"INSERT INTO batch_jobs ({jobs}) VALUES ({_marks(_JOB_COLUMNS)})", tuple(job))
        dst.executemany(
            f"INSERT INTO batch_parts ({parts}) VALUES ({_marks(_PART_COLUMNS)})",
            [
                tuple(p)
                for p in src.execute(
                    f"SELECT {parts} FROM batch_parts WHERE job_id = ? ORDER BY part", (job[0],)
                )
            ],
        )
        dst.executemany(
            f"INSERT INTO batch_steps ({steps}) VALUES ({_marks(_STEP_COLUMNS)})",
            [
                tuple(s)
                for s in src.execute(
                    f"SELECT {steps} FROM batch_steps WHERE job_id = ? ORDER BY id", (job[0],)
                )
            ],
        )
        result.batch_jobs_copied += 1


def _marks(columns: tuple[str, ...]) -> str:
    return ", ".join("?" for _ in columns)


def _verify(src: Connection, dst: Connection, result: CopyResult) -> None:
    """Totals of the source's rows against the destination's rows for the same record keys."""
    columns = ", ".join(USAGE_COLUMNS)
    for chunk in _chunks(src, f"SELECT id, {columns} FROM usage ORDER BY id"):
        for row in chunk:
            result.source_totals.add(row[1:])
        for row in dst.execute(
            f"SELECT id, {columns} FROM usage WHERE record_key IN (SELECT value FROM json_each(?))",
            (json.dumps([row[1] for row in chunk]),),
        ):
            result.destination_totals.add(row[1:])
    if not result.verified:
        raise TokcliError(
            "store copy: the destination's totals differ from the source's "
            f"(source {result.source_totals.as_dict()}, "
            f"destination {result.destination_totals.as_dict()}): rows with the same record "
            "key already held different values there"
        )


def _chunks(conn: Connection, sql: str) -> Iterator[list[Any]]:
    """Rows in chunks, read by key range so that memory stays flat on a large store."""
    last = -1
    while True:
        chunk = conn.execute(
            sql.replace("FROM usage ORDER BY id", "FROM usage WHERE id > ? ORDER BY id LIMIT ?"),
            (last, CHUNK),
        ).fetchall()
        if not chunk:
            return
        yield chunk
        last = chunk[-1][0]
