"""Every `tokcli ...` line in examples/ names a real command and only options it has."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer
import yaml

from tokcli.cli.main import app

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
FILES = ["ci/github-actions.yml", "ci/gitlab-ci.yml", "cron/crontab", "pre-commit-config.yaml"]


def _strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _invocations(path: Path) -> list[list[str]]:
    text = path.read_text()
    lines = list(_strings(yaml.safe_load(text))) if path.suffix in (".yml", ".yaml") else [
        line for line in text.splitlines() if not line.lstrip().startswith("#")]  # fmt: skip
    found = []
    for line in lines:
        for piece in re.split(r";|\|\||\||>", " ".join(line.split())):
            words = shlex.split(piece, posix=True) if "tokcli" in piece else []
            if words and "tokcli" in words:
                found.append(words[words.index("tokcli") + 1 :])
    return found


def _resolve(words: list[str]):
    command = typer.main.get_command(app)
    rest = list(words)
    while rest and hasattr(command, "get_command"):
        sub = command.get_command(None, rest[0])
        if sub is None:
            break
        command, rest = sub, rest[1:]
    return command, rest


@pytest.mark.parametrize("name", FILES)
def test_example_commands_exist_with_their_options(name):
    path = EXAMPLES / name
    invocations = _invocations(path)
    if name != "pre-commit-config.yaml":
        assert invocations, f"no tokcli command found in {name}"
    for words in invocations:
        command, rest = _resolve(words)
        known = {opt for param in command.params for opt in param.opts}
        for word in rest:
            if word.startswith("-") and word != "-":
                assert word.split("=")[0] in known, f"{name}: {' '.join(words)}: {word}"


def test_pre_commit_example_uses_the_shipped_hook():
    hooks = yaml.safe_load((EXAMPLES.parent / ".pre-commit-hooks.yaml").read_text())
    config = yaml.safe_load((EXAMPLES / "pre-commit-config.yaml").read_text())
    used = {hook["id"] for repo in config["repos"] for hook in repo["hooks"]}
    assert used <= {hook["id"] for hook in hooks}


def test_examples_install_tokcli_from_a_pinned_git_reference():
    """tokcli is not on PyPI: `pip install tokcli` would fail, or install someone else's code."""
    for name in ("ci/github-actions.yml", "ci/gitlab-ci.yml"):
        text = (EXAMPLES / name).read_text()
        installs = re.findall(r"pip install (.+)", text)
        assert installs, name
        for words in installs:
            assert re.fullmatch(
                r'"tokcli @ git\+https://github\.com/tokcli/tokcli@v\d+\.\d+\.\d+"', words
            ), f"{name}: {words}"
        assert "not on PyPI" in text, f"{name} should say why it installs from git"
