"""One test per format that has no real sample: a fixture of the documented shape
(tests/fixtures/import/SOURCES.md), its totals recomputed here with json/csv."""

from __future__ import annotations

import csv
import json
from decimal import Decimal

import pytest

from conftest import FIXTURES
from test_import_support import (
    exact_decimals,  # noqa: F401  (autouse: 60-digit sums)
    money_total,
    store_rows,
    tags_of,
    token_totals,
)

HERE = FIXTURES / "import"


@pytest.fixture
def store(tmp_path):
    return tmp_path / "usage.db"


def imported(cli, store, *args, fmt: str | None = None):
    result = cli("import", *args, "--store", store, "--format", "json")
    assert result.exit_code == 0, result.stderr
    summary = result.json()
    if fmt is not None:
        assert summary["files"][0]["format"] == fmt
    return summary


def read_csv(name):
    with (HERE / name).open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def dec(text) -> Decimal:
    return Decimal(str(text).replace(",", ""))


def test_openai_usage_grouped_page_with_newer_fields(cli, store):
    doc = json.loads((HERE / "openai_usage_completions_grouped.json").read_text())
    results = [r for b in doc["data"] for r in b["results"]]

    imported(cli, store, HERE / "openai_usage_completions_grouped.json", fmt="openai-usage")

    def uncached(r):  # the newer field when present, else input minus its cached parts
        if "input_uncached_tokens" in r:
            return r["input_uncached_tokens"]
        return r["input_tokens"] - r["input_cached_tokens"] - r.get("input_cache_write_tokens", 0)

    totals = token_totals(store)
    assert totals["input_tokens"] == sum(uncached(r) for r in results) == 25_500
    assert totals["cache_read_tokens"] == sum(r["input_cached_tokens"] for r in results)
    assert totals["cache_write_5m_tokens"] == 100
    assert totals["output_tokens"] == sum(r["output_tokens"] for r in results)
    tiers = sorted(r["service_tier"] for r in store_rows(store))
    assert tiers == ["batch", "flex", "standard"]
    flex = store_rows(store, "service_tier = 'flex'")[0]
    assert tags_of(store, flex["record_key"]) == {
        "project": "proj_xyz",
        "user": "user_9",
        "api_key": "key_456",
    }
    # gpt-5-mini is priced (list cost at the usage date). Since issue 14 the dated snapshot
    # gpt-4o-mini-2024-07-18 resolves (generated price layer), but no flex price is published
    # for it, so this flex row has no list cost.
    priced = store_rows(store, "model = 'gpt-5-mini'")
    assert len(priced) == 2 and all(r["list_cost"] is not None for r in priced)
    assert flex["model"] == "gpt-4o-mini-2024-07-18" and flex["list_cost"] is None


def test_openai_costs_dollars_and_token_quantities(cli, store):
    summary = imported(cli, store, HERE / "openai_costs_by_line_item.json", fmt="openai-costs")
    # 0.06 + "1.85" + 0.00383598 (30 decimals), all dollars, exact.
    assert money_total(store) == Decimal("0.06") + Decimal("1.85") + Decimal("0.00383598")
    totals = token_totals(store)
    assert totals["input_tokens"] == 240_000
    assert totals["output_tokens"] == 925 * 1000  # quantity_unit 1000_tokens
    assert {r["currency"] for r in store_rows(store)} == {"USD"}
    assert summary["warnings"] == []


def test_openai_dashboard_usage_csv(cli, store):
    rows = [r for r in read_csv("completions_usage_2025-10-27_2025-10-28.csv") if r["model"]]
    imported(cli, store, HERE / "completions_usage_2025-10-27_2025-10-28.csv")
    totals = token_totals(store)
    assert totals["requests"] == sum(int(dec(r["num_model_requests"])) for r in rows) == 6
    assert totals["input_tokens"] == sum(int(dec(r["input_uncached_tokens"])) for r in rows)
    assert totals["output_tokens"] == sum(int(dec(r["output_tokens"])) for r in rows)
    assert [r["service_tier"] for r in store_rows(store, "service_tier = 'batch'")] == ["batch"]


def test_openai_dashboard_cost_csv(cli, store):
    rows = [r for r in read_csv("cost_2025-10-27_2025-10-29.csv") if r["amount_value"]]
    imported(cli, store, HERE / "cost_2025-10-27_2025-10-29.csv", fmt="openai-costs-csv")
    assert money_total(store) == sum(dec(r["amount_value"]) for r in rows)
    assert token_totals(store)["input_tokens"] == 30_688


