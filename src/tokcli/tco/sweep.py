"""Cost of every option over a range of volumes, log-spaced, with the cheapest per row."""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal

from tokcli.money import MONEY_CONTEXT
from tokcli.tco.model import Option, OptionCost

# 1-2-5 per decade: round numbers a reader can check (10M, 20M, 50M, 100M, ...).
_ONE_TWO_FIVE = (1, 2, 5)


def one_two_five(low: int, high: int) -> list[int]:
    """10M..100B -> 10M, 20M, 50M, ..., 100B; the range's ends are always included."""
    volumes = {low, high}
    decade = 1
    while decade <= high:
        for step in _ONE_TWO_FIVE:
            if low <= step * decade <= high:
                volumes.add(step * decade)
        decade *= 10
    return sorted(volumes)


def log_volumes(low: int, high: int, steps: int) -> list[int]:
    """`steps` volumes from low to high, evenly spaced on a log scale, as whole tokens."""
    if steps == 1:
        return [low]
    with decimal.localcontext(MONEY_CONTEXT):
        ratio = (Decimal(high) / Decimal(low)) ** (Decimal(1) / (steps - 1))
        volumes = [
            int((Decimal(low) * ratio**i).to_integral_value(rounding=decimal.ROUND_HALF_EVEN))
            for i in range(steps)
        ]
    volumes[0], volumes[-1] = low, high  # exact ends, whatever the last digit of the powers
    return sorted(set(volumes))


@dataclass(frozen=True)
class SweepRow:
    volume: int
    costs: dict[str, OptionCost]
    cheapest: str


def sweep(options: list[Option], volumes: list[int]) -> list[SweepRow]:
    rows = []
    for volume in volumes:
        costs = {option.name: option.cost(volume) for option in options}
        cheapest = min(costs.values(), key=lambda c: c.monthly).option
        rows.append(SweepRow(volume, costs, cheapest))
    return rows


def cheapest_at(options: list[Option], volume: int) -> OptionCost:
    return min((option.cost(volume) for option in options), key=lambda c: c.monthly)
