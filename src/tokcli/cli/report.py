"""`tokcli report`: spend by any tag or dimension, time series with charts, month-end forecasts,
anomalies, shared-cost allocation, and `report budgets`."""

# No `from __future__ import annotations` here: Typer reads the command signatures and would
# evaluate each string annotation twice (inspect.signature, then get_type_hints), a fifth of
# `estimate`'s start-up (issue 17). Written annotations are evaluated once, at import.

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from tokcli.cli.common import (
    MonthOpt,
    PricingOpt,
    SinceOpt,
    StoreOpt,
    UntilOpt,
    WhereOpt,
    command_app,
    complete_group_key,
    parse_date,
    parse_key_values,
    runtime,
)
from tokcli.errors import TokcliError
from tokcli.lazyre import lazy
from tokcli.render import Column, Output

app = command_app(
    "Spend by team, feature, model and day; forecasts, anomalies, budgets, chargeback.",
    invoke_without_command=True,
    no_args_is_help=False,
)

_MONTH = lazy(r"^\d{4}-(0[1-9]|1[0-2])$")


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
and shared-cost allocation; untagged spend is its own row (--top ranks and folds it like any
other group). Without --by: a summary. Spend is billed cost where a row has one, else list
cost (--cost). Currencies are never added together: each has its own section unless --fx
gives rates. Subcommand `budgets`: each configured budget's spend, forecast and state.

\b
Examples:
    tokcli report
    tokcli report --by team --month 2026-11
    tokcli report --by day --since 2026-11-01
    tokcli report --by team,model --where env=prod --top 10
    tokcli report --by team --forecast
    tokcli report --by team --anomalies --k 2.5
    tokcli report --by team --allocate-shared 1200.00
    tokcli report --by team --fx EUR=1.08,JPY=0.0066
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
            autocompletion=complete_group_key,
            help="Comma list of keys: any tag key (team, feature, ...), model, provider, tier, "
            "source, day, week, month.",
            show_default=False,
        ),
    ] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    month: MonthOpt = None,
    where: WhereOpt = None,
    top: Annotated[
        int | None,
        typer.Option(
            "--top",
            min=1,
            help="Keep the N biggest groups; fold the rest into (other).",
            show_default=False,
        ),
    ] = None,
    cost: Annotated[
        str,
        typer.Option(
            "--cost",
            help="Cost basis: auto (billed cost where a row has one, else list cost), billed, "
            "or list.",
        ),
    ] = "auto",
    fx: Annotated[
        str | None,
        typer.Option(
            "--fx",
            help="Convert currencies with these rates: EUR=1.08,JPY=0.0066 means 1 EUR = 1.08 "
            "and 1 JPY = 0.0066 of the target currency (--fx-to, default USD).",
            show_default=False,
        ),
    ] = None,
    fx_file: Annotated[
        Path | None,
        typer.Option(
            "--fx-file",
            help='Rates file: TOML (target = "USD", [rates] EUR = "1.08") or CSV (currency,rate).',
            show_default=False,
            dir_okay=False,
        ),
    ] = None,
    fx_to: Annotated[
        str | None,
        typer.Option(
            "--fx-to", help="Target currency of --fx rates (default USD).", show_default=False
        ),
    ] = None,
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
            help="Spread this shared cost over the groups of its currency "
            "(e.g. 1200.00, or 1200.00EUR when spend is in several currencies).",
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
    from tokcli.reporting.document import report_document
    from tokcli.reporting.valuation import parse_fx
    from tokcli.reporting.views import ReportOptions

    rt = runtime(store=store, pricing=pricing)
    selection = _selection(by, since, until, month, where)
    options = ReportOptions(
        selection=selection,
        today=rt.today(),
        cost_basis=_cost_basis(cost),
        fx=parse_fx(fx, fx_file, fx_to),
        top=top,
        anomalies=anomalies,
        k=_positive(k, "--k"),
        wow_percent=_positive(wow, "--wow"),
        allocate_shared=_money_option(allocate_shared, "--allocate-shared"),
    )
    if forecast:
        options = _with_forecast(options, month, since, until)
    fmt_name = rt.format(fmt)  # type: ignore[arg-type]
    doc, summary, extras = report_document(rt, options, page=fmt_name == "html")
    output_obj = report_output(doc, summary, fmt_name)
    _emit(rt, output_obj, fmt_name, output, title=_title(doc), extras=extras)


