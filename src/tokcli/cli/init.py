"""`tokcli init`: write a commented starter tokcli.toml."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tokcli.cli.common import command_app, runtime
from tokcli.errors import TokcliError

app = command_app(no_args_is_help=False)


@app.command()
def init(
    path: Annotated[Path, typer.Option("--path", help="File to write.")] = Path("tokcli.toml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
):
    """Write a commented starter config (tokcli.toml) in the current folder."""
    from tokcli.initconfig import starter_config

    rt = runtime()
    target = path if path.is_absolute() else rt.cwd / path
    if target.exists() and not force:
        raise TokcliError(f"{path}: already exists (use --force to overwrite)")
    target.write_text(starter_config(), encoding="utf-8")
    rt.stderr.write(f"wrote {path}\n")
