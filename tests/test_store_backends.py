"""The store contract on both backends: SQLite (embedded) and PostgreSQL (a team's shared store).

The rest of the store-touching suite runs on both through conftest's `store_backend`; these
tests are about what only shows with two backends side by side: the same import and report give
the same JSON on both, money is NUMERIC, migrations are recorded alike, `store copy` moves a store
both ways verified by totals, a password never shows, several processes import at once, a second
host's `batch poll --all` does not act twice, and LiteLLM's own database imports incrementally.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal

from conftest import FIXTURES, REPO, SAMPLES

REAL_INPUTS = ["focus", "focus-ai", "openai-usage-api", "claude-code-jsonl", "azure-cost-export"]
REPORTS = [
    ("--by", "model"),
    ("--by", "source,month"),
    ("--by", "project"),
    ("--by", "session"),
    ("--by", "model,day"),
]


def _import_real_samples(cli, store: str) -> None:
    for name in REAL_INPUTS:
        result = cli("import", SAMPLES / name, "--store", store, "--format", "json")
        assert result.exit_code == 0, result.stderr


def _reports(cli, store: str) -> list[dict]:
    documents = []
    for args in REPORTS:
        result = cli("report", *args, "--store", store, "--format", "json")
        assert result.exit_code == 0, result.stderr
        documents.append(result.json())
    return documents


def test_the_same_import_and_report_give_identical_json_on_both(cli, tmp_path, postgresql_store):
    sqlite_store = str(tmp_path / "usage.db")
    _import_real_samples(cli, sqlite_store)
    _import_real_samples(cli, postgresql_store)
    on_sqlite, on_postgresql = _reports(cli, sqlite_store), _reports(cli, postgresql_store)
    assert on_sqlite == on_postgresql
    # Not vacuous: the reports hold real money and several groups.
    assert len(on_sqlite[0]["rows"]) >= 5
    exports = [cli("export", "--store", store).stdout for store in (sqlite_store, postgresql_store)]
    assert exports[0] == exports[1] and exports[0].count("\n") > 50


def test_reimport_adds_nothing_on_postgresql(cli, postgresql_store):
    _import_real_samples(cli, postgresql_store)
    before = _reports(cli, postgresql_store)
    rows = cli("store", "info", "--store", postgresql_store, "-f", "json").json()["tables"]
    for name in REAL_INPUTS:  # a complete billing set replaces its period; the rest dedupe
        again = cli("import", SAMPLES / name, "--store", postgresql_store, "--format", "json")
        assert again.exit_code == 0
        totals = again.json()["totals"]
        assert totals["inserted"] == totals["replaced"], name
    after = cli("store", "info", "--store", postgresql_store, "-f", "json").json()["tables"]
    assert after["usage"] == rows["usage"] and after["usage_tags"] == rows["usage_tags"]
    assert _reports(cli, postgresql_store) == before


def test_money_is_numeric_and_migrations_are_recorded_alike(cli, tmp_path, postgresql_store):
    import sqlite3

    import psycopg

    from tokcli.store import latest_version

    cli("store", "info", "--store", postgresql_store)
    cli("store", "info", "--store", tmp_path / "s.db")
    with psycopg.connect(postgresql_store) as conn:
        types = dict(
            conn.execute(
                "SELECT table_name || '.' || column_name, data_type "
                "FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND column_name IN "
                "('billed_cost', 'list_cost', 'unbilled_list_cost')"
            ).fetchall()
        )
        on_postgresql = conn.execute(
            "SELECT version, name FROM schema_migrations ORDER BY version"
        ).fetchall()
    assert types["usage.billed_cost"] == "numeric"
    assert types["usage.list_cost"] == "numeric"
    assert types["report_rollup.billed_cost"] == "numeric"
    raw = sqlite3.connect(tmp_path / "s.db")
    on_sqlite = raw.execute(
        "SELECT version, name FROM schema_migrations ORDER BY version"
    ).fetchall()
    assert [tuple(r) for r in on_postgresql] == on_sqlite
    assert on_sqlite[-1][0] == latest_version()


def test_store_migrate_applies_what_is_pending_on_postgresql(postgresql_store, cli):
    from tokcli.store import connect, latest_version, schema_version

    connect(postgresql_store, migrate_to=5).close()
    result = cli("store", "migrate", "--store", postgresql_store, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["from_schema_version"] == 5
    assert data["schema_version"] == latest_version()
    assert data["applied"] == ["import_part_sets", "rollup_cost_basis", "batch_recovery",
                               "mark_days_per_batch", "report_tag_pair_rollup",
                               "text_in_byte_order", "tag_rollups_by_cell",
                               "unrolled_tag_keys", "tags_without_rowid"]  # fmt: skip
    conn = connect(postgresql_store)
    assert schema_version(conn) == latest_version()
    conn.close()


def test_store_copy_both_ways_is_verified_and_idempotent(cli, tmp_path, postgresql_store):
    laptop = str(tmp_path / "laptop.db")
    _import_real_samples(cli, laptop)
    expected = _reports(cli, laptop)

    first = cli("store", "copy", laptop, postgresql_store, "--format", "json")
    assert first.exit_code == 0, first.stderr
    copied = first.json()
    assert copied["verified"] is True and copied["usage_copied"] > 50
    assert _reports(cli, postgresql_store) == expected

    again = cli("store", "copy", laptop, postgresql_store, "--format", "json").json()
    assert again["usage_copied"] == 0 and again["usage_already_present"] == copied["usage_copied"]
    assert _reports(cli, postgresql_store) == expected

    back = str(tmp_path / "back.db")
    returned = cli("store", "copy", postgresql_store, back, "--format", "json")
    assert returned.exit_code == 0, returned.stderr
    assert _reports(cli, back) == expected
    # The totals it verified are the source's own, computed here from the usage rows.
    import sqlite3

    raw = sqlite3.connect(laptop)
    billed = sum(
        (Decimal(v) for (v,) in raw.execute("SELECT billed_cost FROM usage WHERE currency = 'USD' "
                                            "AND billed_cost IS NOT NULL")),
        Decimal(0),
    )  # fmt: skip
    assert Decimal(copied["totals"]["money"]["billed_cost"]["USD"]) == billed


def test_store_copy_refuses_to_hide_a_conflict(cli, tmp_path, postgresql_store):
    """A destination row with the same record key but other values fails the verification."""
    import psycopg

    laptop = str(tmp_path / "laptop.db")
    _import_real_samples(cli, laptop)
    cli("store", "copy", laptop, postgresql_store)
    with psycopg.connect(postgresql_store, autocommit=True) as conn:
        conn.execute(
            "UPDATE usage SET billed_cost = billed_cost + 1 "
            "WHERE id = (SELECT MIN(id) FROM usage WHERE billed_cost IS NOT NULL)"
        )
    result = cli("store", "copy", laptop, postgresql_store)
    assert result.exit_code == 2
    assert "totals differ" in result.stderr


def test_the_password_never_shows(cli, postgresql_server, postgresql_store):
    secret = "s3cr3t-Pa55word"
    with_password = postgresql_store.replace("tokcli@", f"tokcli:{secret}@")
    outputs = [
        cli("store", "info", "--store", with_password, "--format", "json"),
        cli("store", "path", "--store", with_password),
        cli("import", SAMPLES / "focus-ai", "--store", with_password),
        cli("report", "--store", with_password, "--format", "json"),
        # A server that is not there: the driver's error must not carry the password either.
        cli("report", "--store", with_password.replace(
            postgresql_server.split("@")[1].split("/")[0], "127.0.0.1:1")),
    ]  # fmt: skip
    for result in outputs:
        assert secret not in result.stdout + result.stderr
    assert outputs[-1].exit_code == 2
    assert "tokcli:***@127.0.0.1:1" in outputs[-1].stderr
    assert "***" in outputs[0].json()["path"]
    import psycopg

    with psycopg.connect(postgresql_store) as conn:
        stored = conn.execute("SELECT COALESCE(string_agg(path, ' '), '') FROM imports").fetchone()
    assert secret not in stored[0]


def test_several_processes_import_at_once(postgresql_store, tmp_path, cli):
    """Four processes import into one PostgreSQL store at the same moment (two of them the same
    file): every row lands once, and the totals are those of a sequential import."""
    files = [SAMPLES / "focus-ai", SAMPLES / "openai-usage-api", SAMPLES / "focus-ai",
             SAMPLES / "claude-code-jsonl"]  # fmt: skip
    env = {**os.environ, "TOKCLI_STORE": postgresql_store}
    procs = [
        subprocess.Popen([sys.executable, "-m", "tokcli", "import", str(f), "--quiet"],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for f in files
    ]  # fmt: skip
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    sequential = str(tmp_path / "sequential.db")
    for f in files:
        cli("import", f, "--store", sequential, "--quiet")
    assert _reports(cli, postgresql_store) == _reports(cli, sequential)


def test_a_second_hosts_batch_poll_does_not_act_twice(cli, env, emu, tmp_path, postgresql_store,
                                                      monkeypatch):  # fmt: skip
    """Two `batch poll --all` at once from two 'hosts' (separate homes and folders: no file
    they could share) against one PostgreSQL store: the server's advisory lock lets one act."""
    from emulator.samples import openai_line, write_jsonl

    monkeypatch.setenv("TOKCLI_STORE", postgresql_store)
    source = write_jsonl(tmp_path / "in.jsonl", [openai_line(i) for i in range(2)])
    assert cli("batch", "submit", source, "-p", "openai").exit_code == 0
    emu.delay = 1.5  # hold each request so the first poll keeps the lock
    before = emu.count("GET", r"/v1/batches/[^/]+")
    procs = []
    for host in ("host-a", "host-b"):
        home = tmp_path / host
        home.mkdir()
        host_env = {
            **os.environ,
            "HOME": str(home),
            "XDG_DATA_HOME": str(home / "data"),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_CACHE_HOME": str(home / "cache"),
        }
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "tokcli", "batch", "poll", "--all", "--format", "json"],
                env=host_env,
                cwd=home,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outputs = [p.communicate(timeout=60) for p in procs]
    documents = [json.loads(out) for out, _ in outputs]
    assert sorted(str(d["skipped"]) for d in documents) == ["None", "locked"], outputs
    assert emu.count("GET", r"/v1/batches/[^/]+") - before == 1


