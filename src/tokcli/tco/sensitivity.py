"""How the answer moves when utilisation or a price is off by a given share, up and down."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal

from tokcli.money import MONEY_CONTEXT
from tokcli.tco.model import ApiOption, GpuOption, Option, OptionCost


@dataclass(frozen=True)
class Scenario:
    name: str
    costs: dict[str, OptionCost]
    cheapest: str


def _scaled(option: Option, parameter: str, factor: Decimal) -> Option:
    if parameter == "utilisation" and isinstance(option, GpuOption):
        utilisation = MONEY_CONTEXT.multiply(option.utilisation, factor)
        return dataclasses.replace(option, utilisation=min(utilisation, Decimal(1)))
    if parameter == "gpu_price" and isinstance(option, GpuOption):
        return dataclasses.replace(option, gpu_hour=MONEY_CONTEXT.multiply(option.gpu_hour, factor))
    if parameter == "api_price" and isinstance(option, ApiOption):
        price = MONEY_CONTEXT.multiply(option.price_per_mtok, factor)
        return dataclasses.replace(option, price_per_mtok=price)
    return option


PARAMETERS = (
    ("utilisation", "utilisation"),
    ("gpu_price", "GPU $/hour"),
    ("api_price", "API $/MTok"),
)


def sensitivity(options: list[Option], volume: int, step: Decimal) -> list[Scenario]:
    """Base case, then each parameter at (1 - step) and (1 + step) of its value, one at a time.

    Utilisation is capped at 1 (a GPU cannot be more than fully busy).
    """
    cases = [("base", options)]
    percent = f"{(step * 100).normalize():f}%"
    for parameter, label in PARAMETERS:
        for sign, factor in (("-", 1 - step), ("+", 1 + step)):
            scaled = [_scaled(option, parameter, factor) for option in options]
            cases.append((f"{label} {sign}{percent}", scaled))
    scenarios = []
    for name, scaled in cases:
        costs = {option.name: option.cost(volume) for option in scaled}
        cheapest = min(costs.values(), key=lambda c: c.monthly).option
        scenarios.append(Scenario(name, costs, cheapest))
    return scenarios
