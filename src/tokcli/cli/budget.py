"""`tokcli budget check`: exit 1 when a configured budget is over (or, with --forecast, will be
by the month-end forecast), so cron and CI can page on it."""

from __future__ import annotations

from typing import Annotated

import typer

from tokcli.cli.common import FormatOpt, QuietOpt, StoreOpt, command_app, runtime
from tokcli.errors import CheckFailed

app = command_app("Check budgets from the config; exit 1 when one is over.")


@app.callback()
def budget():
    """Check budgets from the config ([[budgets]]); exit 1 when one is over."""


@app.command("check")
def check(
    forecast: Annotated[
        bool,
        typer.Option("--forecast", help="Also fail when the period-end forecast exceeds a budget."),
    ] = False,
    fmt: FormatOpt = None,
    store: StoreOpt = None,
    quiet: QuietOpt = False,
):
    """Show every budget's state; exit 1 if one is over, 0 otherwise.

    With --quiet (cron), nothing is printed while every budget is within its limit.

    \b
    Exit codes: 0 all budgets within limits; 1 a budget is over (with --forecast: or is
    forecast to be over by the end of its period); 2 bad config or options.

    \b
    Example (tokcli.toml):
        [[budgets]]
        scope = { team = "search" }
        amount = "5000"
        period = "month"
        alerts = [50, 75, 90, 100]
    """
    from tokcli.reporting.budgets import budgets_output, failing, failure_message
    from tokcli.reporting.document import budget_statuses

    rt = runtime(store=store)
    statuses = budget_statuses(rt)
    failed = failing(statuses, forecast=forecast)
    if failed or not quiet:
        rt.emit(budgets_output(statuses, rt.format(fmt)), rt.format(fmt))
    if failed:
        raise CheckFailed(failure_message(failed))
