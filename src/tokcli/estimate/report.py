"""Turning estimate results into an `Output`: rows for people, the JSON document for scripts,
and the markdown a CI job posts as a pull-request comment."""

from __future__ import annotations

from decimal import Decimal

from tokcli.estimate.gate import Comparison, GateResult
from tokcli.render import Column, Output

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
    return Output(data=data, rows=rows, columns=columns, notes=notes)


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
                "path": "**total**",
                "model": "",
                "before": comparison.before_total,
                "after": comparison.after_total,
                "diff": comparison.diff_total,
                "percent": comparison.percent_total,
            }
        )
        estimate_section = ("estimate", output.rows, output.columns)
        output.title = f"tokcli estimate: {metric} vs {base_label}"
        output.rows, output.columns = change_rows, CHANGE_COLUMNS
        output.sections.insert(0, estimate_section)
    output.data["gate"] = gate.to_dict()
    if gate.checks:
        verdict = "FAILED: " + "; ".join(gate.failures) if gate.failures else "passed"
        output.notes.insert(0, f"gate {verdict} (checks: {'; '.join(gate.checks)})")


def _row(result: dict) -> dict:
    row = dict(result)
    row["path"] = result["path"] if result["path"] is not None else "(tokens given)"
    for key in ("cost_per_call", "monthly_cost", "ratio_to_dearest"):
        if row.get(key) is not None:
            row[key] = Decimal(row[key])
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