def test_anthropic_usage_report(cli, store):
    doc = json.loads((HERE / "anthropic_usage_report_messages.json").read_text())
    results = [r for b in doc["data"] for r in b["results"]]
    imported(cli, store, HERE / "anthropic_usage_report_messages.json", fmt="anthropic-usage")
    totals = token_totals(store)
    assert totals["input_tokens"] == sum(r["uncached_input_tokens"] for r in results)
    assert totals["cache_write_1h_tokens"] == 1000
    assert totals["cache_write_5m_tokens"] == 500
    assert totals["cache_read_tokens"] == 200
    assert totals["output_tokens"] == 12_500
    sonnet = store_rows(store, "model = 'claude-sonnet-4'")[0]
    # claude-sonnet-4 at $3 in, $15 out, $0.30 read, $3.75 5m write, $6 1h write per MTok:
    by_hand = (1500 * 3 + 500 * 15 + Decimal("200") * Decimal("0.30") + 500 * Decimal("3.75")
               + 1000 * 6) / Decimal(1_000_000)  # fmt: skip
    assert Decimal(sonnet["list_cost"]) == by_hand
    assert tags_of(store, sonnet["record_key"])["workspace"] == "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ"


def test_anthropic_cost_report_cents_become_dollars(cli, store):
    imported(cli, store, HERE / "anthropic_cost_report.json", fmt="anthropic-costs")
    # "123.78912" cents = $1.2378912 (the doc's own example), "750" = $7.50, "10.5" = $0.105
    assert money_total(store) == Decimal("1.2378912") + Decimal("7.5") + Decimal("0.105")


def test_anthropic_console_csvs(cli, store):
    tokens = read_csv("claude_api_tokens_2026_03_22_to_2026_03_23.csv")
    costs = read_csv("claude_api_cost_2026_03_22_to_2026_03_23.csv")
    imported(cli, store, HERE / "claude_api_tokens_2026_03_22_to_2026_03_23.csv")
    imported(cli, store, HERE / "claude_api_cost_2026_03_22_to_2026_03_23.csv")
    totals = token_totals(store)
    assert totals["input_tokens"] == sum(int(dec(r["usage_input_tokens_no_cache"])) for r in tokens)
    assert totals["cache_write_1h_tokens"] == 4000
    assert money_total(store) == sum(dec(r["cost_usd"]) for r in costs)
    # Display names resolve: "Claude Haiku 4.5" -> claude-haiku-4-5.
    models = {r["model"] for r in store_rows(store, "source = 'anthropic-costs'")}
    assert models == {"claude-sonnet-4", "claude-haiku-4-5", "claude-opus-4-6"}


def test_gcp_billing_export_jsonl_keeps_credits_as_rows(cli, store):
    lines = [
        json.loads(x)
        for x in (HERE / "gcp_billing_export_vertex.jsonl").read_text().split("\n")
        if x
    ]
    vertex = [x for x in lines if x["service"]["description"] == "Vertex AI"]
    imported(cli, store, HERE / "gcp_billing_export_vertex.jsonl", fmt="gcp-billing")
    gross = sum(Decimal(str(x["cost"])) for x in vertex)
    credits = sum(Decimal(str(c["amount"])) for x in vertex for c in x["credits"])
    assert money_total(store) == gross + credits == Decimal("1.9523")
    assert [r["charge_kind"] for r in store_rows(store, "charge_kind != 'usage'")].count(
        "credit"
    ) == 1
    totals = token_totals(store)
    assert (totals["input_tokens"], totals["output_tokens"]) == (2_000_000, 500_000)
    row = store_rows(store, "input_tokens > 0")[0]
    assert row["model"] == "gemini-2.5-flash"
    assert tags_of(store, row["record_key"])["team"] == "search"


def test_gcp_billing_export_flattened_csv(cli, store):
    imported(cli, store, HERE / "gcp_billing_export_vertex.csv", fmt="gcp-billing")
    assert money_total(store) == Decimal("0.3") + Decimal("-0.05") + Decimal("0.5")
    assert token_totals(store)["reasoning_tokens"] == 200_000  # "Thinking Text Output"


