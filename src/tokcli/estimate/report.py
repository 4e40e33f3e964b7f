"""Turning estimate results into an `Output`: rows for people, the JSON document for scripts,
and the markdown a CI job posts as a pull-request comment."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from tokcli.render import Column, Output

if TYPE_CHECKING:  # the gate (and json with it) is imported only when a run compares: start-up
    from tokcli.estimate.gate import Comparison, GateResult

PROMPT_COLUMNS = [
    Column("path", "prompt"),
    Column("model", "model"),
    Column("input_tokens", "input tok", "int"),
    Column("exact", "exact", "bool"),
    Column("output_tokens", "output tok", "int"),
    Column("cached_prefix_tokens", "cached", "int"),
    Column("cost_per_call", "$/call", "money"),
    Column("monthly_cost", "$/month", "money"),
    Column("ratio_to_dearest", "vs dearest", "ratio"),
]
CHANGE_COLUMNS = [
    Column("path", "prompt"),
    Column("model", "model"),
    Column("before", "before", "money"),
    Column("after", "after", "money"),
    Column("diff", "change", "money"),
    Column("percent", "change %", "percent"),
]


ITEM_COLUMNS = [
    Column("bucket", "bucket"),
    Column("tokens", "tokens per call", "text"),
    Column("price_per_mtok", "$/MTok", "price"),
    Column("cost", "cost", "money"),
]
ITEMIZE_AT_MOST = 3  # results; beyond that the itemization is in the JSON only


def prompt_output(results: list[dict], assumptions: dict, notes: list[str]) -> Output:
    rows = [_row(r) for r in results]
    columns = [c for c in PROMPT_COLUMNS if _shown(c, rows)]
    data = {
        "version": 1,
        "mode": "prompt",
        "currency": "USD",
        "assumptions": assumptions,
        "results": results,
    }
    sections = []
    if len(results) <= ITEMIZE_AT_MOST:
        for result in results:
            items = [_item_row(i) for i in result["cost_items"]]
            sections.append((f"{result['model']}: cost per call, itemized", items, ITEM_COLUMNS))
    return Output(data=data, rows=rows, columns=columns, notes=notes, sections=sections)


def _item_row(item: dict) -> dict:
    tokens = Decimal(item["tokens"])
    return {
        "bucket": item["bucket"],
        "tokens": int(tokens) if tokens == tokens.to_integral_value() else tokens,
        "price_per_mtok": Decimal(item["price_per_mtok"]),
        "cost": Decimal(item["cost"]),
    }


def add_gate(
    output: Output, comparison: Comparison | None, gate: GateResult, base_label: str | None
) -> None:
    """Put the before/after table and the verdict first: it is what a reviewer reads."""
    if comparison is not None:
        output.data["baseline"] = base_label
        output.data["diff"] = comparison.to_dict()
        metric = "monthly cost" if comparison.metric == "monthly_cost" else "cost per call"
        change_rows = [_change_row(c.to_dict()) for c in comparison.changes]
        change_rows.append(
            {
                "path": "total",
                "model": "",
                "before": comparison.before_total,
                "after": comparison.after_total,
                "diff": comparison.diff_total,
                "percent": comparison.percent_total,
            }
        )
        estimate_section = ("estimate", output.rows, output.columns)
        output.title = f"tokcli estimate: {metric} vs {base_label}: {_signed_change(comparison)}"
        output.rows, output.columns = change_rows, CHANGE_COLUMNS
        output.sections.insert(0, estimate_section)
    output.data["gate"] = gate.to_dict()
    if gate.checks and output.title:
        output.title += ", gate failed" if gate.failures else ", gate passed"
    if gate.checks:
        verdict = "FAILED: " + "; ".join(gate.failures) if gate.failures else "passed"
        output.notes.insert(0, f"gate {verdict} (checks: {'; '.join(gate.checks)})")


def _signed_change(comparison: Comparison) -> str:
    from tokcli.money import display

    diff = comparison.diff_total
    text = ("+" if diff > 0 else "-" if diff < 0 else "") + display(abs(diff))
    percent = comparison.percent_total
    if percent is not None:
        text += f" ({'+' if percent > 0 else ''}{percent}%)"
    return text


def _row(result: dict) -> dict:
    """Only the displayed fields, money as Decimal for rounding: rows of thousands of prompts
    stay small."""
    row = {c.key: result.get(c.key) for c in PROMPT_COLUMNS}
    if row["path"] is None:
        row["path"] = "(tokens given)"
    for key in ("cost_per_call", "monthly_cost", "ratio_to_dearest"):
        value = row[key]
        if value is not None:
            row[key] = Decimal(value)
    return row


def _change_row(change: dict) -> dict:
    row = dict(change)
    row["path"] = change["path"] or "(tokens given)"
    if change["status"] in ("new", "removed"):
        row["path"] += f" ({change['status']})"
    for key in ("before", "after", "diff", "percent"):
        if row.get(key) is not None:
            row[key] = Decimal(row[key])
    return row


def _shown(column: Column, rows: list[dict]) -> bool:
    if column.key == "monthly_cost":
        return any(r.get("monthly_cost") is not None for r in rows)
    if column.key == "cached_prefix_tokens":
        return any(r.get("cached_prefix_tokens") for r in rows)
    if column.key == "ratio_to_dearest":
        return len({r["model"] for r in rows}) > 1
    return True


# -- workload mode -------------------------------------------------------------------------------

COST_COLUMNS = [
    Column("figure", "figure"),
    Column("per_day", "per day", "money"),
    Column("per_month", "per month", "money"),
    Column("per_year", "per year", "money"),
]
VOLUME_COLUMNS = [
    Column("figure", "figure"),
    Column("per_day", "per day", "int"),
    Column("per_month", "per month", "int"),
]
LEVER_COLUMNS = [
    Column("lever", "lever"),
    Column("monthly_alone", "$/month alone", "money"),
    Column("saving_alone", "saving alone", "money"),
    Column("saving_alone_percent", "alone %", "percent"),
    Column("saving_in_sequence", "saving in sequence", "money"),
    Column("monthly_after", "$/month after", "money"),
]
MODEL_COLUMNS = [
    Column("model", "model"),
    Column("share", "share", "percent"),
    Column("baseline", "baseline $/month", "money"),
    Column("with_levers", "with levers $/month", "money"),
]


def workload_output(workload, registry, day) -> Output:
    from tokcli.estimate.workload import analyse, check_models

    check_models(workload, registry)
    analysis = analyse(workload, registry, day)
    days = workload.days_per_month
    baseline, combined = analysis.baseline, analysis.combined
    rows = _cost_rows(baseline, days, "baseline")
    if workload.levers:
        rows += _cost_rows(combined, days, "with all levers")
    sections = [("volume (baseline)", _volume_rows(workload, baseline, days), VOLUME_COLUMNS)]
    if workload.levers:
        sections.append(("levers", _lever_rows(analysis), LEVER_COLUMNS))
    sections.append(("models", _model_rows(analysis), MODEL_COLUMNS))
    data = {
        "version": 1,
        "mode": "workload",
        "currency": "USD",
        "at": day.isoformat(),
        "workload": {"name": workload.name, "path": str(workload.path), "days_per_month": days},
        "baseline": _scenario_dict(workload, baseline, days),
        "levers": [_lever_dict(r) for r in analysis.levers],
        "with_levers": _scenario_dict(workload, combined, days),
        "saving": {
            "monthly": analysis.saving,
            "annual": analysis.saving * 12,
            "percent": _percent(analysis.saving, baseline.total),
        },
        "results": [_model_result(workload, m) for m in baseline.per_model],
    }
    notes = [
        f"prices in force on {day.isoformat()}; month = {days} days; year = 12 months",
        "levers apply in the order listed; 'saving in sequence' is each lever's saving on what "
        "the levers above it left, and these add up to the total saving",
    ]
    if workload.levers:
        notes.append(
            f"all levers together save {_money(analysis.saving)} a month "
            f"({_percent(analysis.saving, baseline.total)}%)"
        )
    for note in baseline.notes + [n for r in analysis.levers for n in r.after.notes]:
        if note not in notes:
            notes.append(note)
    if any(r.lever.kind == "semantic_cache" for r in analysis.levers):
        notes.append("semantic cache: the cache's own cost (embeddings, storage) is not included")
    return Output(
        data=data,
        rows=rows,
        columns=COST_COLUMNS,
        title=f"workload: {workload.name}",
        notes=notes,
        sections=sections,
    )


def _cost_rows(cost, days: int, label: str) -> list[dict]:
    rows = []
    for figure, monthly in (
        ("input cost", cost.input_cost),
        ("output cost", cost.output_cost),
        ("total cost", cost.total),
    ):
        rows.append(
            {
                "figure": f"{label}: {figure}",
                "per_day": monthly / days,
                "per_month": monthly,
                "per_year": monthly * 12,
            }
        )
    return rows


def _volume_rows(workload, cost, days: int) -> list[dict]:
    rows = [
        ("calls", cost.monthly_calls),
        ("input tokens", Decimal(cost.input_tokens)),
        ("output tokens", Decimal(cost.output_tokens)),
    ]
    if cost.reasoning_tokens:
        rows.append(("reasoning tokens", Decimal(cost.reasoning_tokens)))
    if workload.calls_per_task:
        tokens = cost.input_tokens + cost.output_tokens + cost.reasoning_tokens
        rows.append(
            (
                "tokens per task",
                Decimal(tokens) * workload.calls_per_task / cost.monthly_calls
                if cost.monthly_calls
                else Decimal(0),
            )
        )
    result = [{"figure": f, "per_day": _int(v / days), "per_month": _int(v)} for f, v in rows]
    if workload.calls_per_task:
        result[-1]["per_day"] = None  # a per-task figure has no daily total
    return result


def _lever_rows(analysis) -> list[dict]:
    base = analysis.baseline.total
    rows = [{"lever": "baseline", "monthly_after": base}]
    for result in analysis.levers:
        rows.append(
            {
                "lever": result.lever.describe(),
                "monthly_alone": result.alone.total,
                "saving_alone": result.saving_alone,
                "saving_alone_percent": _percent(result.saving_alone, base),
                "saving_in_sequence": result.saving_in_sequence,
                "monthly_after": result.after.total,
            }
        )
    rows.append(
        {
            "lever": "all levers together",
            "saving_in_sequence": analysis.saving,
            "monthly_after": analysis.combined.total,
            "saving_alone_percent": None,
        }
    )
    return rows


def _model_rows(analysis) -> list[dict]:
    combined = {m["model"]: m["monthly_cost"] for m in analysis.combined.per_model}
    rows = []
    for entry in analysis.baseline.per_model:
        rows.append(
            {
                "model": entry["model"],
                "share": entry["share"] * 100,
                "baseline": entry["monthly_cost"],
                "with_levers": combined.pop(entry["model"], Decimal(0)),
            }
        )
    for model, amount in combined.items():
        rows.append({"model": model, "share": None, "baseline": Decimal(0), "with_levers": amount})
    return rows


def _scenario_dict(workload, cost, days: int) -> dict:
    return {
        "calls_per_month": cost.monthly_calls,
        "calls_per_day": cost.monthly_calls / days,
        "input_tokens_per_month": cost.input_tokens,
        "input_tokens_per_day": _int(Decimal(cost.input_tokens) / days),
        "output_tokens_per_month": cost.output_tokens,
        "output_tokens_per_day": _int(Decimal(cost.output_tokens) / days),
        "reasoning_tokens_per_month": cost.reasoning_tokens,
        "input_cost_per_month": cost.input_cost,
        "output_cost_per_month": cost.output_cost,
        "monthly_cost": cost.total,
        "annual_cost": cost.total * 12,
        "models": [
            {"model": m["model"], "share": m["share"], "monthly_cost": m["monthly_cost"]}
            for m in cost.per_model
        ],
    }


def _lever_dict(result) -> dict:
    return {
        "lever": result.lever.kind,
        "description": result.lever.describe(),
        "monthly_cost_alone": result.alone.total,
        "saving_alone": result.saving_alone,
        "monthly_cost_after": result.after.total,
        "saving_in_sequence": result.saving_in_sequence,
    }


def _model_result(workload, entry: dict) -> dict:
    """The baseline per model, in the shape prompt-mode results have (tokens per call are
    the workload's averages, rounded to whole tokens)."""
    scenario = workload.scenario
    calls = scenario.monthly_calls * entry["share"]
    return {
        "path": str(workload.path),
        "model": entry["model"],
        "share": entry["share"],
        "input_tokens": _int(scenario.input_per_call()),
        "exact": True,
        "output_tokens": _int(scenario.output),
        "reasoning_tokens": _int(scenario.reasoning),
        "cost_per_call": entry["monthly_cost"] / calls if calls else Decimal(0),
        "monthly_requests": calls,
        "monthly_cost": entry["monthly_cost"],
    }


def _percent(part: Decimal, whole: Decimal) -> Decimal | None:
    if not whole:
        return None
    return (part * 100 / whole).quantize(Decimal("0.01"))


def _int(value: Decimal) -> int:
    return int(value.to_integral_value())


def _money(value: Decimal) -> str:
    from tokcli.money import display

    return display(value)
