"""Shell completions: the committed scripts are what `tokcli completion` prints, and they work."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tokcli.cli.registry import available

REPO = Path(__file__).resolve().parents[1]
FILES = {"bash": "tokcli.bash", "zsh": "_tokcli", "fish": "tokcli.fish"}


@pytest.mark.parametrize("shell", sorted(FILES))
def test_committed_scripts_are_not_stale(cli, shell):
    result = cli("completion", shell)
    assert result.exit_code == 0
    committed = (REPO / "completions" / FILES[shell]).read_text()
    assert result.stdout == committed, f"regenerate: tokcli completion {shell} > completions/..."


def _bin_path() -> str:
    return f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"


def test_bash_completes_every_command_and_options():
    script = REPO / "completions" / "tokcli.bash"
    probe = (f"source {script}; COMP_WORDS=(tokcli ''); COMP_CWORD=1; _tokcli_completion tokcli; "
             "echo \"${COMPREPLY[@]}\"; COMP_WORDS=(tokcli pricing show --f); COMP_CWORD=3; "
             "_tokcli_completion tokcli; echo \"${COMPREPLY[@]}\"")  # fmt: skip
    proc = subprocess.run(["bash", "-c", probe], capture_output=True, text=True,
                          env={**os.environ, "PATH": _bin_path()})  # fmt: skip
    commands, options = proc.stdout.splitlines()[:2]
    assert set(commands.split()) == set(available())
    assert options.split() == ["--format"]


def test_fish_protocol_lists_subcommands():
    if shutil.which("tokcli") is None and not (Path(sys.executable).parent / "tokcli").exists():
        raise AssertionError("the tokcli console script is not installed")
    env = {
        **os.environ,
        "PATH": _bin_path(),
        "_TOKCLI_COMPLETE": "complete_fish",
        "_TYPER_COMPLETE_FISH_ACTION": "get-args",
        "_TYPER_COMPLETE_ARGS": "tokcli pricing ",
    }
    proc = subprocess.run(["tokcli"], capture_output=True, text=True, env=env)  # fmt: skip
    names = [line.split("\t")[0] for line in proc.stdout.splitlines()]
    assert names == ["list", "show", "validate", "import-litellm", "update"]
