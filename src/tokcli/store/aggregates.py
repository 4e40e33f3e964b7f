"""SQL aggregates the store defines in Python for SQLite (PostgreSQL sums NUMERIC itself: see
postgres.translate)."""

from __future__ import annotations

from decimal import Decimal

from tokcli.money import MONEY_CONTEXT, plain
from tokcli.store.connection import Connection

DECIMAL_SUM = "tokcli_decimal_sum"


class DecimalSum:
    """The exact sum of decimal strings (NULLs skipped), as a decimal string: money summed as
    decimals, never as SQLite's floats."""

    def __init__(self) -> None:
        self.total = Decimal(0)

    def step(self, value: str | None) -> None:
        if value is not None:
            self.total = MONEY_CONTEXT.add(self.total, Decimal(value))

    def finalize(self) -> str:
        return plain(self.total)


def define_decimal_sum(conn: Connection) -> str:
    """Make `tokcli_decimal_sum(column)` callable on `conn`; returns its name."""
    conn.create_aggregate(DECIMAL_SUM, 1, DecimalSum)
    return DECIMAL_SUM
