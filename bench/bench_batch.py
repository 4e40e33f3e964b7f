"""Benchmark: `tokcli batch submit` of a generated 50,000-request, ~150 MB OpenAI file to the
local emulator. Prints one JSON object per line per figure.

The tokcli process runs as a child; its peak RSS is read with getrusage(RUSAGE_CHILDREN), so
the emulator (a thread in this process) is not counted. Target: peak RSS < 150 MB, i.e. the
file is streamed, never held in memory.

    .venv/bin/python bench/bench_batch.py [--requests 50000] [--line-bytes 3000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from emulator import Emulator  # noqa: E402
from emulator.samples import batch_env  # noqa: E402

WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "that",
    "for",
    "it",
    "as",
    "with",
    "was",
    "on",
    "be",
    "by",
    "at",
    "this",
    "are",
    "from",
    "or",
    "an",
]


def generate(path: Path, requests: int, line_bytes: int) -> int:
    rng = random.Random(7)
    with path.open("w", encoding="utf-8") as handle:
        for index in range(requests):
            filler = " ".join(rng.choice(WORDS) for _ in range(line_bytes // 3))[: line_bytes - 250]
            line = {
                "custom_id": f"request-{index:06d}",
                "method": "POST",
                "url": "/v1/chat/completions",
                "body": {
                    "model": "gpt-5-mini",
                    "messages": [
                        {"role": "system", "content": "Summarise the text in one line."},
                        {"role": "user", "content": filler},
                    ],
                    "max_completion_tokens": 100,
                },
            }
            handle.write(json.dumps(line) + "\n")
    return path.stat().st_size


def wire_size(source: Path, job_id: str) -> int:
    total = 0
    with source.open("rb") as handle:
        for line_no, raw in enumerate(handle, start=1):
            record = {**json.loads(raw), "custom_id": f"{job_id}-{line_no}"}
            total += len(json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()) + 1
    return total


def run_child(args: list[str], env: dict) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "tokcli", *args], env=env, capture_output=True, text=True
    )
    return time.perf_counter() - started, proc


def emit(figure: str, value, unit: str, **extra) -> None:
    print(json.dumps({"figure": figure, "value": value, "unit": unit, **extra}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--line-bytes", type=int, default=3_000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tokcli-bench-") as folder:
        folder = Path(folder)
        source = folder / "requests.jsonl"
        size = generate(source, options.requests, options.line_bytes)
        emit("input_size", round(size / 1e6, 1), "MB", requests=options.requests)
        emulator = Emulator(root=folder / "emulator").start()
        try:
            env = {**os.environ, **batch_env(emulator, folder / "store.db")}
            env["TOKCLI_NOW"] = "2026-11-24T12:00:00Z"
            seconds, proc = run_child(["batch", "submit", source, "-p", "openai", "--format",
                                       "json"], env)  # fmt: skip
            if proc.returncode != 0:
                sys.exit(f"submit failed: {proc.stderr}")
            peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            job = json.loads(proc.stdout)["job"]
            uploaded = sum(f["object"]["bytes"] for f in emulator.openai.files.values())
            emit("submit_wall", round(seconds, 2), "s", includes="validate+count+estimate+upload")
            emit("submit_throughput", round(size / 1e6 / seconds, 1), "MB/s")
            emit("submit_peak_rss", round(peak_kb / 1024, 1), "MB", limit_mb=150,
                 ok=peak_kb / 1024 < 150)  # fmt: skip
            # What must go out: each line compact, its custom_id the job's `<job id>-<line>`.
            expected = wire_size(source, job["id"])
            emit("uploaded_bytes", uploaded, "bytes", matches_wire_form=uploaded == expected,
                 input_bytes=size, batches=len(emulator.openai.batches),
                 job_state=job["state"])  # fmt: skip
            estimate = job["estimate"]
            emit("estimate_batch_cost", estimate["batch_cost"], "USD",
                 standard=estimate["standard_cost"], saving=estimate["saving"],
                 input_tokens=estimate["models"][0]["input_tokens"])  # fmt: skip
            # After the submit, so that its peak RSS above is the submit's alone.
            dry_seconds, dry = run_child(["batch", "submit", source, "-p", "openai",
                                          "--dry-run", "--format", "json"], env)  # fmt: skip
            emit("dry_run_wall", round(dry_seconds, 2), "s", includes="validate+count+estimate",
                 exit_code=dry.returncode)  # fmt: skip
        finally:
            emulator.stop()


if __name__ == "__main__":
    main()
