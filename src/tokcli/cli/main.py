"""The `tokcli` entry point: a lazy command registry and the one place errors become exit codes.

Command modules are imported only when their command runs (pip's registry does the same), so
`tokcli --help` and `tokcli --version` import neither pandas, httpx nor tiktoken.
"""

from __future__ import annotations

import importlib
import os
import sys

import typer
from typer import _click
from typer.core import TyperGroup

from tokcli import __version__
from tokcli.cli.registry import COMMANDS, COMPLETE_VAR, available, root_help
from tokcli.errors import ExitCode, TokcliError


class LazyGroup(TyperGroup):
    """Root group: commands come from COMMANDS, imported on first use."""

    def list_commands(self, ctx):
        return available()

    def get_command(self, ctx, cmd_name):
        entry = COMMANDS.get(cmd_name)
        if entry is None or cmd_name not in available():
            return None
        module = importlib.import_module(entry[0])
        command = typer.main.get_command(module.app)
        command.name = cmd_name
        return command

    def resolve_command(self, ctx, args):
        name = args[0] if args else None
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            from tokcli.suggest import did_you_mean

            ctx.fail(f"no such command {name!r}{did_you_mean(name, available())}")
        return super().resolve_command(ctx, args)

    def format_help(self, ctx, formatter):
        formatter.write(root_help())

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if COMPLETE_VAR in os.environ:
            # A shell asks for completions; register Typer's bash/zsh/fish responders first.
            from typer._completion_classes import completion_init

            completion_init()
        try:
            result = super().main(
                args=args,
                prog_name=prog_name or "tokcli",
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )
            _flush_stdout()
        except _click.exceptions.ClickException as exc:
            _fail(_one_line(exc), exc.exit_code)
        except typer.Abort:
            _fail("aborted", ExitCode.INTERRUPTED)
        except KeyboardInterrupt:
            _fail("interrupted", ExitCode.INTERRUPTED)
        except TokcliError as exc:
            _fail(str(exc), exc.code)
        except BrokenPipeError:
            _silence_stdout()
            sys.exit(ExitCode.OK)
        sys.exit(result if isinstance(result, int) else ExitCode.OK)


def _one_line(exc) -> str:
    message = " ".join(exc.format_message().split())
    ctx = getattr(exc, "ctx", None)
    if ctx is not None and isinstance(exc, _click.exceptions.UsageError):
        where = f"{ctx.command_path}: " if ctx.parent is not None else ""
        return f"{where}{message} (see `{ctx.command_path} --help`)"
    return message


def _fail(message: str, code: int) -> None:
    _flush_stdout()
    sys.stderr.write(f"tokcli: error: {message}\n")
    sys.stderr.flush()
    sys.exit(int(code))


def _flush_stdout() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        sys.exit(ExitCode.OK)


def _silence_stdout() -> None:
    """The reader went away (`| head`): drop what is left instead of printing a traceback."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _version(value: bool):
    if value:
        typer.echo(f"tokcli {__version__}")
        raise typer.Exit()


app = typer.Typer(
    cls=LazyGroup,
    name="tokcli",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
):
    """FinOps for LLM spend: see, predict and cut what you pay for tokens."""


def main() -> None:
    typer.main.get_command(app).main(prog_name="tokcli")
