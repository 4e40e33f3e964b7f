"""Plain-text charts for the terminal: no colour codes, so they survive pipes and NO_COLOR."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

_EIGHTHS = " ▏▎▍▌▋▊▉"
_SPARKS = "▁▂▃▄▅▆▇█"


def bar(value: Decimal, largest: Decimal, width: int = 24) -> str:
    """A horizontal bar, `width` characters for `largest`, in eighths of a character."""
    if largest <= 0 or value <= 0:
        return ""
    eighths = int(value * width * 8 / largest)
    full, part = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[part] if part else "") or "▏"


def sparkline(values: Sequence[Decimal]) -> str:
    """One character per value, scaled between the smallest and largest (never below zero)."""
    if not values:
        return ""
    low, high = min(min(values), Decimal(0)), max(values)
    if high <= low:
        return _SPARKS[0] * len(values)
    steps = len(_SPARKS) - 1
    return "".join(_SPARKS[int((v - low) * steps / (high - low))] for v in values)
