"""Configuration: tokcli.toml > [tool.tokcli] in pyproject.toml > the user config file.

Layers are merged table by table, the nearer file winning; command-line flags win over all.
Paths in a file (`store`, `pricing`) are relative to that file's folder.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tokcli.errors import InputError
from tokcli.lazyre import lazy

PROJECT_FILES = ("tokcli.toml", ".tokcli.toml")
PATH_KEYS = ("store",)  # a postgresql:// store URL is not a path and stays as written
URL_SCHEMES = ("postgresql://", "postgres://")
PATH_LIST_KEYS = ("pricing",)


class Config:
    """The merged settings (`data`) and the files they came from, lowest precedence first.
    A plain class, not a dataclass: every command builds one, and a dataclass compiles its
    methods at import (start-up, issue 17)."""

    def __init__(self, data: dict[str, Any] | None = None, files: list[Path] | None = None):
        self.data: dict[str, Any] = {} if data is None else data
        self.files: list[Path] = [] if files is None else files

    def get(self, dotted: str, default: Any = None) -> Any:
        node: Any = self.data
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    def section(self, name: str) -> dict[str, Any]:
        value = self.get(name, {})
        return value if isinstance(value, dict) else {}


def user_config_path(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    if environ.get("TOKCLI_CONFIG"):
        return Path(environ["TOKCLI_CONFIG"]).expanduser()
    base = environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "tokcli" / "config.toml"


def find_project_files(start: Path) -> tuple[Path | None, Path | None]:
    """The nearest tokcli.toml and the nearest pyproject.toml with [tool.tokcli], walking up.
    Every command walks this, so with os.path on strings rather than pathlib (start-up)."""
    tokcli_file = pyproject = None
    folder = os.fspath(start)
    while True:
        if tokcli_file is None:
            for name in PROJECT_FILES:
                if os.path.isfile(os.path.join(folder, name)):
                    tokcli_file = Path(folder, name)
                    break
        candidate = os.path.join(folder, "pyproject.toml")
        if pyproject is None and os.path.isfile(candidate) and _mentions_tokcli(candidate):
            pyproject = Path(candidate)
        parent = os.path.dirname(folder)
        if (tokcli_file and pyproject) or parent == folder:
            break
        folder = parent
    return tokcli_file, pyproject


def _mentions_tokcli(pyproject: str) -> bool:
    """Whether a pyproject.toml names tool.tokcli: a test on its bytes, so that a project's
    pyproject.toml is neither decoded nor parsed on every command (start-up)."""
    try:
        with open(pyproject, "rb") as file:
            return b"tool.tokcli" in file.read()
    except OSError as exc:
        raise InputError(f"cannot read: {exc}", path=pyproject) from None


def load_config(cwd: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    cwd = Path.cwd() if cwd is None else cwd
    tokcli_file, pyproject = find_project_files(cwd)
    config = Config()
    user = user_config_path(environ)
    layers = [(user, None), (pyproject, ("tool", "tokcli")), (tokcli_file, None)]
    for path, table in layers:
        if path is None or not path.is_file():
            continue
        data = _parse(path)
        for key in table or ():
            data = data.get(key, {})
        _validate(data, path, table or ())
        _resolve_paths(data, path.parent)
        _merge(config.data, data)
        config.files.append(path)
    return config


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read: {exc}", path=str(path)) from None


def _parse(path: Path) -> dict[str, Any]:
    import tomllib

    try:
        return tomllib.loads(_read(path))
    except tomllib.TOMLDecodeError as exc:
        # tomllib puts "(at line N, column M)" in the message; keep it on the one line.
        raise InputError(f"invalid TOML: {exc}", path=str(path)) from None


def _validate(data: dict[str, Any], path: Path, table: tuple[str, ...]) -> None:
    """The first key of `data` the schema does not allow, as FILE:LINE: key: what is wrong."""
    from tokcli.config_schema import problems

    for problem in problems(data):
        keys = (*table, *problem.keys)
        line = key_line(_read(path), keys)
        raise InputError(problem.message, path=str(path), line=line, field=".".join(keys))


_HEADER = lazy(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = lazy(
    r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)


def _dotted(text: str) -> tuple[str, ...]:
    parts = re.findall(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""", text)
    return tuple(part.strip("\"'") for part in parts)


def key_line(text: str, keys: tuple[str, ...]) -> int | None:
    """The line of TOML `text` that sets the dotted key `keys` (or opens its table), if any.
    tomllib reports no positions, so the headers and `key =` lines are followed here."""
    table: tuple[str, ...] = ()
    best: int | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = _dotted(header.group(1))
            if table == keys:
                return number
            if best is None and keys[: len(table)] == table and table:
                best = number
            continue
        key = _KEY.match(line)
        if key and (*table, *_dotted(key.group(1))) == keys:
            return number
    return best


def _resolve_paths(data: dict[str, Any], base: Path) -> None:
    for key in PATH_KEYS:
        if isinstance(data.get(key), str) and not data[key].startswith(URL_SCHEMES):
            data[key] = str((base / Path(data[key]).expanduser()).resolve())
    for key in PATH_LIST_KEYS:
        _resolve_list(data, key, base)
        if isinstance(data.get(key), dict):  # [pricing] overrides = [...]
            _resolve_list(data[key], "overrides", base)


def _resolve_list(data: dict[str, Any], key: str, base: Path) -> None:
    value = data.get(key)
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        data[key] = [str((base / Path(str(v)).expanduser()).resolve()) for v in value]


def _merge(into: dict[str, Any], layer: dict[str, Any]) -> None:
    for key, value in layer.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value
