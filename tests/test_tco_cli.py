"""`tokcli tco`, `tco commit`, `tco payback` end to end: JSON contract, config keys, assumptions
with sources, one-line errors, and the guides' crossovers reproduced from stated inputs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tokcli.tco.inputs import COMMIT_SETTINGS, PAYBACK_SETTINGS, TCO_SETTINGS

D = Decimal


def _breakeven(doc, first, second):
    return next(p for p in doc["breakeven"] if p["first"] == first and p["second"] == second)


def test_json_contract_at_a_volume(cli):
    result = cli("tco", "--volume", "1B", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = result.json()
    assert doc["version"] == 1 and doc["currency"] == "USD"
    assert doc["volume"]["tokens_per_month"] == 1_000_000_000
    names = [o["name"] for o in doc["options"]]
    assert names == [
        "claude-sonnet-4-6",
        "deepinfra/llama-3.3-70b-instruct-turbo",
        "neocloud H100 on-demand",
        "self-hosted H100",
    ]
    costs = {c["option"]: c for c in doc["at_volume"]}
    # Sonnet 4.6 at 1:1: $9/MTok x 1,000 MTok; money is a decimal string
    assert costs["claude-sonnet-4-6"]["monthly"] == "9000"
    assert costs["claude-sonnet-4-6"]["horizon_total"] == "324000"
    # 1 replica of 2 H100: 2 x 730 x 2.75 = 4,015 + 1 FTE 416,000 / 12
    neocloud = D(costs["neocloud H100 on-demand"]["monthly"])
    assert round(neocloud, 10) == D("38681.6666666667")
    assert costs["neocloud H100 on-demand"]["gpus"] == 2
    assert doc["cheapest"] == "deepinfra/llama-3.3-70b-instruct-turbo"
    assert len(doc["breakeven"]) == 6  # every pair of 4 options
    assert len(doc["sweep"]) == 13  # 10M..100B, 1-2-5 per decade
    assert doc["sensitivity"]["scenarios"][0]["scenario"] == "base"


def test_every_input_is_printed_with_its_source(cli):
    doc = cli("tco", "--format", "json").json()
    assumptions = {a["key"]: a for a in doc["assumptions"]}
    assert set(assumptions) == {s.key for s in TCO_SETTINGS}
    for assumption in assumptions.values():
        assert assumption["origin"] == "default"
        assert assumption["source"], assumption["key"]
    assert "§4.3" in assumptions["utilisation"]["source"]
    assert assumptions["utilisation"]["value"] == "0.5"


def test_table_prints_assumptions_breakeven_and_chart(cli):
    result = cli("tco")
    assert result.exit_code == 0
    for heading in ("Breakeven volumes", "Monthly cost by volume", "Sensitivity", "Assumptions"):
        assert heading in result.stdout
    assert "tokens a month (log)" in result.stdout  # the chart
    assert result.stderr == ""


def test_config_keys_and_flag_precedence(cli, isolated_env):
    (isolated_env / "tokcli.toml").write_text(
        "[tco]\nutilisation = 0.25\ngpu = 'H200'\nvolume = '2B'\n", encoding="utf-8"
    )
    doc = cli("tco", "--volume", "3B", "--format", "json").json()
    assumptions = {a["key"]: a for a in doc["assumptions"]}
    assert assumptions["utilisation"] | {"source": ""} == assumptions["utilisation"] | {
        "value": "0.25",
        "origin": "config",
        "source": "",
    }
    assert assumptions["gpu"]["value"] == "H200"
    assert assumptions["throughput"]["value"] == "2900"  # the H200 default follows the GPU
    assert assumptions["gpus_per_replica"]["value"] == 1
    assert doc["volume"]["tokens_per_month"] == 3_000_000_000  # the flag wins


def test_bad_config_value_names_the_key(cli, isolated_env):
    (isolated_env / "tokcli.toml").write_text("[tco]\nutilisation = 3\n", encoding="utf-8")
    result = cli("tco")
    assert result.exit_code == 2
    assert "config tco.utilisation" in result.stderr


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--utilisation", "2"], "--utilisation"),
        (["--volume", "lots"], "--volume"),
        (["--gpu", "X100"], "--gpu"),
        (["--mix", "0:0"], "--mix"),
        (["--neocloud-gpu-hour", "-1"], "--neocloud-gpu-hour"),
        (["--steps", "1"], "--steps"),
        (["--sweep", "1B"], "--sweep"),
        (["--growth", "-100%"], "--growth"),
        (["--growth", "10"], "--growth"),  # bare number above 1: 10% or 0.1?
        (["--headroom", "20"], "--headroom"),
    ],
)
def test_bad_input_is_one_line_naming_the_option(cli, args, option):
    result = cli("tco", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and option in lines[0], result.stderr


def test_errors_in_a_real_process_are_one_line_without_traceback(tokcli_process):
    result = tokcli_process("tco", "--api-model", "claude-sonet-9")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "unknown model" in result.stderr


def test_blended_price_replaces_registry_models_and_volume_range_sweeps(cli):
    doc = cli(
        "tco", "--api-blended-price", "10", "--volume", "10M..1B", "--steps", "3",
        "--open-model", "none", "--format", "json",
    ).json()  # fmt: skip
    assert doc["options"][0]["name"] == "api (blended)"
    assert [r["tokens_per_month"] for r in doc["sweep"]] == [10**7, 10**8, 10**9]
    assert doc["volume"]["tokens_per_month"] == 10**7  # the headline is the range's start


def test_growth_changes_the_horizon_total(cli):
    doc = cli(
        "tco", "--api-blended-price", "10", "--volume", "1M", "--growth", "10%", "--months", "3",
        "--open-model", "none", "--format", "json",
    ).json()  # fmt: skip
    api = next(c for c in doc["at_volume"] if c["option"] == "api (blended)")
    assert api["horizon_total"] == "33.1"  # 10 + 11 + 12.1


def test_csv_and_markdown(cli):
    csv_out = cli("tco", "--format", "csv").stdout.splitlines()
    assert csv_out[0] == "option,monthly,horizon,per_mtok,gpus,cheapest"
    markdown = cli("tco", "--format", "markdown").stdout
    assert markdown.startswith("### TCO at 500M") and "```text" in markdown


# -- the guides' figures ------------------------------------------------------------------


def test_guides_payback_is_reproduced_by_default(tokcli_process):
    result = tokcli_process("tco", "payback", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = result.json()
    assert doc["payback_months"] == "1.6"
    assert (doc["sprint_cost"], doc["monthly_saving"]) == ("8000", "5000")


def test_payback_flags_and_never(cli):
    doc = cli(
        "tco", "payback", "--hours", "80", "--rate", "150", "--monthly-spend", "20000",
        "--saving", "15%", "--format", "json",
    ).json()  # fmt: skip
    assert doc["payback_months"] == "4"  # 12,000 / 3,000
    never = cli("tco", "payback", "--saving", "0", "--format", "json").json()
    assert never["payback_months"] is None


def test_commit_cli_verdicts(cli):
    doc = cli(
        "tco", "commit", "--commit", "8000", "--discount", "20%", "--usage", "8000",
        "--usage", "12000", "--format", "json",
    ).json()  # fmt: skip
    assert [s["verdict"] for s in doc["scenarios"]] == ["break-even", "good"]
    assert doc["breakeven_usage"] == "8000"


def test_commit_from_config_and_missing_input(cli, isolated_env):
    missing = cli("tco", "commit", "--commit", "100")
    assert missing.exit_code == 2 and "--discount" in missing.stderr
    (isolated_env / "tokcli.toml").write_text(
        "[tco.commit]\ncommit = 1000\ndiscount = 0.1\nusage = [500, 2000]\n"
        "discount_on = 'above-floor'\n",
        encoding="utf-8",
    )
    doc = cli("tco", "commit", "--format", "json").json()
    assert [s["verdict"] for s in doc["scenarios"]] == ["bad", "good"]
    assert doc["discount_on"] == "above-floor"
    keys = {a["key"] for a in doc["assumptions"]}
    assert keys == {s.key for s in COMMIT_SETTINGS}


def test_payback_settings_cover_every_input():
    assert [s.key for s in PAYBACK_SETTINGS] == ["hours", "rate", "monthly_spend", "saving"]


def test_defaults_put_sonnet_against_owned_h100_at_49b_a_year(cli):
    """S000's 49B tokens a year falls out of tokcli's sourced defaults: Sonnet 4.6 at 1:1 against
    one replica of 2 owned H100 ($1.50/GPU-h) with 1 engineer at $416,000 a year."""
    doc = cli("tco", "--format", "json").json()
    pair = _breakeven(doc, "claude-sonnet-4-6", "self-hosted H100")
    crossing = pair["crossings"][-1]
    # (2 x 730 x 1.50 + 416,000 / 12) / $9 per MTok = 4,095,185,185.2 tokens a month
    assert crossing["tokens_per_month"] == 4_095_185_186
    assert round(crossing["tokens_per_year"] / 1e9, 1) == 49.1


@pytest.mark.parametrize(
    ("args", "pair", "per_year"),
    [
        # 67B/yr: Sonnet 4.6 at 2:1 input:output ($7/MTok) against neocloud H100, 1 FTE
        (["--mix", "2:1"], "neocloud H100 on-demand", 66.3),
        # 84B/yr: 1.7 FTEs on the neocloud option at the default 1:1 mix gives 83.9B
        # (exactly 84B needs 1.7015 FTEs: see --target-breakeven 84B/yr)
        (["--neocloud-fte", "1.7"], "neocloud H100 on-demand", 83.9),
        # 500M/month (S003 ch.9): no engineers costed, $485 a month of other fixed costs
        (
            ["--neocloud-fte", "0", "--neocloud-fixed-monthly", "485"],
            "neocloud H100 on-demand",
            6.0,
        ),
    ],
)
def test_inputs_that_reproduce_the_guides_crossovers(cli, args, pair, per_year):
    doc = cli("tco", *args, "--format", "json").json()
    crossing = _breakeven(doc, "claude-sonnet-4-6", pair)["crossings"][-1]
    assert round(crossing["tokens_per_year"] / 1e9, 1) == per_year


def test_500m_a_month_exactly_from_the_solver(cli):
    doc = cli("tco", "--target-breakeven", "500M", "--format", "json").json()
    solved = next(s for s in doc["solved"] if s["gpu"] == "neocloud H100 on-demand")
    values = {i["input"]: i["value"] for i in solved["inputs"]}
    assert values["fixed_total"] == "485"  # $4,500 of Sonnet at 500M - $4,015 of GPUs
    assert values["api_price_per_mtok"].startswith("77.36")
    again = cli(
        "tco", "--neocloud-fte", "0", "--neocloud-fixed-monthly", values["fixed_total"],
        "--format", "json",
    ).json()  # fmt: skip
    crossing = _breakeven(again, "claude-sonnet-4-6", "neocloud H100 on-demand")["crossings"]
    assert crossing[-1]["tokens_per_month"] == 500_000_000


def test_cli_module_imports_no_heavy_library(tokcli_process):
    import subprocess
    import sys

    code = (
        "import sys, tokcli.cli.tco, tokcli.tco.analysis;"
        "print(sorted(m for m in ('pandas', 'rich', 'httpx', 'tiktoken') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert tokcli_process("tco", "--help").exit_code == 0


def test_percent_options_take_their_own_json_output_back(cli):
    """Issue 14 #6: `--saving 0.5` used to mean 0.5% while JSON writes 0.5 for 50%."""
    as_fraction = cli("tco", "payback", "--saving", "0.5", "--format", "json").json()
    as_percent = cli("tco", "payback", "--saving", "50%", "--format", "json").json()
    assert as_fraction == as_percent
    # 10,000 x 0.5 saved a month; 40 h x $200 = $8,000 sprint
    assert as_fraction["monthly_saving"] == "5000"
    commit_args = ["tco", "commit", "--commit", "8000", "--usage", "10000", "--format", "json"]
    fraction = cli(*commit_args, "--discount", "0.2").json()
    percent = cli(*commit_args, "--discount", "20%").json()
    assert fraction == percent and fraction["discount"] == "0.2"
    for option, value in (("--saving", "50"), ("--discount", "20")):
        args = ["tco", "payback"] if option == "--saving" else commit_args[:-2]
        bad = cli(*args, option, value)
        assert bad.exit_code == 2
        assert bad.stderr.startswith(f"tokcli: error: {option}: '{value}' is ambiguous")
