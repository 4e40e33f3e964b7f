"""Benchmark `tokcli report` on a store of 10,000,000 usage rows.

Builds the store once inside SQLite (one INSERT ... SELECT over a recursive CTE per chunk),
caches it under bench/out/, and keeps the rollups as an import does: each chunk's rows are read
back and handed to the insert path's upkeep (store.rollups.RollupUpkeep), timed apart
("upkeep"). With --upkeep rebuild the chunks' days are only marked dirty instead, as imports
did before issue 17, so the first report rebuilds every day. Then times the real command line
in fresh processes.

Prints one JSON object per line per figure:
    {"benchmark": ..., "value": ..., "unit": "s", "target": "< 1 s", "ok": ...}

    .venv/bin/python bench/bench_report.py [--rows 10000000] [--runs 5] [--rebuild]
                                           [--upkeep write|rebuild]
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

OUT = Path(__file__).resolve().parent / "out"
DAYS = 365
FIRST_DAY = "2025-12-01"
TEAMS = 20
MODELS = ("gpt-5", "gpt-5-mini", "claude-sonnet-4-6", "claude-haiku-4-5", "gemini-2.5-pro",
          "gemini-2.5-flash", "deepseek-chat", "gpt-4.1")  # fmt: skip


def emit(benchmark: str, value: float, unit: str, target: str, ok: bool | None) -> None:
    record = {"benchmark": benchmark, "value": round(value, 3), "unit": unit, "target": target,
              "ok": ok}  # fmt: skip
    print(json.dumps(record), flush=True)


CHUNK = 250_000


ENVS = ("dev", "staging", "prod")


def build_store(path: Path, rows: int, upkeep: str = "write") -> float:
    """10M rows in time order over a year: 20 teams (10% of rows untagged), 3 environments
    (a quarter untagged), 8 models, 2 tiers, exact decimal-string costs with 6 places. Inserted
    in chunks, each its own transaction, so SQLite's statement journal stays small and the WAL
    is checkpointed as it goes. Returns the CPU seconds of the rollup upkeep."""
    from tokcli.store import connect, transaction

    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    conn = connect(path)
    conn.execute("PRAGMA cache_size = -262144")  # 256 MiB of page cache for the bulk load
    per_day = -(-rows // DAYS)
    upkeep_seconds = 0.0
    for first in range(0, rows, CHUNK):
        last = min(first + CHUNK, rows) - 1
        with transaction(conn):
            conn.execute(_usage_chunk_sql(first, last, per_day))
            conn.execute(
                f"INSERT INTO usage_tags (usage_id, key, value) "
                f"SELECT id, 'team', 'team-' || printf('%02d', (id * 7) % {TEAMS}) FROM usage "
                f"WHERE id > {first} AND id <= {last + 1} AND id % 10 != 0"
            )
            conn.execute(
                f"INSERT INTO usage_tags (usage_id, key, value) "
                f"SELECT id, 'env', CASE id % 3 WHEN 0 THEN 'dev' WHEN 1 THEN 'staging' "
                f"ELSE 'prod' END FROM usage "
                f"WHERE id > {first} AND id <= {last + 1} AND id % 4 != 0"
            )
            if upkeep == "write":
                upkeep_seconds += _keep_rollups(conn, first, last)
            else:  # as imports did before issue 17: the first report rebuilds these days
                conn.execute(
                    f"INSERT OR IGNORE INTO report_dirty_days (day) SELECT DISTINCT "
                    f"substr(period_start, 1, 10) FROM usage "
                    f"WHERE id > {first} AND id <= {last + 1}"
                )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return upkeep_seconds


def written_rows(conn, first: int, last: int) -> list[tuple]:
    """The chunk's rows as the insert path hands them to the upkeep (store.rollups.WrittenRow),
    read back from the database (not timed: an import holds them in memory already)."""
    from decimal import Decimal

    tags: dict[int, list[tuple[str, str]]] = {}
    for usage_id, key, value in conn.execute(
        "SELECT usage_id, key, value FROM usage_tags WHERE usage_id > ? AND usage_id <= ?",
        (first, last + 1),
    ):
        tags.setdefault(usage_id, []).append((key, value))
    rows = conn.execute(
        "SELECT id, substr(period_start, 1, 10), COALESCE(provider, ''), "
        "COALESCE(model, model_raw, ''), service_tier, source, COALESCE(currency, ''), "
        "billed_cost, list_cost, requests, input_tokens, cache_read_tokens, "
        "cache_write_5m_tokens + cache_write_1h_tokens, output_tokens, reasoning_tokens "
        "FROM usage WHERE id > ? AND id <= ?",
        (first, last + 1),
    )
    return [
        (*r[1:7], None if r[7] is None else Decimal(r[7]), None if r[8] is None else Decimal(r[8]),
         *r[9:15], tuple(tags.get(r[0], ())))
        for r in rows
    ]  # fmt: skip


def _keep_rollups(conn, first: int, last: int) -> float:
    """What an import's insert path does for the rows of one transaction (the chunk): each
    batch's sums added to the transaction's upkeep, flushed once before the commit; timed in CPU
    seconds."""
    from tokcli.store.rollups import RollupUpkeep
    from tokcli.store.usage import BATCH_ROWS

    rows = written_rows(conn, first, last)
    started = time.process_time()
    upkeep = RollupUpkeep()
    for start in range(0, len(rows), BATCH_ROWS):
        upkeep.add(rows[start : start + BATCH_ROWS])
        if upkeep.pending_keys() > upkeep.FLUSH_KEYS:
            upkeep.flush(conn)
    upkeep.flush(conn)
    return time.process_time() - started


def _usage_chunk_sql(first: int, last: int, per_day: int) -> str:
    models = " ".join(f"WHEN {i} THEN '{m}'" for i, m in enumerate(MODELS))
    day = f"date('{FIRST_DAY}', '+' || (i / {per_day}) || ' days')"
    return f"""
        WITH RECURSIVE n(i) AS (SELECT {first} UNION ALL SELECT i + 1 FROM n WHERE i < {last})
        INSERT INTO usage (record_key, source, period_start, period_end, provider, model,
                           service_tier, requests, input_tokens, cache_read_tokens,
                           output_tokens, billed_cost, currency, list_cost)
        SELECT 'bench-' || i, 'bench',
               {day} || printf('T%02d:%02d:00Z', (i / 60) % 24, i % 60),
               {day} || printf('T%02d:%02d:59Z', (i / 60) % 24, i % 60),
               CASE WHEN i % 8 < 2 OR i % 8 = 7 THEN 'openai'
                    WHEN i % 8 < 4 THEN 'anthropic'
                    WHEN i % 8 < 6 THEN 'google' ELSE 'deepseek' END,
               CASE i % 8 {models} END,
               CASE WHEN i % 5 = 0 THEN 'batch' ELSE 'standard' END,
               1 + i % 3, 500 + i % 2000, i % 1500, 100 + i % 900,
               printf('%d.%06d', (i % 7), (i * 7919) % 1000000), 'USD',
               printf('%d.%06d', (i % 7) + 1, (i * 104729) % 1000000)
          FROM n
    """


def run_report(store: Path, *args: str) -> tuple[float, float]:
    """Wall time (s) and peak RSS (MiB) of one `python -m tokcli report ...` process.

    Peak memory comes from GNU time (`%M`): a child forked straight from this process would
    report this process's pages (the bulk load's page cache) as its own maximum."""
    env = {**os.environ, "TOKCLI_STORE": str(store), "NO_COLOR": "1"}
    command = [sys.executable, "-m", "tokcli", "report", *args, "--format", "json"]
    started = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "peak_kib=%M", *command],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"report {' '.join(args)} failed: {proc.stderr}")
    peak_kib = int(proc.stderr.rsplit("peak_kib=", 1)[1].split()[0])
    return elapsed, peak_kib / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true", help="Rebuild the cached store.")
    parser.add_argument("--upkeep", choices=("write", "rebuild"), default="write",
                        help="Keep the rollups at write time (as imports do) or mark the days "
                             "dirty for the first report to rebuild.")  # fmt: skip
    parser.add_argument(
        "--duckdb-python",
        help="A Python with duckdb installed: times DuckDB's "
        "GROUP BY over the same rows as the anchor of the two-tag reports.",
    )
    options = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    store = OUT / f"report-{options.rows}-{options.upkeep}.db"
    ready = OUT / f"report-{options.rows}-{options.upkeep}.ready"
    if options.rebuild or not ready.exists():
        ready.unlink(missing_ok=True)
        started = time.perf_counter()
        upkeep = build_store(store, options.rows, options.upkeep)
        emit("build_store_rows", options.rows, "rows", "-", None)
        emit("build_store", time.perf_counter() - started, "s", "one-off, not a target", None)
        emit("rollup_upkeep_at_write_cpu", upkeep, "CPU-s", "part of the 10 s", None)
        elapsed, rss = run_report(store, "--by", "month")  # rebuilds what is dirty, if anything
        emit("first_report_after_bulk_load", elapsed, "s", "< 10 s with the upkeep",
             elapsed + upkeep < 10)  # fmt: skip
        emit("first_report_peak_rss", rss, "MiB", "bounded", None)
        ready.touch()
    month = "2026-10"
    for name, args in (
        ("report_by_team_month", ("--by", "team", "--month", month)),
        ("report_by_day", ("--by", "day")),
        ("report_summary", ()),
        ("report_by_team_env_month", ("--by", "team,env", "--month", month)),
        ("report_by_team_env", ("--by", "team,env")),
        # A tag with a dimension the base rollup has and the tag rollups keep since m0017.
        ("report_by_team_provider_month", ("--by", "team,provider", "--month", month)),
        ("report_by_team_env_source", ("--by", "team,env,source")),
        # A tag filtered by another: the pair rollup's sums of that value.
        (
            "report_by_team_where_env_month",
            ("--by", "team", "--where", "env=prod", "--month", month),
        ),
    ):
        runs = [run_report(store, *args) for _ in range(options.runs)]
        seconds = statistics.median(r[0] for r in runs)
        emit(name, seconds, "s", "< 1 s", seconds < 1)
        peak = max(r[1] for r in runs)
        emit(f"{name}_peak_rss", peak, "MiB", "< 200 MiB", peak < 200)
    if options.duckdb_python:
        duckdb_anchor(store, options.duckdb_python, options.runs, month)
    emit("report_by_day_after_one_day_changed", incremental(store), "s", "informational", None)


_DUCKDB_BY_TEAM_ENV = """
    SELECT team.value, env.value, u.currency, SUM(u.billed_cost), SUM(u.list_cost), COUNT(*),
           SUM(u.input_tokens), SUM(u.output_tokens)
      FROM usage u
      LEFT JOIN usage_tags team ON team.usage_id = u.id AND team.key = 'team'
      LEFT JOIN usage_tags env ON env.usage_id = u.id AND env.key = 'env'
     WHERE {where} GROUP BY ALL
