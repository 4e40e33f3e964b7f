"""What tokcli reads from its surroundings, for library code and the CLI alike: the config, the
pricing registry (with overrides and aliases), the usage store's location and the clock.

The CLI's `Runtime` adds the output streams on top; library callers build a `Context` directly
(`tokcli.api` does it for them), so no core function needs the command-line layer.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from tokcli.config import Config, load_config
from tokcli.errors import TokcliError

if TYPE_CHECKING:  # the store is imported when one is opened (start-up)
    from tokcli.store.connection import Connection


class Context:
    # A plain class, not a dataclass: every command builds one, and a dataclass compiles its
    # methods at import (start-up, issue 17).
    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        store_flag: Path | str | None = None,
        pricing_flags: list[Path] | None = None,
    ) -> None:
        self.environ: Mapping[str, str] = dict(os.environ) if environ is None else environ
        self.cwd: Path = Path.cwd() if cwd is None else cwd
        # An explicit store (the --store flag, or the caller's): a SQLite path or a
        # postgresql:// URL.
        self.store_flag = store_flag
        self.pricing_flags: list[Path] = [] if pricing_flags is None else pricing_flags

    @cached_property
    def config(self) -> Config:
        return load_config(self.cwd, self.environ)

    @cached_property
    def pricing_overrides(self) -> list[Path]:
        from tokcli.pricing.aliases import configured_overrides

        return configured_overrides(self.config) + [Path(p) for p in self.pricing_flags]

    def check_pricing_overrides(self) -> None:
        """A named override file that is missing is an error, even where no price is read."""
        if not self.pricing_flags and self.config.get("pricing") is None:
            return  # nothing named (and the pricing package stays unimported)
        for path in self.pricing_overrides:
            if not path.is_file():
                raise TokcliError(f"{path}: pricing override file not found")

    @cached_property
    def registry(self):
        from tokcli.pricing import Registry
        from tokcli.pricing.aliases import apply_config_aliases

        self.check_pricing_overrides()
        registry = Registry.load(overrides=self.pricing_overrides)
        apply_config_aliases(registry, self.config)
        return registry

    @cached_property
    def store_path(self):  # -> Path | StoreURL
        from tokcli.store import resolve_store_path

        return resolve_store_path(self.store_flag, self.environ, self.config.get("store"))

    def open_store(self) -> Connection:
        from tokcli.store import connect

        return connect(self.store_path, on_upgrade=self.store_upgrading)

    def store_upgrading(self, migrations: list[str]) -> None:
        """Told before an existing store is migrated; library callers hear nothing."""

    def now(self) -> dt.datetime:
        """The current time, UTC. TOKCLI_NOW (ISO) pins it, for reproducible runs and tests."""
        pinned = self.environ.get("TOKCLI_NOW")
        if pinned:
            from tokcli.pricing.loader import parse_moment

            try:
                return parse_moment(pinned)
            except ValueError:
                raise TokcliError(f"TOKCLI_NOW: not a date or time: {pinned!r}") from None
        return dt.datetime.now(dt.UTC)

    def today(self) -> dt.date:
        return self.now().date()

    def warn(self, message: str) -> None:
        """Library code has no terminal: warnings go to Python's warnings machinery."""
        import warnings

        warnings.warn(message, stacklevel=2)
