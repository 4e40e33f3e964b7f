#!/usr/bin/env python3
"""PostgreSQL beside SQLite (issue 19): the same import and the same reports on both backends.

1. Import rate: `tokcli import` of one generated FOCUS CSV (--import-rows, default 200,000) into
   an empty store of each backend; rows/s and the PostgreSQL/SQLite ratio.
2. Reports at size: a store of --rows usage rows (default 10,000,000) built in bulk inside each
   database (the same rows: bench_report.py's recipe), then the first report (it builds the
   rollups) and the median of --runs runs of the everyday reports, in fresh processes.

The PostgreSQL server is TOKCLI_BENCH_POSTGRESQL if set, else a throwaway one started with
tests/pg_server.py (initdb in a temporary folder, 127.0.0.1). Prints one JSON object per figure:

    .venv/bin/python bench/bench_store_backends.py [--rows 10000000] [--import-rows 200000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

from bench_import import generate  # noqa: E402
from bench_report import CHUNK, DAYS, FIRST_DAY, MODELS, TEAMS, build_store  # noqa: E402

REPORTS = (
    ("report_by_team_month", ("--by", "team", "--month", "2026-10")),
    ("report_by_team_model_month", ("--by", "team,model", "--month", "2026-10")),
    ("report_by_team_env_month", ("--by", "team,env", "--month", "2026-10")),
    ("report_by_day", ("--by", "day")),
    ("report_summary", ()),
)


def emit(benchmark: str, value, unit: str, **extra) -> None:
    print(json.dumps({"benchmark": benchmark, "value": value, "unit": unit, **extra}), flush=True)


def tokcli(store: str, *args: str) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one `python -m tokcli ...` process. Its output goes to
    /dev/null: a pipe nobody reads would block a large report."""
    env = {**os.environ, "TOKCLI_STORE": store, "NO_COLOR": "1"}
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "tokcli", *args], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        error = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"tokcli {' '.join(args)} failed: {error.strip()[:500]}")
    return elapsed, usage.ru_maxrss / 1024


def fresh_schema(server: str, name: str) -> str:
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        conn.execute(f"CREATE SCHEMA {name}")
    return f"{server}?options=-csearch_path%3D{name}"


