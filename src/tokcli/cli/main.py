"""The `tokcli` entry point: a lazy command registry and the one place errors become exit codes.

Command modules are imported only when their command runs (pip's registry does the same), so
`tokcli --help` and `tokcli --version` import neither pandas, httpx nor tiktoken.
"""

# No `from __future__ import annotations` here: Typer reads the command signatures and would
# evaluate each string annotation twice (inspect.signature, then get_type_hints), a fifth of
# `estimate`'s start-up (issue 17). Written annotations are evaluated once, at import.

import copy
import importlib
import os
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import typer
from typer.core import TyperGroup

from tokcli import __version__
from tokcli.cli.registry import COMMANDS, available, root_help
from tokcli.errors import ExitCode, TokcliError


class LazyGroup(TyperGroup):
    """Root group: commands come from COMMANDS, imported on first use."""

    def list_commands(self, ctx):
        return available()

    def get_command(self, ctx, cmd_name):
        # Click asks twice per run (resolve_command, then Click's own); build a command once.
        loaded = self.__dict__.setdefault("_loaded", {})
        if cmd_name not in loaded:
            loaded[cmd_name] = self._load(cmd_name)
        return loaded[cmd_name]

    @staticmethod
    def _load(cmd_name):
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        try:  # not available() nor find_spec first: one import is the check (start-up)
            module = importlib.import_module(entry[0])
        except ModuleNotFoundError as exc:
            if exc.name != entry[0]:
                raise
            return None
        command = _read_once(_command_of, module.app)
        command.name = cmd_name
        return command

    def invoke(self, ctx):
        # Click turns a closed pipe into exit 1; `tokcli ... | head` is a normal way to read.
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            _silence_stdout()
            raise SystemExit(ExitCode.OK) from None
        except KeyboardInterrupt:
            # Typer would turn this into a silent exit 130; say what happened, in one line.
            _fail("interrupted", ExitCode.INTERRUPTED)

    def resolve_command(self, ctx, args):
        name = args[0] if args else None
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            from tokcli.suggest import did_you_mean

            ctx.fail(f"no such command {name!r}{did_you_mean(name, available())}")
        return super().resolve_command(ctx, args)

    def format_help(self, ctx, formatter):
        formatter.write(root_help())

    # Click overloads main() on standalone_mode's literal value; this one always exits.
    def main(  # type: ignore[override]
        self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra
    ):
        try:
            result = super().main(
                args=args,
                prog_name=prog_name or "tokcli",
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )
            _flush_stdout()
        except typer.Abort:
            _fail("aborted", ExitCode.INTERRUPTED)
        except KeyboardInterrupt:
            _fail("interrupted", ExitCode.INTERRUPTED)
        except TokcliError as exc:
            from tokcli.cli.flags import error_text

            _fail(error_text(exc), exc.code)
        except BrokenPipeError:
            _silence_stdout()
            sys.exit(ExitCode.OK)
        except Exception as exc:  # the one boundary: never a raw traceback for a user
            if _is_click_error(exc):
                _fail(_one_line(exc), getattr(exc, "exit_code", ExitCode.USAGE))
            _fail(*_unexpected(exc))
        sys.exit(result if isinstance(result, int) else ExitCode.OK)


def _command_of(app: typer.Typer):
    """The Click command of a command module's Typer app. A group's sub-commands are converted
    from their Python signatures only when asked for: `tokcli pricing show` builds `show`, not
    the other nine (Typer would build them all, most of a quick command's start-up)."""
    is_group = (
        app.registered_callback
        or app.info.callback
        or app.registered_groups
        or len(app.registered_commands) > 1
    )
    if not is_group or app._add_completion:
        return typer.main.get_command(app)
    shell = copy.copy(app)  # the same group settings and callback, with no commands to convert
    shell.registered_commands = []
    group = typer.main.get_group(shell)
    group.commands = _LazyCommands(app, group.commands)
    return group


