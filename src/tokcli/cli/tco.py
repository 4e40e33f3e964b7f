"""`tokcli tco`: build-vs-buy breakeven between API, hosted open-weight, neocloud and
self-hosted serving; `tco commit` and `tco payback` calculators.

Every input is a flag and a key of the `[tco]` config section (the flag's name with `_`);
the model itself lives in tokcli.tco and is written out in the README, section `tokcli tco`.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tokcli.cli.common import AtOpt, FormatOpt, PricingOpt, command_app, parse_date, runtime
from tokcli.render import Column, Output

app = command_app(
    "Build-vs-buy breakeven: API vs hosted open-weight vs neocloud vs self-hosted GPUs.",
    no_args_is_help=False,
)


def _opt(help: str, *names: str):
    return typer.Option(*names, help=help, show_default=False)


Text = str | None


_TCO_HELP = """Monthly and 3-year cost of serving a token volume by API, hosted open-weight model,
neocloud GPUs or self-hosted GPUs; breakevens, a sweep, a chart, sensitivity. Every default is
printed with its source. Subcommands: `commit` (committed-use deal), `payback` (sprint payback).

\b
Example:
    tokcli tco --volume 2B --mix 3:1
    tokcli tco --api-model gpt-5.5 --api-model claude-sonnet-4-6 --gpu H200
    tokcli tco --target-breakeven 49B/yr --format json
    tokcli tco payback --hours 40 --rate 200 --monthly-spend 10000 --saving 50%
