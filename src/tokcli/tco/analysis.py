"""From resolved inputs to the full answer: options, costs at the volume, breakevens, sweep,
sensitivity. The CLI renders what this returns; the benchmark times it."""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tokcli.money import MONEY_CONTEXT
from tokcli.tco.apiprice import blended_price
from tokcli.tco.breakeven import PairBreakeven, Solved, crossings, fte_for, solve_for_target
from tokcli.tco.defaults import HOURS_PER_MONTH
from tokcli.tco.model import ApiOption, GpuOption, Option, OptionCost, horizon_cost, month_volume
from tokcli.tco.sensitivity import Scenario, sensitivity
from tokcli.tco.sweep import SweepRow, log_volumes, one_two_five, sweep


@dataclass
class Analysis:
    options: list[Option]
    volume: int
    at_volume: list[OptionCost]
    horizon: dict[str, Decimal]
    breakevens: list[PairBreakeven]
    sweep_rows: list[SweepRow]
    scenarios: list[Scenario]
    solved: list[tuple[str, str, list[Solved]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def api_options(values: dict[str, Any], registry, at: dt.date) -> tuple[list[ApiOption], list[str]]:
    """The per-token options: API models (or one blended price) and the hosted open model."""
    options: list[ApiOption] = []
    notes: list[str] = []
    if values["api_blended_price"] is not None:
        options.append(
            ApiOption("api (blended)", "api", values["api_blended_price"], None, "given")
        )
    else:
        for name in values["api_model"]:
            option = _registry_option(registry.get(name), "api", values, at, notes)
            if option.name not in {o.name for o in options}:  # two aliases of one model
                options.append(option)
    open_name = values["open_model"]
    if open_name and open_name.lower() != "none":
        option = _registry_option(registry.get(open_name), "open-weight-api", values, at, notes)
        if option.name not in {o.name for o in options}:
            options.append(option)
    return options, notes


def _registry_option(model, kind, values, at, notes) -> ApiOption:
    price = blended_price(model, at, values["mix"], values["cache_hit_rate"], values["batch_share"])
    notes.extend(price.notes)
    return ApiOption(model.id, kind, price.price_per_mtok, model.id, price.source)


def gpu_options(values: dict[str, Any]) -> tuple[list[GpuOption], list[str]]:
    """Neocloud (rented) and self-hosted (owned, or rented at your own rate) GPU options."""
    notes: list[str] = []
    gpu = values["gpu"]
    reserved = values["neocloud_plan"] == "reserved"
    neocloud_hour = values["neocloud_reserved_gpu_hour" if reserved else "neocloud_gpu_hour"]
    self_hour = values["self_gpu_hour"]
    if values["capex_per_gpu"] is not None:
        with decimal.localcontext(MONEY_CONTEXT):
            hours = values["amortise_years"] * 12 * HOURS_PER_MONTH
            self_hour = values["capex_per_gpu"] / hours
        if values["self_overhead"] == 0 and values["self_fixed_monthly"] == 0:
            notes.append(
                "self-hosted: capex alone; add power, facilities and networking with "
                "--self-overhead or --self-fixed-monthly"
            )
    common = {
        "gpu": gpu,
        "gpus_per_replica": values["gpus_per_replica"],
        "throughput": values["throughput"],
        "output_share": values["mix"],
        "input_weight": values["input_weight"],
        "utilisation": values["utilisation"],
        "headroom": values["headroom"],
        "min_replicas": values["min_replicas"],
    }
    plan = "reserved" if reserved else "on-demand"
    neocloud = GpuOption(
        name=f"neocloud {gpu} {plan}",
        kind="neocloud",
        gpu_hour=neocloud_hour,
        overhead_share=values["neocloud_overhead"],
        fixed_monthly=values["neocloud_fixed_monthly"],
        staff_monthly=_staff(values["neocloud_fte"], values["fte_cost"]),
        **common,
    )
    owned = GpuOption(
        name=f"self-hosted {gpu}",
        kind="self-hosted",
        gpu_hour=self_hour,
        overhead_share=values["self_overhead"],
        fixed_monthly=values["self_fixed_monthly"],
        staff_monthly=_staff(values["self_fte"], values["fte_cost"]),
        **common,
    )
    return [neocloud, owned], notes


def _fte_needed(solved: list[Solved], gpu: GpuOption, fte_cost: Decimal) -> Solved:
    """The staff cost solved for, in FTEs at --fte-cost (other fixed costs kept)."""
    fixed = next(s.value for s in solved if s.input == "fixed_total")
    fte = None if fixed is None else fte_for(fixed, gpu.fixed_monthly, fte_cost)
    return Solved("fte", fte, "engineering FTEs at --fte-cost, other fixed costs kept")


def _staff(fte: Decimal, cost_per_year: Decimal) -> Decimal:
    with decimal.localcontext(MONEY_CONTEXT):
        return fte * cost_per_year / 12


def sweep_volumes(values: dict[str, Any]) -> list[int]:
    low, high = values["sweep"]
    if values["volume"][1] is not None:  # --volume LO..HI sets the sweep range
        low, high = values["volume"]
    if values["steps"] == "1-2-5":
        return one_two_five(low, high)
    return log_volumes(low, high, values["steps"])


def analyse(options: list[Option], values: dict[str, Any]) -> Analysis:
    volume = values["volume"][0]
    months, growth = values["months"], values["growth"]
    at_volume = [option.cost(volume) for option in options]
    horizon = {o.name: horizon_cost(o, volume, months, growth) for o in options}
    pairs = [crossings(a, b) for a, b in itertools.combinations(options, 2)]
    rows = sweep(options, sweep_volumes(values))
    scenarios = sensitivity(options, volume, values["sensitivity"])
    analysis = Analysis(options, volume, at_volume, horizon, pairs, rows, scenarios)
    target = values.get("target_breakeven")
    if target is not None:
        for api, gpu in itertools.product(options, options):
            if isinstance(api, ApiOption) and api.kind == "api" and isinstance(gpu, GpuOption):
                solved = solve_for_target(api, gpu, target)
                solved.append(_fte_needed(solved, gpu, values["fte_cost"]))
                analysis.solved.append((api.name, gpu.name, solved))
    if growth != 0:
        last = month_volume(volume, growth, months)
        analysis.notes.append(f"volume grows {growth * 100:f}% a month: month {months} is {last:,}")
    return analysis
