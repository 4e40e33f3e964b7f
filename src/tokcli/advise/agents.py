"""Agent sessions: the cost of each task (session), its trend, and three failure modes priced from
the calls themselves: runaway loops, retry storms and context bloat.

A session is the usage rows that share a `session` tag (Claude Code transcripts; OpenTelemetry
spans with a session or conversation id). A call's cost is its list cost as recorded at import,
or priced now when the import had none.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Iterable
from decimal import Decimal
from itertools import groupby, pairwise

from tokcli.advise.model import Period, Recommendation, SessionStats
from tokcli.cost import resolved_prices
from tokcli.money import MONEY_CONTEXT, ZERO, display
from tokcli.pricing.model import Model
from tokcli.store.advice import Call

LOOP_REPEATS = 3  # the same tool call with the same arguments more than this: a runaway loop
RETRY_WINDOW = dt.timedelta(seconds=10)
BLOAT_MIN_CALLS = 5
BLOAT_GROWING_SHARE = Decimal("0.8")  # prompts grow on at least this share of turns
BLOAT_MAX_HIT_RATE = Decimal("0.3")  # with few cache reads
RECENT_DAYS = 7
ALARM_MULTIPLE = 2


def percentile(sorted_values: list[Decimal], share: Decimal) -> Decimal:
    """Nearest-rank percentile of an ascending list (no interpolation, so always a real value)."""
    rank = max(1, int((share * len(sorted_values)).to_integral_value(decimal.ROUND_CEILING)))
    return sorted_values[rank - 1]


def session_stats(
    costs: dict[str, tuple[dt.datetime, Decimal]], until: dt.date
) -> SessionStats | None:
    if not costs:
        return None
    values = sorted(cost for _, cost in costs.values())
    recent_from = until - dt.timedelta(days=RECENT_DAYS - 1)
    recent = sorted(c for start, c in costs.values() if start.date() >= recent_from)
    earlier = sorted(c for start, c in costs.values() if start.date() < recent_from)
    recent_p95 = percentile(recent, Decimal("0.95")) if recent else None
    baseline_p95 = percentile(earlier, Decimal("0.95")) if earlier else None
    alarm = bool(recent_p95 and baseline_p95 and recent_p95 > ALARM_MULTIPLE * baseline_p95)
    return SessionStats(
        sessions=len(values),
        p50=percentile(values, Decimal("0.5")),
        p95=percentile(values, Decimal("0.95")),
        max=values[-1],
        recent_p95=recent_p95,
        baseline_p95=baseline_p95,
        alarm=alarm,
    )


def analyse_sessions(
    calls: Iterable[Call],
    cost_of: Callable[[Call], Decimal | None],
    model_of: Callable[[Call], Model | None],
    period: Period,
) -> tuple[SessionStats | None, list[Recommendation]]:
    costs: dict[str, tuple[dt.datetime, Decimal]] = {}
    found: list[Recommendation] = []
    for session, grouped in groupby(calls, key=lambda call: call.session):
        session_calls = list(grouped)
        priced = [(call, cost_of(call)) for call in session_calls]
        with decimal.localcontext(MONEY_CONTEXT):
            spent = sum((cost for _, cost in priced if cost is not None), ZERO)
        costs[session] = (session_calls[0].start, spent)
        found += _loops(session, priced, period)
        found += _retries(session, priced, period)
        found += _bloat(session, session_calls, model_of, period)
    return session_stats(costs, period.until), found


def _priced(
    kind: str,
    session: str,
    title: str,
    waste: Decimal,
    how: str,
    calls: int,
    period: Period,
    confidence: str,
    caveat: str,
    details: dict,
) -> Recommendation:
    monthly = period.monthly(waste)
    return Recommendation(
        lever=kind,
        title=title,
        group={"session": session},
        model=details.get("model"),
        monthly_saving=monthly,
        arithmetic=(
            f"{how}: {display(waste)} in the period x {period.monthly_factor:.4f} "
            f"= {display(monthly)}/month"
        ),
        rows=calls,
        requests=calls,
        confidence=confidence,
        caveat=caveat,
        details=details,
    )


def _loops(session: str, priced: list, period: Period) -> list[Recommendation]:
    """The same tool call (name and arguments fingerprint) more than LOOP_REPEATS times."""
    seen: dict[str, list[Decimal]] = {}
    for call, cost in priced:
        if call.tool_call:
            seen.setdefault(call.tool_call, []).append(cost or ZERO)
    found = []
    for fingerprint, costs in seen.items():
        if len(costs) <= LOOP_REPEATS:
            continue
        with decimal.localcontext(MONEY_CONTEXT):
            waste = sum(costs[LOOP_REPEATS:], ZERO)
        tool = fingerprint.split(":", 1)[0]
        found.append(
            _priced(
                "loop",
                session,
                f"Runaway loop: {tool} called {len(costs)} times with the same arguments",
                waste,
                f"the {len(costs) - LOOP_REPEATS} calls after the third",
                len(costs),
                period,
                "high",
                "cap repeated tool calls in the agent loop (a step or repeat limit)",
                {"tool_call": fingerprint, "repeats": len(costs)},
            )
        )
    return found


def _same_request(a: Call, b: Call) -> bool:
    return (
        a.model == b.model
        and a.tokens.prompt_tokens == b.tokens.prompt_tokens
        and a.tokens.prompt_tokens > 0
        and b.start - a.start <= RETRY_WINDOW
    )


def _retries(session: str, priced: list, period: Period) -> list[Recommendation]:
    """Identical requests (same model, same prompt size) seconds apart: all but the first."""
    repeats: list[Decimal] = []
    for (before, _), (call, cost) in pairwise(priced):
        if _same_request(before, call):
            repeats.append(cost or ZERO)
    if not repeats:
        return []
    with decimal.localcontext(MONEY_CONTEXT):
        waste = sum(repeats, ZERO)
    return [
        _priced(
            "retry",
            session,
            f"Retry storm: {len(repeats)} identical requests within {RETRY_WINDOW.seconds} s",
            waste,
            f"{len(repeats)} repeated calls",
            len(repeats) + 1,
            period,
            "medium",
            "back off with jitter and retry only retryable errors",
            {"repeats": len(repeats)},
        )
    ]


def _bloat(session: str, calls: list[Call], model_of, period: Period) -> list[Recommendation]:
    """Prompts growing turn after turn with few cache reads: the part already sent last turn
    could have been a cache read. Priced as that re-sent part at input minus cache-read price."""
    if len(calls) < BLOAT_MIN_CALLS:
        return []
    sizes = [call.tokens.prompt_tokens for call in calls]
    growing = sum(1 for a, b in pairwise(sizes) if b > a)
    prompt_total = sum(sizes)
    reads = sum(call.tokens.cache_read_tokens for call in calls)
    if not prompt_total:
        return []
    if Decimal(growing) / Decimal(len(calls) - 1) < BLOAT_GROWING_SHARE:
        return []
    if Decimal(reads) / Decimal(prompt_total) > BLOAT_MAX_HIT_RATE:
        return []
    waste = ZERO
    resent_total = 0
    for before, call in pairwise(calls):
        model = model_of(call)
        if model is None:
            continue
        resent = max(
            0,
            min(before.tokens.prompt_tokens, call.tokens.prompt_tokens)
            - call.tokens.cache_read_tokens,
        )
        resent = min(resent, call.tokens.input_tokens)
        prices = resolved_prices(
            model, call.start.date(), call.tier, call.tokens.prompt_tokens
        ).prices
        with decimal.localcontext(MONEY_CONTEXT):
            waste += Decimal(resent) * (prices["input"] - prices["cache_read"]) / Decimal(1_000_000)
        resent_total += resent
    if waste <= 0:
        return []
    model_id = calls[-1].model
    return [
        _priced(
            "bloat",
            session,
            f"Context bloat: the prompt grew on {growing} of {len(calls) - 1} turns "
            f"({sizes[0]:,} -> {sizes[-1]:,} tokens) with few cache reads",
            waste,
            f"{resent_total:,} re-sent prompt tokens at input instead of cache-read price",
            len(calls),
            period,
            "medium",
            "cache the conversation prefix, or summarise / truncate old turns",
            {"model": model_id, "first_prompt": sizes[0], "last_prompt": sizes[-1]},
        )
    ]