"""


@app.callback(invoke_without_command=True, help=_TCO_HELP)
def tco(
    ctx: typer.Context,
    volume: Annotated[
        Text, _opt("Tokens a month: 500M, 1.5B, 49B/yr, or a range 10M..100B.")
    ] = None,
    sweep: Annotated[Text, _opt("Volume range of the sweep table (default 10M..100B).")] = None,
    steps: Annotated[Text, _opt("Sweep points, log-spaced; '1-2-5' = 1-2-5 per decade.")] = None,
    mix: Annotated[
        Text, _opt("Input:output token ratio (3:1) or output share (default 1:1).")
    ] = None,
    api_model: Annotated[
        list[str] | None,
        _opt("API model from the registry (repeatable) (default claude-sonnet-4-6)."),
    ] = None,
    api_blended_price: Annotated[
        Text, _opt("Blended API $/MTok instead of registry models.")
    ] = None,
    cache_hit_rate: Annotated[
        Text, _opt("Share of input tokens read from cache (default 0).")
    ] = None,
    batch_share: Annotated[Text, _opt("Share of traffic on the batch tier (default 0).")] = None,
    open_model: Annotated[Text, _opt("Open-weight model's hosted API price, or 'none'.")] = None,
    gpu: Annotated[Text, _opt("GPU type: H100, H200, A100-80GB, L40S (default H100).")] = None,
    gpus_per_replica: Annotated[Text, _opt("GPUs per model replica (default 2 on H100).")] = None,
    throughput: Annotated[
        Text, _opt("Output tokens/s per GPU at full load (default 2000 on H100).")
    ] = None,
    input_weight: Annotated[
        Text, _opt("GPU work of an input token, in output tokens (default 0.1).")
    ] = None,
    utilisation: Annotated[
        Text,
        _opt(
            "Average load / provisioned capacity (default 0.5).", "--utilisation", "--utilization"
        ),
    ] = None,
    headroom: Annotated[Text, _opt("Extra capacity for peaks: 20% or 0.2 (default 0).")] = None,
    min_replicas: Annotated[Text, _opt("Replicas kept up at any volume (default 1).")] = None,
    neocloud_plan: Annotated[Text, _opt("Neocloud plan: on-demand or reserved.")] = None,
    neocloud_gpu_hour: Annotated[
        Text, _opt("Neocloud on-demand $/GPU-hour (default 2.75 H100).")
    ] = None,
    neocloud_reserved_gpu_hour: Annotated[
        Text, _opt("Neocloud reserved $/GPU-hour (default 0.6 x on-demand).")
    ] = None,
    self_gpu_hour: Annotated[
        Text, _opt("Self-hosted $/GPU-hour, owned amortised (default 1.50 H100).")
    ] = None,
    capex_per_gpu: Annotated[
        Text, _opt("Owned GPU capex, $ per GPU (replaces --self-gpu-hour).")
    ] = None,
    amortise_years: Annotated[Text, _opt("Years to amortise the capex over (default 3).")] = None,
    self_overhead: Annotated[
        Text, _opt("Power/facilities/network/software, share of GPU cost: 15% or 0.15 (default 0).")
    ] = None,
    self_fixed_monthly: Annotated[
        Text, _opt("Self-hosted fixed $/month beside staff (default 0).")
    ] = None,
    neocloud_overhead: Annotated[
        Text, _opt("Neocloud overheads, share of GPU cost: 10% or 0.1 (default 0).")
    ] = None,
    neocloud_fixed_monthly: Annotated[
        Text, _opt("Neocloud fixed $/month beside staff (default 0).")
    ] = None,
    self_fte: Annotated[
        Text, _opt("Engineering FTEs running self-hosted serving (default 1).")
    ] = None,
    neocloud_fte: Annotated[
        Text, _opt("Engineering FTEs running neocloud serving (default 1).")
    ] = None,
    fte_cost: Annotated[Text, _opt("Loaded cost of one FTE, $ a year (default 416000).")] = None,
    months: Annotated[Text, _opt("Horizon of the total cost, months (default 36).")] = None,
    growth: Annotated[
        Text, _opt("Volume growth a month, compounded: 5% or 0.05 (default 0).")
    ] = None,
    sensitivity: Annotated[
        Text, _opt("Sensitivity step up and down: 25% or 0.25 (default 25%).")
    ] = None,
    target_breakeven: Annotated[
        Text, _opt("Solve for the inputs that put each API/GPU breakeven at this volume.")
    ] = None,
    chart: Annotated[bool, typer.Option("--chart/--no-chart", help="Draw the cost curves.")] = True,
    at: AtOpt = None,
    fmt: FormatOpt = None,
    pricing: PricingOpt = None,
):
    """The main calculation; runs only when no subcommand is given."""
    given = dict(locals())
    if ctx.invoked_subcommand is not None:
        return
    from tokcli.tco.analysis import analyse, api_options, gpu_options
    from tokcli.tco.inputs import TCO_SETTINGS, resolve, unknown_keys

    flags = {setting.key: given[setting.key] for setting in TCO_SETTINGS}
    rt = runtime(pricing=pricing)
    config = _section(rt.config.section("tco"))
    for key in unknown_keys(TCO_SETTINGS, config, nested=("commit", "payback")):
        rt.warn(f"config: tco.{key} is not a tco setting (ignored)")
    values, assumptions = resolve(TCO_SETTINGS, flags, config, "tco")
    day = parse_date(at) or rt.today()
    per_token, notes = api_options(values, rt.registry, day)
    gpu_side, gpu_notes = gpu_options(values)
    analysis = analyse([*per_token, *gpu_side], values)
    analysis.notes[:0] = notes + gpu_notes
    output = build_output(analysis, values, assumptions, day)
    fmt_name = rt.format(fmt)
    rt.emit(output, fmt_name)
    if chart and fmt_name in ("table", "markdown"):
        rt.stdout.write(chart_text(analysis, fmt_name))


def _section(section: dict[str, Any]) -> dict[str, Any]:
    return {k.replace("-", "_"): v for k, v in section.items()}


@app.command("commit")
def commit(
    commitment: Annotated[Text, _opt("Committed spend for the period, USD.", "--commit")] = None,
    discount: Annotated[Text, _opt("Discount the commitment buys: 20% or 0.2.")] = None,
    usage: Annotated[
        list[str] | None, _opt("Pay-as-you-go spend of a usage scenario, USD (repeatable).")
    ] = None,
    discount_on: Annotated[
        Text, _opt("Where the discount applies: all (default) or above-floor.")
    ] = None,
    fmt: FormatOpt = None,
):
    """Committed-use against pay-as-you-go: effective cost, waste, saving and a verdict.

    \b
    Example:
        tokcli tco commit --commit 8000 --discount 20% --usage 6000 --usage 10000 --usage 14000
    """
    from tokcli.errors import TokcliError
    from tokcli.tco.inputs import COMMIT_SETTINGS, resolve

    rt = runtime()
    config = _section(rt.config.section("tco").get("commit", {}) or {})
    flags = {"commit": commitment, "discount": discount, "usage": usage, "discount_on": discount_on}
    values, assumptions = resolve(COMMIT_SETTINGS, flags, config, "tco.commit")
    for setting in COMMIT_SETTINGS:
        if values[setting.key] is None:
            raise TokcliError(f"{setting.flag}: required (or tco.commit.{setting.key} in config)")
    if values["discount"] >= 1:
        raise TokcliError("--discount: must be less than 100%")
    rt.emit(commit_output(values, assumptions), rt.format(fmt))


@app.command("payback")
def payback(
    hours: Annotated[Text, _opt("Engineering hours the optimisation takes (default 40).")] = None,
    rate: Annotated[Text, _opt("Loaded cost per engineering hour, USD (default 200).")] = None,
    monthly_spend: Annotated[
        Text, _opt("Current monthly spend it acts on, USD (default 10000).")
    ] = None,
    saving: Annotated[Text, _opt("Share of that spend saved: 50% or 0.5 (default 50%).")] = None,
    fmt: FormatOpt = None,
):
    """Payback period of an optimisation sprint: hours x rate / (monthly spend x saving).

    \b
    Example:
        tokcli tco payback --hours 40 --rate 200 --monthly-spend 10000 --saving 50%
    """
    from tokcli.tco.inputs import PAYBACK_SETTINGS, resolve

    rt = runtime()
    config = _section(rt.config.section("tco").get("payback", {}) or {})
    flags = {"hours": hours, "rate": rate, "monthly_spend": monthly_spend, "saving": saving}
    values, assumptions = resolve(PAYBACK_SETTINGS, flags, config, "tco.payback")
    rt.emit(payback_output(values, assumptions), rt.format(fmt))


# -- output: the JSON contract (data) and what a person reads (rows, sections, notes) --------


def _money_map(costs) -> dict[str, Any]:
    return {name: cost.monthly for name, cost in costs.items()}


def _option_dict(option) -> dict[str, Any]:
    from tokcli.tco.model import ApiOption

    if isinstance(option, ApiOption):
        return {
            "name": option.name,
            "kind": option.kind,
            "model": option.model,
            "price_per_mtok": option.price_per_mtok,
            "source": option.source,
        }
    return {
        "name": option.name,
        "kind": option.kind,
        "gpu": option.gpu,
        "gpu_hour": option.gpu_hour,
        "gpus_per_replica": option.gpus_per_replica,
        "throughput_per_gpu": option.throughput,
        "utilisation": option.utilisation,
        "headroom": option.headroom,
        "min_replicas": option.min_replicas,
        "replica_capacity_tokens_per_month": option.replica_capacity,
        "replica_monthly": option.replica_monthly,
        "fixed_monthly": option.fixed_monthly,
        "overhead_share": option.overhead_share,
        "staff_monthly": option.staff_monthly,
    }


def _cost_dict(cost, horizon) -> dict[str, Any]:
    return {
        "option": cost.option,
        "monthly": cost.monthly,
        "horizon_total": horizon,
        "per_mtok": cost.per_mtok,
        "replicas": cost.replicas,
        "gpus": cost.gpus,
        "parts": cost.parts,
    }


def _breakeven_dicts(pairs) -> list[dict[str, Any]]:
    from tokcli.tco.breakeven import whole_tokens

    return [
        {
            "first": pair.first,
            "second": pair.second,
            "crossings": [
                {
                    "tokens_per_month": whole_tokens(c.volume),
                    "tokens_per_year": whole_tokens(c.volume * 12),
                    "cheaper_below": c.cheaper_below,
                    "cheaper_above": c.cheaper_above,
                }
                for c in pair.crossings
            ],
            "cheaper_throughout": pair.cheaper_throughout,
            "search_range_tokens_per_month": [int(pair.low), int(pair.high)],
        }
        for pair in pairs
    ]


def _solved_dicts(solved) -> list[dict[str, Any]]:
    return [
        {
            "api": api,
            "gpu": gpu,
            "inputs": [{"input": s.input, "value": s.value, "note": s.note} for s in results],
        }
        for api, gpu, results in solved
    ]


def build_output(analysis, values, assumptions, day) -> Output:
    from tokcli.tco.units import short_tokens

    months = values["months"]
    cheapest = min(analysis.at_volume, key=lambda c: c.monthly).option
    data = {
        "version": 1,
        "currency": "USD",
        "at": day,
        "volume": {
            "tokens_per_month": analysis.volume,
            "tokens_per_year": analysis.volume * 12,
            "growth_per_month": values["growth"],
            "horizon_months": months,
        },
        "options": [_option_dict(o) for o in analysis.options],
        "at_volume": [_cost_dict(c, analysis.horizon[c.option]) for c in analysis.at_volume],
        "cheapest": cheapest,
        "breakeven": _breakeven_dicts(analysis.breakevens),
        "sweep": [
            {
                "tokens_per_month": row.volume,
                "monthly": _money_map(row.costs),
                "cheapest": row.cheapest,
            }
            for row in analysis.sweep_rows
        ],
        "sensitivity": {
            "step": values["sensitivity"],
            "tokens_per_month": analysis.volume,
            "scenarios": [
                {"scenario": s.name, "monthly": _money_map(s.costs), "cheapest": s.cheapest}
                for s in analysis.scenarios
            ],
        },
        "solved": _solved_dicts(analysis.solved),
        "assumptions": [a.to_dict() for a in assumptions],
        "notes": analysis.notes,
    }
    title = (
        f"TCO at {short_tokens(analysis.volume)} tokens a month "
        f"({short_tokens(analysis.volume * 12)} a year), prices of {day:%Y-%m-%d}"
    )
    rows = [
        {
            "option": c.option,
            "monthly": c.monthly,
            "horizon": analysis.horizon[c.option],
            "per_mtok": c.per_mtok,
            "gpus": c.gpus,
            "cheapest": "<- cheapest" if c.option == cheapest else "",
        }
        for c in analysis.at_volume
    ]
    columns = [
        Column("option", "option"),
        Column("monthly", "$ / month", "money"),
        Column("horizon", f"{months} months", "money"),
        Column("per_mtok", "$ / MTok", "money"),
        Column("gpus", "GPUs", "int"),
        Column("cheapest", ""),
    ]
    sections = [
        _breakeven_section(analysis.breakevens),
        _sweep_section(analysis),
        _sensitivity_section(analysis),
        *([_solved_section(analysis)] if analysis.solved else []),
        _assumptions_section(assumptions),
    ]
    notes = [*analysis.notes, *_search_notes(analysis.breakevens), *_model_notes()]
    return Output(data, rows, columns, title, notes, sections)


def _search_notes(pairs) -> list[str]:
    from tokcli.tco.breakeven import MAX_STEPS, SEARCH_HIGH
    from tokcli.tco.units import short_tokens

    return [
        f"{p.first} vs {p.second}: searched up to {short_tokens(int(p.high))} tokens a month "
        f"only ({MAX_STEPS:,} replica steps)"
        for p in pairs
        if p.high < SEARCH_HIGH
    ]


def _model_notes() -> list[str]:
    return [
        "API: volume/1M x blended $/MTok. GPU: ceil(work / (replica capacity x utilisation)) "
        "replicas x GPUs x 730 h x $/GPU-h x (1 + overhead) + FTEs x cost/12 + fixed",
        "work = volume x (output share + input weight x input share); 1 replica serves "
        "GPUs x tok/s x 3600 x 730 output tokens a month when fully busy",
    ]


def _breakeven_section(pairs):
    from tokcli.tco.breakeven import whole_tokens
    from tokcli.tco.units import short_tokens

    rows = []
    for pair in pairs:
        label = f"{pair.first} vs {pair.second}"
        if not pair.crossings:
            cheaper = pair.cheaper_throughout
            rows.append({"pair": label, "at": "none", "below": cheaper, "above": cheaper})
        for crossing in pair.crossings[:3]:
            tokens = whole_tokens(crossing.volume)
            rows.append(
                {
                    "pair": label,
                    "at": f"{short_tokens(tokens)}/mo ({short_tokens(tokens * 12)}/yr)",
                    "below": crossing.cheaper_below,
                    "above": crossing.cheaper_above,
                }
            )
        if len(pair.crossings) > 3:
            last = whole_tokens(pair.crossings[-1].volume)
            rows.append(
                {
                    "pair": label,
                    "at": f"... {len(pair.crossings)} crossings, last {short_tokens(last)}/mo",
                    "below": pair.crossings[-1].cheaper_below,
                    "above": pair.crossings[-1].cheaper_above,
                }
            )
    columns = [
        Column("pair", "pair"),
        Column("at", "breakeven"),
        Column("below", "cheaper below"),
        Column("above", "cheaper above"),
    ]
    return ("Breakeven volumes (tokens a month, searched from 1 token to 10T)", rows, columns)


def _sweep_section(analysis):
    from tokcli.tco.units import short_tokens

    names = [o.name for o in analysis.options]
    rows = [
        {"volume": short_tokens(r.volume), **_money_map(r.costs), "cheapest": r.cheapest}
        for r in analysis.sweep_rows
    ]
    columns = [
        Column("volume", "tokens/mo"),
        *(Column(n, n, "money") for n in names),
        Column("cheapest", "cheapest"),
    ]
    return ("Monthly cost by volume", rows, columns)


def _sensitivity_section(analysis):
    from tokcli.tco.units import short_tokens

    names = [o.name for o in analysis.options]
    rows = [
        {"scenario": s.name, **_money_map(s.costs), "cheapest": s.cheapest}
        for s in analysis.scenarios
    ]
    columns = [
        Column("scenario", "scenario"),
        *(Column(n, n, "money") for n in names),
        Column("cheapest", "cheapest"),
    ]
    return (f"Sensitivity at {short_tokens(analysis.volume)} tokens a month", rows, columns)


def _solved_section(analysis):
    rows = [
        {"pair": f"{api} vs {gpu}", "input": s.input, "value": _solved_text(s), "note": s.note}
        for api, gpu, results in analysis.solved
        for s in results
    ]
    columns = [
        Column("pair", "pair"),
        Column("input", "input"),
        Column("value", "value needed"),
        Column("note", "meaning"),
    ]
    return ("Inputs that put the breakeven at --target-breakeven", rows, columns)


def _solved_text(solved) -> str:
    """Rounded for reading; --format json carries the exact value."""
    from decimal import ROUND_HALF_EVEN, Decimal

    from tokcli.money import display

    if solved.value is None:
        return "none"
    if solved.input == "fixed_total":
        return display(solved.value)
    places = Decimal("0.001") if solved.input == "fte" else Decimal("0.0001")
    text = f"{solved.value.quantize(places, rounding=ROUND_HALF_EVEN):f}"
    return text if solved.input == "fte" else f"${text}"


def _assumptions_section(assumptions):
    from tokcli.tco.inputs import shown

    rows = [
        {
            "input": a.flag,
            "value": shown(a.value, a.unit),
            "from": a.origin,
            "source": a.source if a.origin == "default" else "",
        }
        for a in assumptions
    ]
    columns = [
        Column("input", "input"),
        Column("value", "value"),
        Column("from", "from"),
        Column("source", "source of the default"),
    ]
    return ("Assumptions (flag = config key in [tco] with _ for -)", rows, columns)


def chart_text(analysis, fmt: str) -> str:
    from tokcli.tco.chart import line_chart, markers_for

    names = [o.name for o in analysis.options]
    series = {n: [(r.volume, r.costs[n].monthly) for r in analysis.sweep_rows] for n in names}
    text = line_chart(series, markers_for(names))
    if fmt == "markdown":
        return f"\n```text\n{text}\n```\n"
    return f"\n{text}\n"


def commit_output(values, assumptions) -> Output:
    from tokcli.tco.commit import breakeven_usage, evaluate, no_waste_usage

    commitment, discount, on = values["commit"], values["discount"], values["discount_on"]
    scenarios = [evaluate(commitment, discount, usage, on) for usage in values["usage"]]
    rows = [
        {
            "usage": s.usage,
            "committed_cost": s.committed_cost,
            "waste": s.waste,
            "saving": s.saving,
            "saving_pct": None if s.saving_share is None else s.saving_share * 100,
            "saving_share": s.saving_share,
            "verdict": s.verdict,
        }
        for s in scenarios
    ]
    data = {
        "version": 1,
        "currency": "USD",
        "commit": commitment,
        "discount": discount,
        "discount_on": on,
        "breakeven_usage": breakeven_usage(commitment, discount, on),
        "no_waste_usage": no_waste_usage(commitment, discount, on),
        "scenarios": [
            {key: value for key, value in row.items() if key != "saving_pct"} for row in rows
        ],
        "assumptions": [a.to_dict() for a in assumptions],
    }
    columns = [
        Column("usage", "pay-as-you-go", "money"),
        Column("committed_cost", "with commitment", "money"),
        Column("waste", "unused commitment", "money"),
        Column("saving", "saving", "money"),
        Column("saving_pct", "saving %", "percent"),
        Column("verdict", "verdict"),
    ]
    notes = [
        f"discount on {on}: "
        + (
            "billed max(commit, usage x (1 - discount))"
            if on == "all"
            else "billed commit + (usage - commit) x (1 - discount) above the floor"
        ),
        f"the commitment saves money above {_usd(data['breakeven_usage'])} of usage and wastes "
        f"none from {_usd(data['no_waste_usage'])}; 'good' needs a saving and no waste",
    ]
    title = f"Commitment of {_usd(commitment)} at {(discount * 100).normalize():f}% off"
    return Output(data, rows, columns, title, notes, [_assumptions_section(assumptions)])


def _usd(amount) -> str:
    from tokcli.money import display

    return display(amount)


def payback_output(values, assumptions) -> Output:
    from tokcli.tco.payback import payback as compute_payback

    result = compute_payback(
        values["hours"], values["rate"], values["monthly_spend"], values["saving"]
    )
    data = {
        "version": 1,
        "currency": "USD",
        "hours": values["hours"],
        "rate": values["rate"],
        "monthly_spend": values["monthly_spend"],
        "saving": values["saving"],
        "sprint_cost": result.sprint_cost,
        "monthly_saving": result.monthly_saving,
        "payback_months": result.months,
        "first_year_net": result.first_year_net,
        "assumptions": [a.to_dict() for a in assumptions],
    }
    rows = [
        {"measure": "sprint cost (hours x rate)", "value": _usd(result.sprint_cost)},
        {"measure": "monthly saving (spend x saving)", "value": _usd(result.monthly_saving)},
        {
            "measure": "payback",
            "value": "never (no saving)"
            if result.months is None
            else f"{_months(result.months)} months",
        },
        {"measure": "first-year net (12 x saving - cost)", "value": _usd(result.first_year_net)},
    ]
    columns = [Column("measure", "measure"), Column("value", "value")]
    notes = ["payback months = hours x rate / (monthly spend x saving share)"]
    sections = [_assumptions_section(assumptions)]
    return Output(data, rows, columns, "Payback of an optimisation sprint", notes, sections)


def _months(months) -> str:
    from decimal import ROUND_HALF_EVEN, Decimal

    return f"{months.quantize(Decimal('0.01'), rounding=ROUND_HALF_EVEN).normalize():f}"
