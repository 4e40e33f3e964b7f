"""A plain-text chart of monthly cost against volume, both on log scales, for the terminal.

No plotting library: the chart is a grid of characters, one marker per option, so it renders in
any terminal, in CI logs and inside a markdown code block.
"""

from __future__ import annotations

import decimal
from decimal import Decimal

from tokcli.money import display
from tokcli.tco.units import short_tokens

MARKERS = "ANSOBCDEFGHIJKLMPQRTUVWXYZ"
OVERLAP = "*"


def _position(value: Decimal, low: Decimal, high: Decimal, cells: int) -> int:
    """Cell index of `value` on a log scale from low to high (display only)."""
    if high == low:
        return 0
    with decimal.localcontext() as context:
        context.prec = 28
        share = (value.log10() - low.log10()) / (high.log10() - low.log10())
        index = (share * (cells - 1)).to_integral_value(rounding=decimal.ROUND_HALF_EVEN)
    return max(0, min(cells - 1, int(index)))


def markers_for(names: list[str]) -> dict[str, str]:
    """One letter per option: its kind's initial where free (API, Neocloud, Self-hosted, Open)."""
    chosen: dict[str, str] = {}
    for name in names:
        initial = name[:1].upper()
        free = [m for m in MARKERS if m not in chosen.values()]
        chosen[name] = initial if initial in free else free[0]
    return chosen


def line_chart(
    series: dict[str, list[tuple[int, Decimal]]],
    markers: dict[str, str],
    width: int = 64,
    height: int = 16,
) -> str:
    """Monthly cost (y, log) against monthly volume (x, log); '*' where curves overlap."""
    points = [(v, c) for values in series.values() for v, c in values if c > 0]
    if not points:
        return ""
    low_v, high_v = Decimal(min(v for v, _ in points)), Decimal(max(v for v, _ in points))
    low_c, high_c = min(c for _, c in points), max(c for _, c in points)
    grid = [[" "] * width for _ in range(height)]
    for name, values in series.items():
        for volume, cost in values:
            if cost <= 0:
                continue
            column = _position(Decimal(volume), low_v, high_v, width)
            row = height - 1 - _position(cost, low_c, high_c, height)
            cell = grid[row][column]
            grid[row][column] = markers[name] if cell in (" ", markers[name]) else OVERLAP
    label_width = max(len(display(high_c, 0)), len(display(low_c, 0)))
    lines = []
    for index, cells in enumerate(grid):
        label = ""
        if index == 0:
            label = display(high_c, 0)
        elif index == height - 1:
            label = display(low_c, 0)
        lines.append(f"{label.rjust(label_width)} |{''.join(cells).rstrip()}")
    lines.append(" " * label_width + " +" + "-" * width)
    left, right = short_tokens(int(low_v)), short_tokens(int(high_v))
    axis = left + right.rjust(width - len(left))
    lines.append(" " * (label_width + 2) + axis)
    lines.append(" " * (label_width + 2) + "tokens a month (log)   $ a month (log)")
    legend = ", ".join(f"{markers[name]} = {name}" for name in series)
    lines.append(f"{legend}; {OVERLAP} = overlap")
    return "\n".join(lines)
