"""The one place that turns result objects into table, json, csv or markdown text.

Core code builds an `Output` (a versioned JSON document plus the rows and columns a person
reads); commands pick the format; nothing else formats these four. Formats only one command
has (audit's sarif and github, report's html) live with that command.

Tables are drawn here rather than with rich: rich costs ~90 ms of imports, and `tokcli pricing
show` must answer well under 150 ms.

Width: a table is fitted to `table_width()` columns (see `layout`). A bar chart column goes
first (a cut bar would lie about its length; the share column says it in figures), then text
columns (names, models, tags) give up characters, the widest first, ending in "…"; a table still
too wide is folded into blocks of columns that repeat the key columns. Money and other number
cells are never cut: a dollar figure on screen is always whole. When stdout is no terminal and
COLUMNS is unset (`| less`, `> file`, cron) nothing is cut or folded: a pipe gets every
character.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from tokcli.lazyre import lazy
from tokcli.money import display, plain

FORMATS = ("table", "json", "csv", "markdown")

_ANSI = lazy(r"\x1b\[[0-9;]*m")


# Column and Output are plain classes, not dataclasses: every command builds them, and a
# dataclass compiles its methods at import (start-up, issue 17).


class Column:
    __slots__ = ("header", "key", "kind")

    def __init__(self, key: str, header: str, kind: str = "text") -> None:
        self.key = key
        self.header = header
        self.kind = kind  # text | int | money | price | ratio | percent | bool | bar

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Column):
            return NotImplemented
        return (self.key, self.header, self.kind) == (other.key, other.header, other.kind)

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass was

    def __repr__(self) -> str:
        return f"Column(key={self.key!r}, header={self.header!r}, kind={self.kind!r})"


class Output:
    def __init__(
        self,
        data: dict[str, Any],
        rows: list[dict[str, Any]] | None = None,
        columns: list[Column] | None = None,
        title: str | None = None,
        notes: list[str] | None = None,
        sections: list[tuple[str, list[dict[str, Any]], list[Column]]] | None = None,
    ) -> None:
        self.data = data  # the JSON document, versioned; the contract scripts rely on
        self.rows: list[dict[str, Any]] = [] if rows is None else rows
        self.columns: list[Column] = [] if columns is None else columns
        self.title = title
        self.notes: list[str] = [] if notes is None else notes
        # Extra blocks for table/markdown output: (heading, rows, columns).
        self.sections: list[tuple[str, list[dict[str, Any]], list[Column]]] = (
            [] if sections is None else sections
        )


def use_color(stream: TextIO, environ=None) -> bool:
    """Colour only on a terminal, and never with NO_COLOR set (https://no-color.org)."""
    environ = os.environ if environ is None else environ
    if environ.get("NO_COLOR") or environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def table_width(stream: TextIO, environ=None) -> int | None:
    """Columns a table may use: COLUMNS if set, else the terminal's width when `stream` is one,
    else None (no limit: a pipe or file gets whole lines)."""
    environ = os.environ if environ is None else environ
    columns = (environ.get("COLUMNS") or "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    isatty = getattr(stream, "isatty", None)
    if not (isatty and isatty()):
        return None
    try:
        return os.get_terminal_size(stream.fileno()).columns or None
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return None


def render(
    output: Output, fmt: str, stream: TextIO, *, color: bool = False, width: int | None = None
) -> None:
    """`width` limits table lines (see `table_width`); the other formats are never cut."""
    if fmt == "json":
        write_json(output.data, stream)
    elif fmt == "csv":
        _csv(output, stream)
    elif fmt == "markdown":
        _markdown(output, stream)
    elif fmt == "table":
        _table(output, stream, color, width)
    else:  # the CLI validates formats; this is a programming error
        raise ValueError(f"unknown format {fmt!r}")


def write_json(data: Any, stream: TextIO, batch: int = 8192) -> None:
    """Indented JSON written in batches of chunks: large documents never sit whole in memory."""
    import json

    encoder = json.JSONEncoder(indent=2, default=_json_default, ensure_ascii=False)
    chunks: list[str] = []
    for chunk in encoder.iterencode(data):
        chunks.append(chunk)
        if len(chunks) >= batch:
            stream.write("".join(chunks))
            chunks.clear()
    stream.write("".join(chunks) + "\n")


def to_json(data: Any) -> str:
    import json

    return json.dumps(data, indent=2, default=_json_default, ensure_ascii=False)


def _json_default(value: Any):
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def machine_cell(value: Any) -> str:
    """A value as csv carries it: exact numbers, ISO dates, empty for null."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return plain(value) or "0"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def human_cell(value: Any, kind: str) -> str:
    """A value as a person reads it: money rounded, thousands separated."""
    if value is None:
        return "-"
    if kind == "money" and isinstance(value, Decimal):
        return display(value)
    if kind == "price" and isinstance(value, Decimal):
        return "$" + price_text(value)
    if kind == "ratio" and isinstance(value, Decimal | float | int):
        return f"{Decimal(value):.2f}x"
    if kind == "percent" and isinstance(value, Decimal | float | int):
        return f"{Decimal(value):.1f}%"
    if kind == "bool":
        return "yes" if value else "no"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, Decimal):
        return plain(value) or "0"
    if isinstance(value, dt.datetime):
        return (
            value.strftime("%Y-%m-%d %H:%M") if value.time() != dt.time() else f"{value:%Y-%m-%d}"
        )
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def price_text(value: Decimal) -> str:
    """A per-MTok price in full, with at least cents: 0.8 -> 0.80, 0.003625 stays."""
    text = plain(value) or "0"
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"


def _safe_csv(text: str) -> str:
    from tokcli.sanitise import csv_cell

    return csv_cell(text)


def _csv(output: Output, stream: TextIO) -> None:
    import csv

    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow([c.key for c in output.columns])
    for row in output.rows:
        writer.writerow([_safe_csv(machine_cell(row.get(c.key))) for c in output.columns])


def _md_escape(text: str) -> str:
    from tokcli.sanitise import markdown_text

    return markdown_text(text)


def _markdown_table(rows, columns, stream: TextIO) -> None:
    stream.write("| " + " | ".join(_md_escape(c.header) for c in columns) + " |\n")
    aligns = [
        "---:" if c.kind in ("int", "money", "price", "ratio", "percent") else "---"
        for c in columns
    ]
    stream.write("| " + " | ".join(aligns) + " |\n")
    for row in rows:
        cells = [_md_escape(human_cell(row.get(c.key), c.kind)) for c in columns]
        stream.write("| " + " | ".join(cells) + " |\n")


def _markdown(output: Output, stream: TextIO) -> None:
    if output.title:
        stream.write(f"### {_md_escape(output.title)}\n\n")
    if output.columns:
        _markdown_table(output.rows, output.columns, stream)
    for heading, rows, columns in output.sections:
        stream.write(f"\n**{_md_escape(heading)}**\n\n")
        _markdown_table(rows, columns, stream)
    if output.notes:
        stream.write("\n")
        for note in output.notes:
            stream.write(f"- {_md_escape(note)}\n")


NUMERIC_KINDS = ("int", "money", "price", "ratio", "percent")
GAP = "  "
ELLIPSIS = "…"
COMFORTABLE_TEXT_WIDTH = 12  # cut text this far before folding columns into blocks
MIN_TEXT_WIDTH = 4  # never cut text below this ("ab…" still tells rows apart)


def format_table(rows, columns, *, color: bool = False, width: int | None = None) -> str:
    """Aligned plain-text table; numbers right-aligned; bold header on a colour terminal.

    With `width`, every line fits it (see `layout`): a bar column is dropped, text columns are
    cut with "…", and a table still too wide is folded into blocks of columns, each repeating
    the leading text (key) columns. Number and money cells are never cut."""
    if not columns:
        return ""
    from tokcli.sanitise import terminal_text

    # Cells hold data from files and providers: no escape sequence reaches the terminal.
    cells = [[terminal_text(human_cell(row.get(c.key), c.kind)) for c in columns] for row in rows]
    headers = [c.header for c in columns]
    natural = [
        max([text_width(h)] + [text_width(r[i]) for r in cells]) for i, h in enumerate(headers)
    ]
    numeric = [c.kind in NUMERIC_KINDS for c in columns]

    def line(values, block):
        parts = [
            _pad(values[i] if numeric[i] else _cut(values[i], w), w, numeric[i]) for i, w in block
        ]
        return GAP.join(parts).rstrip()

    drawn = []
    for block in layout([c.kind for c in columns], natural, width):
        head = line(headers, block)
        if color:
            head = f"\x1b[1m{head}\x1b[0m"
        rule = GAP.join("─" * w for _, w in block)
        drawn.append("\n".join([head, rule, *(line(r, block) for r in cells)]))
    return "\n\n".join(drawn)


def layout(kinds: list[str], natural: list[int], width: int | None) -> list[list[tuple[int, int]]]:
    """Blocks of (column index, width) whose lines fit `width`, in the order tried:

    1. every column at its natural width;
    2. without bar columns (a cut bar would lie about its length; `share` says it in figures);
    3. text columns cut, widest first, down to COMFORTABLE_TEXT_WIDTH;
    4. folded: the leading text columns (the group keys) repeat in each block, the other
       columns fill blocks left to right; keys are cut further only if a block has no room
       for the widest other column.

    A table whose narrowest form is still wider than `width` (one huge number) is drawn as
    narrow as it gets: a number is never cut."""
    every = list(range(len(kinds)))
    if width is None or _line_width(natural) <= width:
        return [list(zip(every, natural, strict=True))]
    shown = [i for i in every if kinds[i] != "bar"]
    numeric = [kinds[i] in NUMERIC_KINDS for i in shown]
    widths = fit_widths([natural[i] for i in shown], numeric, width, COMFORTABLE_TEXT_WIDTH)
    if _line_width(widths) <= width or not any(numeric):
        if _line_width(widths) > width:
            widths = fit_widths(widths, numeric, width, MIN_TEXT_WIDTH)
        return [list(zip(shown, widths, strict=True))]
    lead_count = numeric.index(True)
    lead, rest = shown[:lead_count], shown[lead_count:]
    widest_rest = max(natural[i] for i in rest)
    lead_widths = fit_widths(
        [natural[i] for i in lead] + [widest_rest], [False] * len(lead) + [True], width
    )[:-1]
    room = width - (_line_width(lead_widths) + len(GAP) if lead else 0)
    blocks: list[list[tuple[int, int]]] = [[]]
    used = 0
    for i in rest:
        w = natural[i] if kinds[i] in NUMERIC_KINDS else min(natural[i], max(room, MIN_TEXT_WIDTH))
        extra = w + (len(GAP) if blocks[-1] else 0)
        if blocks[-1] and used + extra > room:
            blocks.append([])
            used, extra = 0, w
        blocks[-1].append((i, w))
        used += extra
    keys = list(zip(lead, lead_widths, strict=True))
    return [keys + block for block in blocks]


def fit_widths(
    natural: list[int], numeric: list[bool], width: int, floor: int = MIN_TEXT_WIDTH
) -> list[int]:
    """Column widths whose line fits `width` if it can: the widest text column shrinks first,
    down to the next widest, until the line fits or every text column is at `floor`."""
    widths = list(natural)
    excess = _line_width(widths) - width
    while excess > 0:
        text = [i for i, num in enumerate(numeric) if not num and widths[i] > floor]
        if not text:
            break
        widest = max(text, key=lambda i: widths[i])
        runner_up = max([widths[i] for i in text if i != widest] + [floor])
        cut = min(excess, widths[widest] - runner_up) or 1
        widths[widest] -= cut
        excess -= cut
    return widths


def _line_width(widths: list[int]) -> int:
    return sum(widths) + len(GAP) * (len(widths) - 1)


def text_width(text: str) -> int:
    """Terminal columns `text` takes: wide (CJK) characters take two, combining marks none."""
    if text.isascii():
        return len(text)
    import unicodedata

    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def _pad(text: str, width: int, right: bool) -> str:
    space = " " * max(width - text_width(text), 0)
    return space + text if right else text + space


def _cut(text: str, width: int) -> str:
    """`text` in at most `width` terminal columns, ending in "…" when something was cut."""
    if text_width(text) <= width:
        return text
    kept, used = [], 0
    for ch in text:
        used += text_width(ch)
        if used > width - 1:
            break
        kept.append(ch)
    return "".join(kept) + ELLIPSIS


def _wrap(text: str, width: int | None) -> str:
    """Prose lines (titles, notes) are wrapped, not cut: every word stays readable."""
    if width is None or len(text) <= width:
        return text
    import textwrap

    return "\n".join(textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False))


def _table(output: Output, stream: TextIO, color: bool, width: int | None = None) -> None:
    out = io.StringIO()
    from tokcli.sanitise import terminal_text

    if output.title:
        title = _wrap(terminal_text(output.title), width)
        out.write((f"\x1b[1m{title}\x1b[0m" if color else title) + "\n")
    if output.columns:
        out.write(format_table(output.rows, output.columns, color=color, width=width) + "\n")
    for heading, rows, columns in output.sections:
        table = format_table(rows, columns, color=color, width=width)
        out.write(f"\n{_wrap(heading, width)}\n{table}\n")
    for note in output.notes:
        text = _wrap(f"note: {terminal_text(note)}", width)
        out.write((f"\x1b[2m{text}\x1b[0m" if color else text) + "\n")
    stream.write(out.getvalue())


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)
