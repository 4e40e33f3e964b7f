"""`tokcli completion SHELL`: print the shell completion script.

The scripts ask tokcli itself for candidates (`_TOKCLI_COMPLETE=complete_<shell> tokcli ...`), so
they always match the installed commands and options; completions/ holds copies generated here.
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
    from typer._completion_shared import get_completion_script

    return get_completion_script(prog_name="tokcli", complete_var=COMPLETE_VAR, shell=shell) + "\n"


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
