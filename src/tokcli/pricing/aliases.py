"""Price-related keys of tokcli.toml: override files and user aliases.

pricing = ["prices.yaml"]            # override files (a list), or, as a table:
[pricing]
overrides = ["prices.yaml"]
[pricing.aliases]
support-gpt = "gpt-4o"               # an Azure deployment name -> the model it serves
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from tokcli.errors import InputError

if TYPE_CHECKING:
    from tokcli.config import Config
    from tokcli.pricing.registry import Registry

PRICING_KEYS = ("overrides", "aliases")


def configured_overrides(config: Config) -> list[Path]:
    value = config.get("pricing", [])
    if isinstance(value, dict):
        for key in value:
            if key not in PRICING_KEYS:
                path, line = _locate_key(_files(config), "pricing", key)
                raise InputError(
                    f"unknown field (allowed: {', '.join(PRICING_KEYS)})",
                    path=path,
                    line=line,
                    field=f"pricing.{key}",
                )
        overrides = value.get("overrides", [])
        if isinstance(overrides, str):
            overrides = [overrides]
        # config.py resolves the top-level `pricing` list against its file; do the same here.
        where, _ = _locate_key(_files(config), "pricing", "overrides")
        base = Path(where).parent if where else Path.cwd()
        return [(base / Path(str(p)).expanduser()).resolve() for p in overrides or []]
    if isinstance(value, str):
        value = [value]
    return [Path(p) for p in value or []]


def apply_config_aliases(registry: Registry, config: Config) -> None:
    aliases = config.get("pricing.aliases")
    if aliases is None:
        return
    files = _files(config)
    if not isinstance(aliases, dict):
        path, line = _locate(files, None)
        raise InputError("must be a table of alias = \"model\"", path=path, line=line,
                         field="pricing.aliases")  # fmt: skip
    for alias, target in aliases.items():
        if not isinstance(target, str) or not target.strip():
            path, line = _locate(files, alias)
            raise InputError("must be a model id string", path=path, line=line,
                             field=f"pricing.aliases.{alias}")  # fmt: skip
    registry.set_user_aliases(aliases, where=lambda alias: _locate(files, alias))


def _files(config: Config) -> list[Path]:
    return [Path(f) for f in getattr(config, "files", [])]


def _locate_key(
    files: list[Path], section: str, key: str | None = None, *, fold_case: bool = False
) -> tuple[str | None, int | None]:
    """The config file and line of `key` inside `[section]` (or a `[section.key]` table), or of
    the `[section]` header when `key` is None; the last file that sets it wins. `fold_case`:
    keys compare without case (model aliases)."""

    def folded(name: str) -> str:
        return name.strip().lower() if fold_case else name

    found: tuple[str | None, int | None] = (str(files[-1]) if files else None, None)
    for path in files:
        try:
            lines = path.read_text(encoding="utf-8-sig").splitlines()
        except OSError:
            continue
        current = None
        for number, text in enumerate(lines, 1):
            stripped = text.strip()
            if stripped.startswith("["):
                current = stripped.strip("[] ").replace(" ", "")
                if current == (section if key is None else f"{section}.{key}"):
                    found = (str(path), number)
                continue
            if key is None or current != section:
                continue
            match = re.match(r'^["\']?([^"\'=]+?)["\']?\s*=', stripped)
            if match and folded(match.group(1).strip()) == folded(key):
                found = (str(path), number)
    return found


def _locate(files: list[Path], alias: str | None) -> tuple[str | None, int | None]:
    """The config file and line that set `alias` in [pricing.aliases] (the last file wins)."""
    return _locate_key(files, "pricing.aliases", alias, fold_case=True)
