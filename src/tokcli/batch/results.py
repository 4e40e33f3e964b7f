"""Collect a finished job: download every part's result files, join them on custom_id (providers
do not keep order), write one line per input request in the input's order, and record the
usage and its batch-tier cost in the usage store.

Expired and cancelled parts still have results for the requests that finished: those are kept
and billed; the rest are marked `expired` / `cancelled`. A part that failed validation has no
results: its lines are marked `failed` with the provider's reason.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import shutil
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from tokcli.batch import jobs
from tokcli.batch.engine import check_input_unchanged
from tokcli.batch.estimate import REGISTRY_PROVIDER
from tokcli.batch.jobs import ABANDONED, Job, Part
from tokcli.batch.limits import ID_FIELD, parse_wire_id, wire_id
from tokcli.batch.provider import (
    CANCELLED,
    EXPIRED,
    FAILED,
    RUNNING,
    Provider,
    RemoteBatch,
    ResultLine,
)
from tokcli.cost import Usage, compute_cost
from tokcli.errors import PriceNotAvailableError, TokcliError
from tokcli.money import MONEY_CONTEXT, ZERO, plain
from tokcli.outputs import atomic_output
from tokcli.pricing.model import PriceEntry, as_moment
from tokcli.store import transaction
from tokcli.store.usage import UsageRecord, insert_usage

RESULT_STATUSES = (
    "succeeded", "errored", "expired", "cancelled", "failed", "not_submitted", "missing",
)  # fmt: skip


@dataclass
class UsageTotals:
    requests: int = 0
    tokens: dict[str, int] = field(default_factory=dict)

    def add(self, usage: dict[str, int]) -> None:
        self.requests += 1
        for bucket, value in usage.items():
            self.tokens[bucket] = self.tokens.get(bucket, 0) + int(value or 0)

    def as_usage(self) -> Usage:
        return Usage(requests=max(self.requests, 1), **self.tokens)


@dataclass
class ResultsSummary:
    output: Path
    statuses: dict[str, int]
    usage_rows: list[dict]
    batch_cost: Decimal
    standard_cost: Decimal
    rows_recorded: int
    warnings: list[str]

    def to_dict(self) -> dict:
        return {
            "output": str(self.output),
            "requests": sum(self.statuses.values()),
            "statuses": self.statuses,
            "currency": "USD",
            "batch_cost": plain(self.batch_cost),
            "standard_cost": plain(self.standard_cost),
            "saving": plain(self.standard_cost - self.batch_cost),
            "usage": self.usage_rows,
            "usage_rows_recorded": self.rows_recorded,
        }


def collect(conn, provider: Provider, registry, job: Job, out: Path, now) -> ResultsSummary:
    unfinished = [p.part for p in job.parts if not p.terminal]
    if unfinished:
        hint = "`tokcli batch poll` until it ends"
        if job.state == "submitting":
            hint = "`tokcli batch resume` sends it"
        raise TokcliError(f"{job.id} is still {job.state} (parts {unfinished} not ended); {hint}")
    # Results are matched to input lines by position in the file: it must be the one sent.
    check_input_unchanged(job)
    work = out.parent / f".{out.name}.tokcli-parts"
    work.mkdir(parents=True, exist_ok=True)
    try:
        index = _download_and_index(provider, job, work)
        statuses, per_part = _write_in_input_order(job, provider, index, out, _bands(registry))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    usage_rows, batch_cost, standard_cost, recorded, warnings = _record_usage(
        conn, registry, job, per_part, now
    )
    jobs.set_job_state(conn, job, now(), results_path=str(out.resolve()))
    return ResultsSummary(out, statuses, usage_rows, batch_cost, standard_cost, recorded, warnings)


def _download_and_index(provider: Provider, job: Job, work: Path) -> dict[str, tuple[Path, int]]:
    """custom_id -> (result file, byte offset of its line). Offsets, not lines: a 50,000-line
    result set stays on disk. A later line for the same custom_id (an output line after an
    error line) wins only if it succeeded."""
    index: dict[str, tuple[Path, int]] = {}
    succeeded: set[str] = set()
    for part in job.parts:
        if part.batch_id is None or part.status == FAILED:
            continue
        # A part with a batch id has had its status read from the provider at least once.
        remote = RemoteBatch(part.batch_id, part.status or RUNNING, part.remote_status or "",
                             part.counts, raw=part.remote)  # fmt: skip
        for path in provider.download_results(remote, work):
            for offset, result in provider.read_results(path):
                if job.wire_ids:
                    check_owned(job, part, result.custom_id)
                if result.custom_id in succeeded:
                    continue
                index[result.custom_id] = (path, offset)
                if result.status == "succeeded":
                    succeeded.add(result.custom_id)
    return index


def _write_in_input_order(job: Job, provider: Provider, index, out: Path, band_of):
    statuses = dict.fromkeys(RESULT_STATUSES, 0)
    per_part: dict[int, dict[tuple[str, str], UsageTotals]] = {}
    handles: dict[Path, object] = {}
    try:
        with Path(job.input_path).open("rb") as source, atomic_output(out) as sink:
            for line_no, raw in enumerate(source, start=1):
                part = _part_of(job, line_no)
                custom_id = json.loads(raw)[ID_FIELD[job.provider]]
                sent_id = wire_id(job.id, line_no) if job.wire_ids else custom_id
                result = _result_for(provider, index, handles, sent_id, part, line_no)
                result.custom_id = custom_id  # the user's id back in place of the wire id
                statuses[result.status] = statuses.get(result.status, 0) + 1
                if result.status == "succeeded" and result.usage:
                    groups = per_part.setdefault(part.part, {})
                    day = (_moment(part.remote.get("created_at")) or dt.datetime.now(dt.UTC)).date()
                    key = (result.model or "", band_of(result.model, result.usage, day))
                    groups.setdefault(key, UsageTotals()).add(result.usage)
                sink.write(json.dumps(_line(result, part, line_no), ensure_ascii=False) + "\n")
    finally:
        for handle in handles.values():
            handle.close()  # type: ignore[attr-defined]
    return statuses, per_part


def _bands(registry):
    """(model, usage, day) -> the price band of one request, "standard" or "long_context": a
    request above the model's long-context threshold is billed at those prices as a whole."""
    entries: dict[tuple[str | None, dt.date], PriceEntry | None] = {}

    def band_of(model_raw: str | None, usage: dict[str, int], day: dt.date) -> str:
        key = (model_raw, day)
        if key not in entries:
            model = registry.find(model_raw) if model_raw else None
            try:
                entries[key] = model.entry_at(as_moment(day)) if model else None
            except PriceNotAvailableError:
                entries[key] = None  # reported when the usage is priced
        entry = entries[key]
        if entry is None:
            return "standard"
        total_input = sum(usage.get(b, 0) for b in _INPUT_BUCKETS)
        return entry.band_for(total_input)[0]

    return band_of