def _selection(by, since, until, month, where):
    from tokcli.reporting.query import TIME_KEYS, Selection, validate_key

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
    if month is not None:
        from tokcli.reporting.forecast import month_bounds  # here: start-up of a plain report

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
    if cost not in ("auto", "billed", "list"):
        raise TokcliError(f"--cost: expected auto, billed or list, got {cost!r}")
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


_AMOUNT = lazy(r"^(?P<pre>[A-Za-z]{3})?\s*(?P<dollar>\$)?(?P<n>[0-9.,]+)\s*(?P<post>[A-Za-z]{3})?$")


def _money_option(value: str | None, option: str):
    """An amount and its currency, if named: 1200.00, $1200.00 (USD), 1200.00EUR, EUR 1200."""
    if value is None:
        return None
    from tokcli.reporting.allocation import is_shareable
    from tokcli.reporting.valuation import currency_code

    match = _AMOUNT.match(value.strip())
    if not match or (match["pre"] and match["post"]):
        raise TokcliError(
            f"{option}: expected an amount such as 1200.00 or 1200.00EUR, got {value!r}"
        )
    amount = _decimal_option(match["n"], option)
    if not is_shareable(amount):
        raise TokcliError(
            f"{option}: expected an amount in whole cents from 0 to 1e15, got {value!r}"
        )
    code = match["pre"] or match["post"]
    currency = currency_code(code, where=option) if code else None
    if match["dollar"]:
        if currency not in (None, "USD"):
            raise TokcliError(f"{option}: {value!r} has a $ sign and the currency {currency}")
        currency = "USD"
    return amount, currency


def _with_forecast(options, month, since, until):
    from dataclasses import replace

    from tokcli.reporting.forecast import month_bounds
    from tokcli.reporting.query import TIME_KEYS

    if since is not None or until is not None:
        raise TokcliError("--forecast works on a month: use --month YYYY-MM, not --since/--until")
    if any(k in TIME_KEYS for k in options.selection.group_by):
        raise TokcliError("--forecast: group by tags or dimensions, not day/week/month")
    period = month_range(month, month_bounds) if month else month_bounds(options.today)
    selection = replace(options.selection, since=period[0], until=period[1])
    return replace(options, selection=selection, forecast_period=period)


# ---- rendering -------------------------------------------------------------------------------

