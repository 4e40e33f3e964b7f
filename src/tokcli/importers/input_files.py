"""Opening input files: gzip and zip transparently, UTF-8 with or without BOM (UTF-16 with a
BOM too), CSV rows with their line numbers, JSON with exact decimals, and a byte counter for the
progress bar.

Every read is bounded (`Limits`): decompressed bytes (absolute, and relative to the compressed
size, so a gzip bomb stops early), line length, JSON nesting depth and rows per file. Each limit
has a clear message naming the `limits` option, NAME=VALUE (the command line's `--limit`), or the
`import.limits.NAME` config key that raises it.
"""

from __future__ import annotations

import csv
import io
import json
import re
import stat
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from tokcli.errors import InputError, OptionError

SNIFF_BYTES = 64 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Bytes that are not UTF-8 are decoded as lone surrogates (errors="surrogateescape") so the line
# holding them can be named, instead of a decode error somewhere inside a 1 MiB chunk.
_NOT_UTF8 = re.compile("[\udc80-\udcff]")
MiB = 1 << 20

# Azure and FOCUS cells (descriptions, resource ids, tags) can exceed csv's 128 KiB default;
# the line-length limit below is what bounds them.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass(frozen=True)
class Limits:
    """How much one input may hold. Defaults sit far above real exports (a 300k-row FOCUS file
    is ~200 MB, a gzip'd CSV compresses 10-30x) and far below what exhausts memory."""

    decompressed_bytes: int = 20 * 1024 * MiB
    decompression_ratio: int = 200  # applies once more than 64 MiB have been decompressed
    line_length: int = 32 * MiB
    json_depth: int = 200
    rows: int = 50_000_000

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    def updated(self, settings: Mapping[str, object], origin: str) -> Limits:
        """These limits with `settings` ({name: value}) applied. `origin` says where they came
        from, for the error message: a config path (`import.limits`), or the caller's option
        as `{limits}` (see OptionError: the command line shows its flag)."""
        changes = {}
        for name, value in settings.items():
            key = name.replace("-", "_")
            if key not in self.names():
                known = ", ".join(n.replace("_", "-") for n in self.names())
                raise OptionError.at(origin, f"unknown limit {name!r}; known: {known}")
            try:
                number = int(str(value).replace("_", ""))
            except ValueError:
                raise OptionError.at(
                    origin, f"{name}: expected a whole number, got {value!r}"
                ) from None
            if number <= 0:
                raise OptionError.at(origin, f"{name}: must be positive, got {value!r}")
            changes[key] = number
        return replace(self, **changes)


RATIO_APPLIES_ABOVE = 64 * MiB


def limit_hint(name: str) -> OptionError:
    """How to raise limit `name`, as an InputError's hint: the command line shows `--limit`."""
    setting = name.replace("_", "-")
    return OptionError(
        "; raise it with {limits} {setting}=N (or import.limits.{name} in the config)",
        setting=setting,
        name=name,
    )


class BoundedReader(io.RawIOBase):
    """A decompressed stream that stops with a clear error past the decompressed-size limits:
    an absolute cap, and a ratio to the compressed size (a gzip bomb is 1000:1)."""

    def __init__(self, inner: BinaryIO, compressed_size: int, limits: Limits, path: str):
        self.inner = inner
        self.limits = limits
        self.path = path
        self.compressed_size = max(compressed_size, 1)
        self.bytes_out = 0

    def readable(self) -> bool:
        return True

    # io hands a bytearray or memoryview (sliced and measured here); typeshed's Buffer has no len().
    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.inner.read(len(buffer))
        buffer[: len(data)] = data
        self.bytes_out += len(data)
        self._check()
        return len(data)

    def _check(self) -> None:
        if self.bytes_out > self.limits.decompressed_bytes:
            raise InputError(
                f"decompresses to more than {self.limits.decompressed_bytes:,} bytes",
                path=self.path,
                hint=limit_hint("decompressed_bytes"),
            )
        ratio = self.bytes_out / self.compressed_size
        if self.bytes_out > RATIO_APPLIES_ABOVE and ratio > self.limits.decompression_ratio:
            raise InputError(
                f"decompresses to more than {self.limits.decompression_ratio} times its "
                f"compressed size ({self.compressed_size:,} bytes): a compression bomb or a "
                "damaged archive",
                path=self.path,
                hint=limit_hint("decompression_ratio"),
            )

    def close(self) -> None:
        self.inner.close()
        super().close()