def _litellm_database(server: str) -> str:
    """A LiteLLM proxy's database on the test server: its LiteLLM_SpendLogs table (from
    LiteLLM's schema.prisma) in a schema of its own, holding the fixture's spend log rows."""
    import psycopg

    schema = f"litellm_{os.getpid()}_{id(server) % 10_000}"
    rows = json.loads((FIXTURES / "import" / "litellm_spendlogs.json").read_text())
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(f"SET search_path = {schema}")
        conn.execute((FIXTURES / "litellm-db" / "spendlogs_table.sql").read_text())
        for row in rows:
            _insert_spend_log(conn, row)
    return f"{server}?options=-csearch_path%3D{schema}"


def _insert_spend_log(conn, row: dict) -> None:
    columns = list(row)
    conn.execute(
        f'INSERT INTO "LiteLLM_SpendLogs" ({", ".join(chr(34) + c + chr(34) for c in columns)}) '
        f"VALUES ({', '.join('%s' for _ in columns)})",
        [row[c] if c not in ("metadata", "request_tags") or row[c] is None
         else json.dumps(json.loads(row[c])) for c in columns],
    )  # fmt: skip


def test_litellm_database_imports_incrementally(cli, postgresql_server, tmp_path):
    import psycopg

    litellm = _litellm_database(postgresql_server)
    store = str(tmp_path / "usage.db")
    rows = json.loads((FIXTURES / "import" / "litellm_spendlogs.json").read_text())
    expected_spend = sum(Decimal(str(r["spend"])) for r in rows)

    first = cli("import", "--from", litellm, "--source", "litellm", "--store", store,
                "--format", "json")  # fmt: skip
    assert first.exit_code == 0, first.stderr
    assert first.json()["totals"]["inserted"] == len(rows)
    report = cli("report", "--by", "source", "--store", store, "--format", "json").json()
    (litellm_row,) = [r for r in report["rows"] if r["source"] == "litellm"]
    assert Decimal(litellm_row["billed_cost"]) == expected_spend

    second = cli("import", "--from", litellm, "--source", "litellm", "--store", store,
                 "--format", "json")  # fmt: skip
    assert second.json()["totals"]["inserted"] == 0

    late = {**rows[0], "request_id": "chatcmpl-late", "spend": 0.5,
            "startTime": "2025-09-05T09:00:00Z", "endTime": "2025-09-05T09:00:02Z"}  # fmt: skip
    with psycopg.connect(litellm, autocommit=True) as conn:
        _insert_spend_log(conn, late)
    third = cli("import", "--from", litellm, "--source", "litellm", "--store", store,
                "--format", "json")  # fmt: skip
    assert third.json()["totals"]["inserted"] == 1
    report = cli("report", "--by", "source", "--store", store, "--format", "json").json()
    (litellm_row,) = [r for r in report["rows"] if r["source"] == "litellm"]
    assert Decimal(litellm_row["billed_cost"]) == expected_spend + Decimal("0.5")
    # Read incrementally: the third run read only the rows from the overlap on.
    assert "from 2025-09-" in third.json()["files"][0]["path"]


