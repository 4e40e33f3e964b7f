"""`tokcli batch`: submit, convert, list, status, poll, results, cancel, resume, ack.

Only option parsing and output live here; the steps are in tokcli.batch. httpx is imported by
tokcli.http inside functions, so `tokcli batch --help` stays fast.
"""

from __future__ import annotations

import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tokcli.cli.common import (
    FormatOpt,
    PricingOpt,
    StoreOpt,
    command_app,
    parse_key_values,
    runtime,
)
from tokcli.cli.flags import error_text
from tokcli.errors import CheckFailed, ExitCode, TokcliError
from tokcli.render import Column, Output

if TYPE_CHECKING:
    from tokcli.batch.jobs import Job

app = command_app("Submit, poll and collect provider batch jobs safely from cron.")


class Provider(StrEnum):
    openai = "openai"
    anthropic = "anthropic"
    gemini = "gemini"


class Target(StrEnum):
    openai = "openai"
    anthropic = "anthropic"
    gemini = "gemini"
    neutral = "neutral"


KeyFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--api-key-file",
        help="Read the API key from this file (default: OPENAI_API_KEY / ANTHROPIC_API_KEY / "
        "GEMINI_API_KEY).",
        show_default=False,
        dir_okay=False,
    ),
]
BaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        help="API base URL, for gateways (Azure OpenAI, a LiteLLM proxy). "
        "Env: OPENAI_BASE_URL / ANTHROPIC_BASE_URL / GOOGLE_GEMINI_BASE_URL.",
        show_default=False,
    ),
]
JobArg = Annotated[str, typer.Argument(help="Job id (or a unique prefix, or a provider batch id).")]
LOCK_WAIT = 30.0


# -- submit ---------------------------------------------------------------------------------


@app.command("submit")
def submit(
    file: Annotated[Path, typer.Argument(help="Batch input, JSONL in the provider's format.")],
    provider: Annotated[
        Provider, typer.Option("--provider", "-p", help="openai, anthropic or gemini.")
    ],
    endpoint: Annotated[
        str | None,
        typer.Option(help="OpenAI endpoint (default: the url of the file's lines)."),
    ] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", "-t", help="key=value recorded with the usage (repeatable)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate and estimate; send nothing.")
    ] = False,
    max_cost: Annotated[
        str | None,
        typer.Option("--max-cost", help="Refuse (exit 1) if the estimate is above this, USD."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Submit again even if this file was submitted.")
    ] = False,
    max_requests: Annotated[
        int | None,
        typer.Option(help="Split into batches of at most this many requests.", min=1),
    ] = None,
    max_bytes: Annotated[
        int | None, typer.Option(help="Split into batches of at most this many bytes.", min=1)
    ] = None,
    api_key_file: KeyFileOpt = None,
    base_url: BaseUrlOpt = None,
    fmt: FormatOpt = None,
    store: StoreOpt = None,
    pricing: PricingOpt = None,
):
    """Validate, estimate and submit a batch file; safe to re-run (returns the existing job).

    \b
    Example:
        tokcli batch submit requests.jsonl -p openai --tag team=search --max-cost 25
        tokcli batch submit requests.jsonl -p anthropic --dry-run
    """
    from tokcli.batch.client import default_base_url

    rt = runtime(store=store, pricing=pricing)
    tags = _parse_tags(tag or [])
    ceiling = _parse_money(max_cost) if max_cost is not None else None
    scan, estimate, limits = _scan_and_estimate(
        rt, file, provider.value, endpoint, max_requests, max_bytes
    )
    if ceiling is not None and estimate.batch_cost > ceiling:
        raise CheckFailed(
            f"{file}: estimated batch cost ${estimate.batch_cost:.4f} is above --max-cost "
            f"${ceiling}; nothing submitted"
        )
    if dry_run:
        _emit_plan(rt, fmt, scan, estimate)
        return
    url = (base_url or default_base_url(provider.value, rt.environ)).rstrip("/")
    job, existing, sent = _submit_once(rt, scan, estimate, limits, url, tags, force, api_key_file)
    _emit_jobs(rt, fmt, [job], key="job", extra={"existing": existing}, quiet=not sent)


