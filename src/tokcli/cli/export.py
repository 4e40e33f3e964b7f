"""`tokcli export`: write the usage store, or a slice of it, as FOCUS 1.2 CSV."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from tokcli.cli.common import StoreOpt, command_app, parse_date, parse_key_values, runtime
from tokcli.render import Column, Output

app = command_app("Write the usage store as FOCUS 1.2 CSV.", no_args_is_help=False)


class ExportFormat(StrEnum):
    focus = "focus"


class SummaryFormat(StrEnum):
    table = "table"
    json = "json"


@app.command()
def main(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="CSV file to write (default: stdout).", show_default=False
        ),
    ] = None,
    fmt: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="Export format.")
    ] = ExportFormat.focus,
    since: Annotated[
        str | None, typer.Option("--since", help="First usage day, YYYY-MM-DD (UTC).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Last usage day, inclusive, YYYY-MM-DD.")
    ] = None,
    where: Annotated[
        list[str] | None,
        typer.Option(
            "--where", help="Only rows with this tag: KEY=VALUE (repeatable, all must hold)."
        ),
    ] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="Only rows imported from this source.")
    ] = None,
    summary_format: Annotated[
        SummaryFormat,
        typer.Option("--summary", help="With -o: how to print the summary on stdout."),
    ] = SummaryFormat.table,
    store: StoreOpt = None,
):
    """Export usage as FOCUS 1.2 CSV (with x_ columns for token buckets), for a warehouse.

    \b
    `tokcli import` reads the file back with the same totals; importing it into
    the store it came from adds nothing.

    \b
    Examples:
        tokcli export -o usage-2025-09.csv --since 2025-09-01 --until 2025-09-30
        tokcli export --where team=search > search.csv
    """
    from tokcli.exporters.focus import FOCUS_VERSION, ExportFilter, export_focus, totals_text

    rt = runtime(store=store)
    filters = ExportFilter(
        since=parse_date(since, option="--since"),
        until=parse_date(until, option="--until"),
        tags=_tag_filters(where or []),
        source=source,
    )
    conn = rt.open_store()
    try:
        if output is None or str(output) == "-":
            export_focus(conn, rt.stdout, filters)
            return
        stats = _export_to_file(conn, output, filters, export_focus)
    finally:
        conn.close()
    data = {
        "version": 1,
        "format": "focus",
        "focus_version": FOCUS_VERSION,
        "path": str(output),
        "rows": stats.rows,
        "billed": totals_text(stats),
    }
    rows = [{"currency": c, "billed": v} for c, v in data["billed"].items()]
    notes = [f"{stats.rows:,} rows written to {output} (FOCUS {FOCUS_VERSION})"]
    columns = [Column("currency", "currency"), Column("billed", "billed")]
    rt.emit(Output(data=data, rows=rows, columns=columns, notes=notes), summary_format.value)


def _export_to_file(conn, output: Path, filters, export_focus):
    from tokcli.outputs import atomic_output

    with atomic_output(output, newline="") as handle:  # never half an export under the name
        return export_focus(conn, handle, filters)


def _tag_filters(pairs: list[str]) -> dict[str, str]:
    return dict(parse_key_values(pairs, option="--where"))
