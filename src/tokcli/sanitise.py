"""One sanitiser for every text tokcli writes: what came from a file name, a tag, a model id or a
provider is data, never a formula, markup or a terminal command.

- CSV: a cell a spreadsheet would run as a formula (=, +, -, @, tab, CR at the start) gets a
  leading `'`, unless it is a plain number such as -30.5.
- Markdown (PR comments): HTML is escaped, so `<img onerror=...>` or an unclosed `<!--` from a
  file name cannot run or hide the rest of the comment; pipes and newlines cannot break a table.
- Terminal: control characters (ANSI escapes, C0/C1 but tab) are removed from table cells.
- GitHub workflow commands: `%`, CR, LF (and `:` `,` in properties) are percent-encoded.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from tokcli.lazyre import lazy

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = lazy(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def csv_cell(text: str) -> str:
    if text.startswith(_FORMULA_START):
        try:
            Decimal(text)  # a plain negative number is data, not a formula
            return text
        except (InvalidOperation, ValueError):
            return "'" + text
    return text


def markdown_text(text: str) -> str:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def terminal_text(text: str) -> str:
    if text.isprintable():  # no control character: most cells, with no pattern compiled
        return text
    return _CONTROL.sub("", text)


def github_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_property(text: str) -> str:
    return github_data(text).replace(":", "%3A").replace(",", "%2C")
