"""The JSON documents `tokcli batch` prints (`--format json`), built from library results so
scripts calling tokcli as a library get the same shapes. Each carries `"version"`; the field
meanings are documented in docs/commands/batch.md."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tokcli.batch.session import EXIT_NAMES

if TYPE_CHECKING:
    from tokcli.batch.jobs import Job
    from tokcli.batch.results import ResultsSummary
    from tokcli.batch.session import Plan
    from tokcli.errors import ExitCode

VERSION = 1


def job_document(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "provider": job.provider,
        "endpoint": job.endpoint,
        "state": job.state,
        "input": {
            "path": job.input_path,
            "sha256": job.input_sha256,
            "bytes": job.input_bytes,
            "requests": job.request_count,
        },
        "tags": job.tags,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "finished_at": job.finished_at,
        "counts": job.counts(),
        "estimate": job.estimate,
        "results_path": job.results_path,
        "acked_at": job.acked_at,
        "parts": [
            {
                "part": p.part,
                "first_line": p.first_line,
                "requests": p.request_count,
                "step": p.step,
                "file_id": p.file_id,
                "batch_id": p.batch_id,
                "status": p.status,
                "remote_status": p.remote_status,
                "counts": p.counts,
            }
            for p in job.parts
        ],
    }


def jobs_document(found: list[Job], *, key: str, extra: dict[str, Any] | None = None) -> dict:
    """`{"job": ...}` for one job's commands, `{"jobs": [...]}` for list and resume."""
    value = job_document(found[0]) if key == "job" else [job_document(j) for j in found]
    return {"version": VERSION, key: value, **(extra or {})}


def poll_document(
    shown: list[Job], changed: list[str], *, skipped: str | None, exit_code: ExitCode
) -> dict[str, Any]:
    return {
        "version": VERSION,
        "jobs": [job_document(j) for j in shown],
        "changed": changed,
        "skipped": skipped,
        "exit": EXIT_NAMES.get(exit_code, exit_code.name.lower()),
        "exit_code": int(exit_code),
    }


def plan_document(plan: Plan) -> dict[str, Any]:
    scan = plan.scan
    parts = [
        {"part": p.index, "first_line": p.first_line, "requests": p.request_count,
         "bytes": p.payload_bytes}
        for p in scan.parts
    ]  # fmt: skip
    return {
        "version": VERSION,
        "dry_run": True,
        "provider": scan.provider,
        "endpoint": scan.endpoint,
        "input": {"path": str(scan.path), "sha256": scan.sha256, "bytes": scan.size,
                  "requests": scan.request_count},
        "parts": parts,
        "estimate": plan.estimate.to_dict(),
    }  # fmt: skip


def results_document(job: Job, summary: ResultsSummary) -> dict[str, Any]:
    return {"version": VERSION, "job": job.id, "state": job.state, **summary.to_dict()}
