"""What `advise` answers with: recommendations, each priced, explained and ranked."""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass, field
from decimal import Decimal

from tokcli.money import MONEY_CONTEXT

AVERAGE_MONTH_DAYS = Decimal("30.4375")  # 365.25 / 12


@dataclass(frozen=True)
class Period:
    since: dt.date
    until: dt.date
    whole_month: bool  # --month: the figures are that month's, not scaled

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    @property
    def monthly_factor(self) -> Decimal:
        """What turns the period's figures into a month's: 1 for a calendar month, otherwise
        the average month (365.25 / 12 = 30.4375 days) over the period's days."""
        if self.whole_month:
            return Decimal(1)
        return AVERAGE_MONTH_DAYS / Decimal(self.days)

    def monthly(self, amount: Decimal) -> Decimal:
        """`amount` over the period as a month's: times 30.4375, then divided by the days, in
        MONEY_CONTEXT. Multiplying by `monthly_factor` instead would carry the factor's
        rounding (30.4375 / 31 does not end) into a figure that needs none."""
        if self.whole_month:
            return amount
        with decimal.localcontext(MONEY_CONTEXT):
            return amount * AVERAGE_MONTH_DAYS / self.days


@dataclass
class Recommendation:
    lever: str  # cache | cache-churn | batch | routing | reasoning | commit | loop | retry | bloat
    title: str
    group: dict[str, str | None]
    model: str | None
    monthly_saving: Decimal | None  # None: an observation, not priced
    arithmetic: str  # how the saving was computed, in words and figures
    rows: int  # usage rows the figure rests on
    requests: int
    confidence: str
    caveat: str | None = None
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "lever": self.lever,
            "title": self.title,
            "group": self.group,
            "model": self.model,
            "monthly_saving": self.monthly_saving,
            "currency": "USD",
            "arithmetic": self.arithmetic,
            "rows": self.rows,
            "requests": self.requests,
            "confidence": self.confidence,
            "caveat": self.caveat,
            "details": self.details,
        }


@dataclass(frozen=True)
class SessionStats:
    sessions: int
    p50: Decimal
    p95: Decimal
    max: Decimal
    recent_p95: Decimal | None  # sessions started in the last 7 days of the period
    baseline_p95: Decimal | None  # the sessions before them
    alarm: bool  # recent p95 above twice the baseline


@dataclass
class Advice:
    period: Period
    group_by: tuple[str, ...]
    target_hit_rate: Decimal
    recommendations: list[Recommendation]
    combined_monthly_saving: Decimal
    monthly_list_cost: Decimal
    sessions: SessionStats | None
    unpriced_models: list[str]
