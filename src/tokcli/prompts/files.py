"""Finding prompt files: explicit files, walked directories and globs, in a stable order."""

from __future__ import annotations

import fnmatch
import glob
from collections.abc import Iterable, Iterator
from pathlib import Path

from tokcli.errors import InputError

# Suffix -> prompt kind. A directory walk yields only files with one of these suffixes.
SUFFIX_KINDS = {
    ".txt": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".json": "chat",
    ".yaml": "chat",
    ".yml": "chat",
    ".prompty": "prompty",
    ".prompt": "dotprompt",
    ".j2": "jinja",
    ".jinja": "jinja",
    ".jinja2": "jinja",
    ".tmpl": "format",
}
PROMPT_SUFFIXES = frozenset(SUFFIX_KINDS)
_GLOB_CHARS = frozenset("*?[")


def iter_prompt_files(
    paths: Iterable[str], exclude: Iterable[str] = (), *, suffixes: Iterable[str] | None = None
) -> Iterator[Path]:
    """Yield prompt files named by `paths`: files as given, directories walked (sorted, prompt
    suffixes only, hidden folders skipped) and globs expanded. Each file at most once.

    `exclude` holds glob patterns matched against the whole path and against each of its
    parts, so `drafts` excludes a folder and `*.md` a suffix. `suffixes`: what a walk or a
    glob yields (default: the prompt suffixes; `audit` adds `.py`).
    """
    patterns = list(exclude)
    wanted = frozenset(suffixes) if suffixes is not None else PROMPT_SUFFIXES
    seen: set[Path] = set()
    for raw in paths:
        for path in _expand(str(raw), wanted):
            key = path.resolve()
            if key in seen or _excluded(path, patterns):
                continue
            seen.add(key)
            yield path


def _expand(raw: str, wanted: frozenset[str]) -> Iterator[Path]:
    if _GLOB_CHARS & set(raw):
        matches = sorted(glob.glob(raw, recursive=True))
        if not matches:
            raise InputError("no file matches this pattern", path=raw)
        for match in matches:
            path = Path(match)
            if path.is_dir():
                yield from _walk(path, wanted)
            elif path.suffix.lower() in wanted:
                yield path
        return
    path = Path(raw)
    if path.is_dir():
        yield from _walk(path, wanted)
    elif path.is_file():
        yield path  # named explicitly: read it whatever its suffix
    else:
        raise InputError("no such file or directory", path=raw)


def _walk(directory: Path, wanted: frozenset[str]) -> Iterator[Path]:
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory).parts
        if any(part.startswith(".") for part in relative):
            continue  # .git, .venv, editor folders
        if path.is_file() and path.suffix.lower() in wanted:
            yield path


def _excluded(path: Path, patterns: list[str]) -> bool:
    text = path.as_posix()
    return any(
        fnmatch.fnmatch(text, pattern) or any(fnmatch.fnmatch(part, pattern) for part in path.parts)
        for pattern in patterns
    )
