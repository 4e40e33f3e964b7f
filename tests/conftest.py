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
def env(emu, tmp_path, monkeypatch):
    """Environment pointing tokcli at the emulator: keys, base URLs, store, tiny retry delays."""
    from emulator.samples import batch_env

    values = batch_env(emu, tmp_path / "store.db")
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values
