"""`tokcli import`: load billing and usage exports into the usage store."""

from __future__ import annotations

import contextlib
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from tokcli.cli.common import (
    FormatOpt,
    PricingOpt,
    QuietOpt,
    StoreOpt,
    command_app,
    parse_date,
    runtime,
)
from tokcli.errors import TokcliError
from tokcli.render import Column, Output

app = command_app(
    "Load billing and usage exports into the usage store, normalised and idempotent.",
    no_args_is_help=True,
)

# Files smaller than this import in about a second: a progress bar would only flicker.
PROGRESS_MIN_BYTES = 8 * 1024 * 1024
SUMMARY_COLUMNS = [
    Column("path", "file"),
    Column("format", "format"),
    Column("status", "status"),
    Column("rows_read", "rows", "int"),
    Column("inserted", "inserted", "int"),
    Column("replaced", "replaced", "int"),
    Column("duplicates", "duplicates", "int"),
    Column("rejected", "rejected", "int"),
    Column("skipped", "skipped", "int"),
]
SOURCE_COLUMNS = [
    Column("source", "source"),
    Column("currency", "currency"),
    Column("rows", "rows", "int"),
    Column("billed", "billed", "money"),
    Column("list", "list (registry)", "money"),
    Column("billed_minus_list", "billed - list", "money"),
]


@app.command()
def main(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Export files (CSV, JSON, JSONL; .gz and .zip too) or a folder of Claude Code "
            "transcripts.",
            show_default=False,
        ),
    ] = None,
    source_name: Annotated[
        str | None,
        typer.Option(
            "--source",
            "-s",
            help="The format, when detection should not decide.",
            show_default=False,
        ),
    ] = None,
    all_services: Annotated[
        bool,
        typer.Option(
            "--all-services", help="Cloud bills and FOCUS: import every service, not only AI."
        ),
    ] = False,
    skip_bad_rows: Annotated[
        bool,
        typer.Option(
            "--skip-bad-rows",
            help="Write the good rows and a reject file instead of refusing the whole file.",
        ),
    ] = False,
    rejects: Annotated[
        Path | None,
        typer.Option(
            "--rejects",
            help="Reject file path (default ./NAME.rejects.csv); one input only.",
            show_default=False,
        ),
    ] = None,
    mapping: Annotated[
        str | None,
        typer.Option(
            "--map",
            help="Generic CSV/JSONL: field=column pairs (model=llm,input_tokens=in,...) or the "
            "name of an import.maps.NAME table in the config.",
            show_default=False,
        ),
    ] = None,
    pull: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Pull instead of reading files: openai or anthropic (admin APIs), or a LiteLLM "
            "proxy's database URL, postgresql://… (its LiteLLM_SpendLogs, incrementally).",
            show_default=False,
        ),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="--from: first day, YYYY-MM-DD (UTC).")
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help="--from: last day, inclusive (default: today, UTC)."),
    ] = None,
    part_of: Annotated[
        str | None,
        typer.Option(
            "--part-of",
            help="The files are parts of one billing export named KEY: they add up and never "
            "replace each other, in this run or later ones.",
            show_default=False,
        ),
    ] = None,
    replace_window: Annotated[
        bool,
        typer.Option(
            "--replace-window",
            help="API usage/cost files: replace every earlier row of the source inside the "
            "file's time window, not only the rows the file restates.",
        ),
    ] = False,
    limit: Annotated[
        list[str] | None,
        typer.Option(
            "--limit",
            help="Raise an input limit, NAME=VALUE: decompressed-bytes, decompression-ratio, "
            "line-length, json-depth, rows (also import.limits.NAME in the config).",
            show_default=False,
        ),
    ] = None,
    store: StoreOpt = None,
    pricing: PricingOpt = None,
    fmt: FormatOpt = None,
    quiet: QuietOpt = False,
):
    """Import billing and usage exports; importing the same data twice adds nothing.

    With --quiet (cron) nothing is printed on success, and a warning already shown for the same
    file (same path, size and modification time) is not repeated.

    \b
    Formats (detected from content; --source overrides):
      openai-usage, openai-costs          Usage / Costs API JSON
      openai-usage-csv, openai-costs-csv  dashboard exports
      anthropic-usage, anthropic-costs    Admin API usage / cost report JSON
      anthropic-usage-csv, -costs-csv     Console exports
      gcp-billing    BigQuery billing export rows (CSV or newline JSON)
      aws-cur        Cost and Usage Report, CUR 2.0 or legacy (CSV, .gz)
      azure-cost     Cost Management exports (EA / MCA)
      focus          FOCUS 1.0-1.3 CSV (AI services unless --all-services)
      litellm        LiteLLM_SpendLogs (CSV or JSON)
      otlp           OpenTelemetry GenAI spans / metrics (OTLP JSON, JSONL)
      claude-code    Claude Code transcripts (a .jsonl or a folder)
      mapped         any CSV/JSONL with --map

    \b
    Exit codes: 0 imported; 2 bad option or bad input (nothing of that input written; the
    other inputs are still imported, and each bad one is named on stderr).

    \b
    Examples:
        tokcli import openai_usage.json focus_2025-09.csv.gz
        tokcli import ~/.claude/projects --format json
        tokcli import export.csv --skip-bad-rows
        tokcli import cur-export/        # the parts of one export replace a period together
        tokcli import a.csv b.csv --part-of 2025-09
        tokcli import --from anthropic --since 2025-09-01
        tokcli import --from postgresql://reader@litellm-db/litellm --source litellm
    """
    from tokcli.cli.flags import error_text
    from tokcli.importers.job import ImportJob, run_imports

    rt = runtime(store=store, pricing=pricing)
    if pull is None and not paths:
        raise TokcliError(
            "give one or more files to import, or --from openai|anthropic|postgresql://…"
        )
    if pull is not None and paths:
        raise TokcliError("--from pulls from an API: give no files with it")
    if rejects is not None and paths and len(paths) > 1:
        raise TokcliError("--rejects names one file: use it with one input")
    job = ImportJob(
        paths=list(paths or []),
        source_name=source_name,
        all_services=all_services,
        skip_bad_rows=skip_bad_rows,
        reject_path=rejects,
        mapping=mapping,
        pull=pull,
        since=parse_date(since, option="--since"),
        until=parse_date(until, option="--until"),
        part_of=part_of,
        replace_window=replace_window,
        limits=_limit_options(limit or []),
    )
    progress = None if quiet else _progress_factory(rt)
    summary = run_imports(rt, job, progress_factory=progress, describe=error_text)
    warnings = summary["warnings"]
    if quiet:
        from tokcli.shown import inputs_fingerprint, new_warnings

        warnings = new_warnings(warnings, inputs_fingerprint(job.paths), rt.environ)
    for warning in warnings:
        rt.warn(warning)
    errors = summary["errors"]
    if (summary["files"] or not errors) and not quiet:
        rt.emit(_output(summary), rt.format(fmt))
    if errors:
        for error in errors[:-1]:
            rt.stderr.write(f"tokcli: error: {error}\n")
        raise TokcliError(errors[-1])