def _scan_and_estimate(rt, file, provider, endpoint, max_requests, max_bytes):
    """Validate every line (InputError names file and line) and price the file."""
    from tokcli.batch.estimate import estimate_scan, token_counter
    from tokcli.batch.limits import LIMITS
    from tokcli.batch.scan import scan_file

    limits = LIMITS[provider].tightened(max_requests, max_bytes)
    counter, exact, method = token_counter(provider)
    scan = scan_file(file, provider, endpoint=endpoint, limits=limits, count_tokens=counter)
    return scan, estimate_scan(scan, rt.registry, rt.now(), exact, method), limits


def _submit_once(rt, scan, estimate, limits, url, tags, force, api_key_file):
    """The job for this file and these options: the existing one (finished if a crash left it
    half-submitted) unless --force, else a new one, recorded before anything is sent.
    Returns (job, existing?, sent anything?)."""
    from tokcli.batch import engine, jobs

    fingerprint = engine.fingerprint(
        provider=scan.provider, base_url=url, endpoint=scan.endpoint, sha256=scan.sha256,
        tags=tags, limits=limits,
    )  # fmt: skip
    conn = rt.open_store()
    with _locked(rt, wait=LOCK_WAIT):
        existing = jobs.find_by_fingerprint(conn, fingerprint)
        if existing is not None and existing.state == jobs.SUBMITTING:
            if force:  # its in-doubt batch would be orphaned, and paid for
                raise TokcliError(
                    f"{existing.id} is half-submitted: `tokcli batch resume {existing.id}` or "
                    f"`tokcli batch cancel {existing.id}` before --force"
                )
            _send(rt, conn, existing, api_key_file, url)
            return existing, True, True
        if existing is not None and not force:
            _note_tty(
                rt, f"{existing.id} already submitted ({existing.state}); --force submits again"
            )
            return existing, True, False
        if existing is not None:
            jobs.supersede(conn, existing.id)
        job = jobs.create_job(
            conn, scan=scan, base_url=url, fingerprint=fingerprint, tags=tags,
            estimate=estimate.to_dict(), now=rt.now(),
        )  # fmt: skip
        _send(rt, conn, job, api_key_file, url, fresh=True)
    return job, False, True


def _send(rt, conn, job, api_key_file, base_url, fresh=False) -> None:
    from tokcli.batch import engine

    ctx = _context(rt, conn, job, api_key_file, base_url)
    try:
        engine.send_parts(ctx, job, verify_input=not fresh)
    except TokcliError as exc:
        raise TokcliError(
            f"{error_text(exc)}; job {job.id} is recorded: `tokcli batch resume {job.id}` "
            "continues it without a second batch",
            code=exc.code,
        ) from None
    finally:
        ctx.provider.close()


# -- convert --------------------------------------------------------------------------------


@app.command("convert")
def convert(
    file: Annotated[
        Path, typer.Argument(help="JSONL: neutral, OpenAI, Anthropic or Gemini lines.")
    ],
    to: Annotated[Target, typer.Option("--to", help="openai, anthropic, gemini or neutral.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here (default: stdout).")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Set this model on every line.")
    ] = None,
):
    """Convert batch lines between the neutral form, OpenAI, Anthropic and Gemini.

    \b
    Neutral line: {"custom_id", "model", "messages", "max_tokens", "system"?}
    Example:
        tokcli batch convert prompts.jsonl --to anthropic -o anthropic.jsonl
        tokcli batch convert openai.jsonl --to anthropic -m claude-haiku-4-5 -o a.jsonl
    """
    from tokcli.batch.convert import convert_file
    from tokcli.outputs import atomic_output

    rt = runtime()
    if output is None:
        convert_file(file, to.value, rt.stdout, model=model)
        return
    with atomic_output(output) as sink:
        count = convert_file(file, to.value, sink, model=model)
    rt.info(f"wrote {count} line(s) to {output}")


# -- list / status --------------------------------------------------------------------------


@app.command("list")
def list_(fmt: FormatOpt = None, store: StoreOpt = None):
    """List the batch jobs in the store (from the store; nothing is fetched)."""
    from tokcli.batch import jobs

    rt = runtime(store=store)
    conn = rt.open_store()
    _emit_jobs(rt, fmt, jobs.list_jobs(conn), key="jobs")


