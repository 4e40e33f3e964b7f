"""Every `-o FILE` tokcli writes goes through `atomic_output`: the text lands in a temporary file
beside the target and replaces it only when complete, so a full disk or a crash leaves the old
file (or nothing), never half a report. A target that is not a regular file (/dev/null, a FIFO,
/dev/stdout) is written in place: renaming over it would replace the device or pipe itself.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from tokcli.errors import TokcliError


def is_special(path: Path) -> bool:
    """True for an existing path that is not a regular file (device, FIFO, socket)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode)


@contextlib.contextmanager
def atomic_output(path: Path | str, newline: str | None = None) -> Iterator[TextIO]:
    """`with atomic_output(path) as stream:` write text; the file appears whole or not at all."""
    path = Path(path)
    try:
        if is_special(path):
            with path.open("w", encoding="utf-8", newline=newline) as stream:
                yield stream
            return
        import tempfile  # here: it imports `random`, and most runs write no file

        descriptor, temp_name = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".partial", dir=path.parent or Path(".")
        )
    except OSError as exc:
        raise TokcliError(f"{path}: cannot write: {exc.strerror or exc}") from None
    temp = Path(temp_name)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline=newline) as stream:
            yield stream
        os.chmod(temp, 0o666 & ~_umask())
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise TokcliError(f"{path}: cannot write: {exc.strerror or exc}") from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_text(path: Path | str, text: str) -> None:
    with atomic_output(path) as stream:
        stream.write(text)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
