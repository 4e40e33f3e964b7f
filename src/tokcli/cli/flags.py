"""Core errors name the caller's options in the library's terms (`since`, `fx_to`, `pull`);
the command line shows them as its flags (`--since`, `--fx-to`, `--from`)."""

from __future__ import annotations

from tokcli.errors import TokcliError

# Options whose flag is not the option's name with '-' for '_'.
RENAMED = {"pull": "--from", "mapping": "--map", "limits": "--limit", "source_name": "--source"}


def flag_of(option: str) -> str:
    return RENAMED.get(option, "--" + option.replace("_", "-"))


def error_text(error: BaseException) -> str:
    """The one line a user reads for `error`, options spelt as flags."""
    if isinstance(error, TokcliError):
        return error.render(flag_of)
    return str(error)
