"""The TCO cost model against hand-computed cases: every figure below is worked out in the
comment beside it, so a reviewer can check it with a pencil."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from tokcli.cost import Usage, compute_cost
from tokcli.errors import TokcliError
from tokcli.pricing import Registry
from tokcli.tco.analysis import gpu_options
from tokcli.tco.apiprice import blended_price
from tokcli.tco.inputs import TCO_SETTINGS, resolve
from tokcli.tco.model import ApiOption, GpuOption, horizon_cost, month_volume
from tokcli.tco.sensitivity import sensitivity
from tokcli.tco.sweep import log_volumes, one_two_five, sweep
from tokcli.tco.units import (
    parse_fraction,
    parse_mix,
    parse_percent,
    parse_volume,
    parse_volume_range,
)

D = Decimal
DAY = dt.date(2026, 11, 24)

# One GPU at 1,000 output tok/s, output-only traffic (share 1, input weight 0):
# capacity = 1,000 x 3,600 x 730 = 2,628,000,000 tokens a month at 100% busy;
# at 50% utilisation one replica serves 1,314,000,000.
SIMPLE = GpuOption(
    name="gpu",
    kind="neocloud",
    gpu="H100",
    gpu_hour=D(2),
    gpus_per_replica=1,
    throughput=D(1000),
    output_share=D(1),
    input_weight=D(0),
    utilisation=D("0.5"),
    staff_monthly=D(10000),
    fixed_monthly=D(500),
)
PER_REPLICA = 1_314_000_000


@pytest.fixture(scope="module")
def registry():
    return Registry.load()


def test_volume_suffixes_ranges_and_periods():
    assert parse_volume("10M") == 10_000_000
    assert parse_volume("1.5B") == 1_500_000_000
    assert parse_volume("500k") == 500_000
    assert parse_volume("2T") == 2 * 10**12
    assert parse_volume("1,000,000") == 1_000_000
    assert parse_volume("49B/yr") == 4_083_333_333  # 49e9 / 12, rounded to whole tokens
    assert parse_volume_range("10M..100B") == (10_000_000, 100_000_000_000)
    assert parse_volume_range("1B") == (1_000_000_000, None)


@pytest.mark.parametrize("bad", ["abc", "0", "-5M", "10X", "1B..10M", ""])
def test_bad_volumes_name_the_option(bad):
    """The library names its option (`volume`); the command line shows the flag (issue 18)."""
    from tokcli.cli.flags import error_text

    with pytest.raises(TokcliError, match=r"^volume: ") as caught:
        parse_volume_range(bad)
    assert error_text(caught.value).startswith("--volume: ")


def test_shares_percents_and_mix():
    assert parse_fraction("0.25", "--x") == D("0.25")
    assert parse_fraction("25%", "--x") == D("0.25")
    # issue 14 #6: a fraction and a percentage mean the same; a bare number above 1 is refused
    assert parse_percent("0.5", "--saving") == D("0.5")
    assert parse_percent("50%", "--saving") == D("0.5")
    assert parse_percent("1", "--saving") == D("1")
    with pytest.raises(TokcliError, match=r"--saving: '50' is ambiguous.*50%.*0\.5"):
        parse_percent("50", "--saving")
    assert parse_mix("3:1") == D("0.25")  # output share of 3 input : 1 output
    assert parse_mix("1:1") == D("0.5")
    with pytest.raises(TokcliError, match="--utilisation"):
        parse_fraction("1.5", "--utilisation")


def test_replicas_round_up_on_the_last_token():
    assert SIMPLE.replica_capacity == D(2_628_000_000)
    assert SIMPLE.replicas_for(PER_REPLICA) == 1  # exactly full: 1,314,000,000 / 1,314,000,000
    assert SIMPLE.replicas_for(PER_REPLICA + 1) == 2  # one token more needs a second replica
    assert SIMPLE.replicas_for(1) == 1  # min_replicas: the replica runs even when nearly idle


def test_utilisation_scales_the_replicas_needed():
    volume = PER_REPLICA  # 1 replica at 50%
    at = {
        u: dataclasses.replace(SIMPLE, utilisation=D(u)).replicas_for(volume)
        for u in ("1", "0.5", "0.25", "0.1")
    }
    # 1.314B / (2.628B x u): 0.5 -> 1, 1 -> 1, 2 -> 2, 5 -> 5
    assert at == {"1": 1, "0.5": 1, "0.25": 2, "0.1": 5}


def test_headroom_and_min_replicas():
    with_headroom = dataclasses.replace(SIMPLE, headroom=D("0.2"))
    assert with_headroom.replicas_for(PER_REPLICA) == 2  # 1.2 replicas of work -> 2
    spare = dataclasses.replace(SIMPLE, min_replicas=3)
    assert spare.replicas_for(PER_REPLICA + 1) == 3


def test_input_weight_counts_input_as_a_fraction_of_output_work():
    mixed = dataclasses.replace(SIMPLE, output_share=D("0.5"), input_weight=D("0.1"))
    assert mixed.work_per_token == D("0.55")  # 0.5 + 0.1 x 0.5
    # 1.314B / 0.55 = 2,389,090,909.09 tokens fit one replica
    assert mixed.replicas_for(2_389_090_909) == 1
    assert mixed.replicas_for(2_389_090_910) == 2


def test_gpu_cost_breakdown_with_overhead():
    option = dataclasses.replace(SIMPLE, overhead_share=D("0.1"))
    cost = option.cost(PER_REPLICA + 1)
    # 2 replicas x 1 GPU x 730 h x $2 = 2,920; overhead 10% = 292; staff 10,000; fixed 500
    assert cost.replicas == 2 and cost.gpus == 2
    assert cost.parts == {
        "gpus": D(2920),
        "overhead": D("292.0"),
        "staff": D(10000),
        "fixed": D(500),
    }
    assert cost.monthly == D("13712.0")


def test_api_option_scales_linearly():
    api = ApiOption("api", "api", D("9"))
    assert api.cost(500_000_000).monthly == D(4500)  # 500 MTok x $9
    assert api.cost(1).monthly == D("0.000009")


def test_capex_amortisation(registry):
    values, _ = resolve(
        TCO_SETTINGS,
        {"capex_per_gpu": "30000", "amortise_years": "3", "self_fte": "0"},
        {},
        "tco",
    )
    _, owned = gpu_options(values)[0]
    # $30,000 over 3 years = 36 months: $833.33 a GPU-month; 2 GPUs in one replica
    per_gpu_month = owned.gpu_hour * 730
    # 30,000 / 26,280 h is not a terminating decimal: exact to 50 places, not to the last digit
    assert abs(per_gpu_month * 36 - D(30000)) < D("1e-20")
    assert abs(owned.cost(1_000_000).monthly - D(60000) / 36) < D("1e-20")


def test_capex_without_overheads_is_flagged(registry):
    values, _ = resolve(TCO_SETTINGS, {"capex_per_gpu": "30000"}, {}, "tco")
    _, notes = gpu_options(values)
    assert any("capex alone" in note for note in notes)


def test_blended_api_price_from_the_registry(registry):
    sonnet = registry.get("claude-sonnet-4-6")
    price = lambda s, h=D(0), b=D(0): blended_price(sonnet, DAY, D(s), h, b).price_per_mtok  # noqa: E731
    assert price("0.5") == D(9)  # 0.5 x $3 + 0.5 x $15
    assert price("0.25") == D(6)  # 0.75 x 3 + 0.25 x 15
    assert price("0.5", D("0.5")) == D("8.325")  # 0.5 x (0.5 x 3 + 0.5 x 0.30) + 7.5
    assert price("0.5", b=D(1)) == D("4.5")  # batch halves both
    assert price("0.5", b=D("0.5")) == D("6.75")


def test_blended_price_agrees_with_compute_cost(registry):
    sonnet = registry.get("claude-sonnet-4-6")
    blended = blended_price(sonnet, DAY, D("0.25"), D("0.4"), D(0)).price_per_mtok
    # 4M tokens, 3M input of which 40% cache hits, 1M output
    usage = Usage(input_tokens=1_800_000, cache_read_tokens=1_200_000, output_tokens=1_000_000)
    assert compute_cost(usage, sonnet, DAY).total == blended * 4


def test_open_model_without_batch_tier_falls_back_with_a_note(registry):
    llama = registry.get("llama-3.3-70b")
    result = blended_price(llama, DAY, D("0.5"), D(0), D("0.5"))
    assert result.price_per_mtok == result.standard_per_mtok
    assert any("no batch tier" in note for note in result.notes)


def test_horizon_with_compounded_growth():
    api = ApiOption("api", "api", D(10))
    # 1M, 1.1M, 1.21M tokens at $10/MTok: 10 + 11 + 12.1
    assert horizon_cost(api, 1_000_000, 3, D("0.1")) == D("33.1")
    assert horizon_cost(api, 1_000_000, 36, D(0)) == D(360)
    assert month_volume(1_000_000, D("0.1"), 3) == 1_210_000


def test_one_two_five_and_log_sweeps():
    volumes = one_two_five(10_000_000, 100_000_000_000)
    assert volumes[:4] == [10_000_000, 20_000_000, 50_000_000, 100_000_000]
    assert volumes[-1] == 100_000_000_000 and len(volumes) == 13
    logs = log_volumes(10_000_000, 100_000_000_000, 1000)
    assert len(logs) == 1000 and logs[0] == 10_000_000 and logs[-1] == 100_000_000_000
    assert logs == sorted(logs)
    # four decades in 999 steps: each step multiplies by 10^(4/999)
    assert log_volumes(10, 1000, 3) == [10, 100, 1000]


def test_sweep_picks_the_cheapest_per_row():
    api = ApiOption("api", "api", D(10))
    rows = sweep([api, SIMPLE], [1_000_000_000, 1_200_000_000])
    # 1B: api $10,000 < gpu $11,960; 1.2B: api $12,000 > gpu $11,960
    assert [r.cheapest for r in rows] == ["api", "gpu"]


def test_sensitivity_moves_utilisation_and_prices():
    api = ApiOption("api", "api", D(10))
    scenarios = {s.name: s for s in sensitivity([api, SIMPLE], PER_REPLICA, D("0.25"))}
    assert scenarios["base"].costs["gpu"].replicas == 1
    # utilisation 0.5 x 0.75 = 0.375: 1.314B / (2.628B x 0.375) = 1.33 -> 2 replicas
    assert scenarios["utilisation -25%"].costs["gpu"].replicas == 2
    assert scenarios["GPU $/hour +25%"].costs["gpu"].monthly == D("1825.00") + D(10500)
    assert scenarios["API $/MTok -25%"].costs["api"].monthly == D("9855.00")


def test_sensitivity_caps_utilisation_at_one():
    busy = dataclasses.replace(SIMPLE, utilisation=D("0.9"))
    scenarios = {s.name: s for s in sensitivity([busy], PER_REPLICA, D("0.5"))}
    # 0.9 x 1.5 = 1.35 -> capped at 1: 1.314B / 2.628B = 0.5 -> 1 replica
    assert scenarios["utilisation +50%"].costs["gpu"].replicas == 1


def test_the_same_model_twice_is_one_option(registry):
    from tokcli.tco.analysis import api_options

    values, _ = resolve(
        TCO_SETTINGS, {"api_model": ["claude-sonnet-4-6", "Claude Sonnet 4.6"]}, {}, "tco"
    )
    options, _ = api_options(values, registry, DAY)
    assert [o.name for o in options].count("claude-sonnet-4-6") == 1
