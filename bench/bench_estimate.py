"""Benchmark `tokcli estimate` prompt mode: 1,000 prompt files of ~2 KB against three models.

Targets (issue 3): under 2 s wall time, memory flat in the number of files. Each run is a
fresh `python -m tokcli` process (start-up included, as a user or CI job sees it); its peak RSS
comes from os.wait4. Prints one JSON object per figure per line.

    .venv/bin/python bench/bench_estimate.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODELS = ("gpt-5", "claude-sonnet-4-6", "gemini-2.5-flash")
TARGET_SECONDS = 2.0
SIZES = (250, 1000, 4000)  # files, for the memory-flatness check
FLAT_TOLERANCE_MB = 25.0  # peak RSS growth allowed from 250 to 4,000 files

WORDS = [
    "customer", "order", "refund", "policy", "delivery", "invoice", "account", "support",
    "escalate", "summary", "answer", "context", "document", "retrieve", "cite", "source",
    "polite", "concise", "step", "verify", "evidence", "reply", "ticket",
]  # fmt: skip


def make_prompts(folder: Path, count: int, seed: int = 7) -> None:
    """~2 KB prompts of mixed kinds: plain text, markdown, and Jinja with front matter."""
    rng = random.Random(seed)
    for index in range(count):
        body = " ".join(rng.choice(WORDS) for _ in range(300))[:1900]
        kind = index % 3
        if kind == 0:
            (folder / f"p{index:05d}.txt").write_text(body + "\n")
        elif kind == 1:
            (folder / f"p{index:05d}.md").write_text(f"# Prompt {index}\n\n{body}\n")
        else:
            text = (
                f"---\nmax_tokens: 400\nvars: {{name: Ada}}\n---\n{body}\nHello {{{{ name }}}}.\n"
            )
            (folder / f"p{index:05d}.j2").write_text(text)


def run_estimate(folder: Path, fmt: str) -> tuple[float, float, float, int]:
    """(wall seconds, CPU seconds, peak RSS MB, output lines) of one `tokcli estimate` process
    over `folder`. CPU time (user + system) is what the machine's other load disturbs least."""
    args = [sys.executable, "-m", "tokcli", "estimate", str(folder), "--format", fmt]
    for model in MODELS:
        args += ["-m", model]
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise SystemExit(f"estimate failed: {proc.stderr.read().decode()}")
        out.seek(0)
        text = out.read()
        results = len(json.loads(text)["results"]) if fmt == "json" else text.count(b"\n")
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, cpu, usage.ru_maxrss / 1024, results  # ru_maxrss is KiB on Linux


def emit(benchmark: str, value: float, unit: str, target: str, ok: bool, **extra) -> None:
    record = {"benchmark": benchmark, "value": round(value, 3), "unit": unit, "target": target,
              "ok": ok, **extra}  # fmt: skip
    print(json.dumps(record), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; the best is kept")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tokcli-bench-") as tmp:
        folders = {}
        for size in SIZES:
            folders[size] = Path(tmp) / str(size)
            folders[size].mkdir()
            make_prompts(folders[size], size)
        for fmt in ("table", "json"):
            peaks = {}
            for size in SIZES:
                runs = [run_estimate(folders[size], fmt) for _ in range(options.repeat)]
                peaks[size] = min(r[2] for r in runs)
                if fmt == "json":
                    assert all(r[3] == size * len(MODELS) for r in runs)
                if size == 1000:
                    wall, cpu = min(r[0] for r in runs), min(r[1] for r in runs)
                    name = f"estimate_1000_files_3_models_{fmt}"
                    emit(f"{name}_wall", wall, "s", f"< {TARGET_SECONDS}", wall < TARGET_SECONDS,
                         runs=[round(r[0], 3) for r in runs])  # fmt: skip
                    emit(f"{name}_cpu", cpu, "s", f"< {TARGET_SECONDS}", cpu < TARGET_SECONDS)
                emit(f"estimate_peak_rss_{size}_files_{fmt}", peaks[size], "MB", "flat", True)
            growth = peaks[SIZES[-1]] - peaks[SIZES[0]]
            per_file_kb = growth * 1024 / (SIZES[-1] - SIZES[0])
            emit(f"estimate_rss_growth_{SIZES[0]}_to_{SIZES[-1]}_files_{fmt}", growth, "MB",
                 f"< {FLAT_TOLERANCE_MB}", growth < FLAT_TOLERANCE_MB,
                 per_file_kb=round(per_file_kb, 1))  # fmt: skip


if __name__ == "__main__":
    main()
