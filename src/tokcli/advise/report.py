"""An `Advice` as the one versioned JSON document and the rows a person reads (table, csv, and
markdown: a monthly FinOps review a lead can paste)."""

from __future__ import annotations

from tokcli.advise.model import Advice, Recommendation
from tokcli.money import display
from tokcli.render import Column, Output

JSON_VERSION = 1

COLUMNS = [
    Column("rank", "#", "int"),
    Column("monthly_saving", "saving/month", "money"),
    Column("lever", "lever"),
    Column("group", "group"),
    Column("model", "model"),
    Column("title", "what to change"),
    Column("confidence", "confidence"),
]
SESSION_COLUMNS = [
    Column("sessions", "sessions", "int"),
    Column("p50", "p50", "money"),
    Column("p95", "p95", "money"),
    Column("max", "max", "money"),
    Column("recent_p95", "p95, last 7 days", "money"),
    Column("baseline_p95", "p95, before", "money"),
    Column("alarm", "p95 > 2x baseline", "bool"),
]
ARITHMETIC_COLUMNS = [Column("rank", "#", "int"), Column("arithmetic", "arithmetic"),
                      Column("caveat", "caveat")]  # fmt: skip


def _group_text(recommendation: Recommendation) -> str:
    parts = [f"{k}={v if v is not None else '(untagged)'}" for k, v in recommendation.group.items()]
    return ", ".join(parts) or "(all)"


def advice_output(advice: Advice) -> Output:
    ranked = [
        {**r.to_dict(), "rank": index, "group": _group_text(r)}
        for index, r in enumerate(advice.recommendations, start=1)
    ]
    period = advice.period
    document = {
        "version": JSON_VERSION,
        "period": {
            "since": period.since if advice.recommendations or advice.monthly_list_cost else None,
            "until": period.until if advice.recommendations or advice.monthly_list_cost else None,
            "days": period.days,
            "monthly_factor": period.monthly_factor,
        },
        "group_by": list(advice.group_by),
        "target_hit_rate": advice.target_hit_rate,
        "currency": "USD",
        "basis": "list prices from the pricing registry, on the period's last day",
        "monthly_list_cost": advice.monthly_list_cost,
        "combined_monthly_saving": advice.combined_monthly_saving,
        "combined_levers": ["cache", "batch", "routing"],
        "recommendations": [
            {**r.to_dict(), "rank": index}
            for index, r in enumerate(advice.recommendations, start=1)
        ],
        "sessions": _sessions(advice),
        "unpriced_models": advice.unpriced_models,
    }
    notes = [
        f"combined: {display(advice.combined_monthly_saving)}/month of "
        f"{display(advice.monthly_list_cost)}/month at list prices "
        "(cache, batch and routing applied "
        "one after another on the same usage; agent findings and reasoning estimates are listed "
        "but not added)",
    ]
    if not advice.recommendations:
        notes.append(
            "nothing to recommend: the usage in this period is already optimal for every lever"
        )
    sections = [("How each saving was computed", ranked, ARITHMETIC_COLUMNS)] if ranked else []
    sessions = _sessions(advice)
    if sessions is not None:
        sections.append(("Agent sessions: cost per session", [sessions], SESSION_COLUMNS))
    return Output(
        data=document,
        rows=ranked,
        columns=COLUMNS,
        title=f"Savings review, {period.since} to {period.until}"
        if ranked or advice.monthly_list_cost
        else "Savings review",
        notes=notes,
        sections=sections,
    )


def _sessions(advice: Advice) -> dict | None:
    stats = advice.sessions
    if stats is None:
        return None
    return {
        "sessions": stats.sessions,
        "p50": stats.p50,
        "p95": stats.p95,
        "max": stats.max,
        "recent_p95": stats.recent_p95,
        "baseline_p95": stats.baseline_p95,
        "alarm": stats.alarm,
    }