def test_a_driver_error_that_escapes_is_one_masked_line():
    """A psycopg error no store function turned into a TokcliError (a server going away
    mid-migration) is still one line, exit 2, with any password in its text masked."""
    import psycopg

    from tokcli.cli.main import _unexpected

    message, code = _unexpected(
        psycopg.OperationalError("lost postgresql://finops:hunter2@db/tokcli password=hunter2")
    )
    assert code == 2 and "hunter2" not in message
    assert message.startswith("usage store (PostgreSQL): ")


def test_a_database_pull_is_litellms_only(cli, tmp_path):
    result = cli("import", "--from", "postgresql://reader@127.0.0.1:1/litellm",
                 "--source", "openai-usage", "--store", tmp_path / "s.db")  # fmt: skip
    assert result.exit_code == 2
    assert "--from postgresql://…: the database read is LiteLLM's (--source litellm)" in (
        result.stderr
    )


def _text_columns_not_in_byte_order(url: str) -> list[str]:
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT c.table_name || '.' || c.column_name FROM information_schema.columns c "
            "JOIN information_schema.tables t "
            "ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
            "WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' "
            "AND c.data_type = 'text' AND c.collation_name IS DISTINCT FROM 'C' ORDER BY 1"
        ).fetchall()
    return [row[0] for row in rows]


