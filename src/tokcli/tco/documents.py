"""The documents `tokcli tco`, `tco commit` and `tco payback` print: the JSON contract (data)
and what a person reads (rows, sections, notes, the chart), built from the analysis in
tokcli.tco. The CLI parses options, calls these and renders what they return."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from tokcli.render import Column, Output
from tokcli.tco.analysis import Analysis
from tokcli.tco.breakeven import PairBreakeven, Solved
from tokcli.tco.inputs import Assumption
from tokcli.tco.model import Option, OptionCost

Section = tuple[str, list[dict[str, Any]], list[Column]]


def _money_map(costs: Mapping[str, OptionCost]) -> dict[str, Any]:
    return {name: cost.monthly for name, cost in costs.items()}


def _option_dict(option: Option) -> dict[str, Any]:
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


def _cost_dict(cost: OptionCost, horizon: Decimal) -> dict[str, Any]:
    return {
        "option": cost.option,
        "monthly": cost.monthly,
        "horizon_total": horizon,
        "per_mtok": cost.per_mtok,
        "replicas": cost.replicas,
        "gpus": cost.gpus,
        "parts": cost.parts,
    }


def _breakeven_dicts(pairs: Sequence[PairBreakeven]) -> list[dict[str, Any]]:
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


def _solved_dicts(solved: Sequence[tuple[str, str, list[Solved]]]) -> list[dict[str, Any]]:
    return [
        {
            "api": api,
            "gpu": gpu,
            "inputs": [{"input": s.input, "value": s.value, "note": s.note} for s in results],
        }
        for api, gpu, results in solved
    ]


def tco_output(
    analysis: Analysis, values: Mapping[str, Any], assumptions: Sequence[Assumption], day: dt.date
) -> Output:
    """The `tokcli tco` document: costs at the volume, breakevens, sweep, sensitivity."""
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


def _search_notes(pairs: Sequence[PairBreakeven]) -> list[str]:
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


def _breakeven_section(pairs: Sequence[PairBreakeven]) -> Section:
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


def _sweep_section(analysis: Analysis) -> Section:
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


def _sensitivity_section(analysis: Analysis) -> Section:
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


def _solved_section(analysis: Analysis) -> Section:
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


def _solved_text(solved: Solved) -> str:
    """Rounded for reading; --format json carries the exact value."""
    from decimal import ROUND_HALF_EVEN

    from tokcli.money import display

    if solved.value is None:
        return "none"
    if solved.input == "fixed_total":
        return display(solved.value)
    places = Decimal("0.001") if solved.input == "fte" else Decimal("0.0001")
    text = f"{solved.value.quantize(places, rounding=ROUND_HALF_EVEN):f}"
    return text if solved.input == "fte" else f"${text}"


def _assumptions_section(assumptions: Sequence[Assumption]) -> Section:
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


def chart_text(analysis: Analysis, fmt: str) -> str:
    """The cost curves of the sweep as a text chart (table and markdown output only)."""
    from tokcli.tco.chart import line_chart, markers_for

    names = [o.name for o in analysis.options]
    series = {n: [(r.volume, r.costs[n].monthly) for r in analysis.sweep_rows] for n in names}
    text = line_chart(series, markers_for(names))
    if fmt == "markdown":
        return f"\n```text\n{text}\n```\n"
    return f"\n{text}\n"


def commit_output(values: Mapping[str, Any], assumptions: Sequence[Assumption]) -> Output:
    """The `tco commit` document: each usage scenario with and without the commitment."""
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


def _usd(amount: Decimal) -> str:
    from tokcli.money import display

    return display(amount)


def payback_output(values: Mapping[str, Any], assumptions: Sequence[Assumption]) -> Output:
    """The `tco payback` document: sprint cost, monthly saving, payback months."""
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


def _months(months: Decimal) -> str:
    from decimal import ROUND_HALF_EVEN

    return f"{months.quantize(Decimal('0.01'), rounding=ROUND_HALF_EVEN).normalize():f}"
