"""`tco commit` and `tco payback`: hand-computed verdicts, and the guides' payback example."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tokcli.tco.commit import breakeven_usage, evaluate, no_waste_usage
from tokcli.tco.payback import payback

D = Decimal


@pytest.mark.parametrize(
    ("usage", "cost", "waste", "saving", "verdict"),
    [
        # commit $8,000 at 20% off all usage: billed max(8,000, usage x 0.8)
        (6000, 8000, 3200, -2000, "bad"),  # 6,000 x 0.8 = 4,800 used of 8,000
        (8000, 8000, 1600, 0, "break-even"),  # zero saving is never "good"
        (9000, 8000, 800, 1000, "marginal"),  # saves, but 800 of the commitment unused
        (10000, 8000, 0, 2000, "good"),  # 10,000 x 0.8 = 8,000: all used
        (14000, 11200, 0, 2800, "good"),
    ],
)
def test_commit_discount_on_all_usage(usage, cost, waste, saving, verdict):
    result = evaluate(D(8000), D("0.2"), D(usage), "all")
    assert (result.committed_cost, result.waste, result.saving, result.verdict) == (
        D(cost),
        D(waste),
        D(saving),
        verdict,
    )


@pytest.mark.parametrize(
    ("usage", "cost", "waste", "saving", "verdict"),
    [
        # commit $8,000, usage above it at 20% off: billed 8,000 + (usage - 8,000) x 0.8
        (6000, 8000, 2000, -2000, "bad"),
        (8000, 8000, 0, 0, "break-even"),
        (10000, 9600, 0, 400, "good"),
    ],
)
def test_commit_discount_above_the_floor(usage, cost, waste, saving, verdict):
    result = evaluate(D(8000), D("0.2"), D(usage), "above-floor")
    assert (result.committed_cost, result.waste, result.saving, result.verdict) == (
        D(cost),
        D(waste),
        D(saving),
        verdict,
    )


def test_a_commitment_without_discount_is_never_good():
    for usage in (5000, 8000, 10000, 50000):
        for on in ("all", "above-floor"):
            assert evaluate(D(8000), D(0), D(usage), on).verdict != "good"


def test_commit_thresholds():
    assert breakeven_usage(D(8000), D("0.2")) == D(8000)
    assert no_waste_usage(D(8000), D("0.2"), "all") == D(10000)  # 8,000 / 0.8
    assert no_waste_usage(D(8000), D("0.2"), "above-floor") == D(8000)


def test_payback_of_the_guides_sprint():
    # 40 h x $200 = $8,000 against 50% of $10,000 = $5,000 a month: 1.6 months
    result = payback(D(40), D(200), D(10000), D("0.5"))
    assert result.sprint_cost == D(8000)
    assert result.monthly_saving == D(5000)
    assert result.months == D("1.6")
    assert result.first_year_net == D(52000)


def test_payback_without_saving_is_never():
    assert payback(D(40), D(200), D(10000), D(0)).months is None
    assert payback(D(40), D(200), D(0), D("0.5")).months is None
