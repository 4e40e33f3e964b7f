"""`tokcli estimate` core: price prompts and workloads, apply levers, compare with a baseline.

    call.py      one call's cost: cached prefix (hit/miss expectation), output, reasoning
    prompt.py    prompt mode: render, count tokens, stable prefix, result dicts (JSON contract)
    run.py       prompt mode end to end: models, volumes, ranking
    volume.py    --requests N --per day|month
    workload.py  workload mode: traffic x per-call tokens x models, and the levers
    gate.py      baseline comparison and the CI thresholds
    gitbase.py   the same prompt paths read from a git ref
    report.py    results -> Output (table / json / csv / markdown PR comment)

Nothing here imports typer or prints; `tokcli.cli.estimate` is the command.
"""
