#!/usr/bin/env python3
"""Benchmark `tokcli import` on a generated 1,000,000-row FOCUS CSV (issue 5).

Prints one JSON object per line per figure:
  {"benchmark": ..., "value": ..., "unit": ..., "target": ..., "ok": ...}

Figures: import rows/s, peak memory (MB) of the import process and its parse worker
together (a large FOCUS file is parsed in a second process, importers/parse_worker.py; its
CPU time is counted with the import's), the sqlite3 shell's own
`.import` of the same file (seconds) and tokcli's time as a multiple of it, and the rows/s of
re-importing the same file (every row a duplicate), and tokcli's rows/s as a ratio to the
shell's (issue 17 target: >= 0.3x; with --repeat N, the medians of N alternating runs of
each, and the range of the N pairs' ratios). Last, the floor under that ratio: the seconds
SQLite alone takes to insert the rows tokcli stored (usage and tag rows, its schema and
indexes) into an empty store, with no Python per row. Run from the repository root:

    .venv/bin/python bench/bench_import.py [--rows 1000000] [--keep DIR] [--repeat N]

Not a test: it takes about a minute and the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HEADER = [
    "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency",
    "BillingPeriodStart", "BillingPeriodEnd", "ChargeCategory", "ChargeClass",
    "ChargeDescription", "ChargeFrequency", "ChargePeriodStart", "ChargePeriodEnd",
    "ConsumedQuantity", "ConsumedUnit", "ContractedCost", "EffectiveCost", "InvoiceIssuerName",
    "ListCost", "PricingCategory", "PricingQuantity", "PricingUnit", "ProviderName",
    "PublisherName", "RegionId", "ResourceId", "ServiceCategory", "ServiceName",
    "ServiceSubcategory", "SkuId", "SkuMeter", "SubAccountId", "SubAccountName", "Tags",
]  # fmt: skip
METERS = [
    ("Input Tokens", "3.00"),
    ("Output Tokens", "15.00"),
    ("Cached Input Tokens", "0.30"),
    ("Cache Write Input Tokens", "3.75"),
]
TEAMS = ["search", "support", "ml-platform", "growth", "infra"]
MEMORY_TARGET_MB = 300  # issue 17: flat in file size, below 300 MB


def emit(benchmark: str, value, unit: str, target: str, ok: bool | None, **extra) -> None:
    record = {"benchmark": benchmark, "value": value, "unit": unit, "target": target, "ok": ok}
    record.update(extra)
    print(json.dumps(record), flush=True)


def generate(path: Path, rows: int, seed: int = 5) -> None:
    """AI-service FOCUS 1.2 rows: hourly charges over September 2025, one per token meter."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for index in range(rows):
            meter, price = METERS[index % len(METERS)]
            hour = (index // 40) % (30 * 24)
            day, hh = 1 + hour // 24, hour % 24
            quantity = rng.randint(1_000, 2_000_000)
            cost = f"{quantity * float(price) / 1_000_000:.10f}"
            team = TEAMS[index % len(TEAMS)]
            writer.writerow([
                cost, "1234567890", "Example Corp", "USD", "2025-09-01T00:00:00Z",
                "2025-10-01T00:00:00Z", "Usage", "", f"{meter} for Example Model", "Usage-Based",
                f"2025-09-{day:02d}T{hh:02d}:00:00Z", f"2025-09-{day:02d}T{hh:02d}:59:59Z",
                quantity, "Tokens", cost, cost, "Example Cloud", cost, "Standard", quantity,
                "Tokens", "Example Cloud", "Example Cloud", "us-east-1",
                f"arn:example:ai:us-east-1:1234567890:endpoint/ep-{index % 997}",
                "AI and Machine Learning", "Example AI", "Generative AI", f"SKU-{index % 4}",
                meter, f"sub-{index % 13}", f"Sub account {index % 13}",
                json.dumps({"team": team, "env": "prod", "request": str(index)}),
            ])  # fmt: skip


def run_measured(command: list[str], env: dict[str, str]) -> tuple[float, float, str, float]:
    """(wall seconds, peak memory in MB, stdout, CPU seconds).

    CPU seconds are the process's and its waited-for children's (the parse worker: wait4
    counts both), reported too because the wall time on a shared machine says as much about
    the neighbours as about tokcli. Peak memory is the largest sum of the resident memory of
    the process and its children, sampled every 50 ms (the import and its parse worker live
    side by side), and never below the largest single process's own peak (ru_maxrss)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak_kb = [0]
    sampler = threading.Thread(target=_sample_tree_rss, args=(process.pid, peak_kb), daemon=True)
    sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    sampler.join()
    stdout = process.stdout.read().decode() if process.stdout else ""
    stderr = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command[0]} failed: {stderr.strip()[:500]}")
    peak_mb = max(usage.ru_maxrss, peak_kb[0]) / 1024  # kilobytes on Linux
    return elapsed, peak_mb, stdout, usage.ru_utime + usage.ru_stime


def _sample_tree_rss(pid: int, peak_kb: list[int]) -> None:
    """Keep in peak_kb[0] the largest resident memory (kB) of `pid` and its children together,
    until `pid` has exited."""
    while True:
        tree = [pid, *_children(pid)]
        total = sum(_rss_kb(member) for member in tree)
        if total == 0:
            return  # gone (or a zombie: no memory left)
        peak_kb[0] = max(peak_kb[0], total)
        time.sleep(0.05)


def _children(pid: int) -> list[int]:
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:  # field 4 of stat: the parent's pid
                children.append(int(entry))
    return children


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="keep the generated files in this folder")
    parser.add_argument(
        "--reuse", action="store_true", help="with --keep: use the CSV a run kept there before"
    )
    parser.add_argument(
        "--repeat", type=int, default=1,
        help="import with tokcli and with .import this many times, alternating (medians)",
    )  # fmt: skip
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="tokcli-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        bench(work, args.rows, reuse=args.reuse and args.keep is not None, repeat=args.repeat)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


def bench(work: Path, rows: int, *, reuse: bool = False, repeat: int = 1) -> None:
    data = work / "focus_1m.csv"
    started = time.perf_counter()
    if not (reuse and data.exists()):
        generate(data, rows)
    emit("generate_focus_csv", round(time.perf_counter() - started, 2), "s", "-", None,
         rows=rows, bytes=data.stat().st_size)  # fmt: skip

    env = {**os.environ, "TOKCLI_NOW": "2026-01-01T00:00:00Z", "NO_COLOR": "1"}
    store = work / "usage.db"
    command = [sys.executable, "-m", "tokcli", "import", str(data), "--store", str(store),
               "--format", "json"]  # fmt: skip
    sqlite_shell = shutil.which("sqlite3")
    shell_store = work / "shell.db"
    shell_command = [sqlite_shell or "sqlite3", str(shell_store), ".mode csv",
                     f".import {data} focus"]  # fmt: skip
    # On a shared or virtual machine one run of either says as much about the neighbours: with
    # --repeat the two import alternately into new stores, and the medians are compared.
    runs, shell_runs = [], []
    for _ in range(repeat):
        for stale in ("usage.db", "usage.db-wal", "usage.db-shm", "shell.db"):
            (work / stale).unlink(missing_ok=True)  # this run's or a kept folder's
        runs.append(run_measured(command, env))
        if sqlite_shell is not None:
            shell_runs.append(run_measured(shell_command, env))
    seconds = statistics.median(run[0] for run in runs)
    peak_mb = max(run[1] for run in runs)
    cpu = statistics.median(run[3] for run in runs)
    inserted = json.loads(runs[-1][2])["totals"]["inserted"]
    rate = rows / seconds
    emit("import_focus_rows_per_s", round(rate), "rows/s", "-", inserted == rows,
         rows=rows, inserted=inserted, seconds=round(seconds, 2),
         runs=[round(run[0], 2) for run in runs])  # fmt: skip
    emit("import_focus_rows_per_cpu_s", round(rows / cpu), "rows/CPU-s", "-", None,
         cpu_seconds=round(cpu, 2))  # fmt: skip
    emit("import_focus_peak_memory", round(peak_mb, 1), "MB", f"< {MEMORY_TARGET_MB} MB",
         peak_mb < MEMORY_TARGET_MB, note="import process and parse worker together")  # fmt: skip

    seconds_again, _, stdout, _ = run_measured(command, env)
    duplicates = json.loads(stdout)["totals"]["duplicates"]
    emit("reimport_same_file_rows_per_s", round(rows / seconds_again), "rows/s", "adds nothing",
         duplicates == rows, seconds=round(seconds_again, 2))  # fmt: skip

    if sqlite_shell is None:
        emit("sqlite3_shell_import", None, "s", "-", None,
             skipped="the sqlite3 shell is not installed (apt-get install -y sqlite3)")  # fmt: skip
        return
    shell_seconds = statistics.median(run[0] for run in shell_runs)
    shell_cpu = statistics.median(run[3] for run in shell_runs)
    emit("sqlite3_shell_import", round(shell_seconds, 2), "s", "-", None,
         rows_per_s=round(rows / shell_seconds), cpu_seconds=round(shell_cpu, 2),
         runs=[round(run[0], 2) for run in shell_runs])  # fmt: skip
    ratio = round(shell_seconds / seconds, 3)  # tokcli rows/s over .import rows/s
    pairs = [shell[0] / ours[0] for ours, shell in zip(runs, shell_runs, strict=True)]
    emit("import_rows_per_s_vs_sqlite3_import", ratio, "x", ">= 0.3x", ratio >= 0.3,
         anchor="sqlite3 shell .import of the same file, same run", runs=repeat,
         pair_ratios=[round(min(pairs), 3), round(max(pairs), 3)])  # fmt: skip
    emit("import_vs_sqlite3_shell", round(seconds / shell_seconds, 1), "x slower", "-", None,
         cpu_ratio=round(cpu / shell_cpu, 1),
         note="tokcli parses, normalises, hashes, prices and tags every row; .import only "
         "copies text")  # fmt: skip
    store_writes = sqlite_writes_alone(store, work / "writes-alone.db", env)
    emit("sqlite_writes_of_the_same_rows_alone", round(store_writes, 2), "s",
         f"<= {shell_seconds / 0.3:.2f} s leaves room for 0.3x", None,
         ratio_to_sqlite3_import=round(shell_seconds / store_writes, 3),
         tokcli_over_writes_alone=round(seconds / store_writes, 2),
         note="the usage and tag rows tokcli stored, inserted again into an empty store of the "
         "same schema by executemany in batches of 5,000, one transaction: what SQLite itself "
         "costs, with no parsing or Python work per row but building the batches")  # fmt: skip
    usage_writes = sqlite_writes_alone(store, work / "usage-alone.db", env, with_tags=False)
    emit("sqlite_writes_of_the_usage_rows_alone", round(usage_writes, 2), "s", "-", None,
         ratio_to_sqlite3_import=round(shell_seconds / usage_writes, 3),
         tag_rows_share=round(1 - usage_writes / store_writes, 3),
         note="the same, without the tag rows: the rest of the figure above is what storing "
         "one row per tag (the table, keyed by row and key, and one index) costs")  # fmt: skip


def sqlite_writes_alone(
    store: Path, empty: Path, env: dict[str, str], with_tags: bool = True
) -> float:
    """Wall seconds SQLite takes to insert the rows `store` holds (usage rows and their tags,
    as tokcli wrote them) into `empty`, a new store of the same schema: the floor under any
    import of this file into this schema, whatever the Python around it. Without `with_tags`,
    the usage rows alone: what the tag rows cost is the difference."""
    import sqlite3

    for suffix in ("", "-wal", "-shm"):
        Path(f"{empty}{suffix}").unlink(missing_ok=True)
    subprocess.run([sys.executable, "-m", "tokcli", "store", "info", "--store", str(empty)],
                   env=env, check=True, capture_output=True)  # fmt: skip
    source = sqlite3.connect(store)
    columns = [row[1] for row in source.execute("PRAGMA table_info(usage)")]
    usage = source.execute(f"SELECT {', '.join(columns)} FROM usage ORDER BY id").fetchall()
    tags = source.execute("SELECT usage_id, key, value FROM usage_tags ORDER BY usage_id")
    tags_by_id: dict[int, list[tuple]] = {}
    for row in tags:
        tags_by_id.setdefault(row[0], []).append(row)
    source.close()
    batches = []
    for start in range(0, len(usage), 5_000):
        batch = usage[start : start + 5_000]
        batch_tags = [tag for row in batch for tag in tags_by_id.get(row[0], ())]
        batches.append((batch, batch_tags if with_tags else []))
    insert_usage = (f"INSERT INTO usage ({', '.join(columns)}) "
                    f"VALUES ({', '.join('?' for _ in columns)})")  # fmt: skip
    conn = sqlite3.connect(empty, isolation_level=None)
    for pragma in ("journal_mode = WAL", "foreign_keys = ON", "synchronous = NORMAL"):
        conn.execute(f"PRAGMA {pragma}")  # as tokcli opens a store
    conn.execute("ATTACH DATABASE ? AS stored", (str(store),))
    conn.execute("INSERT INTO imports SELECT * FROM stored.imports")  # what usage rows cite
    conn.execute("DETACH DATABASE stored")
    started = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    for batch, batch_tags in batches:
        conn.executemany(insert_usage, batch)
        conn.executemany("INSERT INTO usage_tags (usage_id, key, value) VALUES (?, ?, ?)",
                         batch_tags)  # fmt: skip
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


if __name__ == "__main__":
    main()
