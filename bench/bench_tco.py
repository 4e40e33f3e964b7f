"""Benchmark `tokcli tco`: sweeping 1,000 volumes must answer in under 1 s.

Standalone: `.venv/bin/python bench/bench_tco.py`. Prints one JSON object per line.
The sweep is timed two ways: the core sweep alone, and the whole command in a fresh process
(start-up, registry, 6 breakeven searches up to 10T tokens a month, sensitivity, JSON).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from tokcli.tco.analysis import api_options, gpu_options, sweep_volumes
from tokcli.tco.inputs import TCO_SETTINGS, resolve
from tokcli.tco.sweep import sweep

TARGET_SECONDS = 1.0


def best_of(runs: int, work) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def core_sweep_seconds() -> float:
    import datetime as dt

    from tokcli.pricing import Registry

    values, _ = resolve(TCO_SETTINGS, {"steps": "1000"}, {}, "tco")
    per_token, _ = api_options(values, Registry.load(), dt.date(2026, 11, 24))
    options = [*per_token, *gpu_options(values)[0]]
    volumes = sweep_volumes(values)
    assert len(volumes) == 1000
    return best_of(5, lambda: sweep(options, volumes))


def command_seconds() -> float:
    env = {**os.environ, "TOKCLI_NOW": "2026-11-24T12:00:00Z", "NO_COLOR": "1"}
    command = [sys.executable, "-m", "tokcli", "tco", "--steps", "1000", "--format", "json"]

    def run():
        subprocess.run(command, check=True, capture_output=True, env=env)

    run()  # warm the registry cache
    return best_of(3, run)


def report(name: str, seconds: float) -> None:
    print(
        json.dumps(
            {
                "benchmark": name,
                "value": round(seconds, 4),
                "unit": "s",
                "target": "< 1 s",
                "ok": seconds < TARGET_SECONDS,
            }
        )
    )


if __name__ == "__main__":
    report("tco sweep 1,000 volumes", core_sweep_seconds())
    report("tokcli tco --steps 1000 --format json (fresh process)", command_seconds())
