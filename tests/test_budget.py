"""`tokcli budget check` and `tokcli report budgets`: states, forecasts and exit codes.

Uses the store of test_report.py (clock pinned to Tue 2026-11-24): team=search spends $10.00 a
day on Nov 1..23 (gpt-5, openai), team=ads $5.00 a day (anthropic), untagged $2.50 on Nov 10.
"""

from __future__ import annotations

import pytest

from test_report import known_records, write_store


@pytest.fixture
def store(tmp_path, monkeypatch):
    path = write_store(tmp_path / "usage.db", known_records())
    monkeypatch.setenv("TOKCLI_STORE", str(path))
    return path


def configure(isolated_env, text: str) -> None:
    (isolated_env / "tokcli.toml").write_text(text, encoding="utf-8")


def budgets_json(cli) -> dict:
    result = cli("report", "budgets", "--format", "json")
    assert result.exit_code == 0, result.stderr
    return {b["name"]: b for b in result.json()["budgets"]}


def test_budget_states_spend_and_forecast(cli, store, isolated_env):
    configure(isolated_env, """
[[budgets]]
name = "search"
scope = { team = "search" }
amount = "250"

[[budgets]]
amount = 1000
alerts = [25, 50]

[[budgets]]
name = "anthropic"
scope = { provider = "anthropic" }
amount = "100.00"

[[budgets]]
name = "search-week"
scope = { team = "search" }
amount = "60"
period = "week"
cost = "list"
""")  # fmt: skip
    budgets = budgets_json(cli)
    search = budgets["search"]
    assert (search["spend"], search["percent"], search["state"]) == ("230", "92", "alert")
    assert search["alerts_reached"] == ["50", "75", "90"]
    assert (search["period_start"], search["period_end"]) == ("2026-11-01", "2026-11-30")
    # 23 complete days at $10: $230 + 7 x $10 = $300 > $250
    assert (search["forecast"], search["forecast_state"]) == ("300", "over")
    org = budgets["org"]
    assert (org["scope"], org["spend"], org["percent"], org["state"]) == (
        "org", "347.5", "34.75", "alert",
    )  # fmt: skip
    assert org["alerts_reached"] == ["25"] and org["forecast_state"] == "ok"
    anthropic = budgets["anthropic"]
    assert (anthropic["spend"], anthropic["state"]) == ("115", "over")
    week = budgets["search-week"]  # Mon Nov 23 .. Sun Nov 29, list cost $12.00 on the 23rd
    assert (week["period_start"], week["spend"], week["state"]) == ("2026-11-23", "12", "ok")
    assert (week["forecast"], week["forecast_state"]) == ("84", "over")  # 12 + 6 x 12


def test_budget_check_exit_codes(cli, store, isolated_env):
    configure(isolated_env, '[[budgets]]\nscope = { team = "search" }\namount = "250"\n')
    ok = cli("budget", "check")
    assert ok.exit_code == 0 and ok.stderr == ""
    assert "team=search" in ok.stdout and "alert" in ok.stdout
    by_forecast = cli("budget", "check", "--forecast")
    assert by_forecast.exit_code == 1
    assert "team=search" in by_forecast.stdout  # the data still goes to stdout
    assert by_forecast.stderr.strip() == (
        "tokcli: error: budget check failed: team=search (forecast over: 92.00% used)"
    )
    configure(isolated_env, '[[budgets]]\nscope = { team = "search" }\namount = "229.99"\n')
    over = cli("budget", "check", "--format", "json")
    assert over.exit_code == 1
    assert over.json()["budgets"][0]["state"] == "over"


def test_budget_exactly_at_the_limit_is_not_over(cli, store, isolated_env):
    configure(isolated_env, '[[budgets]]\nscope = { team = "search" }\namount = "230"\n'
                            'alerts = [100]\n')  # fmt: skip
    result = cli("budget", "check")
    assert result.exit_code == 0
    assert budgets_json(cli)["team=search"]["state"] == "alert"


def test_budget_check_in_a_subprocess(tokcli_process, store, isolated_env):
    configure(isolated_env, '[[budgets]]\namount = "100"\n')
    result = tokcli_process("budget", "check", cwd=isolated_env,
                            env={"TOKCLI_STORE": str(store)})  # fmt: skip
    assert result.exit_code == 1
    assert "org" in result.stdout
    assert result.stderr.startswith("tokcli: error: budget check failed: org (over")


@pytest.mark.parametrize(
    "config, message",
    [
        ('[[budgets]]\nperiod = "month"\n', "config: budgets[1].amount: is required"),
        ('[[budgets]]\namount = "-5"\n', "budgets[1].amount: must be greater than 0"),
        ('[[budgets]]\namount = "lots"\n', "not a decimal number"),
        ('[[budgets]]\namount = 5\nperiod = "fortnight"\n', "budgets[1].period: expected one"),
        ('[[budgets]]\namount = 5\nteam = "x"\n', "tokcli.toml:3: budgets.team: unknown key"),
        ('[[budgets]]\namount = 5\nscope = "search"\n', "budgets[1].scope: expected a table"),
        ('[[budgets]]\namount = 5\nscope = { day = "x" }\n', "'day' cannot scope a budget"),
        ("[[budgets]]\namount = 5\nalerts = []\n", "budgets[1].alerts: expected a list"),
        ('[[budgets]]\namount = 5\ncost = "net"\n', "cost: expected auto, billed or list"),
        ("[[budgets]]\namount = 5\n[[budgets]]\namount = 6\n", "two budgets are named 'org'"),
        ("budgets = 5\n", "tokcli.toml:1: budgets: expected an array of tables"),
        ("", "no budgets configured"),
    ],
)
def test_bad_budget_config_exits_2(cli, store, isolated_env, config, message):
    configure(isolated_env, config)
    for command in (("budget", "check"), ("report", "budgets")):
        result = cli(*command)
        assert result.exit_code == 2
        assert result.stdout == ""
        assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr


def test_budget_float_amount_is_read_as_written(cli, store, isolated_env):
    configure(isolated_env, "[[budgets]]\namount = 347.49\n")
    assert cli("budget", "check").exit_code == 1
    assert budgets_json(cli)["org"]["amount"] == "347.49"
