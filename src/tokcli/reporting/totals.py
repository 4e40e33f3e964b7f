"""Exact sums of usage rows: money as Decimal, tokens and counts as int.

A store written by an older tokcli may hold a value no sum can use (a cost of "1e400", "NaN" or
"abc", a token count stored as text). Such a value never stops a report: the rows are summed on
a fast path first; when that fails or gives a total that cannot be right, they are summed again
one by one, the unusable value is counted as missing, and the row is named in a warning.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from tokcli.frozen import Frozen
from tokcli.money import ZERO, plain

# The money measures and the integer measures, in the order the rollup tables and the SQL list
# them. `unbilled_list_*` sum the list cost of the rows that carry no billed cost: the default
# cost basis values those rows at list price (docs/concepts/cost-basis.md).
MONEY = ("billed_cost", "list_cost", "unbilled_list_cost")
COUNTS = (
    "usage_rows",
    "billed_rows",
    "list_rows",
    "requests",
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "output_tokens",
    "reasoning_tokens",
    "unbilled_list_rows",
)
MEASURES = MONEY + COUNTS
TOKEN_COUNTS = COUNTS[3:9]  # requests and the token buckets, as a usage row carries them
# A stored per-row cost beyond this is unusable: sums of such values would no longer be exact
# in MONEY_CONTEXT (60 digits). `import` refuses far smaller values (1e15) before they are
# written; this bound only catches what an older version let through ("1e400").
COST_BOUND = Decimal("1e30")


class Totals:
    """Sums over some usage rows. `billed_rows`/`list_rows` count the rows that carry each cost,
    so a group where no row has a billed cost reports `billed_cost` as null, not as $0."""

    __slots__ = MEASURES

    billed_cost: Decimal
    list_cost: Decimal
    unbilled_list_cost: Decimal
    usage_rows: int
    billed_rows: int
    list_rows: int
    requests: int
    input_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    output_tokens: int
    reasoning_tokens: int
    unbilled_list_rows: int

    def __init__(self) -> None:
        self.billed_cost = ZERO
        self.list_cost = ZERO
        self.unbilled_list_cost = ZERO
        for name in COUNTS:
            setattr(self, name, 0)

    @classmethod
    def from_rollup(cls, values) -> Totals:
        """From the rollup columns in MEASURES order (money as decimal text)."""
        totals = cls.__new__(cls)  # every slot is set below; skip zeroing them first
        totals.billed_cost = Decimal(values[0])
        totals.list_cost = Decimal(values[1])
        totals.unbilled_list_cost = Decimal(values[2])
        (
            totals.usage_rows, totals.billed_rows, totals.list_rows, totals.requests,
            totals.input_tokens, totals.cache_read_tokens, totals.cache_write_tokens,
            totals.output_tokens, totals.reasoning_tokens, totals.unbilled_list_rows,
        ) = values[3:]  # fmt: skip
        return totals

    def copy(self) -> Totals:
        twin = Totals.__new__(Totals)
        for name in MEASURES:
            setattr(twin, name, getattr(self, name))
        return twin

    def add(self, other: Totals, sign: int = 1) -> None:
        # Spelled out rather than looped over COUNTS: a report adds tens of thousands of these,
        # so the caller enters MONEY_CONTEXT once around its loop (the default 28 digits would
        # round a 30-decimal cost; tests/test_money_precision.py).
        if sign < 0:
            self.billed_cost -= other.billed_cost
            self.list_cost -= other.list_cost
            self.unbilled_list_cost -= other.unbilled_list_cost
        else:
            self.billed_cost += other.billed_cost
            self.list_cost += other.list_cost
            self.unbilled_list_cost += other.unbilled_list_cost
        self.usage_rows += sign * other.usage_rows
        self.billed_rows += sign * other.billed_rows
        self.list_rows += sign * other.list_rows
        self.requests += sign * other.requests
        self.input_tokens += sign * other.input_tokens
        self.cache_read_tokens += sign * other.cache_read_tokens
        self.cache_write_tokens += sign * other.cache_write_tokens
        self.output_tokens += sign * other.output_tokens
        self.reasoning_tokens += sign * other.reasoning_tokens
        self.unbilled_list_rows += sign * other.unbilled_list_rows

    def is_empty(self) -> bool:
        return self.usage_rows == 0

    def is_sane(self) -> bool:
        """False when a sum cannot come from usable rows (NaN, infinity, beyond any bound)."""
        for amount in (self.billed_cost, self.list_cost, self.unbilled_list_cost):
            if not amount.is_finite() or abs(amount) > COST_BOUND * max(self.usage_rows, 1):
                return False
        return True

    def rollup_values(self) -> tuple:
        """The values of MEASURES, money as exact decimal text."""
        return (
            plain(self.billed_cost),
            plain(self.list_cost),
            plain(self.unbilled_list_cost),
            *(getattr(self, name) for name in COUNTS),
        )

    def as_dict(self) -> dict:
        """The JSON contract's measures (money as Decimal, serialised as exact strings); a cost
        no row carries is null."""
        return {
            "billed_cost": self.billed_cost if self.billed_rows else None,
            "list_cost": self.list_cost if self.list_rows else None,
            **{name: getattr(self, name) for name in TOKEN_COUNTS},
            "usage_rows": self.usage_rows,
        }


def accumulate(buckets: dict, key, billed: str | None, listed: str | None, counts) -> None:
    """Add one usage row (costs as stored: decimal text or NULL) to `buckets[key]`.

    This loop is the hot path of a rollup rebuild, so it updates slots directly. It trusts its
    input: `sum_checked` re-runs it through `accumulate_checked` when that trust was misplaced."""
    totals = buckets.get(key)
    if totals is None:
        totals = buckets[key] = Totals()
    totals.usage_rows += 1
    if billed is not None:
        totals.billed_rows += 1
        totals.billed_cost += Decimal(billed)
    if listed is not None:
        totals.list_rows += 1
        amount = Decimal(listed)
        totals.list_cost += amount
        if billed is None:
            totals.unbilled_list_rows += 1
            totals.unbilled_list_cost += amount
    requests, input_tokens, cache_read, cache_write, output, reasoning = counts
    totals.requests += requests
    totals.input_tokens += input_tokens
    totals.cache_read_tokens += cache_read
    totals.cache_write_tokens += cache_write
    totals.output_tokens += output
    totals.reasoning_tokens += reasoning


# As @dataclass(frozen=True), with __init__ written out: see tokcli.frozen (start-up).
@dataclass(init=False, repr=False, eq=False)
class BadValue(Frozen):
    """A stored value no report can use, and where it is."""

    day: str
    usage_id: int
    column: str
    value: str

    def __init__(
        self,
        day: str,
        usage_id: int,
        column: str,
        value: str,
    ) -> None:
        self.__dict__.update(day=day, usage_id=usage_id, column=column, value=value)

    def warning(self) -> str:
        return (
            f"usage row id {self.usage_id} (table usage, day {self.day}): {self.column} "
            f"{self.value!r} is not a usable value; the report counts it as missing"
        )


_TOKEN_COLUMNS = ("requests", "input_tokens", "cache_read_tokens", "cache_write_tokens",
                  "output_tokens", "reasoning_tokens")  # fmt: skip


def usable_cost(value: object) -> Decimal | Literal[False] | None:
    """The stored cost as Decimal, None when there is none, False when it is unusable."""
    if value is None:
        return None
    try:
        amount = Decimal(value) if isinstance(value, str | int) else Decimal(repr(value))
    except (decimal.InvalidOperation, ValueError, TypeError):
        return False
    if not amount.is_finite() or abs(amount) > COST_BOUND:
        return False
    return amount


def accumulate_checked(buckets: dict, key, usage_id, day, billed, listed, counts, bad: list):
    """`accumulate` for rows that may hold unusable values: each is counted as missing (a cost
    as NULL, a token count as 0) and recorded in `bad`."""
    costs = []
    for column, value in (("billed_cost", billed), ("list_cost", listed)):
        amount = usable_cost(value)
        if amount is False:
            bad.append(BadValue(day, usage_id, column, str(value)))
            amount = None
        costs.append(None if amount is None else plain(amount))
    clean = []
    for column, value in zip(_TOKEN_COLUMNS, counts, strict=True):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) <= 10**18:
            clean.append(value)
        else:
            bad.append(BadValue(day, usage_id, column, str(value)))
            clean.append(0)
    accumulate(buckets, key, costs[0], costs[1], clean)
