"""Render budgets for templates: a flag, an environment variable or a config key, in that
order of precedence, over the default (2,000,000 characters, 10 s).

Old code: only the environment variables existed; `--max-rendered-chars` was an unknown
option and `[templates]` an unknown config table (exit 2 both).
"""

from __future__ import annotations

import pytest

from tokcli.config import Config
from tokcli.errors import TokcliError
from tokcli.prompts.renderers import RenderLimits

BIG = "{{ 'a' * 3000000 }}"  # renders to 3,000,000 characters: over the default budget


@pytest.fixture
def big(isolated_env):
    (isolated_env / "big.j2").write_text(BIG)
    return "big.j2"


def estimate(cli, *args, env=None):
    return cli("estimate", *args, "-m", "gpt-5", "-f", "json", env=env)


def config(isolated_env, chars=None, seconds=None):
    lines = ["[templates]"]
    if chars is not None:
        lines.append(f"max_rendered_chars = {chars}")
    if seconds is not None:
        lines.append(f"max_render_seconds = {seconds}")
    (isolated_env / "tokcli.toml").write_text("\n".join(lines) + "\n")


def test_the_default_stops_a_render_past_two_million_characters(cli, big):
    run = estimate(cli, big)
    assert run.exit_code == 2
    assert "limit: 2,000,000 characters" in run.stderr
    assert "--max-rendered-chars" in run.stderr and "max_rendered_chars" in run.stderr


def test_the_flag_raises_the_budget(cli, big):
    run = estimate(cli, big, "--max-rendered-chars", "5000000")
    assert run.exit_code == 0, run.stderr
    # 3,000,000 'a's are more than a million tokens whatever the tokenizer
    assert run.json()["results"][0]["input_tokens"] > 300_000


def test_the_config_key_raises_the_budget(cli, big, isolated_env):
    config(isolated_env, chars=5_000_000)
    assert estimate(cli, big).exit_code == 0


def test_the_environment_wins_over_the_config(cli, big, isolated_env):
    config(isolated_env, chars=5_000_000)
    run = estimate(cli, big, env={"TOKCLI_MAX_RENDERED_CHARS": "1000"})
    assert run.exit_code == 2 and "limit: 1,000 characters" in run.stderr


def test_the_flag_wins_over_the_environment(cli, big):
    run = estimate(
        cli, big, "--max-rendered-chars", "5000000", env={"TOKCLI_MAX_RENDERED_CHARS": "1000"}
    )
    assert run.exit_code == 0, run.stderr
    lower = estimate(
        cli, big, "--max-rendered-chars", "1000", env={"TOKCLI_MAX_RENDERED_CHARS": "5000000"}
    )
    assert lower.exit_code == 2 and "limit: 1,000 characters" in lower.stderr


@pytest.mark.parametrize(
    ("flag", "env", "configured", "expected"),
    [
        (None, None, None, 10.0),  # default
        (None, None, 2.5, 2.5),  # config
        (None, "4", 2.5, 4.0),  # env over config
        ("0.5", "4", 2.5, 0.5),  # flag over env
    ],
)
def test_seconds_follow_flag_env_config_default(flag, env, configured, expected):
    environ = {"TOKCLI_MAX_RENDER_SECONDS": env} if env else {}
    data = {"templates": {"max_render_seconds": configured}} if configured else {}
    limits = RenderLimits.resolve(seconds_flag=flag, environ=environ, config=Config(data))
    assert limits.seconds == expected
    assert limits.max_chars == 2_000_000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-rendered-chars", "0"], "--max-rendered-chars: expected a whole number > 0"),
        (["--max-render-seconds", "soon"], "--max-render-seconds: expected a number > 0"),
        (["--max-render-seconds", "nan"], "--max-render-seconds: expected a number > 0"),
    ],
)
def test_bad_flags_are_one_error_line(cli, big, args, message):
    run = estimate(cli, big, *args)
    assert run.exit_code == 2 and run.stdout == ""
    assert run.stderr.startswith("tokcli: error: " + message)
    assert len(run.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("max_rendered_chars = 0", "expected a whole number > 0"),
        ("max_rendered_chars = 1.5", "expected a whole number > 0"),
        ('max_render_seconds = "ten"', "expected a number > 0"),
        ("max_rendr_seconds = 3", "unknown"),
    ],
)
def test_bad_config_values_exit_2_naming_the_key(cli, big, isolated_env, line, problem):
    (isolated_env / "tokcli.toml").write_text(f"[templates]\n{line}\n")
    run = estimate(cli, big)
    assert run.exit_code == 2 and problem in run.stderr and "tokcli.toml:2" in run.stderr


def test_a_bad_config_value_read_directly_is_refused():
    with pytest.raises(TokcliError, match=r"templates\.max_render_seconds"):
        RenderLimits.resolve(environ={}, config=Config({"templates": {"max_render_seconds": -1}}))