class CountingReader(io.RawIOBase):
    """Counts the bytes read from the file on disk (compressed bytes for .gz), so progress is
    reported against the file size whatever the compression."""

    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    # io hands a bytearray or memoryview (sliced and measured here); typeshed's Buffer has no len().
    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        self.bytes_read += len(data)
        return len(data)

    def close(self) -> None:
        self.raw.close()
        super().close()


def _files_size(folder: Path) -> int:
    """The bytes of the regular files under `folder`: one stat per entry (not a stat to ask
    whether it is a file, then another for its size)."""
    size = 0
    for path in folder.rglob("*"):
        try:
            status = path.stat()
        except OSError:  # a broken link, a file gone since the listing: no file, as is_file()
            continue
        if stat.S_ISREG(status.st_mode):
            size += status.st_size
    return size


class Source:
    """One input file; `open_text()` may be called more than once (sniffing, then reading)."""

    def __init__(self, path: Path, limits: Limits | None = None, label: str | None = None):
        self.path = path
        self.limits = limits or Limits()
        self.label = label  # how errors name the file (a folder import names it relative)
        self.counter: CountingReader | None = None
        self.bytes_reported = 0  # bytes done as another process reports them (parse_worker)
        try:
            # One stat says both what it is and its size. A folder's parse builds a Source of
            # each of its files (thousands in a real ~/.claude/projects) and asks the folder's
            # whether it is one for each.
            status = path.stat()
            self._is_dir = stat.S_ISDIR(status.st_mode)
            if self._is_dir:  # a folder of transcripts, read by the format that accepts one
                self.size = _files_size(path)
                self.magic = b""
                return
            self.size = status.st_size
            with path.open("rb") as handle:
                self.magic = handle.read(4)
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror or exc}", path=str(path)) from None

    @property
    def name(self) -> str:
        return self.label or str(self.path)

    @property
    def is_dir(self) -> bool:
        return self._is_dir

    def open_binary(self) -> BinaryIO:
        self.counter = CountingReader(self.path.open("rb"))
        raw: BinaryIO = io.BufferedReader(self.counter, buffer_size=1 << 20)
        if self.magic.startswith(_GZIP_MAGIC):
            import gzip

            inflated = gzip.GzipFile(fileobj=raw, mode="rb")
            return self._bounded(inflated)  # type: ignore[arg-type]
        if self.magic.startswith(_ZIP_MAGIC):
            return self._bounded(self._zip_member(raw))
        return raw

    def _bounded(self, inflated: BinaryIO) -> BinaryIO:
        bounded = BoundedReader(inflated, self.size, self.limits, self.name)
        return io.BufferedReader(bounded, buffer_size=1 << 20)

    def _zip_member(self, raw: BinaryIO) -> BinaryIO:
        import zipfile

        archive = zipfile.ZipFile(self.path)
        members = [m for m in archive.infolist() if not m.is_dir()]
        for member in members:
            parts = member.filename.replace("\\", "/").split("/")
            if member.filename.startswith("/") or ".." in parts:
                raise InputError(
                    f"zip member {member.filename!r} points outside the archive; refusing it",
                    path=self.name,
                )
        if len(members) != 1:
            raise InputError(
                f"a zip input must hold exactly one file, found {len(members)}; unzip it first",
                path=self.name,
            )
        raw.close()
        return archive.open(members[0])  # type: ignore[return-value]

    def open_text(self) -> io.TextIOWrapper:
        # utf-8-sig drops a BOM when there is one and reads plain UTF-8 otherwise; a UTF-16 BOM
        # (Excel's "Unicode text", some Azure downloads) is read as UTF-16 on purpose.
        encoding = "utf-16" if self.magic.startswith(_UTF16_BOMS) else "utf-8-sig"
        return io.TextIOWrapper(
            self.open_binary(), encoding=encoding, errors="surrogateescape", newline=""
        )

    def head(self, size: int = SNIFF_BYTES) -> str:
        with self.open_text() as text:
            try:
                head = text.read(size)
            except UnicodeError as exc:
                raise InputError(f"not UTF-16 text ({exc})", path=self.name) from None
        bad = _NOT_UTF8.search(head)
        if bad and "\n" in head[bad.start() :]:  # a complete line holds a non-UTF-8 byte
            line = head.count("\n", 0, bad.start()) + 1
            raise InputError(_not_utf8_message(head, bad.start()), path=self.name, line=line)
        return head

    def lines(self) -> Iterator[str]:
        """The file's lines, each checked: no longer than the line limit, valid UTF-8."""
        limit = self.limits.line_length
        with self.open_text() as text:
            number = 0
            while True:
                try:
                    line = text.readline(limit + 1)
                except UnicodeError as exc:
                    raise InputError(f"not UTF-16 text ({exc})", path=self.name) from None
                if not line:
                    return
                number += 1
                if len(line) > limit:
                    raise InputError(
                        f"a line longer than {limit:,} characters",
                        path=self.name,
                        line=number,
                        hint=limit_hint("line_length"),
                    )
                # An undecodable byte is a non-ASCII character: an ASCII line needs no search.
                bad = None if line.isascii() else _NOT_UTF8.search(line)
                if bad:
                    message = _not_utf8_message(line, bad.start())
                    raise InputError(message, path=self.name, line=number)
                yield line

    def bytes_done(self) -> int:
        return self.counter.bytes_read if self.counter else self.bytes_reported