def test_every_text_column_compares_in_byte_order(cli, postgresql_store):
    """SQLite compares text by its bytes; so must every text column on PostgreSQL, including
    the columns of migrations written after m0016, whatever the database's own collation."""
    result = cli("store", "migrate", "--store", postgresql_store)
    assert result.exit_code == 0, result.stderr
    assert _text_columns_not_in_byte_order(postgresql_store) == []


def test_a_database_with_a_language_collation_lists_tags_in_sqlites_order(
    cli, tmp_path, postgresql_server
):
    """On an ICU en-US database, `_x`, `a-b`, `B` sort as words; the store keeps byte order,
    so the tag keys a report lists read the same on both backends."""
    import secrets

    import psycopg

    demo = (REPO / "examples" / "billing" / "demo_focus_2026-10.csv").read_text()
    header, *rows = demo.splitlines()
    keys = ["b-side", "B", "_x", "a-b", "ab", "Z"]
    tagged = [
        row.replace('""team"": ""search""', f'""{key}"": ""1""', 1)
        for key, row in zip(keys, [r for r in rows if '""team"": ""search""' in r], strict=False)
    ]
    assert len(tagged) == len(keys)
    source = tmp_path / "tags.csv"
    source.write_text("\n".join([header, *tagged]) + "\n")
    database = f"tokcli_icu_{secrets.token_hex(4)}"
    with psycopg.connect(postgresql_server, autocommit=True) as admin:
        admin.execute(
            f"CREATE DATABASE {database} TEMPLATE template0 LOCALE_PROVIDER icu "
            "ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
        )
    try:
        icu_store = postgresql_server.rsplit("/", 1)[0] + f"/{database}"
        listed = []
        for store in (str(tmp_path / "s.db"), icu_store):
            result = cli("import", source, "--store", store)
            assert result.exit_code == 0, result.stderr
            result = cli("report", "--by", "nope", "--store", store)
            assert result.exit_code == 2
            listed.append(result.stderr.split("tags in the store: ")[1].split(";")[0])
        expected = sorted({*keys, "environment", "feature"}, key=str.encode)
        assert listed == [", ".join(expected)] * 2
    finally:
        with psycopg.connect(postgresql_server, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {database} WITH (FORCE)")
