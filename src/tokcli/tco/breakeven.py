"""Where two cost curves cross, found exactly on their straight-line pieces.

GPU options cost a constant per replica step and API options a straight line through zero, so
the difference of two options is a straight line on every interval between their step points.
A crossing is where that difference changes sign: inside an interval (solved exactly) or at a
step, where a GPU option jumps past the other curve. Curves that never cross give no crossing,
and the report says which option is cheaper over the whole range.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal

from tokcli.money import MONEY_CONTEXT
from tokcli.tco.defaults import HOURS_PER_MONTH, MILLION
from tokcli.tco.model import ApiOption, GpuOption, Option, Piece

# Breakeven search range, tokens a month: from one token to 10T (120T a year), past any volume
# the guides discuss, while keeping the number of replica steps small enough to walk quickly.
SEARCH_LOW = Decimal(0)
SEARCH_HIGH = Decimal(10) ** 13
# A GPU option with a tiny throughput would have millions of replica steps below 10T; the search
# stops after this many steps of either option and reports the range it covered.
MAX_STEPS = 10_000


@dataclass(frozen=True)
class Crossing:
    volume: Decimal  # tokens a month where the two cost the same (or where one steps past)
    cheaper_below: str
    cheaper_above: str


@dataclass(frozen=True)
class PairBreakeven:
    first: str
    second: str
    crossings: tuple[Crossing, ...]
    cheaper_throughout: str | None  # set when the curves never cross in the range
    low: Decimal
    high: Decimal

    @property
    def last(self) -> Crossing | None:
        """The crossing above which the order no longer changes (inside the range)."""
        return self.crossings[-1] if self.crossings else None


def _sign(value: Decimal) -> int:
    return (value > 0) - (value < 0)


def _merged(first: list[Piece], second: list[Piece]):
    """Yield (low, high, first piece, second piece) over the union of both step points."""
    i = j = 0
    low = first[0].low
    while i < len(first) and j < len(second):
        high = min(first[i].high, second[j].high)
        if high > low:
            yield low, high, first[i], second[j]
            low = high
        if first[i].high <= low:
            i += 1
        if j < len(second) and second[j].high <= low:
            j += 1


def crossings(
    first: Option, second: Option, low: Decimal = SEARCH_LOW, high: Decimal = SEARCH_HIGH
) -> PairBreakeven:
    """Every volume in (low, high] where `first` and `second` swap places as the cheaper."""
    for option in (first, second):
        if isinstance(option, GpuOption):
            high = min(high, option.volume_limit(option.min_replicas + MAX_STEPS))
    found: list[Crossing] = []
    last_sign = 0
    first_tie: Decimal | None = None  # start of a stretch where the costs are equal
    with decimal.localcontext(MONEY_CONTEXT):
        for start, end, a, b in _merged(first.pieces(low, high), second.pieces(low, high)):
            slope = a.slope - b.slope
            intercept = a.intercept - b.intercept
            ends = ((False, start, slope * start + intercept), (True, end, slope * end + intercept))
            for at_end, point, value in ends:
                sign = _sign(value)
                if sign == 0:
                    first_tie = point if first_tie is None else first_tie
                    continue
                if last_sign and sign != last_sign:
                    if first_tie is not None:
                        volume = first_tie
                    elif at_end and slope != 0:
                        volume = -intercept / slope
                    else:
                        volume = start  # a step jumped past the other curve
                    below, above = (
                        (second.name, first.name) if sign < 0 else (first.name, second.name)
                    )
                    found.append(Crossing(volume, below, above))
                last_sign, first_tie = sign, None
    throughout = None
    if not found:
        throughout = second.name if last_sign > 0 else first.name
        if last_sign == 0:
            throughout = "equal"
    return PairBreakeven(first.name, second.name, tuple(found), throughout, low, high)


def whole_tokens(volume: Decimal) -> int:
    """A breakeven volume as whole tokens, rounded up: the first volume at or past it."""
    return int(volume.to_integral_value(rounding=decimal.ROUND_CEILING))


# -- solving for the inputs that put a breakeven at a given volume -------------------------
# At the breakeven V*, api_price x V* / 1M = replicas(V*) x replica_monthly + fixed. Each input
# below appears once in that equation, so each is solved exactly, the others held as given.


@dataclass(frozen=True)
class Solved:
    input: str
    value: Decimal | None  # None: no value of this input can put the breakeven there
    note: str = ""


def solve_for_target(api: ApiOption, gpu: GpuOption, target: int) -> list[Solved]:
    """The value of one input at a time that makes `api` and `gpu` cost the same at `target`."""
    with decimal.localcontext(MONEY_CONTEXT):
        api_cost = api.cost(target).monthly
        replicas = gpu.replicas_for(target)
        gpu_hours = replicas * gpu.gpus_per_replica * HOURS_PER_MONTH
        variable = replicas * gpu.replica_monthly
        results = [
            Solved(
                "api_price_per_mtok",
                (variable + gpu.fixed_total) / Decimal(target) * MILLION,
                "blended API $/MTok",
            ),
            _non_negative("fixed_total", api_cost - variable, "staff + fixed costs, $/month"),
            _non_negative(
                "gpu_hour",
                (api_cost - gpu.fixed_total) / (gpu_hours * (1 + gpu.overhead_share)),
                f"$/GPU-hour with {replicas} replica(s) of {gpu.gpus_per_replica}",
            ),
        ]
    return results


def _non_negative(name: str, value: Decimal, note: str) -> Solved:
    if value < 0:
        return Solved(name, None, f"{note}: would have to be negative")
    return Solved(name, value, note)


def fte_for(fixed_monthly: Decimal, other_fixed: Decimal, fte_cost_per_year: Decimal):
    """FTEs whose loaded cost makes up `fixed_monthly` beside the other fixed costs."""
    if fte_cost_per_year == 0:
        return None
    with decimal.localcontext(MONEY_CONTEXT):
        fte = (fixed_monthly - other_fixed) * 12 / fte_cost_per_year
    return fte if fte >= 0 else None
