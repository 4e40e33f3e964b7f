"""The usage store: location, WAL, migrations that keep every row, atomic writes."""

from __future__ import annotations

import datetime as dt
import io
import sqlite3
from decimal import Decimal

import pytest

from tokcli.errors import TokcliError
from tokcli.store import connect, latest_version, migrate, schema_version, transaction
from tokcli.store.migrations import Migration, all_migrations
from tokcli.store.usage import UsageRecord, insert_usage

V1_ROWS = [
    # key, source, start, end, model, requests, input, cache_read, cache_write, output, billed
    ("k1", "openai-usage", "2026-05-01T00:00:00Z", "2026-05-02T00:00:00Z", "gpt-5", 10, 1000, 200,
     0, 500, "0.0125"),
    ("k2", "anthropic-usage", "2026-05-01T00:00:00Z", "2026-05-02T00:00:00Z", "claude-sonnet-4-6",
     3, 30, 9000, 4000, 700, "0.052"),
]  # fmt: skip


def _first_version_store(path):
    """A store exactly as schema version 1 left it, with rows and tags."""
    conn = connect(path, migrate_to=1)
    assert schema_version(conn) == 1
    conn.execute("INSERT INTO imports (id, format, started_at, status) "
                 "VALUES (1, 'openai-usage', '2026-05-03T00:00:00Z', 'done')")  # fmt: skip
    conn.executemany(
        "INSERT INTO usage (record_key, source, period_start, period_end, model, requests, "
        "input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, billed_cost, "
        "import_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,1)",
        V1_ROWS,
    )
    conn.execute("INSERT INTO usage_tags VALUES (1, 'team', 'search')")
    conn.close()


def test_first_schema_upgrades_with_every_row_kept(tmp_path):
    path = tmp_path / "old.db"
    _first_version_store(path)
    conn = connect(path)
    assert schema_version(conn) == latest_version() >= 2
    rows = conn.execute(
        "SELECT record_key, source, period_start, period_end, model, requests, input_tokens, "
        "cache_read_tokens, cache_write_5m_tokens, output_tokens, billed_cost FROM usage "
        "ORDER BY record_key"
    ).fetchall()
    assert [tuple(r) for r in rows] == V1_ROWS  # cache_write_tokens became cache_write_5m_tokens
    new_columns = conn.execute(
        "SELECT cache_write_1h_tokens, reasoning_tokens, charge_kind, list_cost FROM usage"
    ).fetchall()
    assert [tuple(r) for r in new_columns] == [(0, 0, "usage", None)] * 2
    assert [tuple(r) for r in conn.execute("SELECT key, value FROM usage_tags")] == [
        ("team", "search")
    ]
    assert conn.execute("SELECT COUNT(*) FROM imports").fetchone()[0] == 1
    applied = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
    assert applied[:2] == [1, 2]


