"""tokcli as a library: price, count, estimate, import and report through `import tokcli` only,
in a fresh interpreter, with the command-line stack (Typer, rich, Click) never imported."""

from __future__ import annotations

import doctest
import json
import subprocess
import sys
from decimal import Decimal

from conftest import REPO

DEMO = REPO / "examples" / "billing" / "demo_focus_2026-10.csv"

SCRIPT = r"""
import csv, datetime as dt, json, sys
from decimal import Decimal
import tokcli

demo, store, prompt = sys.argv[1:4]
out = {}
usage = tokcli.Usage(input_tokens=1_000_000, output_tokens=100_000)
cost = tokcli.price("claude-sonnet-4-6", usage, at=dt.date(2026, 11, 1))
out["price"] = str(cost.total)
out["tokens"] = tokcli.count_tokens("hello world", "gpt-5").tokens
result = tokcli.import_files([demo], store=store)
out["inserted"] = result.inserted
out["again"] = tokcli.import_files([demo], store=store).inserted
doc = tokcli.report(store, by=["team"])
out["teams"] = {row["team"]: str(row["spend"]) for row in doc["rows"]}
out["estimate"] = [(r["model"], r["input_tokens"]) for r in
                   tokcli.estimate_prompt(prompt, ["gpt-5"])]
try:
    tokcli.price("gpt-99", tokcli.Usage(input_tokens=1))
except tokcli.UnknownModelError as exc:
    out["unknown"] = str(exc)
out["cli_loaded"] = sorted(m for m in ("typer", "rich", "click", "tokcli.cli") if m in sys.modules)
print(json.dumps(out))
"""


def _team_totals_from_the_file() -> dict[str, str]:
    import csv

    totals: dict[str, Decimal] = {}
    with DEMO.open(newline="") as handle:
        for row in csv.DictReader(handle):
            tags = json.loads(row["Tags"] or "{}")
            team = tags.get("team")
            totals[team] = totals.get(team, Decimal(0)) + Decimal(row["BilledCost"])
    return {team: str(total.normalize()) for team, total in totals.items()}


def test_the_public_api_prices_imports_reports_and_estimates_without_the_cli(tmp_path):
    prompt = tmp_path / "p.txt"
    prompt.write_text("hello world")
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(DEMO), str(tmp_path / "s.db"), str(prompt)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert Decimal(out["price"]) == Decimal("4.5")  # 1M input at $3, 100k output at $15
    assert out["tokens"] == 2
    assert out["inserted"] > 0 and out["again"] == 0  # idempotent
    expected = _team_totals_from_the_file()
    reported = {team: str(Decimal(spend).normalize()) for team, spend in out["teams"].items()}
    assert reported == expected
    assert out["estimate"] == [["gpt-5", 2]]
    assert "gpt-99" in out["unknown"] and "--" not in out["unknown"].split("(see")[0]
    assert out["cli_loaded"] == []


def test_the_api_docstring_examples_run():
    import tokcli.api

    failures, tried = doctest.testmod(tokcli.api, raise_on_error=False)
    assert tried >= 4 and failures == 0


def test_py_typed_is_shipped():
    assert (REPO / "src" / "tokcli" / "py.typed").exists()


def test_no_module_below_cli_imports_from_cli():
    """Imports point one way: cli -> core -> store. (`__main__` is the console entry point.)"""
    import ast

    offenders = []
    for path in sorted((REPO / "src" / "tokcli").rglob("*.py")):
        relative = path.relative_to(REPO / "src" / "tokcli")
        if relative.parts[0] == "cli" or relative.name == "__main__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            offenders += [f"{relative}: {n}" for n in names if n.startswith("tokcli.cli")]
    assert offenders == []


def test_store_modules_import_nothing_above_them():
    """The store sits at the bottom: it may use money, errors and its own modules, never the
    importers, report, batch or the CLI that call it."""
    import ast

    above = ("tokcli.importers", "tokcli.reporting", "tokcli.batch", "tokcli.cli", "tokcli.advise")
    offenders = []
    for path in sorted((REPO / "src" / "tokcli" / "store").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(above):
                offenders.append(f"{path.name}: {node.module}")
    assert offenders == []


def test_the_library_and_the_command_line_build_the_same_report(tmp_path, cli, monkeypatch):
    """One path: `tokcli.report(...)` and `tokcli report --format json` are the same document
    (the summary included), because both are built by tokcli.reporting.document."""
    import tokcli

    monkeypatch.chdir(tmp_path)
    store = tmp_path / "s.db"
    tokcli.import_files([DEMO], store=store)
    monkeypatch.setenv("TOKCLI_NOW", "2026-11-15")
    for by in ([], ["team"], ["team", "model"]):
        library = _exact(json.loads(json.dumps(tokcli.report(store, by=by), default=str)))
        args = ["report", "--store", str(store), "--format", "json"]
        shown = cli(*args, *(["--by", ",".join(by)] if by else []))
        assert shown.exit_code == 0, shown.stderr
        printed = _exact(json.loads(shown.stdout))
        assert printed == library
        assert ("summary" in library) == (not by)


def _exact(value):
    """Money as Decimal wherever it is written as a decimal string, so 1.50 and 1.5 compare equal
    (the CLI prints money without trailing zeros) while any other difference still shows."""
    import re

    if isinstance(value, dict):
        return {key: _exact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_exact(item) for item in value]
    if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value):
        return Decimal(value)
    return value


def test_the_library_page_runs_as_written(tmp_path, monkeypatch):
    """docs/library.md is a doctest session: every example runs and prints what the page says."""
    import shutil

    (tmp_path / "prompts").mkdir()
    shutil.copy(REPO / "tests" / "fixtures" / "prompts" / "support.prompty", tmp_path / "prompts")
    (tmp_path / "exports" / "2026-10").mkdir(parents=True)
    shutil.copy(DEMO, tmp_path / "exports" / "2026-10")
    monkeypatch.chdir(tmp_path)
    failures, tried = doctest.testfile(
        str(REPO / "docs" / "library.md"), module_relative=False, optionflags=doctest.ELLIPSIS
    )
    assert tried >= 10 and failures == 0
