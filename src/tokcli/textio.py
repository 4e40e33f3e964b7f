"""Reading text input the same way everywhere: UTF-8 with or without a BOM, and one clear
InputError (file, line) for a missing, unreadable or non-UTF-8 file."""

from __future__ import annotations

from pathlib import Path

from tokcli.errors import InputError


def decode_text(data: bytes, label: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"not UTF-8 text (byte {exc.start})", path=label, line=line) from None


def read_text_file(path: Path, label: str | None = None) -> str:
    label = label or str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError("no such file", path=label) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", path=label) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=label) from None
    return decode_text(data, label)