@app.command("status")
def status(job: JobArg, fmt: FormatOpt = None, store: StoreOpt = None):
    """Show a job and its provider batches as last polled (nothing is fetched).
    Exit 0 ended, 3 submitting or running, 4 failed and not acknowledged (`batch ack`)."""
    from tokcli.batch import jobs

    rt = runtime(store=store)
    found = jobs.load_job(rt.open_store(), job)
    _emit_jobs(rt, fmt, [found], key="job")
    raise typer.Exit(int(_poll_exit([found])))


@app.command("ack")
def ack(job: JobArg, fmt: FormatOpt = None, store: StoreOpt = None):
    """Acknowledge a failed job: `poll --all` and `status` stop exiting 4 for it.

    \b
    Example:
        tokcli batch ack job_65721f3135a84a4a
    """
    from tokcli.batch import jobs

    rt = runtime(store=store)
    conn = rt.open_store()
    with _locked(rt, wait=LOCK_WAIT):
        found = jobs.load_job(conn, job)
        if found.state != "failed":
            raise TokcliError(f"{found.id} is {found.state}, not failed: nothing to acknowledge")
        jobs.acknowledge(conn, found, rt.now())
    _emit_jobs(rt, fmt, [found], key="job")


# -- poll -----------------------------------------------------------------------------------


@app.command("poll")
def poll(
    job: Annotated[str | None, typer.Argument(help="Job id (or --all).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every unfinished job.")] = False,
    wait: Annotated[bool, typer.Option("--wait", help="Poll until the jobs end.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between polls with --wait.")] = 60.0,
    timeout: Annotated[
        float | None, typer.Option(help="Give up waiting after this many seconds.")
    ] = None,
    api_key_file: KeyFileOpt = None,
    base_url: BaseUrlOpt = None,
    fmt: FormatOpt = None,
    store: StoreOpt = None,
):
    """Refresh job states from the providers. Cron-safe: one process acts at a time, quiet
    unless something changed. Exit 0 all finished, 3 still running, 4 a job failed and
    is not acknowledged (`tokcli batch ack JOB`).

    \b
    Example (crontab):
        */10 * * * * tokcli batch poll --all
    """
    if (job is None) == (not all_):
        raise TokcliError("give a JOB or --all")
    rt = runtime(store=store)
    conn = rt.open_store()
    deadline = None if timeout is None else time.monotonic() + timeout
    changed: dict[str, Job] = {}
    errors: list[str] = []
    while True:
        acted = _poll_round(rt, conn, job, api_key_file, base_url, changed, errors)
        if not acted and not wait:
            _emit_poll(rt, fmt, [], [], skipped="locked")  # another poll is at work
            return
        current = _poll_targets(conn, job)
        running = [j for j in current if j.state in ("submitting", "running")]
        out_of_time = deadline is not None and time.monotonic() >= deadline
        if not wait or not running or out_of_time:
            break
        time.sleep(
            interval if deadline is None else max(0.0, min(interval, deadline - time.monotonic()))
        )
    # A named job is always shown; with --all, only the jobs that changed.
    shown = current if job is not None else list(changed.values())
    code = _poll_exit([*shown, *current])
    for failed in (j for j in changed.values() if j.state == "failed"):
        _explain_failure(rt, failed)
    for failed in (j for j in current if _unacked_failure(j) and j.id not in changed):
        rt.warn(f"{failed.id} failed and is not acknowledged: `tokcli batch ack {failed.id}`")
    _emit_poll(rt, fmt, shown, list(changed), exit_code=code)
    if errors:
        raise TokcliError(
            f"{len(set(errors))} job(s) could not be polled: {', '.join(sorted(set(errors)))}"
        )
    raise typer.Exit(int(code))


def _explain_failure(rt, job) -> None:
    """Why a batch failed (validation, enqueued-token limit): the provider's first error."""
    for part in job.parts:
        if part.status != "failed":
            continue
        errors = (part.remote.get("errors") or {}).get("data") or [{}]
        first = errors[0]
        where = f" (line {first['line']} of part {part.part})" if first.get("line") else ""
        reason = f"{first.get('code') or 'failed'}: {first.get('message') or 'no reason given'}"
        rt.warn(f"{job.id}: batch {part.batch_id} failed{where}: {reason}")


def _poll_targets(conn, job: str | None) -> list:
    """The named job, or every unfinished job plus the failed ones not acknowledged yet (they
    keep `poll --all` exiting 4 until `batch ack`)."""
    from tokcli.batch import jobs

    if job is not None:
        return [jobs.load_job(conn, job)]
    return jobs.list_jobs(conn, unfinished_only=True, unacked_failed=True)


