"""`tokcli report`: spend by any tag or dimension, time series with charts, month-end forecasts,
anomalies, shared-cost allocation, and `report budgets`."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from tokcli.cli.common import (
    PricingOpt,
    StoreOpt,
    command_app,
    parse_date,
    parse_key_values,
    runtime,
)
from tokcli.errors import TokcliError
from tokcli.render import Column, Output

app = command_app(
    "Spend by team, feature, model and day; forecasts, anomalies, budgets, chargeback.",
    invoke_without_command=True,
    no_args_is_help=False,
)

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class ReportFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    html = "html"


ReportFormatOpt = Annotated[
    ReportFormat | None,
    typer.Option("--format", "-f", help="table, json, csv, markdown or html.", show_default=False),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write to this file instead of stdout.", dir_okay=False),
]


_REPORT_HELP = """Spend by any tag or dimension, with time series, forecasts, anomalies
and shared-cost allocation; untagged spend is always its own row. Without --by: a summary.
Subcommand `budgets`: each configured budget's spend, forecast and state.

\b
Examples:
    tokcli report
    tokcli report --by team --month 2026-11
    tokcli report --by day --since 2026-11-01
    tokcli report --by team,model --where env=prod --top 10
    tokcli report --by team --forecast
    tokcli report --by team --anomalies --k 2.5
    tokcli report --by team --allocate-shared 1200.00
    tokcli report --by day --format html -o spend.html
