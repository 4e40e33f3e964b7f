"""'Did you mean …?' for misspelt commands, keys and options (difflib, no dependencies)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, choices: Iterable[str], limit: int = 1) -> list[str]:
    """The known choices nearest to `word`, best first (case-insensitive)."""
    by_lower: dict[str, str] = {}
    for choice in choices:
        by_lower.setdefault(choice.lower(), choice)
    matches = difflib.get_close_matches(word.lower(), list(by_lower), n=limit, cutoff=0.6)
    return [by_lower[m] for m in matches]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """` (did you mean 'x'?)`, or '' when nothing is close."""
    found = closest(word, choices)
    return f" (did you mean {found[0]!r}?)" if found else ""
