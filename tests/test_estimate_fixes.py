"""Issue 14, money-wrong points in `estimate`: each test fails on the old code.

Expected figures are derived in the test from the per-million prices of the fixture
tests/fixtures/prompts/acme.pricing (acme-large: $3 in / $15 out / $0.30 read / $3.75 5m write /
$6 1h write) or of the source the registry cites.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

PROMPTS = Path(__file__).resolve().parent / "fixtures" / "prompts"
ACME = PROMPTS / "acme.pricing"
M = Decimal(1_000_000)


def cost_per_call(cli, *args, pricing=ACME) -> Decimal:
    extra = ["--pricing", pricing] if pricing else []
    result = cli("estimate", *args, "--format", "json", *extra)
    assert result.exit_code == 0, result.stderr
    return Decimal(result.json()["results"][0]["cost_per_call"])


@pytest.mark.parametrize(("ttl", "write"), [("5m", Decimal("3.75")), ("1h", Decimal("6"))])
def test_hit_rate_zero_charges_the_cache_write_on_every_call(cli, ttl, write):
    got = cost_per_call(
        cli, "--input-tokens", "5000", "--cached-tokens", "2000", "--cache-hit-rate", "0",
        "--cache-ttl", ttl, "--output-tokens", "100", "-m", "acme-large",
    )  # fmt: skip
    # every call misses: 3000 uncached at $3, the 2000-token prefix written, 100 out at $15
    assert got == (3000 * Decimal(3) + 2000 * write + 100 * Decimal(15)) / M


def test_hit_rate_zero_and_a_tiny_rate_are_continuous(cli):
    args = ["--input-tokens", "5000", "--cached-tokens", "2000", "--output-tokens", "100"]
    zero = cost_per_call(cli, *args, "--cache-hit-rate", "0", "-m", "acme-large")
    tiny = cost_per_call(cli, *args, "--cache-hit-rate", "0.001", "-m", "acme-large")
    # a 0.1% hit rate saves 0.001 x 2000 x (3.75 - 0.30) per million
    assert zero - tiny == Decimal("0.001") * 2000 * (Decimal("3.75") - Decimal("0.30")) / M


def test_no_cache_options_means_no_write_premium(cli):
    got = cost_per_call(cli, "--input-tokens", "5000", "--output-tokens", "100", "-m", "acme-large")
    assert got == (5000 * Decimal(3) + 100 * Decimal(15)) / M


def test_at_time_of_day_applies_deepseek_off_peak_prices(cli):
    """Issue 14 #7: DeepSeek V4 Pro peak 1.32 in; off-peak (outside 01-04 and 06-10 UTC) half.
    Registry source: DS page copies after 2026-08-16 (PRICING-FACTS 1.4)."""
    args = ["--input-tokens", "1000000", "--output-tokens", "0", "-m", "deepseek-v4-pro"]
    peak = Decimal("1.32")
    assert cost_per_call(cli, *args, "--at", "2026-11-28 02:30", pricing=None) == peak
    assert cost_per_call(cli, *args, "--at", "2026-11-28 12:00", pricing=None) == peak / 2
    assert cost_per_call(cli, *args, "--at", "2026-11-28T23:59Z", pricing=None) == peak / 2
    assert cost_per_call(cli, *args, "--at", "2026-11-28", pricing=None) == peak
    bad = cli("estimate", *args, "--at", "25:00")
    assert bad.exit_code == 2 and bad.stderr.startswith("tokcli: error: --at: expected")


def test_unknown_model_in_a_folder_warns_once_per_id_and_the_run_goes_on(cli, tmp_path):
    """Issue 14: a run over many inputs never stops on an unknown model; never a silent $0."""
    for name, model in (("a", "gpt-99"), ("b", "gpt-99"), ("c", "gpt-4o-mini"), ("d", "zz-1")):
        (tmp_path / f"{name}.prompt").write_text(
            f"---\nmodel: {model}\n---\nHello there\n", encoding="utf-8"
        )
    result = cli("estimate", tmp_path, "--output-tokens", "10", "--format", "json")
    assert result.exit_code == 0, result.stderr
    rows = result.json()["results"]
    assert [r["model"] for r in rows] == ["gpt-4o-mini"]
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 2
    assert warnings[0].startswith("tokcli: warning: unknown model 'gpt-99' in 2 inputs")
    assert "closest known:" in warnings[0]
    single = cli("estimate", tmp_path / "a.prompt")
    assert single.exit_code == 2 and "unknown model 'gpt-99'" in single.stderr


WORKLOAD = """\
name: night-batch
model: deepseek-v4-pro
traffic:
  requests_per_month: 1000
per_call:
  user_message: 1000
  output: 500
"""


def test_workload_off_peak_share_prices_that_share_at_off_peak_rates(cli, tmp_path):
    """Issue 14 #7: DeepSeek V4 Pro peak $1.32 in / $3.96 out, off-peak half (DS, 1.4)."""
    path = tmp_path / "w.yaml"

    def monthly(extra: str) -> Decimal:
        path.write_text(WORKLOAD + extra, encoding="utf-8")
        result = cli("estimate", "--workload", path, "--at", "2026-11-28", "--format", "json")
        assert result.exit_code == 0, result.stderr
        return Decimal(result.json()["baseline"]["monthly_cost"])

    peak = (1000 * 1000 * Decimal("1.32") + 1000 * 500 * Decimal("3.96")) / M
    assert monthly("") == peak
    assert monthly("off_peak_share: 0.75\n") == peak * Decimal("0.25") + peak / 2 * Decimal("0.75")
    path.write_text(WORKLOAD + "off_peak_share: 1.5\n", encoding="utf-8")
    bad = cli("estimate", "--workload", path)
    assert bad.exit_code == 2 and "off_peak_share" in bad.stderr
