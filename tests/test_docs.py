"""The README and CI agree with the code."""

from __future__ import annotations

import re
from pathlib import Path

from tokcli.cli.registry import available

REPO = Path(__file__).resolve().parents[1]


def _quickstart_commands() -> list[str]:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_quickstart_is_exactly_two_commands():
    commands = _quickstart_commands()
    assert len(commands) == 2
    assert "pip install ." in commands[0] and "tokcli " in commands[0]
    assert "pip install -e '.[test]'" in commands[1] and "pytest" in commands[1]


def test_ci_runs_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert _quickstart_commands()[1] in ci


def test_readme_names_every_command():
    readme = (REPO / "README.md").read_text()
    for name in available():
        if name != "completion":
            assert f"tokcli {name}" in readme, name


def test_store_location_flag_beats_environment_beats_config(cli, tmp_path):
    project = tmp_path / "work"  # the test's working folder (conftest.isolated_env)
    (project / "tokcli.toml").write_text('store = "from-config.db"\n')
    flag, env = tmp_path / "flag.db", {"TOKCLI_STORE": str(tmp_path / "env.db")}

    def store_path(*args, env=None):
        run = cli("store", "path", *args, env=env)
        assert run.exit_code == 0, run.stderr
        return run.stdout.strip()

    assert store_path("--store", flag, env=env) == str(flag)
    assert store_path(env=env) == env["TOKCLI_STORE"]
    assert store_path() == str(project / "from-config.db")  # relative to the config's folder
    (project / "tokcli.toml").unlink()
    assert store_path() == str(tmp_path / "home" / "data" / "tokcli" / "usage.db")


def test_docs_state_the_store_precedence_the_code_has():
    page = (REPO / "docs" / "concepts" / "usage-store.md").read_text()
    order = [page.find(word) for word in ("`--store", "`$TOKCLI_STORE`", "`store` in the config")]
    assert -1 not in order and order == sorted(order), order
    readme = (REPO / "README.md").read_text()
    assert "`$TOKCLI_STORE`, else `--store" not in readme
