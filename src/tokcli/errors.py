"""Exit codes and the exceptions that carry them from core to the CLI boundary."""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import TYPE_CHECKING, TypedDict

from tokcli.lazyre import lazy


class ExitCode(IntEnum):
    """Every exit code tokcli uses. The README documents this table; keep the two in step."""

    OK = 0
    CHECK_FAILED = 1  # a check the user asked for failed: budget, cost regression, audit findings
    USAGE = 2  # bad option, unknown model, unreadable or malformed input
    BATCH_RUNNING = 3  # `batch poll`/`status`: a job is still submitting or running (none failed)
    BATCH_FAILED = 4  # `batch poll`/`status`: a job failed (validation after upload, token limit)
    INTERRUPTED = 130  # Ctrl-C


class TokcliError(Exception):
    """A problem the user can fix. The CLI prints `str(error)` as one line and exits with `code`."""

    code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, *, code: ExitCode | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code

    def render(self, name_of: Callable[[str], str]) -> str:
        """The message with each option it names spelt by `name_of` (the CLI: its flag). The
        same as str() unless the error names options (OptionError, an HttpError's hint)."""
        return str(self)

    def followed_by(self, text: str) -> TokcliError:
        """This error with literal `text` after its message, with the same exit code; the
        options it names still render as the caller's (the command line's flags)."""
        return _Followed(self, text)


class OptionError(TokcliError):
    """A bad option the caller passed, named in the library's terms, never as a CLI flag.

    `template` names each option as {name} (the keyword the library takes: `since`, `fx_to`);
    the other {fields} are values given as keywords, inserted as text and never read again.
    str() shows the names (`since: expected ...`); the command line shows its flags instead
    (`--since: expected ...`) through `render`, so the core never spells a flag.

    >>> str(OptionError("{until} {day} is before {since}", day="2026-01-01"))
    'until 2026-01-01 is before since'
    >>> OptionError("{fx_to}: give the rates too").render(lambda name: "--" + name)
    '--fx_to: give the rates too'
    """

    def __init__(self, template: str, /, **values: object):
        import string  # here, not at import: its Template class compiles a pattern (start-up)

        self.template, self.values = template, values
        fields = (name for _, name, _, _ in string.Formatter().parse(template) if name)
        self.options = tuple(dict.fromkeys(name for name in fields if name not in values))
        super().__init__(self.render(lambda name: name))

    @classmethod
    def at(cls, where: str, problem: str, /, *, sep: str = ": ") -> OptionError:
        """`where: problem`. `where` is an option marker (`{fx}`: the CLI shows its flag) or
        literal text (a config path, a file name); `problem` is literal text, braces and all.

        >>> str(OptionError.at("{fx}", "got '{x}'")), str(OptionError.at("a{b}.csv", "bad"))
        ("fx: got '{x}'", 'a{b}.csv: bad')
        """
        if not _OPTION_MARKER.fullmatch(where):
            where = _literal(where)
        return cls(f"{where}{sep}{_literal(problem)}")

    def render(self, name_of: Callable[[str], str]) -> str:
        """The message with each option spelt by `name_of` (the CLI: its flag)."""
        return self.template.format(**{o: name_of(o) for o in self.options}, **self.values)


def _literal(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


_OPTION_MARKER = lazy(r"\{[a-z][a-z0-9_]*\}")


if TYPE_CHECKING:

    class Location(TypedDict, total=False):
        """Where in an input a problem is, passed on as `InputError(message, **where)`."""

        path: str
        line: int

else:
    Location = dict  # at run time a plain dict: creating a TypedDict costs start-up


class InputError(TokcliError):
    """Malformed or unreadable input. Carries file, line and field so the message can name them.

    A `hint` (how to fix it, with its own leading separator: "; raise it with {limits} ...")
    that names an option follows the message as an OptionError, so the command line can show
    the option as its flag: `render(flag_of)`."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
        field: str | None = None,
        hint: OptionError | None = None,
    ):
        self.path, self.line, self.column, self.field = path, line, column, field
        self.problem, self.hint = message, hint
        super().__init__(self.render(lambda name: name))

    def render(self, name_of: Callable[[str], str]) -> str:
        text = self.problem + (self.hint.render(name_of) if self.hint else "")
        return _locate(text, self.path, self.line, self.column, self.field)


class UnknownModelError(TokcliError):
    """A model id the registry does not know; the message suggests the closest known ids."""

    def __init__(self, model: str, suggestions: list[str]):
        self.model, self.suggestions = model, suggestions
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown model {model!r}{hint} (see `tokcli pricing list`)")


class PriceNotAvailableError(TokcliError):
    """The model is known but has no price for what was asked (date, tier, band)."""


class CheckFailed(TokcliError):
    """A check the user asked for did not pass (exit 1). Not an error in tokcli or the input."""

    code = ExitCode.CHECK_FAILED


def _locate(message, path, line, column, field) -> str:
    where = ""
    if path:
        where = str(path)
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        where += ": "
    if field:
        message = f"{field}: {message}"
    return where + message


class _Followed(TokcliError):
    """An error with more text after its message (see TokcliError.followed_by)."""

    def __init__(self, error: TokcliError, text: str):
        self.error, self.text = error, text
        super().__init__(str(error) + text, code=error.code)

    def render(self, name_of: Callable[[str], str]) -> str:
        return self.error.render(name_of) + self.text