"""


def _duckdb_load(table: str, columns: dict[str, str]) -> str:
    return (f"CREATE TABLE {table} AS SELECT * FROM read_csv('{OUT / (table + '.csv')}', "
            f"header = false, columns = {columns!r})")  # fmt: skip


def duckdb_anchor(store: Path, python: str, runs: int, month: str) -> None:
    """DuckDB over the same usage and tag rows (exact DECIMAL sums), in fresh processes: the
    anchor issue 17 names for reports by two tag keys. The DuckDB file is built once."""
    import csv
    import sqlite3

    database = store.with_suffix(".duckdb")
    if not database.exists():
        conn = sqlite3.connect(store)
        for table, columns in (
            ("usage", "id, period_start, currency, billed_cost, list_cost, input_tokens, "
                      "output_tokens"),
            ("usage_tags", "usage_id, key, value"),
        ):  # fmt: skip
            with open(OUT / f"{table}.csv", "w", newline="") as out:
                csv.writer(out).writerows(conn.execute(f"SELECT {columns} FROM {table}"))
        conn.close()
        usage_columns = {"id": "BIGINT", "period_start": "VARCHAR", "currency": "VARCHAR",
                         "billed_cost": "DECIMAL(38,12)", "list_cost": "DECIMAL(38,12)",
                         "input_tokens": "BIGINT", "output_tokens": "BIGINT"}  # fmt: skip
        tag_columns = {"usage_id": "BIGINT", "key": "VARCHAR", "value": "VARCHAR"}
        load = "; ".join([
            "import duckdb",
            f"c = duckdb.connect({str(database)!r})",
            f"c.execute({_duckdb_load('usage', usage_columns)!r})",
            f"c.execute({_duckdb_load('usage_tags', tag_columns)!r})",
            "c.close()",
        ])  # fmt: skip
        subprocess.run([python, "-c", load], check=True)
    low, high = f"{month}-01", f"{month[:5]}{int(month[5:]) + 1:02d}-01"
    for name, where in (
        ("duckdb_by_team_env_month", f"u.period_start >= '{low}' AND u.period_start < '{high}'"),
        ("duckdb_by_team_env", "TRUE"),
    ):
        query = _DUCKDB_BY_TEAM_ENV.format(where=where)
        code = (f"import duckdb; c = duckdb.connect({str(database)!r}, read_only=True); "
                "c.execute('SET enable_progress_bar = false'); "
                f"c.execute({query!r}).fetchall()")  # fmt: skip
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run([python, "-c", code], check=True)
            times.append(time.perf_counter() - started)
        emit(name, statistics.median(times), "s", "anchor", None)


def incremental(store: Path) -> float:
    """A late import touches one day: the next report rebuilds that day only."""
    from tokcli.store import connect, transaction

    conn = connect(store)
    with transaction(conn):
        conn.execute(
            "UPDATE usage SET billed_cost = billed_cost WHERE id = (SELECT MAX(id) FROM usage)"
        )
    conn.close()
    elapsed, _ = run_report(store, "--by", "day")
    return elapsed


if __name__ == "__main__":
    main()
