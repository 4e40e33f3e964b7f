"""Every real sample in tests/fixtures/samples that is usage or billing data imports, and its
totals match figures computed here from the raw file with the standard library alone."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from decimal import Decimal

import pytest

from conftest import SAMPLES
from test_import_support import (
    exact_decimals,  # noqa: F401  (autouse: 60-digit sums)
    money_total,
    store_rows,
    token_totals,
)

OPENAI_USAGE = SAMPLES / "openai-usage-api" / "completions_usage_api.ipynb.usage_data.json"
FOCUS_SAMPLE = SAMPLES / "focus" / "focus_sample.csv"
AZURE = SAMPLES / "azure-cost-export"
CLAUDE_CODE = SAMPLES / "claude-code-jsonl"
OTLP = SAMPLES / "otlp-json"


@pytest.fixture
def store(tmp_path):
    return tmp_path / "usage.db"


def imported(cli, store, *args):
    result = cli("import", *args, "--store", store, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return result.json()


def test_openai_usage_api_sample(cli, store):
    buckets = json.loads(OPENAI_USAGE.read_text())
    results = [r for b in buckets for r in b["results"]]
    total_input = sum(r["input_tokens"] for r in results)
    cached = sum(r["input_cached_tokens"] for r in results)

    summary = imported(cli, store, OPENAI_USAGE)

    assert summary["files"][0]["format"] == "openai-usage"
    assert summary["files"][0]["inserted"] == len(results) == 26
    assert summary["files"][0]["skip_reasons"] == {"empty bucket": 5}
    totals = token_totals(store)
    # input_tokens includes the cached part; the store keeps the buckets disjoint.
    assert totals["input_tokens"] == total_input - cached
    assert totals["cache_read_tokens"] == cached
    assert totals["output_tokens"] == sum(r["output_tokens"] for r in results)
    assert totals["requests"] == sum(r["num_model_requests"] for r in results)
    # The partial first bucket keeps its real start (the query's start_time, not midnight).
    first = min(store_rows(store), key=lambda r: r["period_start"])
    assert first["period_start"] == "2025-01-11T17:31:00Z"
    # No model in an ungrouped pull: no list cost, and none made up.
    assert all(r["list_cost"] is None and r["billed_cost"] is None for r in store_rows(store))


def _focus_rows(path):
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_focus_sample_ai_services_by_default(cli, store):
    rows = _focus_rows(FOCUS_SAMPLE)
    ai = [r for r in rows if r["ServiceCategory"] == "AI and Machine Learning"]

    summary = imported(cli, store, FOCUS_SAMPLE)

    file = summary["files"][0]
    assert (file["format"], file["inserted"], file["skipped"]) == ("focus", len(ai), 1000 - len(ai))
    expected = sum((Decimal(r["BilledCost"]) for r in ai), Decimal(0))
    assert money_total(store) == expected
    assert summary["by_source"][0]["billed"] == format(expected.normalize(), "f")


def test_focus_sample_all_services_keeps_credits_and_refunds(cli, store):
    rows = _focus_rows(FOCUS_SAMPLE)

    imported(cli, store, FOCUS_SAMPLE, "--all-services")

    stored = store_rows(store)
    assert len(stored) == len(rows) == 1000
    assert money_total(store) == sum((Decimal(r["BilledCost"]) for r in rows), Decimal(0))
    kinds = defaultdict(int)
    for row in stored:
        kinds[row["charge_kind"]] += 1
    assert kinds["credit"] == sum(r["ChargeCategory"] == "Credit" for r in rows) == 1
    assert kinds["adjustment"] == sum(r["ChargeCategory"] == "Adjustment" for r in rows) == 2
    negative_usage = [
        r for r in rows if r["ChargeCategory"] == "Usage" and Decimal(r["BilledCost"]) < 0
    ]
    assert kinds["refund"] == len(negative_usage) > 0
    # "YYYY-MM-DD HH:MM:SS" without a zone is UTC; the leading space of the " org" key goes.
    assert {r["period_start"] for r in stored} >= {"2024-09-18T22:00:00Z"}


@pytest.mark.parametrize("name", ["EA_ActualCost_Small.csv", "EA_AmortizedCost_Small.csv"])
def test_azure_ea_samples(cli, tmp_path, name):
    path = AZURE / name
    rows = _focus_rows(path)  # same reader: BOM-aware csv
    ai_services = ("microsoft.cognitiveservices", "microsoft.machinelearningservices")
    ai = [r for r in rows if r["ConsumedService"].lower() in ai_services]

    default_store = tmp_path / "ai.db"
    summary = imported(cli, default_store, path)
    assert summary["files"][0]["inserted"] == len(ai)
    assert money_total(default_store) == sum((Decimal(r["Cost"]) for r in ai), Decimal(0))

    everything = tmp_path / "all.db"
    imported(cli, everything, path, "--all-services")
    assert len(store_rows(everything)) == len(rows)
    assert money_total(everything) == sum((Decimal(r["Cost"]) for r in rows), Decimal(0))
    # MM/DD/YYYY dates, daily periods.
    days = {r["Date"] for r in rows}
    stored_days = {r["period_start"][:10] for r in store_rows(everything)}
    assert stored_days == {f"{d[6:]}-{d[:2]}-{d[3:5]}" for d in days}


def _claude_code_responses():
    """ccusage's rule, written out again: one row per (message.id, requestId), the largest."""
    best = {}
    for path in sorted(CLAUDE_CODE.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            entry = json.loads(line)
            message = entry.get("message")
            if not isinstance(message, dict) or "usage" not in message:
                continue
            usage = message["usage"]
            key = (message["id"], entry["requestId"])
            size = sum(v for v in usage.values() if isinstance(v, int))
            if key not in best or size > best[key][0]:
                best[key] = (size, usage)
    return [usage for _, usage in best.values()]


def test_claude_code_folder_deduplicated(cli, store):
    responses = _claude_code_responses()

    summary = imported(cli, store, CLAUDE_CODE)

    assert summary["files"][0]["format"] == "claude-code"
    assert summary["files"][0]["inserted"] == len(responses) == 7
    totals = token_totals(store)
    expected = {
        "input_tokens": sum(u["input_tokens"] for u in responses),
        "cache_read_tokens": sum(u["cache_read_input_tokens"] for u in responses),
        "cache_write_5m_tokens": sum(
            u["cache_creation"]["ephemeral_5m_input_tokens"] for u in responses
        ),
        "cache_write_1h_tokens": sum(
            u["cache_creation"]["ephemeral_1h_input_tokens"] for u in responses
        ),
        "output_tokens": sum(u["output_tokens"] for u in responses),
    }
    assert {k: totals[k] for k in expected} == expected
    # List cost by hand at claude-opus-4-6's published prices (USD per MTok): input 5,
    # output 25, cache read 0.50, 5-minute write 6.25, 1-hour write 10.
    prices = {
        "input_tokens": Decimal("5"),
        "output_tokens": Decimal("25"),
        "cache_read_tokens": Decimal("0.50"),
        "cache_write_5m_tokens": Decimal("6.25"),
        "cache_write_1h_tokens": Decimal("10"),
    }
    by_hand = sum(expected[b] * p for b, p in prices.items()) / Decimal(1_000_000)
    assert money_total(store, "list_cost") == by_hand
    assert summary["by_source"][0]["list"] == format(by_hand.normalize(), "f")
    assert {r["model"] for r in store_rows(store)} == {"claude-opus-4-6"}


def test_claude_code_single_transcript_keeps_one_row_per_response(cli, store):
    summary = imported(cli, store, CLAUDE_CODE / "short.jsonl")
    # Five assistant lines, one API response.
    assert summary["files"][0]["inserted"] == 1
    assert summary["files"][0]["skip_reasons"]["repeated line of one API response"] == 4


def test_otlp_official_examples_import_without_inventing_usage(cli, store):
    trace = json.loads((OTLP / "trace.json").read_text())
    spans = [s for rs in trace["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]
    for name in ("trace.json", "metrics.json"):
        summary = imported(cli, store, OTLP / name)
        assert summary["files"][0]["format"] == "otlp"
        assert summary["files"][0]["inserted"] == 0
    assert summary["files"][0]["rows_read"] > 0
    assert store_rows(store) == []
    assert len(spans) == 1


SPEC_EXAMPLES = [
    "commitment_discount_usage_scenario_3.csv",
    "saas_spend_agreements_a2.csv",
    "simple_saas_agreements_c.csv",
    "virtual_currency_pricing_model_a1.csv",
    "virtual_currency_pricing_model_a2.csv",
]


@pytest.mark.parametrize("name", SPEC_EXAMPLES)
def test_focus_spec_examples_import_with_all_services(cli, store, name):
    """The FOCUS 1.2 spec's appendix CSVs: BOM, US dates (5/1/25), "$10,100.00" amounts, a
    file without BillingCurrency. Not AI services, so only with --all-services."""
    rows = _focus_rows(SAMPLES / "focus" / name)

    def amount(text):
        return Decimal(text.replace("$", "").replace(",", "").strip())

    summary = imported(cli, store, SAMPLES / "focus" / name, "--all-services")

    assert summary["files"][0]["format"] == "focus"
    assert summary["files"][0]["inserted"] == len(rows)
    assert money_total(store) == sum((amount(r["BilledCost"]) for r in rows), Decimal(0))
    default = imported(cli, store.with_name("default.db"), SAMPLES / "focus" / name)
    assert default["files"][0]["inserted"] == 0  # no AI service in these examples
