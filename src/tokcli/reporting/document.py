"""The report as data: one store, one selection, the `report --format json` document.

The command line and the library (`tokcli.report(...)`) both build reports here, so a report
reads the same whichever way it is asked for; `cli/report.py` only parses options and renders.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tokcli.collector import FOR_RESULTS, fewer_collections
from tokcli.errors import TokcliError
from tokcli.money import MONEY_CONTEXT

if TYPE_CHECKING:
    from tokcli.context import Context
    from tokcli.pricing import Registry
    from tokcli.reporting.budgets import BudgetStatus
    from tokcli.reporting.query import Selection
    from tokcli.reporting.views import ReportOptions

Warn = Callable[[str], None]
BAD_VALUES_SHOWN = 10  # then a count: a broken store should not flood the terminal


def refresh_rollups(conn: Any, warn: Warn) -> bool:
    """Bring the rollups up to date; False when the store cannot be written (read the raw rows)."""
    from tokcli.reporting.rollups import refresh
    from tokcli.store.errors import StoreUnavailable

    try:
        refresh(conn)
    except StoreUnavailable as exc:
        warn(f"cannot update the report rollups ({exc}); summing usage rows directly")
        return False
    return True


def check_tag_keys(conn: Any, selection: Selection) -> None:
    """A tag key no usage row has is a typo far more often than an empty group: say so."""
    from tokcli.reporting.query import DIMENSIONS, TIME_KEYS, known_tag_keys

    wanted = selection.tag_keys
    if not wanted:
        return
    from tokcli.suggest import did_you_mean

    known = known_tag_keys(conn)
    for key in wanted:
        if key not in known:
            hint = did_you_mean(key, [*known, *DIMENSIONS, *TIME_KEYS])
            raise TokcliError(
                f"unknown key {key!r}{hint}: no usage row has this tag; tags in the store: "
                f"{', '.join(known) or '(none)'}; dimensions: model, provider, tier, source"
            )


def warn_bad_values(warn: Warn, bad: list[Any]) -> None:
    """Name every stored value the report could not use (up to ten, then a count)."""
    for item in bad[:BAD_VALUES_SHOWN]:
        warn(item.warning())
    if len(bad) > BAD_VALUES_SHOWN:
        warn(f"... and {len(bad) - BAD_VALUES_SHOWN} more unusable stored values")


def build_document(
    conn: Any,
    options: ReportOptions,
    registry: Callable[[], Registry],
    warn: Warn,
    *,
    use_rollups: bool,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The report document and, without a grouping, its summary (also under doc["summary"]).
    `registry` is called only when there are rows to price (start-up of a report on an empty
    store: loading the registry is a tenth of it)."""
    from tokcli.reporting.query import bad_values, fetch
    from tokcli.reporting.views import build_report

    bad: list[Any] = []
    rows = fetch(conn, options.selection, use_rollups=use_rollups, bad=bad)
    if use_rollups:
        bad = bad_values(conn, options.selection)
    warn_bad_values(warn, bad)
    doc = build_report(rows, options, registry() if rows else None)
    summary = None
    if not options.selection.group_by:
        summary = _summary(conn, options, doc, use_rollups)
        doc["summary"] = summary
    return doc, summary


def report_document(
    context: Context, options: ReportOptions, *, page: bool = False
) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any] | None]:
    """The report on the context's store: rollups refreshed, tag keys checked, the document,
    its summary (without a grouping) and, with `page`, what only the HTML page draws."""
    context.check_pricing_overrides()
    conn = context.open_store()
    try:
        with fewer_collections(FOR_RESULTS):
            use_rollups = refresh_rollups(conn, context.warn)
            check_tag_keys(conn, options.selection)
            doc, summary = build_document(
                conn, options, lambda: context.registry, context.warn, use_rollups=use_rollups
            )
            extras = None
            if page:
                budgets = context.config.get("budgets")
                extras = page_extras(
                    conn, options, context.registry, budgets, use_rollups=use_rollups
                )
            return doc, summary, extras
    finally:
        conn.close()


