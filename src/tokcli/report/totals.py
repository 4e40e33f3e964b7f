"""Exact sums of usage rows: money as Decimal, tokens and counts as int."""

from __future__ import annotations

from decimal import Decimal

from tokcli.money import ZERO, plain

# The integer measures, in the order the rollup tables and the SQL below list them.
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
)


class Totals:
    """Sums over some usage rows. `billed_rows`/`list_rows` count the rows that carry each cost,
    so a group where no row has a billed cost reports `billed_cost` as null, not as $0."""

    __slots__ = ("billed_cost", "list_cost", *COUNTS)

    def __init__(self):
        self.billed_cost = ZERO
        self.list_cost = ZERO
        for name in COUNTS:
            setattr(self, name, 0)

    @classmethod
    def from_rollup(cls, billed_cost: str, list_cost: str, counts) -> Totals:
        totals = cls.__new__(cls)  # every slot is set below; skip zeroing them first
        totals.billed_cost = Decimal(billed_cost)
        totals.list_cost = Decimal(list_cost)
        (
            totals.usage_rows, totals.billed_rows, totals.list_rows, totals.requests,
            totals.input_tokens, totals.cache_read_tokens, totals.cache_write_tokens,
            totals.output_tokens, totals.reasoning_tokens,
        ) = counts  # fmt: skip
        return totals

    def add(self, other: Totals, sign: int = 1) -> None:
        # Spelled out rather than looped over COUNTS: a report adds tens of thousands of these.
        if sign < 0:
            self.billed_cost -= other.billed_cost
            self.list_cost -= other.list_cost
        else:
            self.billed_cost += other.billed_cost
            self.list_cost += other.list_cost
        self.usage_rows += sign * other.usage_rows
        self.billed_rows += sign * other.billed_rows
        self.list_rows += sign * other.list_rows
        self.requests += sign * other.requests
        self.input_tokens += sign * other.input_tokens
        self.cache_read_tokens += sign * other.cache_read_tokens
        self.cache_write_tokens += sign * other.cache_write_tokens
        self.output_tokens += sign * other.output_tokens
        self.reasoning_tokens += sign * other.reasoning_tokens

    def spend(self, basis: str) -> Decimal:
        return self.billed_cost if basis == "billed" else self.list_cost

    def is_empty(self) -> bool:
        return self.usage_rows == 0

    def rollup_values(self) -> tuple:
        return (
            self.usage_rows,
            self.billed_rows,
            self.list_rows,
            plain(self.billed_cost),
            plain(self.list_cost),
            *(getattr(self, name) for name in COUNTS[3:]),
        )

    def as_dict(self) -> dict:
        """The JSON contract's measures (money as Decimal, serialised as exact strings); a cost
        no row carries is null."""
        return {
            "billed_cost": self.billed_cost if self.billed_rows else None,
            "list_cost": self.list_cost if self.list_rows else None,
            **{name: getattr(self, name) for name in COUNTS[3:]},
            "usage_rows": self.usage_rows,
        }


def accumulate(buckets: dict, key, billed: str | None, listed: str | None, counts) -> None:
    """Add one usage row (costs as stored: decimal text or NULL) to `buckets[key]`.

    This loop is the hot path of a rollup rebuild, so it updates slots directly."""
    totals = buckets.get(key)
    if totals is None:
        totals = buckets[key] = Totals()
    totals.usage_rows += 1
    if billed is not None:
        totals.billed_rows += 1
        totals.billed_cost += Decimal(billed)
    if listed is not None:
        totals.list_rows += 1
        totals.list_cost += Decimal(listed)
    requests, input_tokens, cache_read, cache_write, output, reasoning = counts
    totals.requests += requests
    totals.input_tokens += input_tokens
    totals.cache_read_tokens += cache_read
    totals.cache_write_tokens += cache_write
    totals.output_tokens += output
    totals.reasoning_tokens += reasoning