class _LazyCommands(MutableMapping):
    """A group's sub-commands by name, in registration order, each converted on first use."""

    def __init__(self, app: typer.Typer, built: Mapping[str, Any]):
        self._app = app
        self._pending = {}
        for info in app.registered_commands:
            assert info.callback is not None  # a registered command always has its function
            name = info.name or typer.main.get_command_name(info.callback.__name__)
            self._pending[name] = info
        self._built = dict(built)  # sub-groups Typer has already converted

    def __getitem__(self, name):
        if name not in self._built:
            info = self._pending[name]  # KeyError: no such command
            self._built[name] = _read_once(
                typer.main.get_command_from_info,
                info,
                pretty_exceptions_short=self._app.pretty_exceptions_short,
                rich_markup_mode=self._app.rich_markup_mode,
            )
        return self._built[name]

    def __setitem__(self, name, command):
        self._built[name] = command

    def __delitem__(self, name):
        if name not in self:
            raise KeyError(name)
        self._pending.pop(name, None)
        self._built.pop(name, None)

    def __iter__(self):
        yield from self._pending
        yield from (name for name in self._built if name not in self._pending)

    def __len__(self):
        return len(self._pending.keys() | self._built.keys())

    def __contains__(self, name):
        return name in self._pending or name in self._built


def _read_once(convert, *args, **kwargs):
    """`convert(*args, **kwargs)` with each function's signature read once: Typer reads a
    command's signature (inspect.signature, get_type_hints, a copy of every option) for its
    parameters and again for its callback, which wants only the names (start-up, issue 17).
    Typer never changes what it read, so the second reader can share the first one's."""
    read = getattr(typer.main, "get_params_from_function", None)
    if read is None:  # a Typer that no longer reads signatures this way
        return convert(*args, **kwargs)
    found: dict = {}

    def read_once(function):
        if function not in found:
            found[function] = read(function)
        return found[function]

    typer.main.get_params_from_function = read_once
    try:
        return convert(*args, **kwargs)
    finally:
        typer.main.get_params_from_function = read


def _is_click_error(exc: BaseException) -> bool:
    """Click's usage and parameter errors, known by their interface: Typer vendors Click as the
    private `typer._click`, and only Typer 0.27.3+ exports their base (`typer.TyperException`);
    pyproject allows 0.26."""
    return callable(getattr(exc, "format_message", None)) and isinstance(
        getattr(exc, "exit_code", None), int
    )


def _unexpected(exc: BaseException) -> tuple[str, int]:
    """An exception no command turned into a TokcliError: the environment's problem (a disk,
    a damaged store, input too deep or too large) is exit 2 in one line; anything else is a bug
    in tokcli, exit 1, with where to report it. TOKCLI_DEBUG=1 shows the traceback."""
    import traceback

    from tokcli.store.errors import as_store_error

    if os.environ.get("TOKCLI_DEBUG"):
        traceback.print_exception(exc)
    detail = " ".join(str(exc).split()) or type(exc).__name__
    if as_store_error(exc) is not None:
        if "malformed" in detail or "not a database" in detail:
            return f"the usage store is damaged ({detail}); restore it from a backup", 2
        if "readonly" in detail or "read-only" in detail:
            return f"the usage store cannot be written ({detail})", 2
        if "full" in detail:
            return f"the disk is full ({detail}); nothing was written", 2
        return f"usage store: {detail}", 2
    if type(exc).__module__.startswith("psycopg"):  # a PostgreSQL store's server said no
        from tokcli.store.postgres import mask_passwords

        # Any URL's password in the driver's text is masked, as everywhere else.
        return f"usage store (PostgreSQL): {mask_passwords(detail)}", 2
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        return f"{where}{exc.strerror or detail}", 2
    if isinstance(exc, RecursionError):
        return "input nested too deeply to read", 2
    if isinstance(exc, MemoryError):
        return "input too large to read in memory", 2
    if isinstance(exc, UnicodeError):
        return f"text is not valid UTF-8: {detail}", 2
    hint = "TOKCLI_DEBUG=1 shows the traceback; please report it with the command you ran"
    return f"internal error: {type(exc).__name__}: {detail} ({hint})", 1


def _one_line(exc) -> str:
    message = " ".join(exc.format_message().split())
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:  # only usage errors carry the command they happened in
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
    # Typer's public completion switch: registers its bash/zsh/fish responders (what the
    # scripts from `tokcli completion SHELL` talk to) and adds --install/--show-completion.
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    debug: bool = typer.Option(
        False, "--debug", help="On an internal error, print the traceback (also TOKCLI_DEBUG=1)."
    ),
):
    """FinOps for LLM spend: see, predict and cut what you pay for tokens."""
    if debug:
        os.environ["TOKCLI_DEBUG"] = "1"


def main() -> None:
    typer.main.get_command(app).main(prog_name="tokcli")