def _summary(conn: Any, options: ReportOptions, doc: dict[str, Any], use_rollups: bool) -> dict:
    """The Monday view: totals, token mix, cache hit rate, batch share, top models and teams,
    per currency."""
    from tokcli.reporting.query import fetch, known_tag_keys, totals_by
    from tokcli.reporting.views import summary_facts, top_groups

    home = doc["currencies"][0] if len(doc["currencies"]) == 1 else "USD"

    def grouped(key: str) -> dict[str, list[dict[str, Any]]]:
        selection = replace(options.selection, group_by=(key,))
        if use_rollups and not selection.where:
            totals = totals_by(conn, selection)
        else:
            totals = {}
            with decimal.localcontext(MONEY_CONTEXT):  # exact, whatever the caller's context
                for fine in fetch(conn, selection, use_rollups=use_rollups):
                    cell = totals.setdefault((fine.group[0], fine.currency), type(fine.totals)())
                    cell.add(fine.totals)
        return top_groups(totals, key, options.cost_basis, options.top, options.fx, home)

    tiers = grouped("tier")
    models = grouped("model")
    teams = grouped("team") if "team" in known_tag_keys(conn) else {}
    per_currency = []
    for total in doc["totals"]:
        currency = total["currency"]
        facts = summary_facts(total, tiers)
        per_currency.append({
            "currency": currency,
            "batch_share": facts["batch_share"],
            "cost_per_request": facts["cost_per_request"],
            "top_models": models.get(currency, []),
            "top_teams": teams.get(currency, []),
        })  # fmt: skip
    summary: dict[str, Any] = {"cache_hit_rate": cache_hit_rate(doc["totals"])}
    single = per_currency[0] if len(per_currency) == 1 else None
    for key in ("batch_share", "cost_per_request", "top_models", "top_teams"):
        summary[key] = single[key] if single else None
    summary["currencies"] = per_currency
    return summary


def cache_hit_rate(totals: list[dict[str, Any]]) -> Decimal | None:
    """Cache reads over all input (uncached, read and written), to four places."""
    read = sum(t["cache_read_tokens"] for t in totals)
    whole = read + sum(t["input_tokens"] + t["cache_write_tokens"] for t in totals)
    return (Decimal(read) / Decimal(whole)).quantize(Decimal("0.0001")) if whole else None


def page_extras(
    conn: Any,
    options: ReportOptions,
    registry: Registry,
    budgets_config: object,
    *,
    use_rollups: bool,
) -> dict[str, Any]:
    """What only the HTML page draws: daily spend stacked by the first grouping key, the
    configured budgets whose scope is the report's filter (month budgets, one-month ranges),
    and the ten biggest savings `advise` finds over the report's days and filter."""
    from tokcli.reporting.html import STACKED_SERIES
    from tokcli.reporting.query import fetch
    from tokcli.reporting.views import stacked_series

    series = []
    first = options.selection.attribute_keys[:1]
    if first:
        selection = replace(options.selection, group_by=first)
        rows = fetch(conn, selection, use_rollups=use_rollups)
        series = stacked_series(rows, options, STACKED_SERIES)
    return {
        "series": series,
        "budgets": _page_budgets(budgets_config, options.selection),
        "advice": _page_advice(conn, options.selection, registry),
    }


def _page_advice(conn: Any, selection: Selection, registry: Registry) -> list[dict[str, Any]]:
    from tokcli.advise import AdviseOptions, advise

    since, until = selection.since, selection.until
    whole_month = bool(
        since and until and since.day == 1 and (until + dt.timedelta(days=1)).day == 1
        and (since.year, since.month) == (until.year, until.month)
    )  # fmt: skip
    settings = AdviseOptions(
        since=since, until=until, whole_month=whole_month, where=selection.where
    )
    found = advise(conn, registry, settings)
    return [r.to_dict() for r in found.recommendations[:10]]


def _page_budgets(budgets_config: object, selection: Selection) -> list[dict[str, Any]]:
    from tokcli.reporting.budgets import parse_budgets

    if selection.since is None or selection.until is None:
        return []
    if (selection.since.year, selection.since.month) != (
        selection.until.year, selection.until.month,
    ):  # fmt: skip
        return []
    try:
        configured = parse_budgets(budgets_config)
    except TokcliError:
        return []  # `budget check` reports a bad budget; the page simply has no line
    wanted = set(selection.where)
    return [
        {"name": b.name, "amount": b.amount, "currency": b.currency}
        for b in configured
        if b.period == "month" and set(b.scope) == wanted
    ]


def budget_statuses(context: Context) -> list[BudgetStatus]:
    """The state of every configured budget, from the store (rollups refreshed first)."""
    from tokcli.reporting.budgets import configured_budgets, evaluate, fetcher

    configured = configured_budgets(context.config.get("budgets"))
    conn = context.open_store()
    try:
        with fewer_collections(FOR_RESULTS):
            use_rollups = refresh_rollups(conn, context.warn)
            return evaluate(configured, context.today(), fetcher(conn, use_rollups))
    finally:
        conn.close()