def _not_utf8_message(text: str, index: int) -> str:
    byte = ord(text[index]) - 0xDC00
    return f"not UTF-8 text (byte 0x{byte:02x}); convert the file to UTF-8"


class BadRow:
    """A row that is structurally wrong (too few or too many cells): `each_row` turns it into a
    bad row, refused, or rejected with --skip-bad-rows, like any unreadable value."""

    def __init__(self, message: str, field: str | None, raw: object):
        self.message, self.field, self.raw = message, field, raw


def csv_rows(
    source: Source, *, short_rows_of: int | None = None
) -> Iterator[tuple[int, dict[str, str] | BadRow]]:
    """(line number, row by header name) for every data row; header names are stripped.
    A duplicated column name refuses the file; a short or long row is a BadRow (except rows of
    exactly `short_rows_of` cells, a format's documented shorthand); a quoted field still open
    at the end of the file (a truncated download) refuses the file."""
    table = CsvCells(source, short_rows_of=short_rows_of)
    names = table.header()
    for line, cells in table:
        yield line, cells if isinstance(cells, BadRow) else dict(zip(names, cells, strict=False))


class CsvCells:
    """A CSV file's data rows as lists of cells, in header order (`csv_rows` without the dict
    per row: a bulk parser resolves the columns it reads once, from `header()`). The same checks
    as `csv_rows`: duplicated columns, rows of the wrong width, a truncated quoted field."""

    def __init__(self, source: Source, *, short_rows_of: int | None = None):
        self.source = source
        self.short_rows_of = short_rows_of
        self._reader = csv.reader(source.lines(), strict=True)
        self._names: list[str] | None = None
        self._empty = False  # no header line at all: no rows either

    def header(self) -> list[str]:
        """The stripped column names ([] for an empty file); read once."""
        if self._names is None:
            try:
                header = next(self._reader)
            except StopIteration:
                header, self._empty = [], True
            except csv.Error as exc:
                raise InputError(
                    f"unreadable CSV header: {exc}", path=self.source.name, line=1
                ) from None
            self._names = [name.strip() for name in header]
            _refuse_duplicated_columns(self._names, self.source)
        return self._names

    def __iter__(self) -> Iterator[tuple[int, list[str] | BadRow]]:
        names = self.header()
        if self._empty:
            return
        reader, source, width = self._reader, self.source, len(names)
        line, rows = reader.line_num, 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise InputError(
                    f"unreadable CSV ({exc}): a truncated or damaged file",
                    path=source.name,
                    line=line + 1,
                ) from None
            start, line = line + 1, reader.line_num
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue  # blank line
            rows += 1
            check_row_count(rows, source, start)
            if len(cells) != width and len(cells) != self.short_rows_of:
                yield start, _wrong_width(cells, names)
                continue
            yield start, cells