@pytest.mark.sqlite_only(reason="the default SQLite path and its WAL journal")
def test_store_info_on_the_default_xdg_path(cli, isolated_env, tmp_path):
    result = cli("store", "info", "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["path"] == str(tmp_path / "home" / "data" / "tokcli" / "usage.db")
    assert data["schema_version"] == latest_version()
    assert data["journal_mode"] == "wal"
    assert data["tables"]["usage"] == 0


def test_store_flag_and_env_override(cli, tmp_path):
    flagged = tmp_path / "flag.db"
    env_path = tmp_path / "env.db"
    assert cli("store", "info", "--store", flagged, "-f", "json").json()["path"] == str(flagged)
    result = cli("store", "info", "-f", "json", env={"TOKCLI_STORE": str(env_path)})
    assert result.json()["path"] == str(env_path)
    assert cli("store", "path", "--store", flagged).stdout.strip() == str(flagged)


def test_store_from_a_newer_tokcli_is_refused(tmp_path):
    path = tmp_path / "future.db"
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA user_version = 999")
    raw.close()
    with pytest.raises(TokcliError, match="newer than this tokcli"):
        connect(path)


def test_not_a_database_exit_2(cli, tmp_path):
    path = tmp_path / "junk.db"
    path.write_text("this is not sqlite" * 100)
    result = cli("store", "info", "--store", path)
    assert result.exit_code == 2 and "cannot open the usage store" in result.stderr


def test_a_failing_migration_leaves_the_previous_version(tmp_path, monkeypatch):
    path = tmp_path / "s.db"
    conn = connect(path, migrate_to=1)

    def broken(c):
        c.execute("ALTER TABLE usage ADD COLUMN half_done TEXT")
        raise RuntimeError("power cut")

    import tokcli.store.migrations as migrations

    real = all_migrations()
    monkeypatch.setattr(migrations, "all_migrations",
                        lambda: [real[0], Migration(2, "broken", broken)])  # fmt: skip
    with pytest.raises(RuntimeError):
        migrate(conn)
    assert schema_version(conn) == 1
    columns = [r[1] for r in conn.execute("PRAGMA table_info(usage)")]
    assert "half_done" not in columns


def _record(key: str, **kw) -> UsageRecord:
    base = dict(record_key=key, source="test", period_start=dt.datetime(2026, 5, 1),
                period_end=dt.datetime(2026, 5, 2), model="gpt-5", input_tokens=100,
                billed_cost=Decimal("0.000125"), tags={"team": "search"})  # fmt: skip
    base.update(kw)
    return UsageRecord(**base)


def test_insert_usage_is_idempotent_and_exact(tmp_path):
    conn = connect(tmp_path / "s.db")
    with transaction(conn):
        first = insert_usage(conn, [_record("a"), _record("b")])
    with transaction(conn):
        again = insert_usage(conn, [_record("a"), _record("b"), _record("c")])
    assert (first.inserted, first.duplicates) == (2, 0)
    assert (again.inserted, again.duplicates) == (1, 2)
    assert conn.execute("SELECT COUNT(*) FROM usage").fetchone()[0] == 3
    assert conn.execute("SELECT COUNT(*) FROM usage_tags").fetchone()[0] == 3
    assert conn.execute("SELECT billed_cost, period_start FROM usage LIMIT 1").fetchone()[:] == (
        "0.000125",
        "2026-05-01T00:00:00Z",
    )


def test_a_failed_transaction_writes_nothing(tmp_path):
    conn = connect(tmp_path / "s.db")
    with pytest.raises(ValueError), transaction(conn):
        insert_usage(conn, [_record("a")])
        raise ValueError("bad row")
    assert conn.execute("SELECT COUNT(*) FROM usage").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM usage_tags").fetchone()[0] == 0


def test_two_connections_can_work_at_once(tmp_path):
    path = tmp_path / "s.db"
    writer, reader = connect(path), connect(path)
    with transaction(writer):
        insert_usage(writer, [_record("a")])
        # WAL: the reader is not blocked by the open write transaction.
        assert reader.execute("SELECT COUNT(*) FROM usage").fetchone()[0] == 0
    assert reader.execute("SELECT COUNT(*) FROM usage").fetchone()[0] == 1


def test_a_lower_numbered_migration_added_later_still_runs(tmp_path, monkeypatch):
    import tokcli.store.migrations as migrations

    path = tmp_path / "s.db"
    real = all_migrations()
    late = Migration(3, "late", lambda c: c.execute("CREATE TABLE late_feature (x)"))
    monkeypatch.setattr(migrations, "all_migrations", lambda: [*real[:2], Migration(
        9, "nine", lambda c: c.execute("CREATE TABLE nine (x)"))])  # fmt: skip
    conn = connect(path)
    assert schema_version(conn) == 9
    monkeypatch.setattr(migrations, "all_migrations", lambda: [*real[:2], late, Migration(
        9, "nine", lambda c: c.execute("CREATE TABLE nine (x)"))])  # fmt: skip
    migrate(conn)
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'late_feature'").fetchone()
    assert schema_version(conn) == 9


def test_batched_inserts_keep_each_rows_tags_and_each_days_rollup(tmp_path, monkeypatch):
    import tokcli.store.usage as usage

    monkeypatch.setattr(usage, "BATCH_ROWS", 2)  # several batches, a duplicate across them
    conn = connect(tmp_path / "s.db")
    conn.execute("DELETE FROM report_dirty_days")
    records = [
        _record(f"k{i}", period_start=dt.datetime(2026, 5, 1 + i % 3), tags={"n": str(i)})
        for i in range(7)
    ] + [_record("k1"), _record("k5")]  # restated within the same call: duplicates
    with transaction(conn):
        stats = insert_usage(conn, records)
    assert (stats.inserted, stats.duplicates, stats.duplicate_keys) == (7, 2, ["k1", "k5"])
    tags = conn.execute(
        "SELECT u.record_key, t.value FROM usage u JOIN usage_tags t ON t.usage_id = u.id"
    ).fetchall()
    assert sorted(map(tuple, tags)) == sorted((f"k{i}", str(i)) for i in range(7))
    # No per-row insert trigger is left (m0013); the writer keeps each day's rollup itself:
    # no day waits for a rebuild, and each day's rollup counts its rows once.
    triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
    assert not {"report_usage_inserted", "report_tags_inserted"} & triggers
    assert conn.execute("SELECT COUNT(*) FROM report_dirty_days").fetchone()[0] == 0
    per_day = conn.execute(
        "SELECT day, SUM(usage_rows) FROM report_rollup GROUP BY day ORDER BY day"
    ).fetchall()
    assert [tuple(r) for r in per_day] == [("2026-05-01", 3), ("2026-05-02", 2), ("2026-05-03", 2)]
    per_tag = conn.execute("SELECT value, usage_rows FROM report_tag_rollup WHERE key = 'n'")
    assert sorted(tuple(r) for r in per_tag) == [(str(i), 1) for i in range(7)]


@pytest.mark.sqlite_only("SQLite's own choice of row ids")
def test_tags_reach_their_rows_when_sqlite_picks_the_ids(tmp_path):
    """SQLite gives a new row the largest id + 1, which the writer counts on to tag a batch's
    rows without reading their ids back; past the largest id there is (2**63 - 1) it picks
    unused ids at random, and the writer must read them back instead."""
    conn = connect(tmp_path / "s.db")
    with transaction(conn):
        insert_usage(conn, [_record("first", tags={"team": "first"})])
        conn.execute("PRAGMA defer_foreign_keys = ON")  # the two updates agree at the commit
        conn.execute("UPDATE usage SET id = 9223372036854775807")  # the largest id there is
        conn.execute("UPDATE usage_tags SET usage_id = 9223372036854775807")
    records = [_record(f"k{i}", tags={"n": str(i)} if i % 3 else {}) for i in range(8)]
    with transaction(conn):
        stats = insert_usage(conn, records)
    assert stats.inserted == 8
    tags = conn.execute(
        "SELECT u.record_key, t.key, t.value FROM usage u JOIN usage_tags t ON t.usage_id = u.id"
    ).fetchall()
    expected = [("first", "team", "first")] + [(f"k{i}", "n", str(i)) for i in range(8) if i % 3]
    assert sorted(map(tuple, tags)) == sorted(expected)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_person_at_a_terminal_is_told_before_an_existing_store_is_upgraded(tmp_path):
    from tokcli.cli.common import Runtime
    from tokcli.store.migrations import all_migrations

    path = tmp_path / "old.db"
    connect(path, migrate_to=17).close()
    terminal = _Terminal()
    Runtime(store_flag=path, stderr=terminal).open_store().close()
    newer = [m.name for m in all_migrations() if m.version > 17]
    assert terminal.getvalue() == (
        f"tokcli: upgrading the store to this version's schema ({', '.join(newer)}); "
        "once, and it may take a minute on a large store\n"
    )
    again = _Terminal()  # up to date: nothing to say
    Runtime(store_flag=path, stderr=again).open_store().close()
    assert again.getvalue() == ""


def test_a_new_store_and_a_script_are_told_nothing(tmp_path):
    from tokcli.cli.common import Runtime

    terminal = _Terminal()
    Runtime(store_flag=tmp_path / "new.db", stderr=terminal).open_store().close()
    assert terminal.getvalue() == ""  # creating a store is no upgrade
    old = tmp_path / "old.db"
    connect(old, migrate_to=17).close()
    script = io.StringIO()  # a pipe, a cron job's log
    conn = Runtime(store_flag=old, stderr=script).open_store()
    assert script.getvalue() == "" and schema_version(conn) == latest_version()
    conn.close()
