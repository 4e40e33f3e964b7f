"""Regular expressions compiled on first use.

Compiling a pattern costs more than most of what a quick command does: the twelve model-id
patterns of the pricing registry alone were 3% of `tokcli pricing show`'s start-up, and most
runs use none of them. `lazy(r"...")` stands where `re.compile(r"...")` stood.
"""

from __future__ import annotations

import re
from typing import Any, cast


class LazyPattern:
    """Compiles its pattern when a method (match, search, sub, ...) is first asked for."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern, self.flags = pattern, flags

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.compiled, name)
        setattr(self, name, value)  # next time a plain attribute, no __getattr__
        return value

    @property
    def compiled(self) -> re.Pattern[str]:
        return re.compile(self.pattern, self.flags)  # re keeps its own cache of compiled patterns


def lazy(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """A pattern that behaves as `re.compile(pattern, flags)` but compiles on first use (typed
    as the compiled pattern it stands for)."""
    return cast("re.Pattern[str]", LazyPattern(pattern, flags))
