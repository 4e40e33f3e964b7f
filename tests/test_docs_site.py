"""The docs site builds without a warning, and its CLI reference is what `--help` says today."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

from conftest import REPO
from tokcli.cli.registry import available

REGENERATE = "python docs/gen_cli_reference.py"


def _generator():
    spec = importlib.util.spec_from_file_location(
        "gen_cli_reference", REPO / "docs" / "gen_cli_reference.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_is_current():
    committed = (REPO / "docs" / "reference" / "cli.md").read_text()
    assert committed == _generator().render(), f"docs/reference/cli.md is stale: run `{REGENERATE}`"


def test_cli_reference_has_every_command_and_subcommand():
    import typer

    from tokcli.cli.main import app

    page = _generator().render()
    root = typer.main.get_command(app)
    for name in available():
        command = root.get_command(None, name)
        assert f"## `tokcli {name}`" in page, name
        for sub in getattr(command, "commands", {}):
            assert f"## `tokcli {name} {sub}`" in page, f"{name} {sub}"
    assert "\x1b[" not in page and "╭" not in page  # no colour codes, no Rich panels


def test_cli_reference_check_mode_names_the_command_to_run(tmp_path, monkeypatch):
    generator = _generator()
    monkeypatch.setattr(generator, "PAGE", tmp_path / "cli.md")
    (tmp_path / "cli.md").write_text("# CLI reference\n\nold\n")
    assert generator.main(["--check"]) == 1
    assert generator.main([]) == 0
    assert generator.main(["--check"]) == 0


def test_cli_reference_check_mode_reports_staleness_on_stderr(tmp_path):
    stale = tmp_path / "docs"
    stale.mkdir()
    script = (REPO / "docs" / "gen_cli_reference.py").read_text()
    (stale / "gen_cli_reference.py").write_text(script)
    (stale / "reference").mkdir()
    (stale / "reference" / "cli.md").write_text("stale\n")
    run = subprocess.run(
        [sys.executable, str(stale / "gen_cli_reference.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1
    assert REGENERATE in run.stderr


def test_mkdocs_build_strict(tmp_path):
    site = tmp_path / "site"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "-f",
            str(REPO / "mkdocs.yml"),
            "-d",
            str(site),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # the config finds its files relative to itself, not to the caller
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert run.returncode == 0, run.stderr[-3000:]
    for page in ("commands/estimate", "concepts/usage-store", "recipes/cron", "reference/cli"):
        assert (site / page / "index.html").is_file(), page
    # The recipes include the example files themselves (pymdownx.snippets), not copies.
    cron = (site / "recipes" / "cron" / "index.html").read_text()
    assert "budget check --forecast" in cron