_KEY_HEADERS = {"tier": "tier", "day": "day", "week": "week", "month": "month"}
_CONTRACT_COLUMNS = [
    Column("currency", "currency"),
    Column("basis", "basis"),
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
MONEY_KEYS = ("billed_cost", "list_cost", "spend", "forecast_weighted", "forecast_linear",
              "shared_cost", "spend_with_shared", "baseline", "jump")  # fmt: skip


def report_output(doc: dict, summary: dict | None, fmt: str) -> Output:
    """Table and markdown: one section per currency (money shown with its own symbol); csv:
    one table whose `currency` column says which currency each row is in; json: the doc."""
    human = fmt in ("table", "markdown", "html")
    keys = doc["group_by"]
    columns = [Column(k, _KEY_HEADERS.get(k, k)) for k in keys] + _measure_columns(doc, fmt)
    notes = _notes(doc)
    if fmt == "table":
        trends = []
        for currency in doc["currencies"]:
            daily = [p for p in doc.get("daily", []) if p["currency"] == currency]
            if len(daily) > 1:
                label = f" ({currency})" if len(doc["currencies"]) > 1 else ""
                trends.append(trend_note(daily) + label)
        notes = trends + notes
    if not human:
        return Output(data=doc, rows=doc["rows"], columns=columns, notes=notes)
    if summary is not None:
        rows = _summary_rows(doc, summary)
        columns = [Column("measure", "measure"), Column("value", "value")]
        return Output(data=doc, rows=rows, columns=columns, notes=notes,
                      sections=_sections(doc, summary))  # fmt: skip
    per_currency = [
        (currency, [r for r in doc["rows"] if r["currency"] == currency])
        for currency in doc["currencies"]
    ]
    shown = []
    for _, rows in per_currency:
        display_rows = [_display_row(r, keys) for r in rows]
        if fmt == "table" and keys:
            _add_bars(display_rows, rows)
        shown.append(display_rows)
    if fmt == "table" and keys:
        columns.append(Column("bar", "", "bar"))
    sections = []
    title = None
    if len(per_currency) > 1:
        title = f"spend in {per_currency[0][0]}"
        sections = [(f"spend in {c}", rows, columns) for (c, _), rows in
                    zip(per_currency[1:], shown[1:], strict=True)]  # fmt: skip
    sections += _sections(doc, summary)
    return Output(data=doc, rows=shown[0] if shown else [], columns=columns, title=title,
                  notes=notes, sections=sections)  # fmt: skip


SPARKLINE_POINTS = 62


def trend_note(daily: list[dict]) -> str:
    """A sparkline of the range: per day, or per week/month when days would not fit a line."""
    from tokcli.reporting.charts import sparkline
    from tokcli.reporting.views import time_bucket

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
    """A row for people: money with its currency's symbol, shares in percent, no nulls."""
    from tokcli.reporting.valuation import money_text

    shown = {**row}
    for key in keys:
        if shown.get(key) is None:
            shown[key] = "(unknown)" if key in ("model", "provider") else "(untagged)"
    for key in ("share", "output_share"):
        if shown.get(key) is not None:
            shown[key] = shown[key] * 100
    for key in MONEY_KEYS:
        if key in shown:
            shown[key] = money_text(shown[key], row.get("currency"))
    return shown


def _measure_columns(doc: dict, fmt: str) -> list[Column]:
    columns = list(_CONTRACT_COLUMNS)
    if fmt in ("table", "markdown"):  # each section is one currency: its heading says which
        columns = [c for c in columns if c.key != "currency"]
    if fmt == "table":  # people: the figures that matter; csv/markdown carry the full contract
        drop = {"cache_write_tokens", "reasoning_tokens", "usage_rows", "spend"}
        if not any(r.get("list_cost") is not None for r in doc["rows"]):
            drop.add("list_cost")
        if not any(r.get("billed_cost") is not None for r in doc["rows"]):
            drop.add("billed_cost")
        if doc["cost_basis"] != "auto":
            drop.add("basis")
        else:  # the spend is what the user asked about; show it when billed may not be it
            drop.discard("spend")
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


def _add_bars(shown: list[dict], rows: list[dict]) -> None:
    from decimal import Decimal

    from tokcli.reporting.charts import bar

    largest = max((r["spend"] for r in rows), default=Decimal(0))
    for display_row, row in zip(shown, rows, strict=True):
        display_row["bar"] = bar(row["spend"], largest)


def _totals_text(doc: dict) -> str:
    from tokcli.reporting.valuation import money_text

    return "; ".join(money_text(t["spend"], t["currency"]) for t in doc["totals"])


def _notes(doc: dict) -> list[str]:
    from tokcli.reporting.valuation import money_text

    notes = []
    span = f"{doc['since'] or 'first day'} .. {doc['until'] or 'last day'}"
    basis = doc["cost_basis"]
    basis_text = {
        "auto": "billed cost where a row has one, else list cost",
        "billed": "billed cost",
        "list": "list cost",
    }[basis]
    notes.append(f"{basis_text}, {span}; total {_totals_text(doc)}")
    if len(doc["currencies"]) > 1:
        notes.append(
            f"spend is in {len(doc['currencies'])} currencies ({', '.join(doc['currencies'])}), "
            "each shown on its own and never added together; --fx CODE=RATE converts"
        )
    if doc.get("billed_rows_without_currency"):
        notes.append(
            f"{doc['billed_rows_without_currency']:,} usage rows have a billed cost but no "
            "currency; taken as USD"
        )
    if doc.get("fx"):
        fx = doc["fx"]
        pairs = ", ".join(f"1 {c} = {r} {fx['target']}" for c, r in fx["rates"].items())
        notes.append(f"converted to {fx['target']} with the rates given ({fx['source']}): {pairs}")
    missing = doc["usage_rows_without_cost"]
    usage_rows = doc["usage_rows"]
    if basis == "auto":
        both = min(missing["billed_cost"], missing["list_cost"])
        if usage_rows and missing["billed_cost"] == usage_rows and missing["list_cost"] == 0:
            notes.append("no usage row carries a billed cost: spend is list cost")
        elif missing["billed_cost"]:
            notes.append(
                f"{missing['billed_cost']:,} usage rows carry no billed cost and are valued at "
                "list cost (basis column)"
            )
        if both and missing["list_cost"]:
            notes.append(f"{missing['list_cost']:,} usage rows carry no list cost either")
    else:
        other = "list" if basis == "billed" else "billed"
        gap = missing[f"{basis}_cost"]
        if gap and gap == usage_rows:
            notes.append(f"no usage row carries a {basis} cost; try --cost {other} or auto")
        elif gap:
            notes.append(f"{gap:,} usage rows carry no {basis} cost and count as 0")
    if "forecast" in doc:
        for f in doc["forecast"]["by_currency"]:
            weighted = money_text(f["forecast_weighted"], f["currency"])
            linear = money_text(f["forecast_linear"], f["currency"])
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
            f"shared cost {money_text(a['shared'], a['currency'])} allocated {a['method']}; "
            f"untagged share {money_text(a['untagged_share'], a['currency'])}"
        )
    return notes