def _unacked_failure(job) -> bool:
    return job.state == "failed" and job.acked_at is None


def _poll_round(rt, conn, job, api_key_file, base_url, changed: dict, errors: list) -> bool:
    """One round under the lock; False if another process holds it."""
    from tokcli.batch import jobs
    from tokcli.batch.lock import Busy

    try:
        with _locked(rt, wait=0):
            for target in _poll_targets(conn, job):
                try:
                    if _poll_one(rt, conn, target, api_key_file, base_url):
                        changed[target.id] = jobs.load_job(conn, target.id)
                except TokcliError as exc:
                    if job is not None:
                        raise
                    # --all: one job's trouble (a missing key, a provider down) must not
                    # stop the others from being polled; the run still ends with exit 2.
                    rt.warn(f"{target.id}: {error_text(exc)}")
                    errors.append(target.id)
    except Busy:
        return False
    return True


def _poll_one(rt, conn, job, api_key_file, base_url) -> bool:
    from tokcli.batch import engine

    if job.state not in ("submitting", "running"):
        return False
    ctx = _context(rt, conn, job, api_key_file, base_url)
    try:
        return engine.poll_job(ctx, job)
    finally:
        ctx.provider.close()


# The `exit` names of poll's JSON, as documented (README `tokcli batch`, batch-recovery.md).
EXIT_NAMES = {ExitCode.OK: "finished", ExitCode.BATCH_RUNNING: "running",
              ExitCode.BATCH_FAILED: "failed"}  # fmt: skip


def _poll_exit(found) -> ExitCode:
    """4 while a failed job is not acknowledged, else 3 while one runs, else 0."""
    states = {j.state for j in found}
    if any(_unacked_failure(j) for j in found):
        return ExitCode.BATCH_FAILED
    if states & {"submitting", "running"}:
        return ExitCode.BATCH_RUNNING
    return ExitCode.OK


# -- results / cancel / resume --------------------------------------------------------------


@app.command("results")
def results(
    job: JobArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="Write results here (JSONL).")],
    api_key_file: KeyFileOpt = None,
    base_url: BaseUrlOpt = None,
    fmt: FormatOpt = None,
    store: StoreOpt = None,
    pricing: PricingOpt = None,
):
    """Download results, write them in input order, record usage and cost in the store.

    Expired and cancelled batches keep their finished lines. Re-running adds no usage twice.
    Exit 4 when lines have no result from the provider (their count on stderr).
    """
    from tokcli.batch import engine, jobs
    from tokcli.batch.results import collect

    rt = runtime(store=store, pricing=pricing)
    conn = rt.open_store()
    with _locked(rt, wait=LOCK_WAIT):
        found = jobs.load_job(conn, job)
        ctx = _context(rt, conn, found, api_key_file, base_url)
        try:
            if found.state in ("submitting", "running"):
                engine.poll_job(ctx, found)
            summary = collect(conn, ctx.provider, rt.registry, found, output, rt.now)
        finally:
            ctx.provider.close()
    for warning in summary.warnings:
        rt.warn(warning)
    data = {"version": 1, "job": found.id, "state": found.state, **summary.to_dict()}
    rows = [{"status": k, "requests": v} for k, v in summary.statuses.items() if v]
    notes = [
        f"written to {output}",
        f"batch cost ${summary.batch_cost:.6f} vs ${summary.standard_cost:.6f} synchronous "
        f"(saved ${summary.standard_cost - summary.batch_cost:.6f})",
    ]
    columns = [Column("status", "status"), Column("requests", "requests", "int")]
    money = ("batch_cost", "standard_cost")
    usage_rows = [_money_row(r, money) for r in summary.usage_rows]
    usage_columns = [
        Column("batch_id", "batch"), Column("model", "model"),
        Column("requests", "requests", "int"), Column("input_tokens", "input", "int"),
        Column("output_tokens", "output", "int"), Column("batch_cost", "batch cost", "money"),
        Column("standard_cost", "standard cost", "money"),
    ]  # fmt: skip
    rt.emit(
        Output(data=data, rows=rows, columns=columns, title=f"results of {found.id}",
               notes=notes, sections=[("usage recorded", usage_rows, usage_columns)]),
        rt.format(fmt),
    )  # fmt: skip
    missing = summary.statuses.get("missing", 0)
    if missing:
        rt.stderr.write(
            f"tokcli: error: {missing} of {sum(summary.statuses.values())} line(s) have no "
            f"result from the provider (written with status `missing`)\n"
        )
        raise typer.Exit(int(ExitCode.BATCH_FAILED))


