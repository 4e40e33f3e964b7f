"""Batch jobs, their parts and the intent log (tables from migrations 0003 and 0011).

Rows come back as the connection gives them (looked up by column name); JSON columns (tags,
estimate, counts, remote, detail) are stored and returned as text, decoded by tokcli.batch.jobs.
Writes run in the caller's transaction (`with transaction(conn):`); nothing commits here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tokcli.store.connection import Connection
from tokcli.store.errors import translates

# The part columns a step may change (their names go into the UPDATE's text).
PART_FIELDS = frozenset(
    {"step", "file_id", "batch_id", "remote_status", "status", "counts", "remote",
     "usage_recorded"}
)  # fmt: skip


@translates
def insert_job(
    conn: Connection,
    *,
    job_id: str,
    provider: str,
    endpoint: str | None,
    base_url: str,
    input_path: str,
    input_sha256: str,
    input_bytes: int,
    request_count: int,
    fingerprint: str,
    tags_json: str,
    estimate_json: str,
    state: str,
    stamp: str,
) -> None:
    """A new job (its requests sent with wire ids), created and updated at `stamp`."""
    conn.execute(
        "INSERT INTO batch_jobs (id, provider, endpoint, base_url, input_path, input_sha256, "
        "input_bytes, request_count, fingerprint, tags, estimate, state, created_at, "
        "updated_at, wire_ids) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
        (
            job_id, provider, endpoint, base_url, input_path, input_sha256, input_bytes,
            request_count, fingerprint, tags_json, estimate_json, state, stamp, stamp,
        ),
    )  # fmt: skip


@translates
def insert_parts(conn: Connection, job_id: str, parts: Iterable[Sequence[Any]], stamp: str) -> None:
    """The job's parts, each (part, first_line, start_offset, end_offset, request_count,
    token), at their first step."""
    conn.executemany(
        "INSERT INTO batch_parts (job_id, part, first_line, start_offset, end_offset, "
        "request_count, token, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(job_id, *part, stamp) for part in parts],
    )


@translates
def job_row(conn: Connection, job_id: str) -> Any:
    """The job's row, or None."""
    return conn.execute("SELECT * FROM batch_jobs WHERE id = ?", (job_id,)).fetchone()


@translates
def job_id_of_batch(conn: Connection, batch_id: str) -> str | None:
    """The job one of whose parts became the provider batch `batch_id`, or None."""
    found = conn.execute(
        "SELECT job_id FROM batch_parts WHERE batch_id = ? LIMIT 1", (batch_id,)
    ).fetchone()
    return found[0] if found is not None else None


@translates
def job_rows_by_prefix(conn: Connection, prefix: str, limit: int = 2) -> list[Any]:
    """Up to `limit` jobs whose id starts with `prefix`."""
    return conn.execute(
        "SELECT * FROM batch_jobs WHERE id LIKE ? || '%' LIMIT ?", (prefix, limit)
    ).fetchall()


@translates
def latest_job_row_by_fingerprint(conn: Connection, fingerprint: str) -> Any:
    """The newest job with this fingerprint not superseded, or None."""
    return conn.execute(
        "SELECT * FROM batch_jobs WHERE fingerprint = ? AND superseded = 0 "
        "ORDER BY created_at DESC, rowid DESC LIMIT 1",
        (fingerprint,),
    ).fetchone()


@translates
def job_rows(
    conn: Connection, *, states: Sequence[str] = (), unacked_in_state: str | None = None
) -> list[Any]:
    """Jobs in creation order: all of them, or (with `states`) those in one of `states`, plus
    (with `unacked_in_state`) those in that state nobody acknowledged that are not
    superseded."""
    query = "SELECT * FROM batch_jobs"
    params: list[object] = []
    if states:
        query += f" WHERE (state IN ({', '.join('?' for _ in states)})"
        params += states
        if unacked_in_state is not None:
            query += " OR (state = ? AND acked_at IS NULL AND superseded = 0)"
            params.append(unacked_in_state)
        query += ")"
    return conn.execute(query + " ORDER BY created_at, rowid", params).fetchall()


@translates
def part_rows(conn: Connection, job_id: str) -> list[Any]:
    """The job's parts in order."""
    return conn.execute(
        "SELECT * FROM batch_parts WHERE job_id = ? ORDER BY part", (job_id,)
    ).fetchall()


@translates
def supersede(conn: Connection, job_id: str) -> None:
    conn.execute("UPDATE batch_jobs SET superseded = 1 WHERE id = ?", (job_id,))


@translates
def acknowledge(conn: Connection, job_id: str, at: str) -> None:
    conn.execute("UPDATE batch_jobs SET acked_at = ? WHERE id = ?", (at, job_id))


@translates
def set_job_state(
    conn: Connection,
    job_id: str,
    *,
    state: str,
    stamp: str,
    finished_at: str | None,
    results_path: str | None,
) -> None:
    """Store the job's state at `stamp`; finished_at and results_path only fill in (None
    keeps what is stored); results_at becomes `stamp` when a results path is given."""
    conn.execute(
        "UPDATE batch_jobs SET state = ?, updated_at = ?, "
        "finished_at = COALESCE(finished_at, ?), "
        "results_path = COALESCE(?, results_path), "
        "results_at = CASE WHEN ? IS NULL THEN results_at ELSE ? END WHERE id = ?",
        (state, stamp, finished_at, results_path, results_path, stamp, job_id),
    )


@translates
def update_part(
    conn: Connection, job_id: str, part: int, fields: Mapping[str, Any], stamp: str
) -> None:
    """Set some of the part's PART_FIELDS, updated at `stamp`."""
    unknown = set(fields) - PART_FIELDS
    if unknown:
        raise ValueError(f"not part columns: {unknown}")
    assignments = ", ".join(f"{name} = ?" for name in fields)
    conn.execute(
        f"UPDATE batch_parts SET {assignments}, updated_at = ? WHERE job_id = ? AND part = ?",
        (*fields.values(), stamp, job_id, part),
    )


@translates
def log_step(
    conn: Connection,
    job_id: str,
    part: int | None,
    step: str,
    phase: str,
    detail_json: str | None,
    wall_time: float,
    at: str,
) -> None:
    """Append to the intent log."""
    conn.execute(
        "INSERT INTO batch_steps (job_id, part, step, phase, detail, wall_time, at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (job_id, part, step, phase, detail_json, wall_time, at),
    )


@translates
def last_intent_wall_time(conn: Connection, job_id: str, part: int, step: str) -> float | None:
    """Wall-clock time of the last intent logged for the part's step, or None."""
    row = conn.execute(
        "SELECT wall_time FROM batch_steps WHERE job_id = ? AND part = ? AND step = ? "
        "AND phase = 'intent' ORDER BY id DESC LIMIT 1",
        (job_id, part, step),
    ).fetchone()
    return float(row[0]) if row else None


@translates
def known_batch_ids(conn: Connection) -> set[str]:
    """Every provider batch id any part of any job became."""
    return {
        row[0]
        for row in conn.execute("SELECT batch_id FROM batch_parts WHERE batch_id IS NOT NULL")
    }


@translates
def part_of_batch(conn: Connection, batch_id: str) -> tuple[str, int] | None:
    """(job id, part) of the part that became the provider batch `batch_id`, or None."""
    owner = conn.execute(
        "SELECT job_id, part FROM batch_parts WHERE batch_id = ?", (batch_id,)
    ).fetchone()
    return (owner[0], owner[1]) if owner is not None else None
