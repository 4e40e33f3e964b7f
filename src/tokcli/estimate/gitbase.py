"""The prompts as they were at a git ref (`--base-ref`), read with git itself.

Paths are given and reported relative to the current directory, as for the working tree, so
that base and head results match. All blobs are read by one `git cat-file --batch` process.
"""

from __future__ import annotations

import fnmatch
import subprocess
from pathlib import Path

from tokcli.errors import OptionError, TokcliError
from tokcli.prompts import PROMPT_SUFFIXES

_GLOB_CHARS = frozenset("*?[")


def base_files(ref: str, paths: list[str], exclude: list[str], cwd: Path) -> list[tuple[Path, str]]:
    """(path, text) of every prompt file the same `paths` name at `ref`."""
    _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd, what=f"ref {ref!r}")
    names: list[str] = []
    for raw in paths:
        names.extend(_names_at(ref, raw, cwd))
    seen: set[str] = set()
    selected = []
    for name in names:
        posix = Path(name).as_posix()
        if posix in seen or _excluded(posix, exclude):
            continue
        seen.add(posix)
        selected.append(posix)
    texts = _read_blobs(ref, selected, cwd)
    return [(Path(name), text) for name, text in zip(selected, texts, strict=True)]


def _names_at(ref: str, raw: str, cwd: Path) -> list[str]:
    if _GLOB_CHARS & set(raw):
        listing = _git(["ls-tree", "-r", "--name-only", ref, "--", "."], cwd).splitlines()
        return sorted(
            n
            for n in listing
            if fnmatch.fnmatch(n, raw) and Path(n).suffix.lower() in PROMPT_SUFFIXES
        )
    listing = _git(["ls-tree", "-r", "--name-only", ref, "--", raw], cwd).splitlines()
    explicit = [n for n in listing if Path(n) == Path(raw)]
    if explicit:  # a file named explicitly: whatever its suffix
        return explicit
    return sorted(
        n
        for n in listing
        if Path(n).suffix.lower() in PROMPT_SUFFIXES
        and not any(part.startswith(".") for part in Path(n).parts[len(Path(raw).parts) :])
    )


def _read_blobs(ref: str, names: list[str], cwd: Path) -> list[str]:
    if not names:
        return []
    request = "".join(f"{ref}:./{name}\n" for name in names).encode()
    output = _git_bytes(["cat-file", "--batch"], cwd, request)
    texts, position = [], 0
    for name in names:
        header_end = output.index(b"\n", position)
        header = output[position:header_end].decode()
        if header.endswith(" missing"):
            raise TokcliError(f"{name}: not found at {ref}")
        size = int(header.rsplit(" ", 1)[1])
        blob = output[header_end + 1 : header_end + 1 + size]
        position = header_end + 1 + size + 1
        try:
            texts.append(blob.decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise TokcliError(f"{name} at {ref}: not UTF-8 text") from None
    return texts


def _excluded(name: str, patterns: list[str]) -> bool:
    parts = Path(name).parts
    return any(
        fnmatch.fnmatch(name, p) or any(fnmatch.fnmatch(part, p) for part in parts)
        for p in patterns
    )


def _git(args: list[str], cwd: Path, what: str = "") -> str:
    return _git_bytes(args, cwd, None, what).decode("utf-8", "replace")


def _git_bytes(args: list[str], cwd: Path, stdin: bytes | None, what: str = "") -> bytes:
    try:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, input=stdin, capture_output=True, timeout=120
        )
    except FileNotFoundError:
        raise OptionError("{base_ref} needs git, which is not installed") from None
    except subprocess.TimeoutExpired:
        raise TokcliError(f"git {args[0]} timed out") from None
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = message[-1] if message else f"exit {proc.returncode}"
        if what:
            detail = f"unknown {what}" if not message else f"{what}: {detail}"
        raise OptionError("{base_ref}: git {command}: {detail}", command=args[0], detail=detail)
    return proc.stdout