def _limit_options(values: list[str]) -> dict[str, str]:
    limits = {}
    for value in values:
        name, sep, number = value.partition("=")
        if not sep:
            raise TokcliError(f"--limit: expected NAME=VALUE, got {value!r}")
        limits[name.strip()] = number.strip()
    return limits


def _output(summary: dict) -> Output:
    rows = summary["files"]
    totals = summary["totals"]
    notes = [
        f"{totals['inserted']:,} inserted, {totals['replaced']:,} replaced, "
        f"{totals['duplicates']:,} duplicates skipped, {totals['rejected']:,} rejected, "
        f"{totals['skipped']:,} not usage"
    ]
    notes += [f"rejected rows written to {f['reject_file']}" for f in rows if f["reject_file"]]
    # The JSON summary carries exact decimal strings; the table rounds them for people.
    money = [c.key for c in SOURCE_COLUMNS if c.kind == "money"]
    by_source = [
        {**row, **{k: Decimal(row[k]) for k in money if row.get(k) is not None}}
        for row in summary["by_source"]
    ]
    sections = [("by source", by_source, SOURCE_COLUMNS)]
    return Output(data=summary, rows=rows, columns=SUMMARY_COLUMNS, notes=notes, sections=sections)


def _progress_factory(rt):
    """A progress bar on a terminal for large inputs; nothing otherwise (stdout stays data)."""
    isatty = getattr(rt.stderr, "isatty", None)
    if not (isatty and isatty()) or rt.environ.get("TERM") == "dumb":
        return None

    @contextlib.contextmanager
    def bar(label: str, total: int):
        if total < PROGRESS_MIN_BYTES:
            yield None
            return
        from rich.console import Console
        from rich.progress import Progress

        with Progress(transient=True, console=Console(file=rt.stderr)) as progress:
            task = progress.add_task(label, total=total)
            yield lambda done, size: progress.update(task, completed=done, total=size)

    return bar
