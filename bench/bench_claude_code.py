#!/usr/bin/env python3
"""Benchmark `tokcli import` of Claude Code transcripts against `ccusage daily` (issue 17).

Target: importing 500 MB of transcripts takes at most 1.5x the time of `ccusage daily` over the
same folder, measured in one run, with a peak memory at most 400 MB and flat in the size.

The transcripts are the real ones vendored in tests/fixtures/samples/claude-code-jsonl (see
its SOURCES.md), copied until the tree holds N MB: each copy is one session file in one of 20
project folders, with its own session id and every message id, request id and uuid made
distinct, so that nothing de-duplicates across copies (the streaming snapshots inside a copy
still do, as in a real transcript). ccusage comes from npm and is not a dependency of tokcli:
install it once in a folder outside the repository and pass its binary. Releases 19 and later
are a native binary in a per-platform package that npm may leave out (the command then says
"native binary is not available"): name both at the same version, e.g. 20.0.24 on Linux x64:

    (mkdir -p /tmp/ccusage && cd /tmp/ccusage &&
        npm install ccusage@20.0.24 @ccusage/ccusage-linux-x64@20.0.24)
    .venv/bin/python bench/bench_claude_code.py --megabytes 500 \
        --ccusage /tmp/ccusage/node_modules/.bin/ccusage

Each tool runs in its own process (`ccusage daily --offline --json`; `tokcli import FOLDER
--source claude-code` into a new store), alternating, `--repeat` times; figures are medians of
wall time, CPU time (user + system) and peak RSS from wait4. tokcli reads a folder of 8 MB and
more in worker processes (as many as cores, at most 4): wait4's CPU time counts them too (the
workers are its children, reaped before it exits), and its peak RSS is the largest of the
processes, so `peak_tree_mb` adds up the resident memory of the process and its children,
sampled every 20 ms (an upper bound: pages a fork shares are counted in each process). ccusage
is one process with its own threads, all counted in its CPU time. Several sizes (`--megabytes 50
--megabytes 500`) show whether memory is flat. Prints one JSON object per line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "tests" / "fixtures" / "samples" / "claude-code-jsonl"
TIME_TARGET = 1.5  # x ccusage daily
MEMORY_TARGET_MB = 400
PROJECTS = 20
# The ids a transcript line carries; each copy gets its own value of every one.
_ID_FIELDS = re.compile(r'"(id|requestId|sessionId|uuid|parentUuid|leafUuid|agentId)":"([^"]+)"')


def emit(**fields) -> None:
    print(json.dumps(fields), flush=True)


def sample_lines() -> list[str]:
    lines = []
    for path in sorted(SAMPLES.glob("*.jsonl")):
        lines += [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines


def generate(folder: Path, megabytes: int) -> int:
    """Write copies of the sample transcripts under folder/projects until `megabytes`; the
    number of bytes written."""
    lines = sample_lines()
    template = "\n".join(lines) + "\n"
    target = megabytes * 1_000_000
    written = copy = 0
    while written < target:
        suffix = f"-c{copy:07d}"
        text = _ID_FIELDS.sub(rf'"\1":"\2{suffix}"', template)
        project = folder / "projects" / f"-home-dev-project-{copy % PROJECTS:02d}"
        project.mkdir(parents=True, exist_ok=True)
        (project / f"session{suffix}.jsonl").write_text(text, encoding="utf-8")
        written += len(text.encode("utf-8"))
        copy += 1
    return written


def run(command: list[str], env: dict[str, str]) -> tuple[float, float, float, str, float]:
    """(wall s, CPU s, peak RSS MB, stdout, peak RSS of the process tree MB) of one process,
    from wait4 on it (CPU of its reaped children included) and /proc samples."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE, env=env)
        tree_peak = [0]
        sampler = threading.Thread(target=_sample_tree, args=(process.pid, tree_peak))
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - start
        err = process.stderr.read().decode(errors="replace") if process.stderr else ""
        if process.returncode != 0:
            raise SystemExit(f"{command[0]} failed ({process.returncode}): {err[-2000:]}")
        out.seek(0)
        stdout = out.read().decode(errors="replace")
    cpu = usage.ru_utime + usage.ru_stime
    return elapsed, cpu, usage.ru_maxrss / 1024, stdout, tree_peak[0] / 1024