def test_aws_cur2_bedrock(cli, store):
    rows = read_csv("cur2_bedrock_2025-09.csv")
    bedrock = [r for r in rows if r["line_item_product_code"] == "AmazonBedrock"]
    imported(cli, store, HERE / "cur2_bedrock_2025-09.csv", fmt="aws-cur")
    assert money_total(store) == sum(dec(r["line_item_unblended_cost"]) for r in bedrock)
    totals = token_totals(store)
    # pricing_unit "1K tokens": 17.33 -> 17,330 input tokens.
    assert (totals["input_tokens"], totals["output_tokens"]) == (17_330, 2_100)
    assert totals["cache_read_tokens"] == 50_000
    assert {r["service_tier"] for r in store_rows(store, "cache_read_tokens > 0")} == {"batch"}
    first = store_rows(store, "input_tokens > 0")[0]
    assert tags_of(store, first["record_key"])["user_team"] == "search"
    assert store_rows(store, "charge_kind = 'credit'")[0]["billed_cost"] == "-0.02"


def test_aws_legacy_cur_with_marketplace_models_and_tax(cli, store):
    rows = read_csv("cur_legacy_bedrock_2025-09.csv")
    imported(cli, store, HERE / "cur_legacy_bedrock_2025-09.csv", "--all-services", fmt="aws-cur")
    assert money_total(store) == sum(dec(r["lineItem/UnblendedCost"]) for r in rows)
    assert token_totals(store)["input_tokens"] == 1_200_000
    assert {r["model_raw"] for r in store_rows(store, "input_tokens > 0")} == {"Claude 3.5 Sonnet"}
    tagged = store_rows(store, "input_tokens > 0")[0]["record_key"]
    assert tags_of(store, tagged)["user:Team"] == "Search"
    assert [r["charge_kind"] for r in store_rows(store, "charge_kind = 'tax'")] == ["tax"]


def test_azure_openai_meters(cli, store):
    rows = read_csv("azure_openai_ea_2025-09.csv")
    ai = [r for r in rows if r["ConsumedService"] == "Microsoft.CognitiveServices"]
    imported(cli, store, HERE / "azure_openai_ea_2025-09.csv", fmt="azure-cost")
    assert money_total(store) == sum(dec(r["Cost"]) for r in ai)
    totals = token_totals(store)  # UnitOfMeasure 1K
    assert totals["input_tokens"] == (1500 + 2000) * 1000
    assert totals["cache_read_tokens"] == 800 * 1000
    assert totals["output_tokens"] == 300 * 1000
    assert [r["service_tier"] for r in store_rows(store, "service_tier = 'batch'")] == ["batch"]


def test_litellm_spend_logs_csv_and_json(cli, tmp_path):
    csv_rows = read_csv("litellm_spendlogs.csv")
    json_rows = json.loads((HERE / "litellm_spendlogs.json").read_text())
    store = tmp_path / "s.db"
    imported(cli, store, HERE / "litellm_spendlogs.csv", fmt="litellm")
    imported(cli, store, HERE / "litellm_spendlogs.json", fmt="litellm")
    expected = sum(dec(r["spend"]) for r in csv_rows) + sum(dec(r["spend"]) for r in json_rows)
    assert money_total(store) == expected
    totals = token_totals(store)
    prompt = sum(int(r["prompt_tokens"]) for r in csv_rows) + sum(
        r["prompt_tokens"] for r in json_rows
    )
    # prompt_tokens includes the cache reads (200 + 1000) and the cache write (500).
    assert (
        totals["input_tokens"] + totals["cache_read_tokens"] + totals["cache_write_5m_tokens"]
        == prompt
    )
    assert (totals["cache_read_tokens"], totals["cache_write_5m_tokens"]) == (1200, 500)
    tags = tags_of(
        store, store_rows(store, "input_tokens = 1000 AND cache_read_tokens = 200")[0]["record_key"]
    )
    assert tags["feature"] == "autocomplete" and tags["team"] == "search"


def test_otlp_genai_spans_file_exporter_lines(cli, store):
    imported(cli, store, HERE / "otlp_genai_spans.jsonl", fmt="otlp")
    totals = token_totals(store)
    # input_tokens include cached: 1200 - 1000 and 5600 - 4000 - 1500; output includes reasoning.
    assert totals["input_tokens"] == 200 + 100
    assert totals["cache_read_tokens"] == 5000
    assert totals["cache_write_5m_tokens"] == 1500
    assert (totals["output_tokens"], totals["reasoning_tokens"]) == (300 - 128 + 250, 128)
    rows = store_rows(store)
    assert {r["model"] for r in rows} == {"gpt-5-mini", "claude-haiku-4-5"}
    assert tags_of(store, rows[0]["record_key"])["service"] == "support-bot"


def test_otlp_genai_token_usage_metric(cli, store):
    imported(cli, store, HERE / "otlp_genai_metrics.json", fmt="otlp")
    totals = token_totals(store)
    assert (totals["input_tokens"], totals["output_tokens"]) == (4200, 900)


