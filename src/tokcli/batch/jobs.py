"""Jobs, their parts and the intent log in the store (tables from migration 0003).

Every remote step is bracketed: `intent` is committed before the request leaves, the outcome
after it. Part `step` says how far a part got:

  pending -> uploading -> uploaded -> creating -> created          (OpenAI)
  pending -> creating -> created                                   (Anthropic)
  any step before created -> abandoned                             (job cancelled early)

`uploading` and `creating` are the two in-doubt steps: the request may or may not have reached
the provider. `resume` asks the provider before doing them again.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from dataclasses import dataclass, field

from tokcli.batch.provider import FAILED, RUNNING, TERMINAL, RemoteBatch
from tokcli.errors import TokcliError
from tokcli.store import batch_jobs as store
from tokcli.store import transaction
from tokcli.store.connection import Connection

# Job states, from the parts' states; the first that applies wins.
SUBMITTING, ABANDONED = "submitting", "abandoned"
JOB_STATE_ORDER = (SUBMITTING, RUNNING, FAILED, "expired", "cancelled", "completed")


@dataclass
class Part:
    job_id: str
    part: int
    first_line: int
    start_offset: int
    end_offset: int
    request_count: int
    token: str
    step: str
    file_id: str | None
    batch_id: str | None
    remote_status: str | None
    status: str | None
    counts: dict
    remote: dict
    usage_recorded: bool

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL or self.step == ABANDONED


@dataclass
class Job:
    id: str
    provider: str
    endpoint: str | None
    base_url: str
    input_path: str
    input_sha256: str
    input_bytes: int
    request_count: int
    fingerprint: str
    tags: dict[str, str]
    estimate: dict | None
    state: str
    created_at: str
    updated_at: str
    finished_at: str | None
    results_path: str | None
    results_at: str | None
    parts: list[Part] = field(default_factory=list)
    wire_ids: bool = False  # requests go out as `<job id>-<line>` (limits.wire_id)
    acked_at: str | None = None  # a failed job the user acknowledged (`batch ack`)

    def counts(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for part in self.parts:
            for key, value in part.counts.items():
                total[key] = total.get(key, 0) + value
        return total


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def create_job(conn: Connection, *, scan, base_url, fingerprint, tags, estimate, now) -> Job:
    job_id = "job_" + uuid.uuid4().hex[:16]
    stamp = _utc(now)
    with transaction(conn):
        store.insert_job(
            conn, job_id=job_id, provider=scan.provider, endpoint=scan.endpoint,
            base_url=base_url, input_path=str(scan.path.resolve()), input_sha256=scan.sha256,
            input_bytes=scan.size, request_count=scan.request_count, fingerprint=fingerprint,
            tags_json=json.dumps(tags, sort_keys=True), estimate_json=json.dumps(estimate),
            state=SUBMITTING, stamp=stamp,
        )  # fmt: skip
        store.insert_parts(
            conn,
            job_id,
            [
                (p.index, p.first_line, p.start_offset, p.end_offset, p.request_count,
                 "tok_" + uuid.uuid4().hex)
                for p in scan.parts
            ],
            stamp,
        )  # fmt: skip
    return load_job(conn, job_id)


def load_job(conn: Connection, ref: str) -> Job:
    """A job by its id, a unique prefix of it, or one of its provider batch ids."""
    row = store.job_row(conn, ref)
    if row is None:
        found = store.job_id_of_batch(conn, ref)
        if found is not None:
            row = store.job_row(conn, found)
    if row is None:
        rows = store.job_rows_by_prefix(conn, ref, limit=2)
        if len(rows) == 1:
            row = rows[0]
    if row is None:
        raise TokcliError(f"no batch job {ref!r} in the store (see `tokcli batch list`)")
    return _job(conn, row)


def find_by_fingerprint(conn: Connection, fingerprint: str) -> Job | None:
    row = store.latest_job_row_by_fingerprint(conn, fingerprint)
    return _job(conn, row) if row else None


def list_jobs(
    conn: Connection, *, unfinished_only: bool = False, unacked_failed: bool = False
) -> list[Job]:
    """All jobs; or those still submitting or running, plus, with `unacked_failed`, the
    failed ones nobody acknowledged yet (they keep signalling until `batch ack`)."""
    rows = store.job_rows(
        conn,
        states=(SUBMITTING, RUNNING) if unfinished_only else (),
        unacked_in_state=FAILED if unfinished_only and unacked_failed else None,
    )
    return [_job(conn, row) for row in rows]


def supersede(conn: Connection, job_id: str) -> None:
    with transaction(conn):
        store.supersede(conn, job_id)


def log_step(conn, job_id: str, part: int | None, step: str, phase: str, now, detail: dict) -> None:
    """Append to the intent log; callers run it in the same transaction as the part update."""
    detail_json = json.dumps(detail) if detail else None
    store.log_step(conn, job_id, part, step, phase, detail_json, time.time(), _utc(now))


def intent_time(conn, job_id: str, part: int, step: str) -> float:
    """Wall-clock time of the last intent of a step: the earliest a remote object could date
    from. Real time, not TOKCLI_NOW: it is compared with the provider's clock."""
    wall_time = store.last_intent_wall_time(conn, job_id, part, step)
    return wall_time if wall_time is not None else 0.0