def build_postgresql(url: str, rows: int) -> None:
    """bench_report.build_store's rows, generated inside PostgreSQL."""
    import psycopg

    from tokcli.store import connect

    connect(url).close()  # the schema, by the migrations
    per_day = -(-rows // DAYS)
    models = " ".join(f"WHEN {i} THEN '{m}'" for i, m in enumerate(MODELS))
    day = f"to_char(DATE '{FIRST_DAY}' + (i / {per_day})::int, 'YYYY-MM-DD')"
    with psycopg.connect(url, autocommit=True) as conn:
        for first in range(0, rows, CHUNK):
            last = min(first + CHUNK, rows) - 1
            with conn.transaction():
                conn.execute(f"""
                    INSERT INTO usage (id, record_key, source, period_start, period_end,
                        provider, model, service_tier, requests, input_tokens,
                        cache_read_tokens, output_tokens, billed_cost, currency, list_cost)
                    OVERRIDING SYSTEM VALUE
                    SELECT i + 1, 'bench-' || i, 'bench',
                        {day} || 'T' || lpad(((i / 60) % 24)::text, 2, '0') || ':'
                            || lpad((i % 60)::text, 2, '0') || ':00Z',
                        {day} || 'T' || lpad(((i / 60) % 24)::text, 2, '0') || ':'
                            || lpad((i % 60)::text, 2, '0') || ':59Z',
                        CASE WHEN i % 8 < 2 OR i % 8 = 7 THEN 'openai'
                             WHEN i % 8 < 4 THEN 'anthropic'
                             WHEN i % 8 < 6 THEN 'google' ELSE 'deepseek' END,
                        CASE i % 8 {models} END,
                        CASE WHEN i % 5 = 0 THEN 'batch' ELSE 'standard' END,
                        1 + i % 3, 500 + i % 2000, i % 1500, 100 + i % 900,
                        ((i % 7) || '.' || lpad(((i * 7919) % 1000000)::text, 6, '0'))::numeric,
                        'USD',
                        ((i % 7 + 1) || '.'
                            || lpad(((i * 104729) % 1000000)::text, 6, '0'))::numeric
                    FROM generate_series({first}::bigint, {last}::bigint) AS i
                """)  # fmt: skip
                conn.execute(f"""
                    INSERT INTO usage_tags (usage_id, key, value)
                    SELECT id, 'team', 'team-' || lpad(((id * 7) % {TEAMS})::text, 2, '0')
                    FROM usage WHERE id > {first} AND id <= {last + 1} AND id % 10 != 0
                """)  # fmt: skip
                conn.execute(f"""
                    INSERT INTO usage_tags (usage_id, key, value)
                    SELECT id, 'env', CASE id % 3 WHEN 0 THEN 'dev' WHEN 1 THEN 'staging'
                                      ELSE 'prod' END
                    FROM usage WHERE id > {first} AND id <= {last + 1} AND id % 4 != 0
                """)  # fmt: skip
                # The days are marked for the first report to rebuild (inside PostgreSQL,
                # with NUMERIC sums); the SQLite store keeps its rollups as an import does.
                conn.execute(f"""
                    INSERT INTO report_dirty_days (day)
                    SELECT DISTINCT substr(period_start, 1, 10) FROM usage
                    WHERE id > {first} AND id <= {last + 1} ON CONFLICT DO NOTHING
                """)  # fmt: skip
        conn.execute("SELECT setval(pg_get_serial_sequence('usage', 'id'), max(id)) FROM usage")
        conn.execute("ANALYZE")


def bench_import(server: str, work: Path, rows: int) -> None:
    csv_path = work / "focus.csv"
    generate(csv_path, rows)
    rates = {}
    for backend, store in (
        ("sqlite", str(work / "import.db")),
        ("postgresql", fresh_schema(server, "bench_import")),
    ):
        elapsed, peak = tokcli(store, "import", str(csv_path), "--quiet")
        rates[backend] = rows / elapsed
        emit(f"import_rows_per_s_{backend}", round(rates[backend]), "rows/s", rows=rows)
        emit(f"import_peak_rss_{backend}", round(peak), "MB")
    emit("import_rate_postgresql_over_sqlite", round(rates["postgresql"] / rates["sqlite"], 2), "x")


def bench_reports(server: str, work: Path, rows: int, runs: int) -> None:
    stores = {"sqlite": str(work / "report.db"), "postgresql": fresh_schema(server, "bench_rep")}
    started = time.perf_counter()
    upkeep = build_store(Path(stores["sqlite"]), rows)
    emit("build_sqlite", round(time.perf_counter() - started, 1), "s", rows=rows)
    emit("rollup_upkeep_at_write_cpu_sqlite", round(upkeep, 2), "CPU-s", rows=rows)
    started = time.perf_counter()
    build_postgresql(stores["postgresql"], rows)
    emit("build_postgresql", round(time.perf_counter() - started, 1), "s", rows=rows)
    for backend, store in stores.items():
        elapsed, peak = tokcli(store, "report", "--by", "month", "--format", "json")
        note = "rebuilds every day in SQL" if backend == "postgresql" else "rollups kept at write"
        emit(f"first_report_{backend}", round(elapsed, 2), "s", note=note)
        emit(f"first_report_peak_rss_{backend}", round(peak), "MB")
        for name, args in REPORTS:
            times = [tokcli(store, "report", *args, "--format", "json")[0] for _ in range(runs)]
            emit(f"{name}_{backend}", round(statistics.median(times), 3), "s", target="< 1 s")
    rebuild_paths(stores["postgresql"])


def rebuild_paths(url: str) -> None:
    """Every day rebuilt twice in one process on PostgreSQL: row by row in Python (the path
    SQLite takes, and PostgreSQL's before issue 17) and inside the server with NUMERIC sums."""
    import tokcli.store.rollups as store_rollups
    from tokcli.reporting.rollups import refresh
    from tokcli.store import connect, transaction

    conn = connect(url)
    in_server = store_rollups.sums_in_database
    for name, sums_in_database in (("python", lambda conn: False), ("sql", in_server)):
        with transaction(conn):
            conn.execute("INSERT OR IGNORE INTO report_dirty_days (day) "
                         "SELECT DISTINCT substr(period_start, 1, 10) FROM usage")  # fmt: skip
        store_rollups.sums_in_database = sums_in_database  # type: ignore[assignment]
        started = time.perf_counter()
        days = refresh(conn)
        emit(f"rebuild_all_days_postgresql_{name}", round(time.perf_counter() - started, 2),
             "s", days=days)  # fmt: skip
    store_rollups.sums_in_database = in_server  # type: ignore[assignment]
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--import-rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tokcli-bench-backends-"))
    server, folder = os.environ.get("TOKCLI_BENCH_POSTGRESQL"), None
    if not server:
        import pg_server

        folder = Path(tempfile.mkdtemp(prefix="tokcli-bench-pg-"))
        server = pg_server.start(folder)
    try:
        emit("machine_cpus", os.cpu_count(), "cores")
        bench_import(server, work, options.import_rows)
        bench_reports(server, work, options.rows, options.runs)
    finally:
        if folder is not None:
            import pg_server

            pg_server.stop(folder)
            shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
