"""How often a prompt is called: `--requests N --per day|month`, front matter, or config."""

from __future__ import annotations

from dataclasses import dataclass

from tokcli.errors import OptionError
from tokcli.frozen import Frozen

PERIODS = ("day", "month")
DEFAULT_DAYS_PER_MONTH = 30


# As @dataclass(frozen=True), with __init__ written out: see tokcli.frozen (start-up).
@dataclass(init=False, repr=False, eq=False)
class Volume(Frozen):
    """How many calls a prompt gets: `requests` per day or per month, and where that came from."""

    requests: int
    per: str  # "day" | "month"
    days_per_month: int = DEFAULT_DAYS_PER_MONTH
    origin: str = "--requests"

    def __init__(
        self,
        requests: int,
        per: str,
        days_per_month: int = DEFAULT_DAYS_PER_MONTH,
        origin: str = "--requests",
    ) -> None:
        self.__dict__.update(
            requests=requests, per=per, days_per_month=days_per_month, origin=origin
        )
        self.__post_init__()

    def __post_init__(self):
        if self.per not in PERIODS:
            raise OptionError("{per}: expected day or month, got {value!r}", value=self.per)
        if self.days_per_month <= 0:
            raise OptionError("{days_per_month} must be a whole number > 0")

    @property
    def monthly_requests(self) -> int:
        return self.requests * self.days_per_month if self.per == "day" else self.requests

    def describe(self) -> str:
        text = f"{self.requests:,} requests per {self.per}"
        if self.per == "day":
            text += f" x {self.days_per_month} days = {self.monthly_requests:,} per month"
        return f"{text} ({self.origin})"
