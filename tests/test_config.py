"""Config precedence (flags > tokcli.toml > pyproject > user config) and `tokcli init`."""

from __future__ import annotations

import tomllib

from tokcli.config import load_config


def test_precedence_and_merging(isolated_env, tmp_path):
    user = tmp_path / "home" / "config" / "tokcli" / "config.toml"
    user.parent.mkdir(parents=True)
    user.write_text('format = "csv"\nstore = "user.db"\n[audit]\nfail_on = "warning"\n')
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
    assert config.get("audit.fail_on") == "warning"  # user config fills the rest
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
    assert result.exit_code == 2 and "format must be one of" in result.stderr


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