def test_generic_csv_with_inline_map(cli, store):
    rows = read_csv("gateway_usage.csv")
    spec = (
        "period_start=day,model=llm,input_tokens=prompt,cache_read_tokens=cached,"
        "output_tokens=completion,billed_cost=usd,tag.team=squad,input_includes_cached=true"
    )
    imported(cli, store, HERE / "gateway_usage.csv", "--map", spec, fmt="mapped")
    assert money_total(store) == sum(dec(r["usd"]) for r in rows)
    totals = token_totals(store)
    assert totals["input_tokens"] == sum(int(r["prompt"]) - int(r["cached"]) for r in rows)
    assert len(store_rows(store)) == 3  # two identical-looking days stay two rows


def test_generic_jsonl_with_a_named_map_from_config(cli, store, isolated_env):
    (isolated_env / "tokcli.toml").write_text(
        '[tags]\nteam = ["team", "squad"]\n\n'
        "[import.maps.gateway]\n"
        'period_start = "ts"\nrecord_key = "id"\nmodel = "request.model"\n'
        'input_tokens = "usage.prompt_tokens"\noutput_tokens = "usage.completion_tokens"\n'
        '"tag.squad" = "metadata.team"\n'
    )
    imported(cli, store, HERE / "gateway_usage.jsonl", "--map", "gateway")
    totals = token_totals(store)
    assert (totals["input_tokens"], totals["output_tokens"]) == (2000, 150)
    keys = {tuple(tags_of(store, r["record_key"])) for r in store_rows(store)}
    assert keys == {("team",)}  # squad -> team through the [tags] mapping
    again = imported(cli, store, HERE / "gateway_usage.jsonl", "--map", "gateway")
    assert again["files"][0]["duplicates"] == 2


def test_tag_mapping_config_normalises_aws_and_focus_spellings(cli, store, isolated_env):
    (isolated_env / "tokcli.toml").write_text('[tags]\nteam = ["team", "user:Team"]\n')
    imported(cli, store, HERE / "cur_legacy_bedrock_2025-09.csv")
    key = store_rows(store, "input_tokens > 0")[0]["record_key"]
    assert tags_of(store, key)["team"] == "Search"
    assert "user:Team" not in tags_of(store, key)


def test_unpriced_models_keep_billed_cost_get_no_list_cost_and_one_warning(cli, store):
    # Since issue 14 the Azure meter name gpt-4o-mini-0718 resolves (generated price layer), so
    # these rows get a list cost and no warning; an id no layer knows still warns once.
    result = cli("import", HERE / "azure_openai_ea_2025-09.csv", "--store", store)

    assert result.exit_code == 0
    warnings = [
        line for line in result.stderr.splitlines() if "not in the pricing registry" in line
    ]
    assert warnings == []
    rows = store_rows(store, "model_raw = 'gpt-4o-mini-0718'")
    assert len(rows) == 4
    assert all(r["list_cost"] is not None and r["billed_cost"] is not None for r in rows)
    assert "warning" not in result.stdout


@pytest.mark.parametrize("month", ["000000", "202513"])
def test_gcp_invoice_month_that_is_no_month_is_one_line_exit_2(cli, tmp_path, month):
    """Found by the property test: six digits that are no month crashed with ValueError."""
    source = (FIXTURES / "import" / "gcp_billing_export_vertex.csv").read_text()
    bad = tmp_path / "gcp.csv"
    bad.write_text(source.replace(",202509,", f",{month},", 1))
    result = cli("import", bad, "--store", tmp_path / "s.db")
    assert result.exit_code == 2
    assert "invoice.month: expected YYYYMM" in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


def test_gcp_credit_that_is_no_object_is_one_line_exit_2(cli, tmp_path):
    """Found by the property test: a credits list holding a list crashed with AttributeError."""
    source = (FIXTURES / "import" / "gcp_billing_export_vertex.csv").read_text()
    header, first, *rest = source.splitlines()
    credits_at = header.split(",").index("credits")
    import csv
    import io

    cells = next(csv.reader([first]))
    cells[credits_at] = "[[[[]]]]"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    bad = tmp_path / "gcp.csv"
    bad.write_text("\n".join([header, out.getvalue().rstrip("\n"), *rest]) + "\n")
    result = cli("import", bad, "--store", tmp_path / "s.db")
    assert result.exit_code == 2
    assert "credits[0]: expected an object per credit" in result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
