"""Committed-use spend against pay-as-you-go, for each usage scenario.

`usage` is what the period's tokens cost at list prices (pay-as-you-go). A commitment `C` with
discount `d` bills:

* discount on all usage:      max(C, usage x (1 - d))
* discount above the floor:   C + max(0, usage - C) x (1 - d)   (the floor is billed at list)

Waste is the part of the commitment paid for and not used. The verdict is "good" only when the
commitment saves money and wastes none: a zero saving is "break-even", never "good".
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal

from tokcli.money import MONEY_CONTEXT, ZERO

DISCOUNT_ON = ("all", "above-floor")


@dataclass(frozen=True)
class CommitScenario:
    usage: Decimal  # pay-as-you-go (list) cost of the period's usage
    committed_cost: Decimal  # what the commitment bills for the same usage
    waste: Decimal  # commitment paid but not used
    saving: Decimal  # usage - committed_cost (negative: the commitment costs more)
    saving_share: Decimal | None  # saving / usage
    verdict: str


def verdict(saving: Decimal, waste: Decimal) -> str:
    if saving > 0 and waste == 0:
        return "good"
    if saving > 0:
        return "marginal"  # cheaper, but part of the commitment goes unused
    if saving == 0:
        return "break-even"
    return "bad"


def evaluate(
    commitment: Decimal, discount: Decimal, usage: Decimal, discount_on: str = "all"
) -> CommitScenario:
    with decimal.localcontext(MONEY_CONTEXT):
        if discount_on == "all":
            discounted = usage * (1 - discount)
            committed_cost = max(commitment, discounted)
            waste = max(ZERO, commitment - discounted)
        elif discount_on == "above-floor":
            committed_cost = commitment + max(ZERO, usage - commitment) * (1 - discount)
            waste = max(ZERO, commitment - usage)
        else:
            raise ValueError(f"discount_on must be one of {DISCOUNT_ON}")
        saving = usage - committed_cost
        share = saving / usage if usage else None
    return CommitScenario(usage, committed_cost, waste, saving, share, verdict(saving, waste))


def breakeven_usage(commitment: Decimal, discount: Decimal, discount_on: str = "all") -> Decimal:
    """The usage at which the commitment saves nothing: above it, it saves.

    Both ways, the commitment costs exactly C at usage C: with the discount on all usage a
    usage of C bills max(C, C(1 - d)) = C, and above the floor the discount has nothing to act on.
    """
    del discount, discount_on  # the same point for both: see above
    return commitment


def no_waste_usage(commitment: Decimal, discount: Decimal, discount_on: str = "all") -> Decimal:
    """The usage from which none of the commitment is wasted."""
    if discount_on == "all":
        with decimal.localcontext(MONEY_CONTEXT):
            return commitment / (1 - discount) if discount < 1 else commitment
    return commitment
