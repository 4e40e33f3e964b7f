"""Showback: spread a shared cost over groups in proportion to their spend, to the cent.

Largest-remainder method: every group gets the whole cents of its exact share; the cents left
over go one each to the groups with the largest fractional remainders (ties: the order the
groups were given in). The parts always add up to the shared amount exactly. Groups with zero
or negative spend (credits) take no share.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from decimal import Decimal

from tokcli.errors import OptionError

CENT = Decimal("0.01")
# The largest shared amount: the bound an import puts on any cost (importers.fields). Below it,
# the amount in cents has at most 17 digits, so no step here can round.
MAX_SHARED = Decimal("1e15")


def is_shareable(amount: Decimal) -> bool:
    """Whole cents from 0 to MAX_SHARED. Bounded first: quantize refuses (InvalidOperation) an
    amount of more than 28 digits."""
    return 0 <= amount <= MAX_SHARED and amount == amount.quantize(CENT)


def allocate(shared: Decimal, spend: Mapping[Hashable, Decimal]) -> dict[Hashable, Decimal]:
    if not is_shareable(shared):
        raise OptionError(
            "{allocate_shared}: expected an amount in whole cents from 0 to 1e15, got {shared}",
            shared=shared,
        )
    from fractions import Fraction  # only --allocate-shared needs it (start-up)

    weights = {key: Fraction(amount) for key, amount in spend.items() if amount > 0}
    total = sum(weights.values(), Fraction(0))
    if shared and total <= 0:
        raise OptionError("{allocate_shared}: no group has positive spend to allocate over")
    cents = int(shared / CENT)
    exact = {key: cents * weight / total for key, weight in weights.items()} if cents else {}
    whole = {key: share.numerator // share.denominator for key, share in exact.items()}
    order = list(spend)
    by_remainder = sorted(exact, key=lambda key: (-(exact[key] - whole[key]), order.index(key)))
    for key in by_remainder[: cents - sum(whole.values())]:
        whole[key] += 1
    return {key: Decimal(whole.get(key, 0)) * CENT for key in spend}