_INPUT_BUCKETS = ("input_tokens", "cache_read_tokens", "cache_write_5m_tokens",
                  "cache_write_1h_tokens")  # fmt: skip


def _part_of(job: Job, line_no: int) -> Part:
    for part in reversed(job.parts):
        if line_no >= part.first_line:
            return part
    return job.parts[0]


def _result_for(provider, index, handles, custom_id: str, part: Part, line_no: int) -> ResultLine:
    if part.step == ABANDONED:
        return ResultLine(custom_id, "not_submitted", None, {"message": "job cancelled before"})
    if part.status == FAILED:
        return ResultLine(custom_id, "failed", None, _validation_error(part, line_no))
    found = index.get(custom_id)
    if found is None:
        missing: dict[str | None, str] = {EXPIRED: "expired", CANCELLED: "cancelled"}
        status = missing.get(part.status, "missing")
        return ResultLine(custom_id, status, None, {"message": f"no result in batch ({status})"})
    path, offset = found
    if path not in handles:
        handles[path] = path.open("rb")
    handle = handles[path]
    handle.seek(offset)  # type: ignore[attr-defined]
    return provider.parse_result(json.loads(handle.readline()))  # type: ignore[attr-defined]


def check_owned(job: Job, part: Part, custom_id: str) -> None:
    """A result line must be one of this part's own requests (the wire id names job and line):
    never attribute another job's requests, or their usage, to this one."""
    owner = parse_wire_id(custom_id)
    last = part.first_line + part.request_count - 1
    if owner is None or owner[0] != job.id or not part.first_line <= owner[1] <= last:
        raise TokcliError(
            f"{job.id}: batch {part.batch_id} holds a request {custom_id!r} that is not one of "
            f"this job's lines {part.first_line}-{last}; nothing was written or recorded"
        )


