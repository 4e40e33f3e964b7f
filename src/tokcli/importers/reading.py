"""Opening input files: gzip and zip transparently, UTF-8 with or without BOM, CSV rows with
their line numbers, JSON with exact decimals, and a byte counter for the progress bar."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from tokcli.errors import InputError

SNIFF_BYTES = 64 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"

# Azure and FOCUS cells (descriptions, resource ids, tags) can exceed csv's 128 KiB default.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


class CountingReader(io.RawIOBase):
    """Counts the bytes read from the file on disk (compressed bytes for .gz), so progress is
    reported against the file size whatever the compression."""

    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        self.bytes_read += len(data)
        return len(data)

    def close(self) -> None:
        self.raw.close()
        super().close()


class Source:
    """One input file; `open_text()` may be called more than once (sniffing, then reading)."""

    def __init__(self, path: Path):
        self.path = path
        self.counter: CountingReader | None = None
        try:
            if path.is_dir():  # a folder of transcripts, read by the format that accepts one
                self.size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
                self.magic = b""
                return
            self.size = path.stat().st_size
            with path.open("rb") as handle:
                self.magic = handle.read(4)
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror or exc}", path=str(path)) from None

    @property
    def name(self) -> str:
        return str(self.path)

    @property
    def is_dir(self) -> bool:
        return self.path.is_dir()

    def open_binary(self) -> BinaryIO:
        self.counter = CountingReader(self.path.open("rb"))
        raw: BinaryIO = io.BufferedReader(self.counter, buffer_size=1 << 20)
        if self.magic.startswith(_GZIP_MAGIC):
            import gzip

            return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
        if self.magic.startswith(_ZIP_MAGIC):
            return self._zip_member(raw)
        return raw

    def _zip_member(self, raw: BinaryIO) -> BinaryIO:
        import zipfile

        archive = zipfile.ZipFile(self.path)
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) != 1:
            raise InputError(
                f"a zip input must hold exactly one file, found {len(members)}; unzip it first",
                path=self.name,
            )
        raw.close()
        return archive.open(members[0])  # type: ignore[return-value]

    def open_text(self) -> io.TextIOWrapper:
        # utf-8-sig drops a BOM when there is one and reads plain UTF-8 otherwise.
        return io.TextIOWrapper(self.open_binary(), encoding="utf-8-sig", newline="")

    def head(self, size: int = SNIFF_BYTES) -> str:
        with self.open_text() as text:
            try:
                return text.read(size)
            except UnicodeDecodeError as exc:
                raise InputError(f"not UTF-8 text ({exc.reason})", path=self.name) from None

    def bytes_done(self) -> int:
        return self.counter.bytes_read if self.counter else 0


def csv_rows(source: Source) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row by header name) for every data row; header names are stripped."""
    with source.open_text() as text:
        reader = csv.reader(text)
        try:
            header = next(reader)
        except StopIteration:
            return
        except (csv.Error, UnicodeDecodeError) as exc:
            raise InputError(f"unreadable CSV header: {exc}", path=source.name, line=1) from None
        names = [name.strip() for name in header]
        line = reader.line_num
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except (csv.Error, UnicodeDecodeError) as exc:
                raise InputError(
                    f"unreadable CSV: {exc}", path=source.name, line=line + 1
                ) from None
            start, line = line + 1, reader.line_num
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue  # blank line
            yield start, dict(zip(names, cells, strict=False))


def csv_header(head: str) -> list[str]:
    first = head.split("\n", 1)[0]
    try:
        return [name.strip() for name in next(csv.reader([first]))]
    except (StopIteration, csv.Error):
        return []


def load_json(text: str, *, path: str, line: int | None = None) -> Any:
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"invalid JSON: {exc.msg}",
            path=path,
            line=(line if line is not None else exc.lineno),
            column=exc.colno,
        ) from None


def json_document(source: Source) -> Any:
    with source.open_text() as text:
        try:
            content = text.read()
        except UnicodeDecodeError as exc:
            raise InputError(f"not UTF-8 text ({exc.reason})", path=source.name) from None
    return load_json(content, path=source.name)


def json_lines(source: Source) -> Iterator[tuple[int, Any]]:
    """(line number, object) for every non-blank line of a JSON Lines file."""
    with source.open_text() as text:
        for number, raw in enumerate(text, start=1):
            if raw.strip():
                yield number, load_json(raw, path=source.name, line=number)


def looks_like_json_lines(head: str) -> bool:
    lines = [line for line in head.splitlines() if line.strip()]
    if len(lines) < 2 or not lines[0].lstrip().startswith("{"):
        return False
    try:
        json.loads(lines[0])
        return True
    except json.JSONDecodeError:
        return False