@app.command("cancel")
def cancel(
    job: JobArg,
    api_key_file: KeyFileOpt = None,
    base_url: BaseUrlOpt = None,
    fmt: FormatOpt = None,
    store: StoreOpt = None,
):
    """Cancel a job's running batches; parts not yet sent are never sent."""
    from tokcli.batch import engine, jobs

    rt = runtime(store=store)
    conn = rt.open_store()
    with _locked(rt, wait=LOCK_WAIT):
        found = jobs.load_job(conn, job)
        ctx = _context(rt, conn, found, api_key_file, base_url)
        try:
            engine.cancel_job(ctx, found)
        finally:
            ctx.provider.close()
    _emit_jobs(rt, fmt, [found], key="job")


@app.command("resume")
def resume(
    job: Annotated[str | None, typer.Argument(help="Job id (default: every unsent job).")] = None,
    adopt: Annotated[
        str | None,
        typer.Option(help="Record this provider batch id as the part's batch (see docs)."),
    ] = None,
    part: Annotated[int, typer.Option(help="The part --adopt is for.")] = 0,
    api_key_file: KeyFileOpt = None,
    base_url: BaseUrlOpt = None,
    fmt: FormatOpt = None,
    store: StoreOpt = None,
):
    """Finish jobs a crash or an error left half-submitted, without a second batch.
    Exit 3 when a batch that may be a job's cannot be checked yet (nothing sent; run again)."""
    from tokcli.batch import jobs

    rt = runtime(store=store)
    conn = rt.open_store()
    with _locked(rt, wait=LOCK_WAIT):
        if job is None:
            targets = [j for j in jobs.list_jobs(conn, unfinished_only=True)
                       if j.state == jobs.SUBMITTING]  # fmt: skip
        else:
            targets = [jobs.load_job(conn, job)]
        codes = []
        for target in targets:
            try:
                _resume_one(rt, conn, target, api_key_file, base_url, adopt, part)
            except TokcliError as exc:
                if job is not None:
                    raise
                # Every half-submitted job gets its chance; one in doubt does not stop the rest.
                text = error_text(exc)
                rt.warn(text if target.id in text else f"{target.id}: {text}")
                codes.append(exc.code)
        targets = [jobs.load_job(conn, t.id) for t in targets]
    _emit_jobs(rt, fmt, targets, key="jobs", quiet=not targets)
    if codes:
        raise typer.Exit(int(min(codes)))  # 2 (an error) before 3 (in doubt, try later)


def _resume_one(rt, conn, target, api_key_file, base_url, adopt, part) -> None:
    from tokcli.batch import engine

    ctx = _context(rt, conn, target, api_key_file, base_url)
    try:
        if adopt:
            engine.adopt(ctx, target, part, adopt)
        engine.send_parts(ctx, target)
    finally:
        ctx.provider.close()


# -- helpers --------------------------------------------------------------------------------


def _context(rt, conn, job, api_key_file, base_url):
    from tokcli.batch.client import open_provider, read_key
    from tokcli.batch.engine import Context

    key = read_key(job.provider, rt.environ, api_key_file)
    provider = open_provider(
        job.provider, base_url=(base_url or job.base_url), key=key, environ=rt.environ
    )
    return Context(conn=conn, provider=provider, now=rt.now, note=rt.warn)


class _locked:
    def __init__(self, rt, *, wait: float):
        from tokcli.batch.lock import BatchLock

        self.lock, self.wait = BatchLock(rt.store_path), wait

    def __enter__(self):
        self.lock.acquire(wait=self.wait)
        return self

    def __exit__(self, *exc):
        self.lock.release()


def _parse_tags(values: list[str]) -> dict[str, str]:
    return dict(parse_key_values(values, option="--tag"))


