"""All SQL runs inside `tokcli.store` (issues 18 and 19): no module outside the store package
runs a statement or names the SQLite driver, so a second backend needs changes in one package.
Store errors reach callers as store.errors exceptions with the backend's message unchanged."""

from __future__ import annotations

import ast
import os
import sqlite3
from pathlib import Path

import pytest

from tokcli.reporting.rollups import refresh
from tokcli.store import connect
from tokcli.store.errors import StoreError, StoreUnavailable, as_store_error, translates

SRC = Path(__file__).resolve().parents[1] / "src" / "tokcli"
STORE = SRC / "store"
STATEMENT_METHODS = {"execute", "executemany", "executescript"}
DRIVERS = {"sqlite3", "psycopg"}
REPO_DEMO = Path(__file__).resolve().parents[1] / "examples" / "billing" / "demo_focus_2026-10.csv"


def violations(source: str, name: str) -> list[str]:
    """Each `.execute(`/`.executemany(`/`.executescript(` call and each import of a database
    driver in `source`, as "name:line: what"."""
    found = []
    for node in ast.walk(ast.parse(source, name)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in STATEMENT_METHODS:
                found.append(f"{name}:{node.lineno}: calls .{node.func.attr}()")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in DRIVERS:
                    found.append(f"{name}:{node.lineno}: imports {alias.name}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in DRIVERS:
            found.append(f"{name}:{node.lineno}: imports from {node.module}")
    return found


def modules_outside_the_store() -> list[Path]:
    return [p for p in sorted(SRC.rglob("*.py")) if STORE not in p.parents]


def test_no_module_outside_the_store_runs_sql_or_imports_the_driver():
    assert len(modules_outside_the_store()) > 50  # the walk found the package
    found = []
    for path in modules_outside_the_store():
        found += violations(path.read_text(encoding="utf-8"), str(path.relative_to(SRC)))
    assert found == []


@pytest.mark.parametrize(
    "snippet",
    [
        "conn.execute('SELECT 1')",
        "self.conn.executemany('INSERT INTO t VALUES (?)', rows)",
        "cursor().executescript('')",
        "import sqlite3",
        "import sqlite3 as db",
        "from sqlite3 import Connection",
        "def f():\n    import sqlite3\n",
        "if TYPE_CHECKING:\n    from sqlite3 import Row\n",
    ],
)
def test_the_check_finds_each_kind_of_violation(snippet):
    assert len(violations(snippet, "m.py")) == 1


def test_the_check_lets_through_what_is_not_sql():
    text = "import sqlite_utils_like\nfrom tokcli.store import reports\nrun.executed = True\n"
    assert violations(text, "m.py") == []


def test_the_rollup_columns_are_the_measures_the_report_sums():
    """The store names the rollup tables' columns itself (it imports nothing from the report
    package); they must stay the report's Totals measures, in the same order."""
    from tokcli.reporting import totals
    from tokcli.store import rollups

    assert rollups.MONEY_COLUMNS == totals.MONEY
    assert rollups.COUNT_COLUMNS == totals.COUNTS
    assert rollups.MEASURE_COLUMNS == totals.MEASURES


def test_driver_errors_become_store_errors_with_the_same_message():
    locked = as_store_error(sqlite3.OperationalError("database is locked"))
    assert isinstance(locked, StoreUnavailable) and str(locked) == "database is locked"
    damaged = as_store_error(sqlite3.DatabaseError("file is not a database"))
    assert type(damaged) is StoreError and str(damaged) == "file is not a database"
    assert as_store_error(ValueError("no")) is None


def test_store_functions_raise_store_errors_also_while_streaming(tmp_path):
    conn = connect(tmp_path / "s.db")

    @translates
    def rows():
        yield from conn.execute("SELECT * FROM no_such_table")

    @translates
    def one():
        return conn.execute("SELECT * FROM no_such_table").fetchone()

    stream = rows()  # lazy: nothing has run yet
    with pytest.raises(StoreUnavailable, match="no such table: no_such_table"):
        list(stream)
    with pytest.raises(StoreUnavailable, match="no such table: no_such_table"):
        one()


def _read_only(monkeypatch, folder: Path) -> None:
    """As tests/test_hostile.py: os.access reports the store and its folder not writable (tests
    run as root), so connect() opens SQLite's real read-only mode."""
    real_access = os.access

    def no_write(path, mode, *args, **kwargs):
        if mode & os.W_OK and str(path).startswith(str(folder)):
            return False
        return real_access(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", no_write)


def test_rollups_that_cannot_be_written_are_store_unavailable_and_report_still_answers(
    cli, tmp_path, monkeypatch
):
    store = tmp_path / "s.db"
    assert cli("import", REPO_DEMO, "--store", store).exit_code == 0
    fresh = cli("report", "--by", "model", "--format", "json", "--store", store)
    assert fresh.exit_code == 0, fresh.stderr
    conn = sqlite3.connect(store)
    day = conn.execute("SELECT MIN(day) FROM report_rollup").fetchone()[0]
    conn.execute("INSERT INTO report_dirty_days (day) VALUES (?)", (day,))
    conn.commit()
    conn.close()
    _read_only(monkeypatch, tmp_path)

    read_only = connect(store)
    with pytest.raises(StoreUnavailable, match="readonly"):
        refresh(read_only)
    read_only.close()

    stale = cli("report", "--by", "model", "--format", "json", "--store", store)
    assert stale.exit_code == 0, stale.stderr
    assert "cannot update the report rollups (attempt to write a readonly database); " in (
        stale.stderr
    )
    assert "summing usage rows directly" in stale.stderr
    assert stale.json() == fresh.json()  # the usage rows give the same figures


def test_a_store_error_at_the_last_boundary_reads_as_a_driver_error_did():
    from tokcli.cli.main import _unexpected

    for message, expected in (
        ("database disk image is malformed", "the usage store is damaged"),
        ("attempt to write a readonly database", "the usage store cannot be written"),
        ("database or disk is full", "the disk is full"),
        ("database is locked", "usage store: database is locked"),
    ):
        raw = _unexpected(sqlite3.OperationalError(message))
        translated = _unexpected(StoreUnavailable(message))
        assert raw == translated and raw[1] == 2 and expected in raw[0], (message, raw)
