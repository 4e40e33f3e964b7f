"""The one place that turns result objects into table, json, csv or markdown text.

Core code builds an `Output` (a versioned JSON document plus the rows and columns a person
reads); commands pick the format; nothing else formats these four. Formats only one command
has (audit's sarif and github, report's html) live with that command.

Tables are drawn here rather than with rich: rich costs ~90 ms of imports, and `tokcli pricing
show` must answer well under 150 ms.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from tokcli.money import display, plain

FORMATS = ("table", "json", "csv", "markdown")

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class Column:
    key: str
    header: str
    kind: str = "text"  # text | int | money | price | ratio | percent | bool


@dataclass
class Output:
    data: dict[str, Any]  # the JSON document, versioned; the contract scripts rely on
    rows: list[dict[str, Any]] = field(default_factory=list)
    columns: list[Column] = field(default_factory=list)
    title: str | None = None
    notes: list[str] = field(default_factory=list)
    # Extra blocks for table/markdown output: (heading, rows, columns).
    sections: list[tuple[str, list[dict[str, Any]], list[Column]]] = field(default_factory=list)


def use_color(stream: TextIO, environ=None) -> bool:
    """Colour only on a terminal, and never with NO_COLOR set (https://no-color.org)."""
    environ = os.environ if environ is None else environ
    if environ.get("NO_COLOR") or environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def render(output: Output, fmt: str, stream: TextIO, *, color: bool = False) -> None:
    if fmt == "json":
        write_json(output.data, stream)
    elif fmt == "csv":
        _csv(output, stream)
    elif fmt == "markdown":
        _markdown(output, stream)
    elif fmt == "table":
        _table(output, stream, color)
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


def format_table(rows, columns, *, color: bool = False) -> str:
    """Aligned plain-text table; numbers right-aligned; bold header on a colour terminal."""
    if not columns:
        return ""
    from tokcli.sanitise import terminal_text

    # Cells hold data from files and providers: no escape sequence reaches the terminal.
    cells = [[terminal_text(human_cell(row.get(c.key), c.kind)) for c in columns] for row in rows]
    headers = [c.header for c in columns]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    numeric = [c.kind in ("int", "money", "price", "ratio", "percent") for c in columns]

    def line(values):
        parts = [
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    head = line(headers)
    rule = "  ".join("─" * w for w in widths)
    if color:
        head = f"\x1b[1m{head}\x1b[0m"
    return "\n".join([head, rule, *(line(r) for r in cells)])


def _table(output: Output, stream: TextIO, color: bool) -> None:
    out = io.StringIO()
    from tokcli.sanitise import terminal_text

    if output.title:
        title = terminal_text(output.title)
        out.write((f"\x1b[1m{title}\x1b[0m" if color else title) + "\n")
    if output.columns:
        out.write(format_table(output.rows, output.columns, color=color) + "\n")
    for heading, rows, columns in output.sections:
        out.write(f"\n{heading}\n" + format_table(rows, columns, color=color) + "\n")
    for note in output.notes:
        text = f"note: {terminal_text(note)}"
        out.write((f"\x1b[2m{text}\x1b[0m" if color else text) + "\n")
    stream.write(out.getvalue())


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)