def _wrong_width(cells: list[str], names: list[str]) -> BadRow:
    raw = ",".join(cells)
    if len(cells) < len(names):
        missing = names[len(cells)]
        return BadRow(
            f"row has {len(cells)} cells, the header {len(names)}: a short or truncated row",
            missing,
            raw,
        )
    return BadRow(f"row has {len(cells)} cells, the header only {len(names)}", None, raw)


def _refuse_duplicated_columns(names: list[str], source: Source) -> None:
    seen: dict[str, int] = {}
    for index, name in enumerate(names, start=1):
        if name in seen:
            raise InputError(
                f"duplicated column {name!r} (columns {seen[name]} and {index}): "
                "which one holds the value is ambiguous",
                path=source.name,
                line=1,
            )
        seen[name] = index


def check_row_count(rows: int, source: Source, line: int | None) -> None:
    if rows > source.limits.rows:
        raise InputError(
            f"more than {source.limits.rows:,} rows",
            path=source.name,
            line=line,
            hint=limit_hint("rows"),
        )


def csv_header(head: str) -> list[str]:
    first = head.split("\n", 1)[0]
    try:
        return [name.strip() for name in next(csv.reader([first]))]
    except (StopIteration, csv.Error):
        return []


def load_json(
    text: str, *, path: str, line: int | None = None, max_depth: int | None = None
) -> Any:
    depth = Limits.json_depth if max_depth is None else max_depth
    try:
        value = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise JSONSyntaxError(
            f"invalid JSON: {exc.msg}",
            path=path,
            line=(line if line is not None else exc.lineno),
            column=exc.colno,
        ) from None
    except RecursionError:  # deeper than the parser itself can go (~1000 levels)
        value = _TOO_DEEP
    if value is _TOO_DEEP or deeper_than(value, depth):
        raise InputError(
            f"JSON nested deeper than {depth} levels",
            path=path,
            line=line,
            hint=limit_hint("json_depth"),
        )
    return value


_TOO_DEEP = object()


class JSONSyntaxError(InputError):
    """Text that is not JSON (as opposed to JSON that breaks a limit)."""


def deeper_than(value: Any, limit: int) -> bool:
    """Whether containers nest deeper than `limit`, walked without recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def json_document(source: Source) -> Any:
    """A whole JSON document. Not read line by line: a minified document is one long line."""
    return load_json(read_text(source), path=source.name, max_depth=source.limits.json_depth)


def read_text(source: Source) -> str:
    """The whole decoded file (bounded by the decompression limits); a non-UTF-8 byte is
    reported with its line."""
    with source.open_text() as text:
        try:
            content = text.read()
        except UnicodeError as exc:
            raise InputError(f"not UTF-16 text ({exc})", path=source.name) from None
    bad = _NOT_UTF8.search(content)
    if bad:
        line = content.count("\n", 0, bad.start()) + 1
        raise InputError(_not_utf8_message(content, bad.start()), path=source.name, line=line)
    return content


def json_lines(source: Source) -> Iterator[tuple[int, Any]]:
    """(line number, object) for every non-blank line of a JSON Lines file."""
    rows = 0
    for number, raw in enumerate(source.lines(), start=1):
        if raw.strip():
            rows += 1
            check_row_count(rows, source, number)
            yield (
                number,
                load_json(raw, path=source.name, line=number, max_depth=source.limits.json_depth),
            )


def looks_like_json_lines(head: str) -> bool:
    lines = [line for line in head.splitlines() if line.strip()]
    if len(lines) < 2 or not lines[0].lstrip().startswith("{"):
        return False
    try:
        json.loads(lines[0])
        return True
    except json.JSONDecodeError:
        return False
