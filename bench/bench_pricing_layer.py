"""Benchmark `tokcli pricing show` with the full generated price layer loaded.

Target (issue 14): at most 1.2x the start-up of `python -c "import typer"`, measured in one run
as a ratio against that anchor. `gpt-4o` is only in the generated layer, so the lookup misses
the curated registry and reads the layer (3,500 models); `claude-sonnet-4-6` is curated. The
parsed curated registry is cached as a pickle (keyed on file stats); one warm-up run fills it.
Runs alternate anchor and command so load on the machine hits both alike; the figure is the
ratio of medians. Prints one JSON object per line.

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
    start = time.perf_counter()
    subprocess.run(
        command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV
    )
    return time.perf_counter() - start


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
    anchor: list[float] = []
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.repeat):
        anchor.append(wall(ANCHOR))
        for name, command in cases.items():
            times[name].append(wall(command))
    base = statistics.median(anchor)
    print(json.dumps({"anchor": "python -c 'import typer'", "median_s": round(base, 4)}))
    worst = 0.0
    for name, samples in times.items():
        ratio = statistics.median(samples) / base
        worst = max(worst, ratio)
        print(json.dumps({"case": name, "median_s": round(statistics.median(samples), 4),
                          "ratio": round(ratio, 3), "target": TARGET_RATIO}))  # fmt: skip
    print(json.dumps({"worst_ratio": round(worst, 3), "within_target": worst <= TARGET_RATIO}))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    sys.exit(main())
