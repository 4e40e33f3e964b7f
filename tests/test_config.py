"""Config precedence (flags > tokcli.toml > pyproject > user config) and `tokcli init`."""

from __future__ import annotations

import re
import tomllib

import pytest

from tokcli.config import load_config


def test_precedence_and_merging(isolated_env, tmp_path):
    user = tmp_path / "home" / "config" / "tokcli" / "config.toml"
    user.parent.mkdir(parents=True)
    user.write_text('format = "csv"\nstore = "user.db"\n[audit]\nfail-on = "warning"\n')
    (isolated_env / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[tool.tokcli]\nformat = "markdown"\n[tool.tokcli.audit]\n'
        'select = ["filler"]\n'
    )
    sub = isolated_env / "prompts"
    sub.mkdir()
    (isolated_env / "tokcli.toml").write_text('format = "json"\n')
    config = load_config(sub)
    assert config.get("format") == "json"  # tokcli.toml beats pyproject and user config
    assert config.get("audit.select") == ["filler"]  # pyproject fills what tokcli.toml lacks
    assert config.get("audit.fail-on") == "warning"  # user config fills the rest
    assert config.get("store") == str(user.parent / "user.db")  # relative to its file
    assert config.files[-1] == isolated_env / "tokcli.toml"


def test_config_format_is_the_default_and_flags_win(cli, isolated_env):
    (isolated_env / "tokcli.toml").write_text('format = "json"\n')
    assert cli("pricing", "show", "gpt-5").json()["model"] == "gpt-5"
    assert cli("pricing", "show", "gpt-5", "-f", "csv").stdout.startswith("dimension,")


def test_invalid_toml_exit_2_one_line(cli, isolated_env):
    (isolated_env / "tokcli.toml").write_text('format = "json\n')
    result = cli("pricing", "show", "gpt-5")
    assert result.exit_code == 2
    assert "tokcli.toml: invalid TOML" in result.stderr and "line 1" in result.stderr
    assert result.stderr.count("\n") == 1


def test_bad_format_value_in_config_exit_2(cli, isolated_env):
    (isolated_env / "tokcli.toml").write_text('format = "xml"\n')
    result = cli("pricing", "show", "gpt-5")
    assert result.exit_code == 2
    assert result.stderr.endswith(
        "tokcli.toml:1: format: expected one of table, json, csv, markdown, got 'xml'\n"
    )


def test_init_writes_a_commented_valid_config(cli, isolated_env):
    result = cli("init")
    assert result.exit_code == 0
    text = (isolated_env / "tokcli.toml").read_text()
    assert text.count("\n# ") > 10  # commented
    assert tomllib.loads(text) == {"format": "table", "pricing": []}
    again = cli("init")
    assert again.exit_code == 2 and "already exists" in again.stderr
    assert cli("init", "--force").exit_code == 0
    assert cli("pricing", "show", "gpt-5").exit_code == 0  # the starter config loads


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('fromat = "json"\n', "tokcli.toml:1: fromat: unknown key (did you mean 'format'?)"),
        ('format = "yaml"\n', "tokcli.toml:1: format: expected one of table, json, csv, markdown"),
        ("store = 3\n", "tokcli.toml:1: store: expected a non-empty string"),
        (
            '[advise]\ntarget_hit_rate = "180%"\n',
            "tokcli.toml:2: advise.target_hit_rate: expected a share",
        ),
        (
            '[advise]\nbatchable = ["x"]\n',
            "tokcli.toml:2: advise.batchable: unknown key (did you mean 'batchable_features'?)",
        ),
        (
            "[pricing.aliases]\nsupport-gpt = 4\n",
            "tokcli.toml:2: pricing.aliases.support-gpt: expected a non-empty string",
        ),
        (
            '[tco]\n\n# comment\ngpuu = "H100"\n',
            "tokcli.toml:4: tco.gpuu: unknown key (did you mean 'gpu'?)",
        ),
        ("[tags]\nteam = 7\n", "tokcli.toml:2: tags.team: expected a string or a list"),
        (
            '[[prompts]]\npath = "a.j2"\nper = "week"\n',
            "tokcli.toml:3: prompts.per: expected one of day, month",
        ),
    ],
)
def test_config_keys_and_values_are_checked_on_load(cli, isolated_env, text, expected):
    (isolated_env / "tokcli.toml").write_text(text)
    result = cli("pricing", "list")
    assert result.exit_code == 2
    assert expected in result.stderr and result.stderr.count("\n") == 1


def test_pyproject_keys_are_checked_with_their_line(cli, isolated_env):
    (isolated_env / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.tokcli]\nfromat = "json"\n'
    )
    result = cli("pricing", "list")
    assert result.exit_code == 2
    assert "pyproject.toml:5: tool.tokcli.fromat: unknown key (did you mean 'format'?)" in (
        result.stderr
    )


def test_every_valid_section_loads(cli, isolated_env):
    (isolated_env / "tokcli.toml").write_text(
        'format = "json"\npricing = []\n[tags]\nteam = ["Team"]\n[audit]\nfail-on = "error"\n'
        'max_tokens = 500\n[advise]\ntarget_hit_rate = "70%"\nbatchable_features = ["x"]\n'
        '[tco]\ngpu = "H100"\nself-fte = 2\n[tco.commit]\ndiscount = 20\n[[budgets]]\n'
        'amount = "100"\n[[prompts]]\npath = "a.j2"\nrequests = 5\nper = "day"\n'
    )
    assert cli("pricing", "show", "gpt-5").exit_code == 0


def test_the_starter_config_with_every_example_uncommented_is_valid(isolated_env):
    """`tokcli init`'s examples name only keys tokcli reads (no documented no-ops)."""
    from tokcli.initconfig import starter_config

    example = re.compile(r"^# (\[\[?[a-z_.]+\]\]?$|[a-z_-]+ = )")
    text = "\n".join(
        line[2:] if example.match(line) else line for line in starter_config().splitlines()
    )
    (isolated_env / "tokcli.toml").write_text(text)
    config = load_config(isolated_env)
    assert config.get("advise.target_hit_rate") == "80%"
