"""`tokcli report` core: spend by any tag or dimension from exact per-day rollups, month-end
forecasts, anomalies, budgets, shared-cost allocation, terminal charts and an HTML page.

Plain Python in and out: no typer, no rich, no printing (the CLI renders).
"""