def _validation_error(part: Part, line_no: int) -> dict:
    """This line's own validation error; the batch's error when the provider named no line
    (token_limit_exceeded); else a note that other lines failed, never another line's error."""
    errors = (part.remote.get("errors") or {}).get("data") or []
    local_line = line_no - part.first_line + 1  # the provider numbers lines within the part
    for error in errors:
        if error.get("line") == local_line:
            return error
    batch_level = [e for e in errors if e.get("line") is None]
    if batch_level:
        return batch_level[0]
    if not errors:
        return {"message": "the batch failed"}
    lines = sorted({e["line"] + part.first_line - 1 for e in errors})
    shown = ", ".join(str(n) for n in lines[:5]) + (", ..." if len(lines) > 5 else "")
    return {
        "code": "batch_failed",
        "message": f"not sent: the batch failed validation on other line(s) ({shown})",
    }


def _line(result: ResultLine, part: Part, line_no: int) -> dict:
    return {
        "custom_id": result.custom_id,
        "line": line_no,
        "status": result.status,
        "batch_id": part.batch_id,
        "model": result.model,
        "response": result.response,
        "error": result.error,
    }


def _record_usage(conn, registry, job: Job, per_part, now):
    """One usage row per (provider batch, model, price band): record_key makes a second run
    add nothing."""
    rows: list[dict[str, Any]] = []
    warnings: list[str] = []
    batch_total = standard_total = ZERO
    recorded = 0
    for part in job.parts:
        models = per_part.get(part.part, {})
        records = []
        for (model_raw, band), totals in sorted(models.items()):
            row, record = _usage_row(registry, job, part, model_raw, band, totals, now, warnings)
            rows.append(row)
            records.append(record)
            with decimal.localcontext(MONEY_CONTEXT):
                batch_total += Decimal(row["batch_cost"] or 0)
                standard_total += Decimal(row["standard_cost"] or 0)
        if part.batch_id is None or part.usage_recorded:
            continue
        with transaction(conn):
            recorded += insert_usage(conn, records).inserted
            jobs.mark_usage_recorded(conn, part, now())
    return rows, batch_total, standard_total, recorded, warnings


def _usage_row(registry, job, part, model_raw, band, totals: UsageTotals, now, warnings):
    start = _moment(part.remote.get("created_at")) or now()
    end = _ended(part) or now()
    model = registry.find(model_raw) if model_raw else None
    batch_cost = standard_cost = None
    if model is None:
        warnings.append(f"{part.batch_id}: model {model_raw!r} has no price: usage kept, cost not")
    else:
        usage = totals.as_usage()
        # Every request of the group is in the same band, so compute_cost, which picks the
        # band from the average input per request, prices each as the provider bills it.
        at = start.date()
        batch_cost = compute_cost(usage, model, at, "batch").total
        standard_cost = compute_cost(usage, model, at, "standard").total
    tokens = totals.as_usage()  # checks the bucket names
    record = UsageRecord(
        record_key=f"batch:{job.provider}:{part.batch_id}:{model_raw}"
        + ("" if band == "standard" else f":{band}"),
        source="batch",
        period_start=start,
        period_end=end,
        provider=REGISTRY_PROVIDER.get(job.provider, job.provider),  # gemini -> google
        model=model.id if model else None,
        model_raw=model_raw or None,
        service_tier="batch",
        requests=totals.requests,
        billed_cost=batch_cost,
        currency="USD" if batch_cost is not None else None,
        list_cost=batch_cost,
        tags={**job.tags, "batch_job": job.id},
        input_tokens=tokens.input_tokens,
        cache_read_tokens=tokens.cache_read_tokens,
        cache_write_5m_tokens=tokens.cache_write_5m_tokens,
        cache_write_1h_tokens=tokens.cache_write_1h_tokens,
        output_tokens=tokens.output_tokens,
        reasoning_tokens=tokens.reasoning_tokens,
    )
    row = {
        "batch_id": part.batch_id,
        "model": record.model,
        "model_raw": model_raw,
        "band": band,
        "requests": totals.requests,
        **{bucket: totals.tokens.get(bucket, 0) for bucket in _BUCKETS},
        "batch_cost": plain(batch_cost),
        "standard_cost": plain(standard_cost),
    }
    return row, record


_BUCKETS = ("input_tokens", "cache_read_tokens", "cache_write_5m_tokens",
            "cache_write_1h_tokens", "output_tokens", "reasoning_tokens")  # fmt: skip


def _moment(value) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _ended(part: Part) -> dt.datetime | None:
    raw = part.remote
    for key in ("completed_at", "expired_at", "cancelled_at", "failed_at", "ended_at"):
        if raw.get(key):
            return _moment(raw[key])
    return None
