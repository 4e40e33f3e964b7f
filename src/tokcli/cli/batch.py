"""`tokcli batch`: submit, convert, list, status, poll, results, cancel, resume, ack.

Only option parsing and output live here; the steps are in tokcli.batch. httpx is imported by
tokcli.http inside functions, so `tokcli batch --help` stays fast.
"""

from __future__ import annotations

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
    pass

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
    from tokcli.batch.documents import jobs_document, plan_document
    from tokcli.batch.session import BatchSession, plan

    rt = runtime(store=store, pricing=pricing)
    tags = _parse_tags(tag or [])
    ceiling = _parse_money(max_cost) if max_cost is not None else None
    checked = plan(
        rt, file, provider.value, endpoint=endpoint, max_requests=max_requests, max_bytes=max_bytes
    )
    estimate = checked.estimate
    if ceiling is not None and estimate.batch_cost > ceiling:
        raise CheckFailed(
            f"{file}: estimated batch cost ${estimate.batch_cost:.4f} is above --max-cost "
            f"${ceiling}; nothing submitted"
        )
    if dry_run:
        _emit_plan(rt, fmt, checked, plan_document(checked))
        return
    url = (base_url or default_base_url(provider.value, rt.environ)).rstrip("/")
    with BatchSession(rt, api_key_file=api_key_file) as session:
        done = session.submit(checked, base_url=url, tags=tags, force=force)
    if done.existing and not done.sent:
        _note_tty(rt, f"{done.job.id} already submitted ({done.job.state}); --force submits again")
    data = jobs_document([done.job], key="job", extra={"existing": done.existing})
    _emit_jobs(rt, fmt, [done.job], data, quiet=not done.sent)


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
    from tokcli.batch.documents import jobs_document
    from tokcli.batch.session import BatchSession

    rt = runtime(store=store)
    with BatchSession(rt) as session:
        found = session.jobs()
    _emit_jobs(rt, fmt, found, jobs_document(found, key="jobs"))


@app.command("status")
def status(job: JobArg, fmt: FormatOpt = None, store: StoreOpt = None):
    """Show a job and its provider batches as last polled (nothing is fetched).
    Exit 0 ended, 3 submitting or running, 4 failed and not acknowledged (`batch ack`)."""
    from tokcli.batch.documents import jobs_document
    from tokcli.batch.session import BatchSession, poll_exit

    rt = runtime(store=store)
    with BatchSession(rt) as session:
        found = session.job(job)
    _emit_jobs(rt, fmt, [found], jobs_document([found], key="job"))
    raise typer.Exit(int(poll_exit([found])))


@app.command("ack")
def ack(job: JobArg, fmt: FormatOpt = None, store: StoreOpt = None):
    """Acknowledge a failed job: `poll --all` and `status` stop exiting 4 for it.

    \b
    Example:
        tokcli batch ack job_65721f3135a84a4a
    """
    from tokcli.batch.documents import jobs_document
    from tokcli.batch.session import BatchSession

    rt = runtime(store=store)
    with BatchSession(rt) as session:
        found = session.acknowledge(job)
    _emit_jobs(rt, fmt, [found], jobs_document([found], key="job"))


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
    from tokcli.batch.documents import poll_document
    from tokcli.batch.session import BatchSession, failure_reasons, poll_exit, unacked_failure

    if (job is None) == (not all_):
        raise TokcliError("give a JOB or --all")
    rt = runtime(store=store)
    with BatchSession(rt, api_key_file=api_key_file, base_url=base_url) as session:
        outcome = session.poll(job, wait=wait, interval=interval, timeout=timeout)
    if outcome.skipped:  # another poll is at work
        _emit_poll(rt, fmt, [], poll_document([], [], skipped="locked", exit_code=ExitCode.OK))
        return
    for target, error in outcome.errors:
        rt.warn(f"{target}: {error_text(error)}")
    current, changed = outcome.current, outcome.changed
    # A named job is always shown; with --all, only the jobs that changed.
    shown = current if job is not None else list(changed.values())
    code = poll_exit([*shown, *current])
    for failed in (j for j in changed.values() if j.state == "failed"):
        for reason in failure_reasons(failed):
            rt.warn(reason)
    for failed in (j for j in current if unacked_failure(j) and j.id not in changed):
        rt.warn(f"{failed.id} failed and is not acknowledged: `tokcli batch ack {failed.id}`")
    _emit_poll(rt, fmt, shown, poll_document(shown, list(changed), skipped=None, exit_code=code))
    if outcome.errors:
        failed_ids = sorted({target for target, _ in outcome.errors})
        raise TokcliError(f"{len(failed_ids)} job(s) could not be polled: {', '.join(failed_ids)}")
    raise typer.Exit(int(code))


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
    from tokcli.batch.documents import results_document
    from tokcli.batch.session import BatchSession

    rt = runtime(store=store, pricing=pricing)
    with BatchSession(rt, api_key_file=api_key_file, base_url=base_url) as session:
        found, summary = session.results(job, output)
    for warning in summary.warnings:
        rt.warn(warning)
    data = results_document(found, summary)
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
    from tokcli.batch.documents import jobs_document
    from tokcli.batch.session import BatchSession

    rt = runtime(store=store)
    with BatchSession(rt, api_key_file=api_key_file, base_url=base_url) as session:
        found = session.cancel(job)
    _emit_jobs(rt, fmt, [found], jobs_document([found], key="job"))


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
    from tokcli.batch.documents import jobs_document
    from tokcli.batch.session import BatchSession

    rt = runtime(store=store)
    with BatchSession(rt, api_key_file=api_key_file, base_url=base_url) as session:
        outcome = session.resume(job, adopt=adopt, part=part)
    for target, error in outcome.errors:
        text = error_text(error)
        rt.warn(text if target in text else f"{target}: {text}")
    _emit_jobs(rt, fmt, outcome.jobs, jobs_document(outcome.jobs, key="jobs"),
               quiet=not outcome.jobs)  # fmt: skip
    if outcome.errors:
        # 2 (an error) before 3 (in doubt, try later)
        raise typer.Exit(int(min(error.code for _, error in outcome.errors)))


# -- helpers --------------------------------------------------------------------------------


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


def _emit_jobs(rt, fmt, found, data: dict, *, quiet=False) -> None:
    chosen = rt.format(fmt)
    if quiet and chosen == "table" and not _is_tty(rt.stdout):
        return  # cron: nothing new to say
    rt.emit(Output(data=data, rows=[_job_row(j) for j in found], columns=JOB_COLUMNS), chosen)


def _emit_poll(rt, fmt, found, data: dict) -> None:
    chosen = rt.format(fmt)
    if chosen != "json" and not found:
        return  # quiet unless something changed
    rt.emit(Output(data=data, rows=[_job_row(j) for j in found], columns=JOB_COLUMNS), chosen)


def _emit_plan(rt, fmt, checked, data: dict) -> None:
    scan, estimate = checked.scan, checked.estimate
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
        f"{scan.request_count:,} requests in {len(data['parts'])} batch(es); nothing was sent "
        "(--dry-run)",
        f"total: batch ${estimate.batch_cost:.4f} vs synchronous ${estimate.standard_cost:.4f}, "
        f"saving ${estimate.saving:.4f}",
        *estimate.notes,
    ]
    rt.emit(Output(data=data, rows=rows, columns=columns, notes=notes), rt.format(fmt))


def _is_tty(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
