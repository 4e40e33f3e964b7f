"""`advise`: ranked, priced recommendations from the usage already in the store.

    from tokcli.advise import AdviseOptions, advise
    result = advise(conn, registry, AdviseOptions(since=..., until=...))

Per group (default team, feature, model) the levers run backwards over recorded usage: prompt
caching at a target hit rate, the batch tier, a cheaper model for short calls, reasoning effort.
Agent sessions are priced per task, with runaway loops, retry storms and context bloat. Each
recommendation carries its monthly saving, the arithmetic, the rows it rests on and a confidence;
the combined figure applies the levers one after another, never adds them.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass, field
from decimal import Decimal

from tokcli.advise import agents, levers
from tokcli.advise.model import Advice, Period, Recommendation
from tokcli.errors import TokcliError
from tokcli.money import MONEY_CONTEXT, ZERO
from tokcli.store import advice as queries
from tokcli.store.connection import Connection

DEFAULT_GROUP_BY = ("team", "feature", "model")
DEFAULT_TARGET_HIT_RATE = Decimal("0.8")
DEFAULT_DAYS = 30

__all__ = ["Advice", "AdviseOptions", "Recommendation", "advise"]


@dataclass(frozen=True)
class AdviseOptions:
    since: dt.date | None = None
    until: dt.date | None = None
    whole_month: bool = False
    group_by: tuple[str, ...] = DEFAULT_GROUP_BY
    where: tuple[tuple[str, str], ...] = ()
    target_hit_rate: Decimal = DEFAULT_TARGET_HIT_RATE
    batchable_features: frozenset[str] = field(default_factory=frozenset)
    commit_discount: Decimal | None = None  # what a committed-use agreement would take off


def _period(conn: Connection, options: AdviseOptions) -> Period | None:
    until = options.until or queries.last_usage_day(conn)
    if until is None:
        return None
    since = options.since or until - dt.timedelta(days=DEFAULT_DAYS - 1)
    if since > until:
        raise TokcliError(f"the period starts ({since}) after it ends ({until})")
    return Period(since, until, options.whole_month)


def advise(conn: Connection, registry, options: AdviseOptions) -> Advice:
    if not Decimal(0) < options.target_hit_rate <= Decimal(1):
        raise TokcliError(
            f"target hit rate must be above 0 and at most 1, not {options.target_hit_rate}"
        )
    period = _period(conn, options)
    if period is None:
        empty = Period(dt.date.min, dt.date.min, options.whole_month)
        return Advice(empty, options.group_by, options.target_hit_rate, [], ZERO, ZERO, None, [])
    settings = levers.Settings(options.target_hit_rate, options.batchable_features, period.until)
    group_by = tuple(k for k in options.group_by if k != "model")
    cells = queries.usage_cells(conn, group_by, period.since, period.until, options.where)
    recommendations: list[Recommendation] = []
    unpriced: set[str] = set()
    baseline = combined = ZERO
    candidates = registry.list()
    for cell in cells:
        model = registry.find(cell.model) if cell.model else None
        if model is None:
            if cell.model:
                unpriced.add(cell.model)
            continue
        plan = levers.CellPlan(levers.usage_of(cell.tokens), model, cell.tier)
        try:
            before = levers.price(plan.usage, model, settings, cell.tier)
        except TokcliError:
            unpriced.add(model.id)
            continue
        recommendations += levers.cache_lever(cell, plan, settings, period, group_by)
        recommendations += levers.batch_lever(cell, plan, settings, period, group_by)
        recommendations += levers.routing_lever(cell, plan, settings, period, group_by, candidates)
        recommendations += levers.reasoning_lever(cell, plan, settings, period, group_by)
        after = levers.price(plan.usage, plan.model, settings, plan.tier)
        with decimal.localcontext(MONEY_CONTEXT):
            baseline += before
            combined += before - after
    stats, agent_findings = agents.analyse_sessions(
        queries.session_calls(conn, period.since, period.until, options.where),
        cost_of=lambda call: _call_cost(call, registry),
        model_of=lambda call: registry.find(call.model) if call.model else None,
        period=period,
    )
    if options.commit_discount is not None:
        monthly = queries.monthly_list_cost(conn, period.until)
        recommendations += levers.commit_lever(monthly, period.until, options.commit_discount)
    # Agent findings overlap the levers' rows (a bloated session is also a cache candidate), so
    # they are listed and ranked but stay out of the combined figure.
    recommendations += agent_findings
    recommendations.sort(key=lambda r: (-(r.monthly_saving or ZERO), r.lever, str(r.group)))
    return Advice(
        period=period,
        group_by=options.group_by,
        target_hit_rate=options.target_hit_rate,
        recommendations=recommendations,
        combined_monthly_saving=period.monthly(combined),
        monthly_list_cost=period.monthly(baseline),
        sessions=stats,
        unpriced_models=sorted(unpriced),
    )


def _call_cost(call: queries.Call, registry) -> Decimal | None:
    if call.list_cost is not None:
        return call.list_cost
    model = registry.find(call.model) if call.model else None
    if model is None:
        return None
    from tokcli.cost import compute_cost

    try:
        return compute_cost(levers.usage_of(call.tokens), model, call.start, call.tier).total
    except TokcliError:
        return None
