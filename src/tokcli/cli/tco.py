"""`tokcli tco`: build-vs-buy breakeven between API, hosted open-weight, neocloud and
self-hosted serving; `tco commit` and `tco payback` calculators.

Every input is a flag and a key of the `[tco]` config section (the flag's name with `_`);
the model itself lives in tokcli.tco and is written out in the README, section `tokcli tco`.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tokcli.cli.common import AtOpt, FormatOpt, PricingOpt, command_app, parse_date, runtime

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
    from tokcli.tco.documents import chart_text, tco_output
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
    output = tco_output(analysis, values, assumptions, day)
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
    from tokcli.tco.documents import commit_output
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
    from tokcli.tco.documents import payback_output
    from tokcli.tco.inputs import PAYBACK_SETTINGS, resolve

    rt = runtime()
    config = _section(rt.config.section("tco").get("payback", {}) or {})
    flags = {"hours": hours, "rate": rate, "monthly_spend": monthly_spend, "saving": saving}
    values, assumptions = resolve(PAYBACK_SETTINGS, flags, config, "tco.payback")
    rt.emit(payback_output(values, assumptions), rt.format(fmt))