"""


@app.callback(help=_REPORT_HELP)
def report(
    ctx: typer.Context,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            "-b",
            help="Comma list of keys: any tag key (team, feature, ...), model, provider, tier, "
            "source, day, week, month.",
            show_default=False,
        ),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="First day, YYYY-MM-DD.", show_default=False)
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help="Last day (inclusive), YYYY-MM-DD.", show_default=False),
    ] = None,
    month: Annotated[
        str | None, typer.Option("--month", help="One month, YYYY-MM.", show_default=False)
    ] = None,
    where: Annotated[
        list[str] | None,
        typer.Option(
            "--where", "-w", help="Only rows with key=value (repeatable).", show_default=False
        ),
    ] = None,
    top: Annotated[
        int | None,
        typer.Option(
            "--top",
            min=1,
            help="Keep the N biggest groups; fold the rest into (other).",
            show_default=False,
        ),
    ] = None,
    cost: Annotated[str, typer.Option("--cost", help="Cost basis: billed or list.")] = "billed",
    forecast: Annotated[
        bool,
        typer.Option("--forecast", help="Month-end forecast (current month, or --month)."),
    ] = False,
    anomalies: Annotated[
        bool, typer.Option("--anomalies", help="List spikes and week-over-week jumps.")
    ] = False,
    k: Annotated[
        str, typer.Option("--k", help="Spike: a day above k x its trailing 7-day mean.")
    ] = "3",
    wow: Annotated[
        str, typer.Option("--wow", help="Week-over-week growth threshold, percent.")
    ] = "50",
    allocate_shared: Annotated[
        str | None,
        typer.Option(
            "--allocate-shared",
            help="Spread this shared cost (e.g. 1200.00) over the groups.",
            show_default=False,
        ),
    ] = None,
    fmt: ReportFormatOpt = None,
    output: OutputOpt = None,
    store: StoreOpt = None,
    pricing: PricingOpt = None,
):
    if ctx.invoked_subcommand is not None:
        return
    from tokcli.report.views import ReportOptions

    rt = runtime(store=store, pricing=pricing)
    selection = _selection(by, since, until, month, where)
    options = ReportOptions(
        selection=selection,
        today=rt.today(),
        cost_basis=_cost_basis(cost),
        top=top,
        anomalies=anomalies,
        k=_positive(k, "--k"),
        wow_percent=_positive(wow, "--wow"),
        allocate_shared=_money_option(allocate_shared, "--allocate-shared"),
    )
    if forecast:
        options = _with_forecast(options, month, since, until)
    fmt_name = rt.format(fmt)  # type: ignore[arg-type]
    conn = rt.open_store()
    try:
        use_rollups = refresh_rollups(conn, rt)
        _check_tag_keys(conn, options.selection)
        doc, summary = _report_doc(conn, options, rt.registry, use_rollups)
    finally:
        conn.close()
    output_obj = report_output(doc, summary, fmt_name)
    _emit(rt, output_obj, fmt_name, output, title=_title(doc))


def refresh_rollups(conn, rt) -> bool:
    """Bring the rollups up to date; False when the store cannot be written (read the raw rows)."""
    import sqlite3

    from tokcli.report.rollups import refresh

    try:
        refresh(conn)
    except sqlite3.OperationalError as exc:
        rt.warn(f"cannot update the report rollups ({exc}); summing usage rows directly")
        return False
    return True


def _selection(by, since, until, month, where):
    from tokcli.report.query import TIME_KEYS, Selection, validate_key

    keys = [k.strip() for k in (by or "").split(",") if k.strip()]
    if by is not None and not keys:
        raise TokcliError("--by: expected a comma list of keys, e.g. team,model")
    for key in keys:
        validate_key(key, option="--by")
    if len(set(keys)) != len(keys):
        raise TokcliError(f"--by: a key is repeated: {by}")
    if sum(k in TIME_KEYS for k in keys) > 1:
        raise TokcliError("--by: use one of day, week, month at a time")
    filters = []
    for key, value in parse_key_values(where, option="--where"):
        validate_key(key, option="--where")
        if key in TIME_KEYS:
            raise TokcliError(f"--where: {key} is a time key; use --since/--until/--month")
        filters.append((key, value))
    first, last = _date_range(since, until, month)
    return Selection(tuple(keys), first, last, tuple(filters))


def _date_range(since, until, month):
    from tokcli.report.forecast import month_bounds

    if month is not None:
        if since is not None or until is not None:
            raise TokcliError("--month cannot be combined with --since/--until")
        return month_range(month, month_bounds)
    first = parse_date(since, option="--since")
    last = parse_date(until, option="--until")
    if first and last and first > last:
        raise TokcliError(f"--since {first} is after --until {last}")
    return first, last


def month_range(month: str, month_bounds):
    if not _MONTH.match(month.strip()):
        raise TokcliError(f"--month: expected YYYY-MM, got {month!r}")
    year, number = (int(p) for p in month.strip().split("-"))
    return month_bounds(dt.date(year, number, 1))


def _cost_basis(cost: str) -> str:
    if cost not in ("billed", "list"):
        raise TokcliError(f"--cost: expected billed or list, got {cost!r}")
    return cost


def _decimal_option(value: str, option: str):
    from tokcli.money import to_decimal

    try:
        return to_decimal(value, field=option)
    except ValueError as exc:
        raise TokcliError(str(exc)) from None


def _positive(value: str, option: str):
    number = _decimal_option(value, option)
    if number <= 0:
        raise TokcliError(f"{option}: must be greater than 0, got {value}")
    return number


def _money_option(value: str | None, option: str):
    if value is None:
        return None
    from tokcli.report.allocation import CENT

    amount = _decimal_option(value.strip().lstrip("$"), option)
    if amount < 0 or amount != amount.quantize(CENT):
        raise TokcliError(f"{option}: expected an amount in whole cents >= 0, got {value!r}")
    return amount


def _with_forecast(options, month, since, until):
    from dataclasses import replace

    from tokcli.report.forecast import month_bounds
    from tokcli.report.query import TIME_KEYS

    if since is not None or until is not None:
        raise TokcliError("--forecast works on a month: use --month YYYY-MM, not --since/--until")
    if any(k in TIME_KEYS for k in options.selection.group_by):
        raise TokcliError("--forecast: group by tags or dimensions, not day/week/month")
    period = month_range(month, month_bounds) if month else month_bounds(options.today)
    selection = replace(options.selection, since=period[0], until=period[1])
    return replace(options, selection=selection, forecast_period=period)


def _check_tag_keys(conn, selection) -> None:
    from tokcli.report.query import known_tag_keys

    wanted = selection.tag_keys
    if not wanted:
        return
    known = known_tag_keys(conn)
    for key in wanted:
        if key not in known:
            from tokcli.report.query import DIMENSIONS, TIME_KEYS
            from tokcli.suggest import did_you_mean

            hint = did_you_mean(key, [*known, *DIMENSIONS, *TIME_KEYS])
            raise TokcliError(
                f"unknown key {key!r}{hint}: no usage row has this tag; tags in the store: "
                f"{', '.join(known) or '(none)'}; dimensions: model, provider, tier, source"
            )


def _report_doc(conn, options, registry, use_rollups: bool):
    from tokcli.report.query import fetch
    from tokcli.report.views import build_report

    rows = fetch(conn, options.selection, use_rollups=use_rollups)
    doc = build_report(rows, options, registry)
    summary = None
    if not options.selection.group_by:
        summary = _summary(conn, options, registry, doc, use_rollups)
        doc["summary"] = summary
    return doc, summary


def _summary(conn, options, registry, doc, use_rollups: bool) -> dict:
    """The Monday view: totals, token mix, cache hit rate, batch share, top models and teams."""
    from dataclasses import replace

    from tokcli.report.query import fetch, known_tag_keys, totals_by
    from tokcli.report.views import fold, summary_facts, top_groups

    def grouped(key):
        selection = replace(options.selection, group_by=(key,))
        if use_rollups and not selection.where:
            totals = totals_by(conn, selection)
        else:
            groups = fold(fetch(conn, selection, use_rollups=use_rollups), selection, None)
            totals = {value: group.totals for (value,), group in groups.items()}
        return top_groups(totals, key, options.cost_basis, options.top)

    facts = summary_facts(doc["total"], grouped("tier"), options.cost_basis)
    facts["top_models"] = grouped("model")
    facts["top_teams"] = grouped("team") if "team" in known_tag_keys(conn) else []
    return facts


# ---- rendering -------------------------------------------------------------------------------

_KEY_HEADERS = {"tier": "tier", "day": "day", "week": "week", "month": "month"}
_CONTRACT_COLUMNS = [
    Column("billed_cost", "billed", "money"),
    Column("list_cost", "list", "money"),
    Column("requests", "requests", "int"),
    Column("input_tokens", "input tok", "int"),
    Column("cache_read_tokens", "cache read", "int"),
    Column("cache_write_tokens", "cache write", "int"),
    Column("output_tokens", "output tok", "int"),
    Column("reasoning_tokens", "reasoning tok", "int"),
    Column("usage_rows", "rows", "int"),
    Column("spend", "spend", "money"),
    Column("share", "share", "percent"),
    Column("output_share", "output share", "percent"),
]


def report_output(doc: dict, summary: dict | None, fmt: str) -> Output:
    human = fmt in ("table", "markdown", "html")
    keys = doc["group_by"]
    rows = [_display_row(r, keys) for r in doc["rows"]] if human else doc["rows"]
    columns = [Column(k, _KEY_HEADERS.get(k, k)) for k in keys] + _measure_columns(doc, fmt)
    if fmt == "table" and keys:
        _add_bars(rows, doc)
        columns.append(Column("bar", ""))
    notes = _notes(doc)
    if fmt == "table" and len(doc.get("daily", [])) > 1:
        notes.insert(0, trend_note(doc["daily"]))
    sections = _sections(doc, summary) if human else []
    if summary is not None and human:
        rows, columns = (
            _summary_rows(doc, summary),
            [
                Column("measure", "measure"),
                Column("value", "value"),
            ],
        )
    return Output(data=doc, rows=rows, columns=columns, notes=notes, sections=sections)


SPARKLINE_POINTS = 62


def trend_note(daily: list[dict]) -> str:
    """A sparkline of the range: per day, or per week/month when days would not fit a line."""
    from tokcli.report.charts import sparkline
    from tokcli.report.views import time_bucket

    for unit in ("day", "week", "month"):
        buckets: dict[str, object] = {}
        for point in daily:
            label = time_bucket(unit, str(point["day"]))
            buckets[label] = buckets.get(label, 0) + point["spend"]
        if len(buckets) <= SPARKLINE_POINTS or unit == "month":
            break
    labels = list(buckets)
    line = sparkline(list(buckets.values()))  # type: ignore[arg-type]
    adjective = {"day": "daily", "week": "weekly", "month": "monthly"}[unit]
    return f"{adjective} spend {labels[0]} {line} {labels[-1]}"


def _display_row(row: dict, keys: list[str]) -> dict:
    shown = {**row}
    for key in keys:
        if shown.get(key) is None:
            shown[key] = "(unknown)" if key in ("model", "provider") else "(untagged)"
    for key in ("share", "output_share"):
        if shown.get(key) is not None:
            shown[key] = shown[key] * 100
    return shown


def _measure_columns(doc: dict, fmt: str) -> list[Column]:
    columns = list(_CONTRACT_COLUMNS)
    if fmt == "table":  # people: the figures that matter; csv/markdown carry the full contract
        drop = {"cache_write_tokens", "reasoning_tokens", "usage_rows", "spend"}
        if not any(r.get("list_cost") is not None for r in doc["rows"]):
            drop.add("list_cost")
        if not any(r.get("billed_cost") is not None for r in doc["rows"]):
            drop.add("billed_cost")
        columns = [c for c in columns if c.key not in drop]
    if "forecast" in doc:
        columns += [
            Column("forecast_weighted", "forecast (weighted)", "money"),
            Column("forecast_linear", "forecast (linear)", "money"),
        ]
    if "allocation" in doc:
        columns += [
            Column("shared_cost", "shared", "money"),
            Column("spend_with_shared", "with shared", "money"),
        ]
    return columns


def _add_bars(rows: list[dict], doc: dict) -> None:
    from decimal import Decimal

    from tokcli.report.charts import bar

    largest = max((r["spend"] for r in doc["rows"]), default=Decimal(0))
    for shown, row in zip(rows, doc["rows"], strict=True):
        shown["bar"] = bar(row["spend"], largest)


def _notes(doc: dict) -> list[str]:
    from tokcli.money import display

    notes = []
    span = f"{doc['since'] or 'first day'} .. {doc['until'] or 'last day'}"
    notes.append(f"{doc['cost_basis']} cost, {span}; total {display(doc['total']['spend'])}")
    if len(doc.get("currencies", [])) > 1:
        notes.append(f"billed costs are in several currencies ({', '.join(doc['currencies'])})")
    basis = doc["cost_basis"]
    missing = doc["usage_rows_without_cost"][f"{basis}_cost"]
    other = "list" if basis == "billed" else "billed"
    if missing and missing == doc["total"]["usage_rows"]:
        notes.append(f"no usage row carries a {basis} cost; try --cost {other}")
    elif missing:
        notes.append(f"{missing:,} usage rows carry no {basis} cost and count as $0")
    if "forecast" in doc:
        f = doc["forecast"]
        weighted, linear = display(f["forecast_weighted"]), display(f["forecast_linear"])
        notes.append(
            f"forecast for {f['period_start']}..{f['period_end']}: {weighted} (recent days "
            f"weighted), {linear} (linear); {f['complete_days']} of {f['days']} days complete"
        )
    if "anomalies" in doc and not doc["anomalies"]["items"]:
        a = doc["anomalies"]
        notes.append(f"no anomalies (k={a['k']}, week-over-week > {a['week_over_week_percent']}%)")
    if "allocation" in doc:
        a = doc["allocation"]
        notes.append(
            f"shared cost {display(a['shared'])} allocated {a['method']}; "
            f"untagged share {display(a['untagged_share'])}"
        )
    return notes


def _sections(doc: dict, summary: dict | None) -> list:
    sections = []
    if summary is not None:
        for title, key, name in (("top models", "top_models", "model"),
                                 ("top teams", "top_teams", "team")):  # fmt: skip
            if summary[key]:
                rows = [_display_row(r, [name]) for r in summary[key]]
                sections.append((title, rows, [
                    Column(name, name), Column("spend", "spend", "money"),
                    Column("share", "share", "percent"),
                ]))  # fmt: skip
    if "anomalies" in doc:
        keys = [k for k in doc["group_by"] if k not in ("day", "week", "month")]
        items = [_display_row(i, keys) for i in doc["anomalies"]["items"]]
        columns = [Column(k, k) for k in keys] + [
            Column("kind", "kind"),
            Column("period", "day/week"),
            Column("spend", "spend", "money"),
            Column("baseline", "baseline", "money"),
            Column("jump", "jump", "money"),
            Column("ratio", "ratio", "ratio"),
        ]
        heading = (
            f"anomalies (k={doc['anomalies']['k']}, "
            f"week-over-week > {doc['anomalies']['week_over_week_percent']}%)"
        )
        if items:
            sections.append((heading, items, columns))
    return sections


def _summary_rows(doc: dict, summary: dict) -> list[dict]:
    from tokcli.money import display

    def pct(value):
        return "-" if value is None else f"{value * 100:.1f}%"

    total = doc["total"]
    return [
        {"measure": "spend", "value": display(total["spend"])},
        {"measure": "billed cost", "value": display(_dec(total["billed_cost"]))},
        {"measure": "list cost", "value": display(_dec(total["list_cost"]))},
        {"measure": "requests", "value": f"{total['requests']:,}"},
        {"measure": "cost per request", "value": display(summary["cost_per_request"])},
        {"measure": "input tokens (uncached)", "value": f"{total['input_tokens']:,}"},
        {"measure": "cache read tokens", "value": f"{total['cache_read_tokens']:,}"},
        {"measure": "cache write tokens", "value": f"{total['cache_write_tokens']:,}"},
        {"measure": "output tokens", "value": f"{total['output_tokens']:,}"},
        {"measure": "reasoning tokens", "value": f"{total['reasoning_tokens']:,}"},
        {"measure": "cache hit rate", "value": pct(summary["cache_hit_rate"])},
        {"measure": "batch share of spend", "value": pct(summary["batch_share"])},
        {"measure": "output share of spend", "value": pct(total["output_share"])},
    ]


def _dec(value):
    from decimal import Decimal

    return None if value is None else Decimal(value)


def _title(doc: dict) -> str:
    keys = ", ".join(doc["group_by"])
    return f"LLM spend by {keys}" if keys else "LLM spend summary"


def _emit(rt, output: Output, fmt: str, path: Path | None, *, title: str) -> None:
    from tokcli.render import render

    if fmt == "html":
        from tokcli.report.html import render_page

        text = render_page(output.data, title)
        if path is None:
            rt.stdout.write(text)
        else:
            path.write_text(text, encoding="utf-8")
        return
    if path is None:
        rt.emit(output, fmt)
        return
    with path.open("w", encoding="utf-8", newline="") as stream:
        render(output, fmt, stream)


# ---- report budgets --------------------------------------------------------------------------


@app.command("budgets")
def budgets(
    fmt: ReportFormatOpt = None,
    store: StoreOpt = None,
):
    """Each budget from the config ([[budgets]]): spend, forecast and state this period."""
    rt = runtime(store=store)
    statuses = budget_statuses(rt)
    rt.emit(budgets_output(statuses), _plain_format(rt.format(fmt)))  # type: ignore[arg-type]


def _plain_format(fmt: str) -> str:
    if fmt == "html":
        raise TokcliError("--format html is for the spend report; use table, json, csv, markdown")
    return fmt


def budget_statuses(rt):
    from tokcli.report.budgets import evaluate, fetcher, parse_budgets

    configured = parse_budgets(rt.config.get("budgets"))
    if not configured:
        raise TokcliError(
            "no budgets configured: add [[budgets]] tables to tokcli.toml "
            '(e.g. scope = { team = "search" }, amount = "5000", period = "month")'
        )
    conn = rt.open_store()
    try:
        use_rollups = refresh_rollups(conn, rt)
        return evaluate(configured, rt.today(), fetcher(conn, use_rollups))
    finally:
        conn.close()


def budgets_output(statuses) -> Output:
    rows = [s.as_dict() for s in statuses]
    shown = [
        {**row, "scope": _scope_text(row["scope"]), "alerts_reached": _alerts_text(row)}
        for row in rows
    ]
    columns = [
        Column("name", "budget"),
        Column("scope", "scope"),
        Column("period", "period"),
        Column("amount", "amount", "money"),
        Column("spend", "spend", "money"),
        Column("percent", "used", "percent"),
        Column("alerts_reached", "alerts"),
        Column("state", "state"),
        Column("forecast", "forecast", "money"),
        Column("forecast_percent", "forecast used", "percent"),
        Column("forecast_state", "forecast state"),
    ]
    over = [r["name"] for r in rows if r["state"] == "over"]
    notes = ["forecast: recent days weighted, from the period's complete days"]
    if over:
        notes.insert(0, f"over budget: {', '.join(over)}")
    return Output(
        data={"version": 1, "budgets": rows},
        rows=shown,
        columns=columns,
        title="Budgets",
        notes=notes,
    )


def _scope_text(scope) -> str:
    return scope if isinstance(scope, str) else ", ".join(f"{k}={v}" for k, v in scope.items())


def _alerts_text(row: dict) -> str:
    reached = row["alerts_reached"]
    return f"{reached[-1]}%" if reached else "-"