def _sections(doc: dict, summary: dict | None) -> list:
    sections = []
    several = len(doc["currencies"]) > 1
    if summary is not None:
        for part in summary["currencies"]:
            suffix = f" ({part['currency']})" if several else ""
            for title, key, name in (("top models", "top_models", "model"),
                                     ("top teams", "top_teams", "team")):  # fmt: skip
                if part[key]:
                    rows = [_display_row(r, [name]) for r in part[key]]
                    sections.append((title + suffix, rows, [
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
    from tokcli.reporting.valuation import money_text

    def pct(value):
        return "-" if value is None else f"{value * 100:.1f}%"

    several = len(doc["totals"]) > 1
    rows = []
    for total, facts in zip(doc["totals"], summary["currencies"], strict=True):
        currency = total["currency"]
        suffix = f" ({currency})" if several else ""

        def money(value, currency=currency):
            return money_text(value, currency)

        rows += [
            {"measure": "spend" + suffix, "value": money(total["spend"])},
            {"measure": "cost basis" + suffix, "value": total["basis"]},
            {"measure": "billed cost" + suffix, "value": money(_dec(total["billed_cost"]))},
            {"measure": "list cost" + suffix, "value": money(_dec(total["list_cost"]))},
            {"measure": "cost per request" + suffix, "value": money(facts["cost_per_request"])},
            {"measure": "batch share of spend" + suffix, "value": pct(facts["batch_share"])},
            {"measure": "output share of list cost" + suffix,
             "value": pct(total["output_share"])},
        ]  # fmt: skip
    totals = doc["totals"]

    def count(key):
        return f"{sum(t[key] for t in totals):,}"

    rows += [
        {"measure": "requests", "value": count("requests")},
        {"measure": "input tokens (uncached)", "value": count("input_tokens")},
        {"measure": "cache read tokens", "value": count("cache_read_tokens")},
        {"measure": "cache write tokens", "value": count("cache_write_tokens")},
        {"measure": "output tokens", "value": count("output_tokens")},
        {"measure": "reasoning tokens", "value": count("reasoning_tokens")},
        {"measure": "cache hit rate", "value": pct(summary["cache_hit_rate"])},
    ]
    return rows


def _dec(value):
    from decimal import Decimal

    return None if value is None else Decimal(value)


def _title(doc: dict) -> str:
    keys = ", ".join(doc["group_by"])
    return f"LLM spend by {keys}" if keys else "LLM spend summary"


def _emit(rt, output: Output, fmt: str, path: Path | None, *, title: str, extras=None) -> None:
    if fmt == "html":
        from tokcli.reporting.html import render_page

        text = render_page(output.data, title, extras)
        if path is None:
            rt.stdout.write(text)
        else:
            from tokcli.outputs import write_text

            write_text(path, text)
        return
    if path is None:
        rt.emit(output, fmt)
        return
    from tokcli.outputs import atomic_output  # here: most reports go to stdout (start-up)
    from tokcli.render import render

    with atomic_output(path, newline="") as stream:
        render(output, fmt, stream)


# ---- report budgets --------------------------------------------------------------------------


@app.command("budgets")
def budgets(
    fmt: ReportFormatOpt = None,
    store: StoreOpt = None,
):
    """Each budget from the config ([[budgets]]): spend, forecast and state this period."""
    from tokcli.reporting.budgets import budgets_output
    from tokcli.reporting.document import budget_statuses

    rt = runtime(store=store)
    statuses = budget_statuses(rt)
    fmt_name = _plain_format(rt.format(fmt))  # type: ignore[arg-type]
    rt.emit(budgets_output(statuses, fmt_name), fmt_name)


def _plain_format(fmt: str) -> str:
    if fmt == "html":
        raise TokcliError("--format html is for the spend report; use table, json, csv, markdown")
    return fmt
