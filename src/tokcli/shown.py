"""Warnings a cron job has already shown: a re-import of the same file (same path, size and
modification time) does not repeat them, so cron mails only what is new.

Kept in `$XDG_STATE_HOME/tokcli/warnings-shown` (`~/.local/state/...`): one hash per line, the
newest 10,000. State, not data: deleting the file only makes the warnings show once more.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

KEEP = 10_000


def state_file(environ: Mapping[str, str]) -> Path:
    base = environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "tokcli" / "warnings-shown"


def inputs_fingerprint(paths: Iterable[Path]) -> str:
    parts = []
    for path in sorted(Path(p).resolve() for p in paths):
        try:
            info = path.stat()
            parts.append(f"{path}\0{info.st_size}\0{info.st_mtime_ns}")
        except OSError:
            parts.append(str(path))
    return "\n".join(parts)


def new_warnings(warnings: list[str], fingerprint: str, environ: Mapping[str, str]) -> list[str]:
    """The warnings not yet shown for these inputs; records them as shown."""
    path = state_file(environ)
    try:
        seen = path.read_text().split()
    except OSError:
        seen = []
    known = set(seen)
    fresh, keys = [], []
    for warning in warnings:
        key = hashlib.sha256(f"{fingerprint}\0{warning}".encode()).hexdigest()[:32]
        if key not in known:
            fresh.append(warning)
            keys.append(key)
    if keys:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join([*seen, *keys][-KEEP:]) + "\n")
        except OSError:
            pass  # no state to keep: the warnings simply show again next time
    return fresh
