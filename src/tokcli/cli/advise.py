"""`tokcli advise`: what to change, in dollars, from the usage already in the store."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer

from tokcli.cli.common import (
    FormatOpt,
    MonthOpt,
    PricingOpt,
    SinceOpt,
    StoreOpt,
    UntilOpt,
    WhereOpt,
    command_app,
    complete_group_key,
    parse_date,
    parse_key_values,
    runtime,
)
from tokcli.errors import CheckFailed, TokcliError

app = command_app(no_args_is_help=False)


def parse_share(text: str, *, option: str) -> Decimal:
    """`80%` or `0.8`, both 80%; a bare number above 1 is refused (it would be 100x off)."""
    raw = text.strip()
    try:
        value = Decimal(raw.removesuffix("%")) / (100 if raw.endswith("%") else 1)
    except InvalidOperation:
        raise TokcliError(f"{option}: expected a share such as 80% or 0.8, got {text!r}") from None
    if not value.is_finite() or not Decimal(0) < value <= 1:
        raise TokcliError(f"{option}: expected a share above 0 and at most 100%, got {text!r}")
    return value


def parse_amount(text: str | None, *, option: str) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text.strip().removeprefix("$"))
    except InvalidOperation:
        raise TokcliError(
            f"{option}: expected an amount such as 500 or 1250.50, got {text!r}"
        ) from None
    if not value.is_finite() or value < 0:
        raise TokcliError(f"{option}: expected an amount >= 0, got {text!r}")
    return value


def _period(since, until, month) -> tuple[dt.date | None, dt.date | None, bool]:
    from tokcli.cli.report import month_range
    from tokcli.reporting.forecast import month_bounds

    if month is not None:
        if since is not None or until is not None:
            raise TokcliError("--month cannot be combined with --since/--until")
        first, last = month_range(month, month_bounds)
        return first, last, True
    first, last = parse_date(since, option="--since"), parse_date(until, option="--until")
    return first, last, False


@app.command()
def advise(
    since: SinceOpt = None,
    until: UntilOpt = None,
    month: MonthOpt = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            help="Group by these keys (default: team,feature,model).",
            show_default=False,
            autocompletion=complete_group_key,
        ),
    ] = None,
    where: WhereOpt = None,
    target_hit_rate: Annotated[
        str | None,
        typer.Option(
            "--target-hit-rate",
            help="Cache hit rate to aim for: 80% or 0.8 (default 80%).",
            show_default=False,
        ),
    ] = None,
    commit_discount: Annotated[
        str | None,
        typer.Option(
            "--commit-discount",
            help="Price committed use at this discount: 20% or 0.2 (or [advise] commit_discount).",
            show_default=False,
        ),
    ] = None,
    fail_over: Annotated[
        str | None,
        typer.Option(
            "--fail-over",
            help="Exit 1 when the combined monthly saving passes this amount.",
            show_default=False,
        ),
    ] = None,
    fmt: FormatOpt = None,
    store: StoreOpt = None,
    pricing: PricingOpt = None,
):
    """Ranked, priced recommendations from the usage in the store.

    Levers per group (cache hit rate, batch tier, cheaper model for short calls, reasoning
    effort) and agent sessions (cost per session, runaway loops, retry storms, context bloat).
    Savings are monthly, at list prices; the combined figure applies the levers one after
    another. Without --since/--until/--month: the last 30 days with usage.

    \b
    Examples:
        tokcli advise
        tokcli advise --month 2026-10 --by team,model --format markdown
        tokcli advise --fail-over 500
    """
    from tokcli.advise import DEFAULT_GROUP_BY, AdviseOptions
    from tokcli.advise import advise as run_advise
    from tokcli.advise.report import advice_output

    rt = runtime(store=store, pricing=pricing)
    section = rt.config.section("advise")
    first, last, whole_month = _period(since, until, month)
    group_by = tuple(k.strip() for k in by.split(",") if k.strip()) if by else DEFAULT_GROUP_BY
    rate_text = target_hit_rate or str(section.get("target_hit_rate", "80%"))
    options = AdviseOptions(
        since=first,
        until=last,
        whole_month=whole_month,
        group_by=group_by,
        where=tuple(parse_key_values(where, option="--where")),
        target_hit_rate=parse_share(rate_text, option="--target-hit-rate"),
        batchable_features=frozenset(section.get("batchable_features", [])),
    )
    discount_text = commit_discount or section.get("commit_discount")
    if discount_text is not None:
        options = replace(
            options,
            commit_discount=parse_share(str(discount_text), option="--commit-discount"),
        )
    threshold = parse_amount(fail_over, option="--fail-over")
    with rt.open_store() as conn:
        result = run_advise(conn, rt.registry, options)
    for model in result.unpriced_models:
        rt.warn(f"model {model!r} is not in the pricing registry: its usage is not advised on")
    rt.emit(advice_output(result), rt.format(fmt))
    if threshold is not None and result.combined_monthly_saving > threshold:
        raise CheckFailed(
            f"available saving {result.combined_monthly_saving:.2f} USD/month is over "
            f"--fail-over {threshold}"
        )
