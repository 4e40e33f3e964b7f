"""What every command shares: the runtime (config, registry, store, clock, streams) and the
option definitions, so `--format`, `--store`, `--pricing` and `--at` mean the same everywhere."""

from __future__ import annotations

import datetime as dt
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TextIO

import typer

from tokcli.context import Context
from tokcli.errors import TokcliError
from tokcli.render import Output, render, table_width, use_color


def command_app(help: str | None = None, **settings) -> typer.Typer:
    """A Typer app for one command module, with the settings every tokcli command shares."""
    settings.setdefault("no_args_is_help", True)
    return typer.Typer(
        help=help,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
        **settings,
    )


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


FormatOpt = Annotated[
    Format | None,
    typer.Option(
        "--format",
        "-f",
        help="Output format (default: table, or `format` in config).",
        show_default=False,
    ),
]
QuietOpt = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        help="Print nothing on success (cron): errors and failed checks still print.",
    ),
]
StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="Usage store: a SQLite file, or a postgresql:// URL for a shared team store. "
        "Env: TOKCLI_STORE.",
        show_default=False,
        metavar="PATH|URL",
    ),
]
PricingOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--pricing",
        help="Pricing override file, merged over the registry (repeatable).",
        show_default=False,
    ),
]
# The window and filter of the commands that read the store (report, advise).
SinceOpt = Annotated[
    str | None, typer.Option("--since", help="First day, YYYY-MM-DD.", show_default=False)
]
UntilOpt = Annotated[
    str | None,
    typer.Option("--until", help="Last day (inclusive), YYYY-MM-DD.", show_default=False),
]
MonthOpt = Annotated[
    str | None, typer.Option("--month", help="One month, YYYY-MM.", show_default=False)
]
WhereOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--where", "-w", help="Only rows with key=value (repeatable).", show_default=False
    ),
]
AtOpt = Annotated[
    str | None,
    typer.Option(
        "--at", help="Price as of this date, YYYY-MM-DD (default: today, UTC).", show_default=False
    ),
]


class Runtime(Context):
    """A command's surroundings: the library `Context` plus the output streams."""

    def __init__(
        self, *, stdout: TextIO | None = None, stderr: TextIO | None = None, **context
    ) -> None:
        super().__init__(**context)
        self.stdout = sys.stdout if stdout is None else stdout
        self.stderr = sys.stderr if stderr is None else stderr

    def format(self, flag: Format | None) -> str:
        if flag is not None:
            return flag.value
        configured = self.config.get("format")
        if configured is not None and configured not in Format.__members__:
            raise TokcliError(f"config: format must be one of {', '.join(Format.__members__)}")
        return configured or "table"

    def emit(self, output: Output, fmt: str) -> None:
        color = fmt == "table" and use_color(self.stdout, self.environ)
        width = table_width(self.stdout, self.environ) if fmt == "table" else None
        render(output, fmt, self.stdout, color=color, width=width)

    def warn(self, message: str) -> None:
        self.stderr.write(f"tokcli: warning: {message}\n")

    def info(self, message: str) -> None:
        """A log line for people (stderr): what a command did, when stdout carries no data."""
        self.stderr.write(f"tokcli: {message}\n")

    def store_upgrading(self, migrations: list[str]) -> None:
        """One line at a terminal before the store is migrated (a migration may copy a table:
        a minute on a store of 10M rows); scripts and cron jobs stay quiet."""
        isatty = getattr(self.stderr, "isatty", None)
        if isatty is not None and isatty():
            self.info(
                f"upgrading the store to this version's schema ({', '.join(migrations)}); "
                "once, and it may take a minute on a large store"
            )
            self.stderr.flush()


def runtime(store: str | Path | None = None, pricing: list[Path] | None = None) -> Runtime:
    return Runtime(store_flag=store, pricing_flags=list(pricing or []))


def parse_date(value: str | None, *, option: str = "--at") -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise TokcliError(f"{option}: expected a date YYYY-MM-DD, got {value!r}") from None


def parse_key_values(items: list[str] | None, *, option: str) -> list[tuple[str, str]]:
    """`key=value` options (--tag, --where), stripped; a malformed one is a usage error."""
    pairs = []
    for item in items or []:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise TokcliError(f"{option}: expected key=value, got {item!r}")
        pairs.append((key, value))
    return pairs


def complete_model(incomplete: str) -> list[str]:
    """Shell completion of model ids from the pricing registry (curated ids)."""
    try:
        registry = Context().registry
        names = sorted({model.id for model in registry.list()})
    except Exception:  # completion must never break the shell
        return []
    return [name for name in names if name.startswith(incomplete)]


def complete_group_key(incomplete: str) -> list[str]:
    """Shell completion of `--by` keys: the store's tag keys and the built-in dimensions; after
    a comma, the next key."""
    head, _, last = incomplete.rpartition(",")
    keys = ["model", "provider", "tier", "source", "day", "week", "month"]
    try:
        from tokcli.reporting.query import known_tag_keys

        context = Context()
        if context.store_path.is_file():
            conn = context.open_store()
            try:
                keys = [*known_tag_keys(conn), *keys]
            finally:
                conn.close()
    except Exception:  # completion must never break the shell
        pass
    prefix = f"{head}," if head else ""
    return [prefix + key for key in keys if key.startswith(last)]
