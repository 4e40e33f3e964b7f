"""Start-up of the quick commands, as a ratio to `python -c "import typer"` in the same run.

Target (issue 17): `tokcli pricing show MODEL`, `tokcli estimate --input-tokens N
--output-tokens M --model X` and `tokcli report` on an empty store each take at most 1.2x the
CPU time of the anchor, `python -c "import typer"` (tokcli is a Typer application, so that is
the floor a command can reach without leaving Typer).

How: every case runs in a fresh `python -m tokcli` process with its own empty cache, config and
store folders (a warm-up run fills the registry cache and creates the store, as a user's first
run would). Runs alternate anchor and cases so load on the shared machine hits all alike. The
figure is the median CPU time (user + system of the child, from getrusage(RUSAGE_CHILDREN)),
steadier than wall time when the machine is shared; wall medians are printed too. Prints one
JSON object per line.

With --instructions (needs valgrind), each command also runs once under cachegrind and the
figure is the ratio of instructions executed: the same from run to run whatever else the
machine does, which CPU time on a shared 2-core machine is not.

    .venv/bin/python bench/bench_startup.py [--repeat 21] [--instructions]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_RATIO = 1.2
ROOT = Path(__file__).resolve().parents[1]
ANCHOR = [sys.executable, "-c", "import typer"]
# The console script, as a user runs it (`python -m tokcli` would add runpy).
SCRIPT = Path(sys.executable).with_name("tokcli")
TOKCLI = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "tokcli"]
CASES = {
    "pricing show claude-sonnet-4-6": ["pricing", "show", "claude-sonnet-4-6"],
    "estimate --input-tokens 1000 --output-tokens 200 --model claude-sonnet-4-6": [
        "estimate", "--input-tokens", "1000", "--output-tokens", "200",
        "--model", "claude-sonnet-4-6",
    ],
    "report (empty store)": ["report"],
}  # fmt: skip


def measure(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds user + system) of one run of `command`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def instructions(command: list[str], env: dict[str, str]) -> int:
    """Instructions executed by one run of `command` (valgrind's cachegrind, no cache model)."""
    result = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
         *command],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True,
    )  # fmt: skip
    found = re.search(r"I\s+refs:\s+([\d,]+)", result.stderr)
    if found is None:
        raise SystemExit(f"no instruction count from valgrind: {result.stderr[-500:]}")
    return int(found.group(1).replace(",", ""))


def environment(folder: Path) -> dict[str, str]:
    # Users run byte-compiled code (pip compiles on install): keep .pyc files in use.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for name in ("TOKCLI_NO_CACHE", "TOKCLI_CONFIG", "TOKCLI_NOW"):
        env.pop(name, None)
    env.update(
        XDG_CACHE_HOME=str(folder / "cache"),
        XDG_CONFIG_HOME=str(folder / "config"),
        XDG_DATA_HOME=str(folder / "data"),
        TOKCLI_STORE=str(folder / "data" / "usage.db"),
        NO_COLOR="1",
    )
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--instructions", action="store_true", help="also count instructions")
    args = parser.parse_args()
    if args.instructions and shutil.which("valgrind") is None:
        parser.error("--instructions needs valgrind")
    import typer

    compileall.compile_dir(str(ROOT / "src"), quiet=1)
    compileall.compile_dir(str(Path(typer.__file__).parent), quiet=1)
    with tempfile.TemporaryDirectory() as temp:
        env = environment(Path(temp))
        for command in CASES.values():
            measure([*TOKCLI, *command], env)  # warm: registry cache, empty store, OS caches
        anchor: list[tuple[float, float]] = []
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in CASES}
        for _ in range(args.repeat):
            anchor.append(measure(ANCHOR, env))
            for name, command in CASES.items():
                samples[name].append(measure([*TOKCLI, *command], env))
        counts: dict[str, int] = {}
        if args.instructions:
            counts["anchor"] = instructions(ANCHOR, env)
            for name, command in CASES.items():
                counts[name] = instructions([*TOKCLI, *command], env)

    def median(runs: list[tuple[float, float]], index: int) -> float:
        return statistics.median(run[index] for run in runs)

    base_wall, base_cpu = median(anchor, 0), median(anchor, 1)
    print(json.dumps({"anchor": "python -c 'import typer'", "wall_s": round(base_wall, 4),
                      "cpu_s": round(base_cpu, 4), "runs": args.repeat}))  # fmt: skip
    worst = 0.0
    for name, runs in samples.items():
        cpu_ratio = median(runs, 1) / base_cpu
        worst = max(worst, cpu_ratio)
        figures = {
            "case": name, "cpu_s": round(median(runs, 1), 4), "cpu_ratio": round(cpu_ratio, 3),
            "wall_s": round(median(runs, 0), 4),
            "wall_ratio": round(median(runs, 0) / base_wall, 3), "target": TARGET_RATIO,
        }  # fmt: skip
        if counts:
            figures["instructions"] = counts[name]
            figures["instruction_ratio"] = round(counts[name] / counts["anchor"], 3)
        print(json.dumps(figures))
    print(json.dumps({"worst_cpu_ratio": round(worst, 3), "within_target": worst <= TARGET_RATIO}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
