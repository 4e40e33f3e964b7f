"""Exact money: parse prices as Decimal, compute in Decimal, round only for display."""

from __future__ import annotations

import decimal
from decimal import Decimal

# Token counts times per-million prices need few digits, but aggregated spend over years of
# usage must never be rounded by the context: keep far more precision than any figure needs.
MONEY_CONTEXT = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_EVEN)
MILLION = Decimal(1_000_000)
ZERO = Decimal(0)


def to_decimal(value: object, *, field: str = "value") -> Decimal:
    """Parse a price or amount exactly. Floats are refused: they are already inexact."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool | float):
        raise ValueError(f"{field} must be a decimal string, not {type(value).__name__} {value!r}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except decimal.InvalidOperation:
            raise ValueError(f"{field} is not a decimal number: {value!r}") from None
        if not result.is_finite():
            raise ValueError(f"{field} is not a finite number: {value!r}")
        return result
    raise ValueError(f"{field} must be a decimal string, not {type(value).__name__}")


def per_million(tokens: int, price_per_mtok: Decimal) -> Decimal:
    """Cost of `tokens` at a USD-per-million-tokens price, exact."""
    with decimal.localcontext(MONEY_CONTEXT):
        return (Decimal(tokens) * price_per_mtok) / MILLION


def plain(amount: Decimal | None) -> str | None:
    """Exact decimal string for machine output: no exponent, no trailing-zero noise."""
    if amount is None:
        return None
    text = format(amount, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def display(amount: Decimal | None, places: int = 2, *, symbol: str = "$") -> str:
    """Rounded for people (table output only). Small non-zero amounts keep enough digits to show."""
    if amount is None:
        return "-"
    if amount != 0 and abs(amount) < Decimal(1).scaleb(-places):
        # $0.00 for a real cost is misleading: show up to 6 significant places instead.
        places = min(max(places, -amount.copy_abs().adjusted() + 1), 10)
    quantum = Decimal(1).scaleb(-places)
    rounded = amount.quantize(quantum, rounding=decimal.ROUND_HALF_EVEN)
    sign = "-" if rounded < 0 else ""
    return f"{sign}{symbol}{abs(rounded):,.{places}f}"
