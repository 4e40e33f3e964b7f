"""Benchmark `tokcli pricing show` with the full generated price layer loaded.

Target (issue 14): at most 1.2x the start-up of `python -c "import typer"`, measured in one run
as a ratio against that anchor. `gpt-4o` is only in the generated layer, so the lookup misses
the curated registry and reads the layer (3,500 models); `claude-sonnet-4-6` is curated. The
parsed curated registry is cached as a pickle (keyed on file stats); one warm-up run fills it.
Runs alternate anchor and command so load on the machine hits both alike; the figures are
ratios of medians, of CPU time (user + system: steady on a shared machine) and of wall
time. Prints one JSON object per line.

    .venv/bin/python bench/bench_pricing_layer.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_RATIO = 1.2
TOKCLI = [sys.executable, "-m", "tokcli"]
ANCHOR = [sys.executable, "-c", "import typer"]


# An installed wheel has compiled bytecode (pip compiles on install); without it every run would
# time Python compiling tokcli's sources, not tokcli. So byte-compile first and let children
# use the .pyc files even where PYTHONDONTWRITEBYTECODE is set in the shell.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def wall(command: list[str]) -> float:
    return measure(command)[0]


def measure(command: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds user + system). CPU time is the steadier figure on a machine
    shared with other jobs: waiting for a core does not count."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV
    )
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    ENV.pop("TOKCLI_NO_CACHE", None)
    import compileall

    import typer

    compileall.compile_dir(str(Path(__file__).resolve().parents[1] / "src"), quiet=1)
    compileall.compile_dir(str(Path(typer.__file__).parent), quiet=1)
    cases = {
        "generated (gpt-4o)": [*TOKCLI, "pricing", "show", "gpt-4o"],
        "curated (claude-sonnet-4-6)": [*TOKCLI, "pricing", "show", "claude-sonnet-4-6"],
        "bedrock geographic (us.anthropic.claude-opus-4-7)": [
            *TOKCLI, "pricing", "show", "us.anthropic.claude-opus-4-7",
        ],
    }  # fmt: skip
    for command in cases.values():
        wall(command)  # warm the registry cache and the OS file cache
    anchor: list[tuple[float, float]] = []
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    for _ in range(args.repeat):
        anchor.append(measure(ANCHOR))
        for name, command in cases.items():
            times[name].append(measure(command))

    def median(samples, index: int) -> float:
        return statistics.median(s[index] for s in samples)

    base_wall, base_cpu = median(anchor, 0), median(anchor, 1)
    print(json.dumps({"anchor": "python -c 'import typer'", "wall_s": round(base_wall, 4),
                      "cpu_s": round(base_cpu, 4)}))  # fmt: skip
    worst = 0.0
    for name, samples in times.items():
        cpu_ratio = median(samples, 1) / base_cpu
        worst = max(worst, cpu_ratio)
        print(json.dumps({
            "case": name, "wall_s": round(median(samples, 0), 4),
            "wall_ratio": round(median(samples, 0) / base_wall, 3),
            "cpu_s": round(median(samples, 1), 4), "cpu_ratio": round(cpu_ratio, 3),
            "target": TARGET_RATIO,
        }))  # fmt: skip
    print(json.dumps({"worst_cpu_ratio": round(worst, 3), "within_target": worst <= TARGET_RATIO}))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    sys.exit(main())
