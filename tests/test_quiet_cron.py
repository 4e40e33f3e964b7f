"""Cron mails any output: `--quiet` keeps `import` and `budget check` silent on success, and a
warning already shown for the same file is not repeated on the next run."""

from __future__ import annotations

from conftest import SAMPLES

NO_MODEL = SAMPLES / "openai-usage-api" / "completions_usage_api.ipynb.usage_data.json"
BUDGET = '[[budgets]]\nscope = {{ team = "search" }}\namount = "{amount}"\nperiod = "month"\n'


def test_import_quiet_prints_nothing_and_each_warning_once(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    store = tmp_path / "s.db"
    loud = cli("import", NO_MODEL, "--store", tmp_path / "other.db")
    assert "rows with token usage name no model" in loud.stderr and loud.stdout  # default
    first = cli("import", NO_MODEL, "--store", store, "--quiet")
    assert first.exit_code == 0 and first.stdout == ""
    assert first.stderr.count("tokcli: warning:") == 1  # shown the first time
    again = cli("import", NO_MODEL, "--store", store, "-q")
    assert (again.exit_code, again.stdout, again.stderr) == (0, "", "")
    bad = tmp_path / "bad.csv"
    bad.write_text("not,a,known\nformat,at,all\n")
    failed = cli("import", bad, "--store", store, "-q")
    assert failed.exit_code == 2 and failed.stderr.startswith("tokcli: error:")  # errors print


def test_budget_check_quiet_is_silent_until_a_budget_is_over(cli, tmp_path, isolated_env):
    from conftest import REPO

    store = tmp_path / "s.db"
    demo = REPO / "examples" / "billing" / "demo_focus_2026-10.csv"
    assert cli("import", demo, "--store", store).exit_code == 0
    month = ["--store", store]
    (isolated_env / "tokcli.toml").write_text(BUDGET.format(amount="1000000"))
    within = cli("budget", "check", *month, "--quiet", env={"TOKCLI_NOW": "2026-10-31T12:00:00Z"})
    assert (within.exit_code, within.stdout, within.stderr) == (0, "", "")
    (isolated_env / "tokcli.toml").write_text(BUDGET.format(amount="10"))
    over = cli("budget", "check", *month, "--quiet", env={"TOKCLI_NOW": "2026-10-31T12:00:00Z"})
    assert over.exit_code == 1 and "search" in over.stdout and "budget check failed" in over.stderr
