"""Shared fixtures: every test runs in its own folders, with a pinned clock and no colour."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tokcli.cli.main import app

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# Real files written by others (FOCUS spec, OpenAI cookbook, OTLP examples, Claude Code
# transcripts, Azure exports), copied with their SOURCES.md licence notes.
SAMPLES = FIXTURES / "samples"
PINNED_NOW = "2026-11-24T12:00:00Z"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """No test sees the developer's store, config, cache or terminal."""
    home = tmp_path / "home"
    for name, sub in (
        ("XDG_DATA_HOME", "data"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_CACHE_HOME", "cache"),
    ):
        monkeypatch.setenv(name, str(home / sub))
    for name in (
        "TOKCLI_STORE",
        "TOKCLI_CONFIG",
        "TOKCLI_NO_CACHE",
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "FORCE_COLOR",
        "COLUMNS",  # tables fit COLUMNS when set: tests see whole lines unless they set it
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TOKCLI_NOW", PINNED_NOW)

    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


# --- PostgreSQL: the store contract on both backends ---------------------------------------
# Test modules whose tests use the store run twice: as written (SQLite), and with TOKCLI_STORE
# pointing at an empty schema of a real PostgreSQL server (`store_backend` below). A test that
# names its own store file (--store x.db) stays on SQLite in both runs.
BOTH_BACKENDS = {
    "test_advise", "test_budget", "test_e2e", "test_export_focus", "test_import_folder",
    "test_import_formats", "test_import_hardening", "test_import_parts", "test_import_pull",
    "test_import_real_ai", "test_import_safety", "test_import_samples", "test_import_support",
    "test_batch_baddays", "test_batch_contract", "test_batch_crash", "test_batch_cycle",
    "test_batch_exitcodes", "test_batch_gemini", "test_batch_hostile", "test_batch_input",
    "test_batch_leak", "test_batch_options", "test_batch_recovery",
    "test_library_api", "test_report", "test_report_basis", "test_report_currency",
    "test_report_html", "test_report_samples", "test_report_units", "test_store",
}  # fmt: skip
_schemas = iter(range(1, 10**9))


def open_raw_store(location, *, rows_by_name: bool = False):
    """The store's database for a test to inspect with SQL, whichever backend holds it: sqlite3
    on a file (tuples, or sqlite3.Row with `rows_by_name`), tokcli's PostgreSQL connection for
    a URL (rows read by index or name, equal to tuples). Migrations are not applied."""
    import sqlite3

    if str(location).startswith("postgresql://"):
        from tokcli.store import postgres

        return postgres.connect(str(location))
    conn = sqlite3.connect(location)
    if rows_by_name:
        conn.row_factory = sqlite3.Row
    return conn


@pytest.fixture(scope="session")
def postgresql_server():
    """URL of a PostgreSQL server the tests may create schemas on: TOKCLI_TEST_POSTGRESQL (as
    .ci/run sets it), else a throwaway server started here (tests/pg_server.py)."""
    url = os.environ.get("TOKCLI_TEST_POSTGRESQL")
    if url:
        yield url
        return
    import shutil
    import tempfile

    import pg_server

    if pg_server.bindir() is None:
        message = "PostgreSQL is not installed (.ci/run installs it from Debian's packages)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    folder = Path(tempfile.mkdtemp(prefix="tokcli-pg-"))
    try:
        yield pg_server.start(folder)
    finally:
        pg_server.stop(folder)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgresql_store(postgresql_server) -> str:
    """A store URL on an empty schema of its own (a schema is much cheaper than a database)."""
    import secrets

    import psycopg

    name = f"t{os.getpid()}_{next(_schemas)}_{secrets.token_hex(3)}"  # pids repeat across runs
    with psycopg.connect(postgresql_server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    separator = "&" if "?" in postgresql_server else "?"
    return f"{postgresql_server}{separator}options=-csearch_path%3D{name}"


@pytest.fixture(autouse=True)
def store_backend(request, isolated_env, monkeypatch) -> str:
    backend = getattr(request, "param", "sqlite")
    if backend == "postgresql":
        monkeypatch.setenv("TOKCLI_STORE", request.getfixturevalue("postgresql_store"))
    return backend


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "sqlite_only(reason): the test is about the SQLite file itself"
    )


def pytest_generate_tests(metafunc):
    module = metafunc.module.__name__.rpartition(".")[2]
    if metafunc.definition.get_closest_marker("sqlite_only"):
        return
    if module in BOTH_BACKENDS and "store_backend" in metafunc.fixturenames:
        metafunc.parametrize("store_backend", ["sqlite", "postgresql"], indirect=True)


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


@pytest.fixture
def cli():
    """Run tokcli in-process (CliRunner); stdout and stderr kept apart."""
    runner = CliRunner()

    def run(*args: str, input: str | None = None, env: dict | None = None) -> Run:
        result = runner.invoke(
            app, [str(a) for a in args], input=input, env=env, catch_exceptions=False
        )
        return Run(result.exit_code, result.stdout, result.stderr)

    return run


@pytest.fixture
def tokcli_process():
    """Run the real `python -m tokcli` in a subprocess, for end-to-end checks."""

    def run(
        *args: str,
        input: str | None = None,
        env: dict | None = None,
        cwd=None,
        timeout: float = 120,
    ) -> Run:
        full_env = {**os.environ, **(env or {})}
        proc = subprocess.run(
            [sys.executable, "-m", "tokcli", *map(str, args)],
            input=input,
            capture_output=True,
            text=True,
            env=full_env,
            cwd=cwd,
            timeout=timeout,
        )
        return Run(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture
def emu():
    """The batch-API emulator (OpenAI and Anthropic) on 127.0.0.1, for batch and e2e tests."""
    from emulator import Emulator

    emulator = Emulator().start()
    yield emulator
    emulator.stop()


@pytest.fixture
def env(emu, tmp_path, monkeypatch, store_backend):
    """Environment pointing tokcli at the emulator: keys, base URLs, store, tiny retry delays."""
    from emulator.samples import batch_env

    values = batch_env(emu, tmp_path / "store.db")
    if store_backend == "postgresql":  # the batch modules run on both backends too
        values["TOKCLI_STORE"] = os.environ["TOKCLI_STORE"]
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values
