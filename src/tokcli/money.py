"""Exact money: parse prices as Decimal, compute in Decimal, round only for display."""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import overload

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


@overload
def plain(amount: Decimal) -> str: ...
@overload
def plain(amount: None) -> None: ...
@overload
def plain(amount: Decimal | None) -> str | None: ...


def plain(amount: Decimal | None) -> str | None:
    """Exact decimal string for machine output: no exponent, no trailing-zero noise."""
    if amount is None:
        return None
    text = format(amount, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def display(amount: Decimal | None, places: int = 2, *, symbol: str = "$") -> str:
    """Rounded for people (table and markdown only). Sub-dollar amounts, such as a cost per call,
    keep three significant digits ($0.036, not $0.04); larger ones are shown to the cent."""
    if amount is None:
        return "-"
    wanted = places
    if amount != 0 and abs(amount) < 1:
        wanted = min(max(places, -amount.copy_abs().adjusted() + 2), 10)
    rounded = amount.quantize(Decimal(1).scaleb(-wanted), rounding=decimal.ROUND_HALF_EVEN)
    text = f"{abs(rounded):,.{wanted}f}"
    if wanted > places:  # drop the zeros the extra digits added, never below the cents
        whole, fraction = text.split(".")
        text = f"{whole}.{fraction.rstrip('0').ljust(places, '0')}"
    sign = "-" if rounded < 0 else ""
    return f"{sign}{symbol}{text}"
