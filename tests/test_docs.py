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