def _parse_money(value: str):
    from tokcli.money import to_decimal

    try:
        amount = to_decimal(value, field="--max-cost")
    except ValueError as exc:
        raise TokcliError(str(exc)) from None
    if amount < 0:
        raise TokcliError("--max-cost: must be >= 0")
    return amount


def _note_tty(rt, message: str) -> None:
    """A remark for a person at a terminal; cron (no terminal) stays quiet."""
    isatty = getattr(rt.stderr, "isatty", None)
    if isatty and isatty():
        rt.stderr.write(f"tokcli: {message}\n")


def job_dict(job) -> dict:
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


JOB_COLUMNS = [
    Column("id", "job"),
    Column("provider", "provider"),
    Column("state", "state"),
    Column("requests", "requests", "int"),
    Column("succeeded", "succeeded", "int"),
    Column("failed", "failed", "int"),
    Column("batches", "batches"),
    Column("estimate", "estimate", "money"),
    Column("created_at", "created"),
]


def _job_row(job) -> dict:
    counts = job.counts()
    return {
        "id": job.id,
        "provider": job.provider,
        "state": job.state,
        "requests": job.request_count,
        "succeeded": counts.get("succeeded", 0),
        "failed": counts.get("failed", 0),
        "batches": " ".join(p.batch_id or f"({p.step})" for p in job.parts),
        "estimate": _money((job.estimate or {}).get("batch_cost")),
        "created_at": job.created_at,
    }


def _money(value):
    """Money from a JSON document (a decimal string) back to Decimal, for table cells."""
    from decimal import Decimal

    return Decimal(value) if isinstance(value, str) else value


def _money_row(row: dict, keys) -> dict:
    return {k: (_money(v) if k in keys else v) for k, v in row.items()}


def _emit_jobs(rt, fmt, found, *, key: str, extra: dict | None = None, quiet=False) -> None:
    chosen = rt.format(fmt)
    if quiet and chosen == "table" and not _is_tty(rt.stdout):
        return  # cron: nothing new to say
    value = job_dict(found[0]) if key == "job" else [job_dict(j) for j in found]
    data = {"version": 1, key: value, **(extra or {})}
    rt.emit(Output(data=data, rows=[_job_row(j) for j in found], columns=JOB_COLUMNS), chosen)


def _emit_poll(rt, fmt, found, changed, *, skipped=None, exit_code=ExitCode.OK) -> None:
    chosen = rt.format(fmt)
    data = {
        "version": 1,
        "jobs": [job_dict(j) for j in found],
        "changed": changed,
        "skipped": skipped,
        "exit": EXIT_NAMES.get(exit_code, exit_code.name.lower()),
        "exit_code": int(exit_code),
    }
    if chosen != "json" and not found:
        return  # quiet unless something changed
    rt.emit(Output(data=data, rows=[_job_row(j) for j in found], columns=JOB_COLUMNS), chosen)


def _emit_plan(rt, fmt, scan, estimate) -> None:
    parts = [
        {"part": p.index, "first_line": p.first_line, "requests": p.request_count,
         "bytes": p.payload_bytes}
        for p in scan.parts
    ]  # fmt: skip
    data = {
        "version": 1,
        "dry_run": True,
        "provider": scan.provider,
        "endpoint": scan.endpoint,
        "input": {"path": str(scan.path), "sha256": scan.sha256, "bytes": scan.size,
                  "requests": scan.request_count},
        "parts": parts,
        "estimate": estimate.to_dict(),
    }  # fmt: skip
    money = ("batch_cost", "standard_cost", "saving")
    rows = [_money_row(m.to_dict(), money) for m in estimate.models]
    columns = [
        Column("model", "model"), Column("requests", "requests", "int"),
        Column("input_tokens", "input tokens", "int"),
        Column("output_tokens_max", "output max", "int"),
        Column("batch_cost", "batch cost", "money"),
        Column("standard_cost", "synchronous", "money"), Column("saving", "saving", "money"),
    ]  # fmt: skip
    notes = [
        f"{scan.request_count:,} requests in {len(parts)} batch(es); nothing was sent (--dry-run)",
        f"total: batch ${estimate.batch_cost:.4f} vs synchronous ${estimate.standard_cost:.4f}, "
        f"saving ${estimate.saving:.4f}",
        *estimate.notes,
    ]
    rt.emit(Output(data=data, rows=rows, columns=columns, notes=notes), rt.format(fmt))


def _is_tty(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
