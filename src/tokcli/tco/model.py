"""The cost model: what each way of serving tokens costs a month at a given volume.

Two shapes of cost (the README, section `tokcli tco`, writes the formulas out):

* `ApiOption`: pay per token. cost = volume / 1M x blended $/MTok; everything scales with volume.
* `GpuOption`: pay per GPU-hour for whole replicas, busy or idle, plus staff and fixed costs.
  Replicas step up with volume (rounded UP); staff, fixed costs and the minimum replica count do
  not scale at all.

Both expose `pieces(low, high)`: the cost as exact straight lines `slope x volume + intercept`
over right-closed volume intervals, which is what the breakeven search needs.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass, field
from decimal import Decimal

from tokcli.money import MONEY_CONTEXT, ZERO
from tokcli.tco.defaults import HOURS_PER_MONTH, MILLION, SECONDS_PER_HOUR


@dataclass(frozen=True)
class Piece:
    """cost(volume) = slope x volume + intercept for low < volume <= high."""

    low: Decimal
    high: Decimal
    slope: Decimal
    intercept: Decimal


@dataclass(frozen=True)
class OptionCost:
    option: str
    volume: int
    monthly: Decimal
    per_mtok: Decimal
    replicas: int | None = None
    gpus: int | None = None
    parts: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class ApiOption:
    """A per-token price: a registry model (blended by tokcli.cost) or a blended price given."""

    name: str
    kind: str  # "api" or "open-weight-api"
    price_per_mtok: Decimal
    model: str | None = None
    source: str = ""

    def cost(self, volume: int) -> OptionCost:
        with decimal.localcontext(MONEY_CONTEXT):
            monthly = Decimal(volume) * self.price_per_mtok / MILLION
        return OptionCost(
            self.name, volume, monthly, self.price_per_mtok, parts={"tokens": monthly}
        )

    def pieces(self, low: Decimal, high: Decimal) -> list[Piece]:
        with decimal.localcontext(MONEY_CONTEXT):
            return [Piece(low, high, self.price_per_mtok / MILLION, ZERO)]


@dataclass(frozen=True)
class GpuOption:
    """Serving the open-weight model yourself on rented (neocloud) or owned GPUs."""

    name: str
    kind: str  # "neocloud" or "self-hosted"
    gpu: str
    gpu_hour: Decimal  # $ per GPU-hour (rented, or owned capex amortised)
    gpus_per_replica: int
    throughput: Decimal  # output tokens/s per GPU, at full load
    output_share: Decimal  # output tokens / all tokens
    input_weight: Decimal  # GPU work of one input token, in output tokens
    utilisation: Decimal  # average load / provisioned capacity
    headroom: Decimal = ZERO  # extra capacity on top, for peaks and failover
    min_replicas: int = 1
    overhead_share: Decimal = ZERO  # facilities/power/network/software, share of GPU cost
    fixed_monthly: Decimal = ZERO  # flat $/month (software, monitoring, ...)
    staff_monthly: Decimal = ZERO  # engineering FTEs x loaded cost / 12

    @property
    def work_per_token(self) -> Decimal:
        """GPU work of an average token, in output tokens: s + w x (1 - s)."""
        with decimal.localcontext(MONEY_CONTEXT):  # whatever the caller's context
            return self.output_share + self.input_weight * (1 - self.output_share)

    @property
    def replica_capacity(self) -> Decimal:
        """Output-equivalent tokens one replica serves in a month when 100% busy."""
        with decimal.localcontext(MONEY_CONTEXT):
            return self.gpus_per_replica * self.throughput * SECONDS_PER_HOUR * HOURS_PER_MONTH

    @property
    def replica_monthly(self) -> Decimal:
        """What one more replica adds a month: its GPU-hours and the overhead on them."""
        with decimal.localcontext(MONEY_CONTEXT):
            gpu_cost = self.gpus_per_replica * HOURS_PER_MONTH * self.gpu_hour
            return gpu_cost * (1 + self.overhead_share)

    @property
    def fixed_total(self) -> Decimal:
        return MONEY_CONTEXT.add(self.staff_monthly, self.fixed_monthly)

    def replicas_for(self, volume: int | Decimal) -> int:
        with decimal.localcontext(MONEY_CONTEXT):
            needed = (
                Decimal(volume)
                * self.work_per_token
                * (1 + self.headroom)
                / (self.replica_capacity * self.utilisation)
            )
        return max(self.min_replicas, int(needed.to_integral_value(rounding=decimal.ROUND_CEILING)))

    def volume_limit(self, replicas: int) -> Decimal:
        """The largest monthly volume `replicas` replicas serve (the top of that step)."""
        with decimal.localcontext(MONEY_CONTEXT):
            return (
                replicas
                * self.replica_capacity
                * self.utilisation
                / ((1 + self.headroom) * self.work_per_token)
            )

    def cost_with(self, replicas: int) -> Decimal:
        with decimal.localcontext(MONEY_CONTEXT):
            return replicas * self.replica_monthly + self.fixed_total

    def cost(self, volume: int) -> OptionCost:
        replicas = self.replicas_for(volume)
        with decimal.localcontext(MONEY_CONTEXT):
            gpu_cost = replicas * self.gpus_per_replica * HOURS_PER_MONTH * self.gpu_hour
            overhead = gpu_cost * self.overhead_share
            monthly = gpu_cost + overhead + self.staff_monthly + self.fixed_monthly
            per_mtok = monthly / Decimal(volume) * MILLION
        parts = {
            "gpus": gpu_cost,
            "overhead": overhead,
            "staff": self.staff_monthly,
            "fixed": self.fixed_monthly,
        }
        return OptionCost(
            self.name,
            volume,
            monthly,
            per_mtok,
            replicas,
            replicas * self.gpus_per_replica,
            parts,
        )

    def pieces(self, low: Decimal, high: Decimal) -> list[Piece]:
        """Constant cost on each replica step (V_{n-1}, V_n], clipped to (low, high]."""
        pieces = []
        replicas = self.replicas_for(max(low, Decimal(1)))
        start = low
        while start < high:
            end = min(self.volume_limit(replicas), high)
            if end > start:
                pieces.append(Piece(start, end, ZERO, self.cost_with(replicas)))
                start = end
            replicas += 1
        return pieces


Option = ApiOption | GpuOption


def horizon_cost(option: Option, volume: int, months: int, growth: Decimal) -> Decimal:
    """Total over `months` months, the volume growing by `growth` a month (compounded).

    Each month's volume is rounded to whole tokens, and each month is priced on its own, so
    replicas step up as the volume grows.
    """
    if growth == 0:
        return MONEY_CONTEXT.multiply(option.cost(volume).monthly, months)
    total = ZERO
    with decimal.localcontext(MONEY_CONTEXT):
        for month in range(months):
            month_volume = Decimal(volume) * (1 + growth) ** month
            tokens = int(month_volume.to_integral_value(rounding=decimal.ROUND_HALF_EVEN))
            total += option.cost(max(tokens, 1)).monthly
    return total


def month_volume(volume: int, growth: Decimal, month: int) -> int:
    """The volume of month `month` (1-based) when month 1 is `volume`."""
    with decimal.localcontext(MONEY_CONTEXT):
        grown = Decimal(volume) * (1 + growth) ** (month - 1)
    return int(grown.to_integral_value(rounding=decimal.ROUND_HALF_EVEN))
