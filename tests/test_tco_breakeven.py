"""Breakeven volumes: found exactly where the cost curves cross, 'none' where they never do."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from tokcli.tco.breakeven import crossings, solve_for_target, whole_tokens
from tokcli.tco.model import ApiOption, GpuOption

D = Decimal


def gpu(**changes) -> GpuOption:
    """1 GPU at 1,000 output tok/s, output only, 50% busy: 1,314,000,000 tokens per replica."""
    base = GpuOption(
        name="gpu",
        kind="neocloud",
        gpu="H100",
        gpu_hour=D(2),  # 730 h x $2 = $1,460 a replica-month
        gpus_per_replica=1,
        throughput=D(1000),
        output_share=D(1),
        input_weight=D(0),
        utilisation=D("0.5"),
        staff_monthly=D(10000),
    )
    return dataclasses.replace(base, **changes)


STEP = D(1_314_000_000)


def test_api_against_gpu_crosses_once_inside_the_first_step():
    api = ApiOption("api", "api", D(10))
    result = crossings(api, gpu())
    # $10/MTok x V = $10,000 + $1,460  ->  V = 1,146,000,000 (inside the first replica's step)
    assert [c.volume for c in result.crossings] == [D(1_146_000_000)]
    crossing = result.crossings[0]
    assert (crossing.cheaper_below, crossing.cheaper_above) == ("api", "gpu")
    assert result.cheaper_throughout is None


def test_default_style_case_sonnet_against_two_h100():
    # $9/MTok against 1 replica of 2 H100 at $2.75 (4,015) + 1 FTE at $416,000/yr (34,666.67)
    api = ApiOption("sonnet", "api", D(9))
    neocloud = gpu(
        gpu_hour=D("2.75"),
        gpus_per_replica=2,
        throughput=D(2000),
        output_share=D("0.5"),
        input_weight=D("0.1"),
        staff_monthly=D(416000) / 12,
    )
    result = crossings(api, neocloud)
    # (4,015 + 34,666.666...) / 9 x 1M = 4,297,962,962.96 -> 4,297,962,963 whole tokens
    assert whole_tokens(result.last.volume) == 4_297_962_963


def test_never_crossing_is_reported_as_none():
    cheap_api = ApiOption("cheap", "api", D("0.01"))
    result = crossings(cheap_api, gpu())
    # at 10T tokens a month the API costs $100,000 and the GPUs 7,611 replicas: never cheaper
    assert result.crossings == ()
    assert result.cheaper_throughout == "cheap"
    assert result.last is None
    two_apis = crossings(ApiOption("a", "api", D(9)), ApiOption("b", "api", D("0.21")))
    assert two_apis.crossings == () and two_apis.cheaper_throughout == "b"


def test_a_step_that_jumps_past_the_other_curve():
    # first: $1,000 a replica, no fixed cost; second: $1,400 fixed + $500 a replica, same steps.
    # difference = 1,000n - (1,400 + 500n): n=2 -> -400 (first cheaper), n=3 -> +100
    first = gpu(name="first", gpu_hour=D(1000) / 730, staff_monthly=D(0))
    second = gpu(name="second", gpu_hour=D(500) / 730, staff_monthly=D(1400))
    result = crossings(first, second)
    assert len(result.crossings) == 1
    assert result.crossings[0].volume == 2 * STEP  # above 2 replicas' worth, second wins
    assert result.crossings[0].cheaper_above == "second"


def test_saw_tooth_crossings_are_all_found_and_the_last_is_stable():
    # API at $2/MTok: a x STEP = $2,628 = 1.5 replica-costs of $1,752 (730 h x $2.40).
    api = ApiOption("api", "api", D(2))
    saw = gpu(gpu_hour=D("2.4"), staff_monthly=D(0))
    volumes = [c.volume for c in crossings(api, saw).crossings]
    # step 1: a V = 1,752 at 2/3 STEP; at STEP the GPUs jump to 2,920 above the API line;
    # the API line reaches 3,504 at 4/3 STEP and stays above from there on
    assert volumes == [D(876_000_000), STEP, D(1_752_000_000)]


def test_solved_inputs_put_the_breakeven_at_the_target():
    api = ApiOption("sonnet", "api", D(9))
    option = gpu(gpu_hour=D("2.75"), gpus_per_replica=2, throughput=D(2000), staff_monthly=D(30000))
    target = 4_083_333_333  # 49B tokens a year
    solved = {s.input: s.value for s in solve_for_target(api, option, target)}
    checks = [
        (dataclasses.replace(api, price_per_mtok=solved["api_price_per_mtok"]), option),
        (api, dataclasses.replace(option, staff_monthly=D(0), fixed_monthly=solved["fixed_total"])),
        (api, dataclasses.replace(option, gpu_hour=solved["gpu_hour"])),
    ]
    for solved_api, solved_gpu in checks:
        found = crossings(solved_api, solved_gpu).last
        assert abs(found.volume - target) < 1


def test_negative_solutions_are_reported_as_impossible():
    api = ApiOption("cheap", "api", D("0.1"))
    solved = {s.input: s for s in solve_for_target(api, gpu(), 1_000_000)}
    assert solved["fixed_total"].value is None
    assert "negative" in solved["gpu_hour"].note


def test_search_stops_after_max_steps_and_says_where():
    from tokcli.tco.breakeven import MAX_STEPS, SEARCH_HIGH

    slow = gpu(throughput=D(1))  # 1 tok/s: 1,314,000 tokens per replica, millions of steps
    result = crossings(ApiOption("api", "api", D(10)), slow)
    assert result.high < SEARCH_HIGH
    assert result.high == slow.volume_limit(1 + MAX_STEPS)
