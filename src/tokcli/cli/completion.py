"""`tokcli completion SHELL`: print the shell completion script.

The scripts ask tokcli itself for candidates (`_TOKCLI_COMPLETE=complete_<shell> tokcli ...`), so
they always match the installed commands and options; completions/ holds copies generated here.

Only Typer's public surface is used: the root app is built with `add_completion=True` (which
registers Typer's bash/zsh/fish responders), and the script is what tokcli answers to the
documented `_TOKCLI_COMPLETE=source_<shell>` instruction. Typer vendors Click as the private
`typer._click` since 0.26, so Click's own `shell_completion` classes cannot complete a Typer
command tree, and importing Typer's private modules would break on any Typer release.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from tokcli.cli.common import command_app
from tokcli.cli.registry import COMPLETE_VAR

app = command_app(no_args_is_help=False)


class Shell(StrEnum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


def completion_script(shell: str) -> str:
    """The script tokcli itself prints for `_TOKCLI_COMPLETE=source_<shell> tokcli`."""
    import os
    import subprocess
    import sys

    from tokcli.errors import TokcliError

    env = {**os.environ, COMPLETE_VAR: f"source_{shell}"}
    run = subprocess.run(
        [sys.executable, "-m", "tokcli"], env=env, capture_output=True, text=True, check=False
    )
    if run.returncode != 0 or not run.stdout.strip():
        detail = " ".join(run.stderr.split()) or f"exit {run.returncode}"
        raise TokcliError(f"completion: cannot generate the {shell} script ({detail})")
    return run.stdout.strip() + "\n"


@app.command()
def completion(shell: Annotated[Shell, typer.Argument(help="bash, zsh or fish.")]):
    """Print the completion script for a shell.

    \b
    Example:
        tokcli completion bash > ~/.local/share/bash-completion/completions/tokcli
        tokcli completion zsh > "${fpath[1]}/_tokcli"
        tokcli completion fish > ~/.config/fish/completions/tokcli.fish
    """
    typer.echo(completion_script(shell.value), nl=False)
