"""Conventions every command keeps: help, start-up imports, pipes, colour, errors, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import REPO
from tokcli.cli.registry import COMMANDS, available


def test_help_lists_every_command_with_its_summary(tokcli_process):
    result = tokcli_process("--help")
    assert result.exit_code == 0
    for name in available():
        assert f"  {name}" in result.stdout and COMMANDS[name][1] in result.stdout
    assert "Exit codes" in result.stdout
    assert {"pricing", "tokens", "store", "init"} <= set(available())


def test_every_command_has_help(cli):
    for name in available():
        result = cli(name, "--help")
        assert result.exit_code == 0, name
        assert "Usage" in result.stdout, name


def _modules_loaded(argv: list[str]) -> set[str]:
    code = (
        "import sys, json\n"
        "from tokcli.cli.entry import main\n"
        f"sys.argv = ['tokcli', *{argv!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write(json.dumps(sorted(sys.modules)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return set(json.loads(proc.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "argv", [["--help"], ["--version"], ["pricing", "show", "gpt-5"], ["pricing", "list"]]
)
def test_fast_paths_import_no_heavy_library(argv):
    loaded = _modules_loaded(argv)
    assert not {"pandas", "httpx", "tiktoken", "numpy", "pydantic"} & loaded
    if argv[0].startswith("--"):
        assert "typer" not in loaded  # answered before Typer is even imported


def test_pipe_into_head_prints_no_traceback(tmp_path):
    proc = subprocess.run(
        f"{sys.executable} -m tokcli pricing list --format csv | head -1",
        shell=True, capture_output=True, text=True,
    )  # fmt: skip
    assert proc.stdout.startswith("model,provider")
    assert proc.stderr == ""


def test_no_colour_when_not_a_terminal_or_no_color(tokcli_process):
    plain = tokcli_process("pricing", "show", "gpt-5", env={"NO_COLOR": ""})
    assert "\x1b[" not in plain.stdout


def test_colour_only_on_a_terminal_without_no_color():
    import io

    from tokcli.render import use_color

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    assert use_color(Terminal(), {}) is True
    assert use_color(Terminal(), {"NO_COLOR": "1"}) is False
    assert use_color(io.StringIO(), {}) is False


def test_bad_option_is_one_line_exit_2(cli):
    result = cli("pricing", "show", "gpt-5", "--bogus")
    assert result.exit_code == 2
    assert result.stderr == ("tokcli: error: tokcli pricing show: No such option: --bogus "
                             "(see `tokcli pricing show --help`)\n")  # fmt: skip
    assert result.stdout == ""


def test_bad_date_is_one_line_exit_2(cli):
    result = cli("pricing", "show", "gpt-5", "--at", "yesterday")
    assert result.exit_code == 2
    assert result.stderr == "tokcli: error: --at: expected a date YYYY-MM-DD, got 'yesterday'\n"


@pytest.mark.parametrize("fmt", ["json", "csv", "markdown", "table"])
def test_every_format_renders(cli, fmt):
    result = cli("pricing", "list", "--provider", "openai", "--format", fmt)
    assert result.exit_code == 0
    if fmt == "json":
        assert result.json()["version"] == 1
    if fmt == "markdown":
        assert result.stdout.splitlines()[1].startswith("| ---")


def test_csv_escapes_formulas_but_keeps_negative_numbers():
    import io
    from decimal import Decimal

    from tokcli.render import Column, Output, render

    out = io.StringIO()
    rows = [{"name": "=HYPERLINK(\"x\")", "amount": Decimal("-1.5")}, {"name": "@cmd",
            "amount": Decimal("2")}]  # fmt: skip
    render(Output(data={}, rows=rows, columns=[Column("name", "n"), Column("amount", "a")]),
           "csv", out)  # fmt: skip
    import csv

    parsed = list(csv.reader(io.StringIO(out.getvalue())))
    assert parsed[1:] == [['\'=HYPERLINK("x")', "-1.5"], ["'@cmd", "2"]]


def test_python_m_tokcli(tokcli_process):
    result = tokcli_process("--version")
    assert result.exit_code == 0 and result.stdout.startswith("tokcli 0.")


def test_no_command_module_imports_a_heavy_library_at_load():
    code = (
        "import sys, importlib, json\n"
        "from tokcli.cli.registry import COMMANDS, available\n"
        "for name in available():\n"
        "    importlib.import_module(COMMANDS[name][0])\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    loaded = set(json.loads(proc.stdout))
    assert not {"pandas", "httpx", "tiktoken", "numpy", "jinja2", "pydantic"} & loaded


def test_a_misspelt_command_gets_a_suggestion(cli):
    result = cli("reprot")
    assert result.exit_code == 2
    assert "no such command 'reprot' (did you mean 'report'?)" in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_misspelt_by_key_suggests_the_tag_first(cli, tmp_path):
    store = tmp_path / "s.db"
    assert (
        cli("import", REPO / "examples/billing/demo_focus_2026-10.csv", "--store", store).exit_code
        == 0
    )
    result = cli("report", "--by", "teem", "--store", store)
    assert result.exit_code == 2
    assert result.stderr.startswith("tokcli: error: unknown key 'teem' (did you mean 'team'?)")
