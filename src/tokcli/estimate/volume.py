"""How often a prompt is called: `--requests N --per day|month`, front matter, or config."""

from __future__ import annotations

from dataclasses import dataclass

from tokcli.errors import OptionError

PERIODS = ("day", "month")
DEFAULT_DAYS_PER_MONTH = 30


@dataclass(frozen=True)
class Volume:
    requests: int
    per: str  # "day" | "month"
    days_per_month: int = DEFAULT_DAYS_PER_MONTH
    origin: str = "--requests"

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