def begin_step(conn, part: Part, action: str, in_doubt_step: str, now, **detail) -> None:
    """Commit the intent of `action` and move the part to its in-doubt step."""
    with transaction(conn):
        log_step(conn, part.job_id, part.part, action, "intent", now, detail)
        _set_part(conn, part, now, step=in_doubt_step)


def finish_step(conn, part: Part, action: str, now, *, remote: RemoteBatch | None = None, **fields):
    """Commit the outcome of `action` with the part's new fields, in one transaction."""
    with transaction(conn):
        if remote is not None:
            fields.update(_remote_fields(remote))
        log_step(conn, part.job_id, part.part, action, "done", now, _loggable(fields))
        _set_part(conn, part, now, **fields)


def _loggable(fields: dict) -> dict:
    return {k: v for k, v in fields.items() if k not in ("remote", "counts")}


def record_remote(conn, part: Part, remote: RemoteBatch, now) -> bool:
    """Store a fresh view of the part's batch; True when its status or counts changed."""
    changed = (remote.remote_status, remote.counts) != (part.remote_status, part.counts)
    if changed:
        with transaction(conn):
            _set_part(conn, part, now, **_remote_fields(remote))
    return changed


def acknowledge(conn, job: Job, now) -> None:
    """The user has seen this failed job: it stops making `poll --all` and `status` exit 4."""
    with transaction(conn):
        store.acknowledge(conn, job.id, _utc(now))
    job.acked_at = _utc(now)


def mark_usage_recorded(conn, part: Part, now) -> None:
    _set_part(conn, part, now, usage_recorded=1)


def set_job_state(conn, job: Job, now, *, results_path: str | None = None) -> str:
    """Recompute the job's state from its parts and store it; returns the state."""
    state = job_state(job.parts)
    stamp = _utc(now)
    finished = stamp if state not in (SUBMITTING, RUNNING) and not job.finished_at else None
    with transaction(conn):
        store.set_job_state(
            conn, job.id, state=state, stamp=stamp, finished_at=finished, results_path=results_path
        )
    job.state = state
    return state


def job_state(parts: list[Part]) -> str:
    states = set()
    for part in parts:
        if part.step == ABANDONED:
            states.add("cancelled")
        elif part.batch_id is None:
            states.add(SUBMITTING)
        else:
            states.add(part.status or RUNNING)
    for state in JOB_STATE_ORDER:
        if state in states:
            return state
    return "completed"


def _remote_fields(remote: RemoteBatch) -> dict:
    return {
        "batch_id": remote.batch_id,
        "remote_status": remote.remote_status,
        "status": remote.status,
        "counts": json.dumps(remote.counts),
        "remote": json.dumps(remote.raw),
    }


def _set_part(conn, part: Part, now, **fields) -> None:
    store.update_part(conn, part.job_id, part.part, fields, _utc(now))
    for name, value in fields.items():
        if name in ("counts", "remote"):
            value = json.loads(value) if value else {}
        setattr(part, name, bool(value) if name == "usage_recorded" else value)


def _job(conn, row) -> Job:
    parts = [
        Part(
            job_id=p["job_id"], part=p["part"], first_line=p["first_line"],
            start_offset=p["start_offset"], end_offset=p["end_offset"],
            request_count=p["request_count"], token=p["token"], step=p["step"],
            file_id=p["file_id"], batch_id=p["batch_id"], remote_status=p["remote_status"],
            status=p["status"], counts=json.loads(p["counts"] or "{}"),
            remote=json.loads(p["remote"] or "{}"), usage_recorded=bool(p["usage_recorded"]),
        )
        for p in store.part_rows(conn, row["id"])
    ]  # fmt: skip
    return Job(
        id=row["id"], provider=row["provider"], endpoint=row["endpoint"],
        base_url=row["base_url"], input_path=row["input_path"],
        input_sha256=row["input_sha256"], input_bytes=row["input_bytes"],
        request_count=row["request_count"], fingerprint=row["fingerprint"],
        tags=json.loads(row["tags"] or "{}"),
        estimate=json.loads(row["estimate"]) if row["estimate"] else None,
        state=row["state"], created_at=row["created_at"], updated_at=row["updated_at"],
        finished_at=row["finished_at"], results_path=row["results_path"],
        results_at=row["results_at"], parts=parts, wire_ids=bool(row["wire_ids"]),
        acked_at=row["acked_at"],
    )  # fmt: skip
