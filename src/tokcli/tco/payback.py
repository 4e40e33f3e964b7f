"""Payback of an optimisation sprint: its cost against the monthly saving it buys.

payback months = hours x rate / (monthly spend x saving share)
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal

from tokcli.money import MONEY_CONTEXT


@dataclass(frozen=True)
class Payback:
    sprint_cost: Decimal
    monthly_saving: Decimal
    months: Decimal | None  # None: a zero saving never pays back
    first_year_net: Decimal  # 12 months of saving minus the sprint


def payback(hours: Decimal, rate: Decimal, monthly_spend: Decimal, saving: Decimal) -> Payback:
    with decimal.localcontext(MONEY_CONTEXT):
        sprint_cost = hours * rate
        monthly_saving = monthly_spend * saving
        months = sprint_cost / monthly_saving if monthly_saving > 0 else None
        first_year = monthly_saving * 12 - sprint_cost
    return Payback(sprint_cost, monthly_saving, months, first_year)
