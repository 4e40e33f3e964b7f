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


def test_ci_runs_the_readme_test_command_in_a_fresh_clone():
    ci = (REPO / ".ci" / "run").read_text()
    lines = ci.splitlines()
    assert _quickstart_commands()[1] in lines
    command_at = lines.index(_quickstart_commands()[1])
    before = "\n".join(lines[:command_at])
    # ... run inside a clone of HEAD placed in an empty temporary folder, removed afterwards,
    assert "mktemp -d" in before and "git fetch" in before and "checkout" in before
    assert re.search(r"trap '[^']*rm -rf \"\$work\"", before)
    assert re.search(r"^cd \"\$work/", before, re.MULTILINE)
    # ... and nothing after it can swallow pytest's exit code.
    assert "set -euo pipefail" in before
    assert not [line for line in lines[command_at + 1 :] if line.strip()]


def test_readme_is_short_and_names_only_what_a_reader_can_see():
    readme = (REPO / "README.md").read_text()
    assert len(readme.encode()) < 15_000
    for hidden in ("S000", "S003", "the guides", "issue 8", "../shared", "PRICING-FACTS"):
        assert hidden not in readme, hidden


def test_docs_name_only_what_a_reader_can_see():
    for page in (REPO / "docs").rglob("*.md"):
        text = page.read_text()
        for hidden in ("S000", "S003", "the guides", "issue 8", "../shared", "PRICING-FACTS"):
            assert hidden not in text, f"{page.relative_to(REPO)}: {hidden}"


def test_readme_links_point_at_files_in_the_repository():
    readme = (REPO / "README.md").read_text()
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme)
    local = [t for t in targets if not t.startswith(("http://", "https://"))]
    assert local
    for target in local:
        assert (REPO / target).exists(), target


def test_readme_commands_use_real_options():
    from test_examples import _resolve

    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"```(?:sh|console|crontab)\n(.+?)```", readme, re.DOTALL)
    invocations = [
        piece.split()[piece.split().index("tokcli") + 1 :]
        for block in blocks
        for line in block.splitlines()
        for piece in re.split(r"&&|;|\|\||\||>", line)
        if "tokcli" in piece.split()
    ]
    assert len(invocations) > 10
    for words in invocations:
        command, rest = _resolve(words)
        known = {opt for param in command.params for opt in param.opts}
        for word in rest:
            if word.startswith("-"):
                assert word.split("=")[0] in known, " ".join(words)


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