def _sample_tree(pid: int, peak: list[int]) -> None:
    """The largest sum of VmRSS (kB) over `pid` and its descendants, until `pid` is gone."""
    while True:
        total = 0
        pending = [pid]
        while pending:
            current = pending.pop()
            try:
                status = Path(f"/proc/{current}/status").read_text()
                children = Path(f"/proc/{current}/task/{current}/children").read_text()
            except OSError:
                continue
            match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
            total += int(match.group(1)) if match else 0
            pending += [int(child) for child in children.split()]
        if total == 0:  # exited (or a zombie, waiting for wait4)
            return
        peak[0] = max(peak[0], total)
        time.sleep(0.02)


def tokcli_command() -> list[str]:
    script = Path(sys.executable).with_name("tokcli")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tokcli"]


def measure(megabytes: int, ccusage: str | None, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        size = generate(folder / "claude", megabytes)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TOKCLI_")}
        env.update(
            CLAUDE_CONFIG_DIR=str(folder / "claude"),  # where ccusage looks
            XDG_CACHE_HOME=str(folder / "cache"),
            XDG_CONFIG_HOME=str(folder / "config"),
            XDG_DATA_HOME=str(folder / "data"),
            NO_COLOR="1",
        )
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        samples: dict[str, list[tuple[float, ...]]] = {"tokcli": [], "ccusage": []}
        rows = None
        for attempt in range(repeat):
            store = folder / f"usage-{attempt}.db"
            projects = str(folder / "claude" / "projects")
            tokcli = [*tokcli_command(), "import", projects, "--source", "claude-code",
                      "--store", str(store), "--format", "json"]  # fmt: skip
            wall, cpu, peak, out, tree = run(tokcli, env)
            samples["tokcli"].append((wall, cpu, peak, tree))
            rows = _rows_inserted(out)
            store.unlink()
            if ccusage:
                command = [ccusage, "daily", "--offline", "--json"]
                wall, cpu, peak, _, tree = run(command, env)
                samples["ccusage"].append((wall, cpu, peak, tree))
        for tool, runs in samples.items():
            if not runs:
                continue
            emit(
                benchmark=f"{tool}, Claude Code transcripts {megabytes} MB",
                megabytes=round(size / 1e6, 1),
                wall_s=round(statistics.median(r[0] for r in runs), 2),
                cpu_s=round(statistics.median(r[1] for r in runs), 2),
                peak_mb=round(max(r[2] for r in runs), 1),
                peak_tree_mb=round(max(r[3] for r in runs), 1),
                **({"rows_inserted": rows} if tool == "tokcli" else {}),
            )
        if samples["ccusage"]:
            ratio = statistics.median(r[0] for r in samples["tokcli"]) / statistics.median(
                r[0] for r in samples["ccusage"]
            )
            cpu_ratio = statistics.median(r[1] for r in samples["tokcli"]) / statistics.median(
                r[1] for r in samples["ccusage"]
            )
            peak = max(max(r[2], r[3]) for r in samples["tokcli"])
            emit(
                benchmark=f"tokcli / ccusage daily, {megabytes} MB",
                wall_ratio=round(ratio, 2),
                cpu_ratio=round(cpu_ratio, 2),
                target=f"<= {TIME_TARGET}x, peak <= {MEMORY_TARGET_MB} MB",
                ok=ratio <= TIME_TARGET and peak <= MEMORY_TARGET_MB,
            )


def _rows_inserted(output: str) -> int | None:
    try:
        return json.loads(output)["totals"]["inserted"]
    except (ValueError, KeyError, TypeError):
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, action="append")
    parser.add_argument("--ccusage", help="the ccusage binary (npm install ccusage)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ccusage = args.ccusage or shutil.which("ccusage")
    if ccusage is None:
        print("ccusage not found: tokcli figures only", file=sys.stderr)
    if ccusage:
        version = subprocess.run([ccusage, "--version"], capture_output=True, text=True).stdout
        emit(anchor="ccusage daily --offline --json", version=version.strip())
    for megabytes in args.megabytes or [500]:
        measure(megabytes, ccusage, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
