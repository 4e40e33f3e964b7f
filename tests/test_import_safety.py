"""Idempotency, atomicity, replacement of re-issued exports, bad rows and input hygiene."""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
from decimal import Decimal

import pytest

from conftest import SAMPLES
from test_import_support import (
    exact_decimals,  # noqa: F401  (autouse: 60-digit sums)
    money_total,
    store_dump,
    store_rows,
    token_totals,
)

ALL_SAMPLES = [
    SAMPLES / "openai-usage-api" / "completions_usage_api.ipynb.usage_data.json",
    SAMPLES / "focus" / "focus_sample.csv",
    SAMPLES / "azure-cost-export" / "EA_ActualCost_Small.csv",
    SAMPLES / "azure-cost-export" / "EA_AmortizedCost_Small.csv",
    SAMPLES / "claude-code-jsonl",
    SAMPLES / "otlp-json" / "trace.json",
    SAMPLES / "otlp-json" / "metrics.json",
    *(
        SAMPLES / "focus" / name
        for name in (
            "commitment_discount_usage_scenario_3.csv",
            "saas_spend_agreements_a2.csv",
            "simple_saas_agreements_c.csv",
            "virtual_currency_pricing_model_a1.csv",
            "virtual_currency_pricing_model_a2.csv",
        )
    ),
]
FOCUS_HEADER = [
    "BilledCost", "BillingAccountId", "BillingCurrency", "BillingPeriodStart", "BillingPeriodEnd",
    "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargePeriodStart", "ChargePeriodEnd",
    "ConsumedQuantity", "ConsumedUnit", "ProviderName", "ServiceCategory", "ServiceName",
    "SkuMeter", "Tags",
]  # fmt: skip


def focus_csv(path, rows, *, bom=False):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(FOCUS_HEADER)
    writer.writerows(rows)
    path.write_text(("\ufeff" if bom else "") + buffer.getvalue(), encoding="utf-8")
    return path


def ai_row(cost, day="2025-09-03", account="acct-1", meter="Input Tokens", qty="1000", period="09"):
    period_end = f"2025-{int(period) + 1:02d}-01T00:00:00Z"
    return [
        cost, account, "USD", f"2025-{period}-01T00:00:00Z", period_end, "Usage", "",
        f"{meter} for a model", f"{day}T00:00:00Z", f"{day}T01:00:00Z", qty, "Tokens",
        "Example Cloud", "AI and Machine Learning", "Example AI", meter, '{"team": "search"}',
    ]  # fmt: skip


def run(cli, store, *args):
    return cli("import", *args, "--store", store, "--format", "json")


@pytest.mark.parametrize("sample", ALL_SAMPLES, ids=lambda p: p.name)
def test_importing_a_sample_twice_leaves_the_store_unchanged(cli, tmp_path, sample):
    store = tmp_path / "s.db"
    first = run(cli, store, sample, "--all-services")
    assert first.exit_code == 0, first.stderr
    before = store_dump(store)

    second = run(cli, store, sample, "--all-services")

    assert second.exit_code == 0, second.stderr
    assert store_dump(store) == before
    file = second.json()["files"][0]
    assert file["inserted"] == 0 and file["replaced"] == 0
    assert file["duplicates"] == first.json()["files"][0]["inserted"]
    assert file["status"] == "unchanged"


def test_an_import_killed_mid_file_leaves_nothing_of_that_file(cli, tmp_path, monkeypatch):
    from tokcli.importers import write

    store = tmp_path / "s.db"
    assert run(cli, store, ALL_SAMPLES[0]).exit_code == 0
    before = store_dump(store)
    real_insert = write.insert_usage
    calls = []

    def dies_on_the_third_batch(conn, records, import_id=None, upkeep=None):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("killed")
        return real_insert(conn, records, import_id, upkeep)

    monkeypatch.setattr(write, "INSERT_BATCH_ROWS", 2)  # rows are written in batches
    monkeypatch.setattr(write, "insert_usage", dies_on_the_third_batch)
    # The error boundary turns the crash into one line, exit 1 (a bug, not bad input).
    result = run(cli, store, SAMPLES / "focus" / "focus_sample.csv", "--all-services")
    assert result.exit_code == 1 and "internal error: RuntimeError: killed" in result.stderr

    assert len(calls) == 3  # two batches (four rows) were written, then rolled back
    assert store_dump(store) == before


def test_a_malformed_row_rejects_the_whole_file_naming_file_line_and_field(cli, tmp_path):
    store = tmp_path / "s.db"
    path = focus_csv(tmp_path / "bill.csv", [ai_row("1.5"), ai_row("abc"), ai_row("2")])

    result = run(cli, store, path)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"tokcli: error: {path}:3: BilledCost: not a number: 'abc'"
    ]
    assert not store.exists() or store_rows(store) == []


def test_skip_bad_rows_writes_the_good_rows_and_a_reject_file(cli, tmp_path):
    store = tmp_path / "s.db"
    path = focus_csv(tmp_path / "bill.csv", [ai_row("1.5"), ai_row("abc"), ai_row("2")])
    rejects = tmp_path / "rejects.csv"

    result = run(cli, store, path, "--skip-bad-rows", "--rejects", rejects)

    assert result.exit_code == 0, result.stderr
    file = result.json()["files"][0]
    assert (file["inserted"], file["rejected"], file["reject_file"]) == (2, 1, str(rejects))
    assert money_total(store) == Decimal("3.5")
    with rejects.open(newline="") as handle:
        (reject,) = list(csv.DictReader(handle))
    assert (reject["line"], reject["field"]) == ("3", "BilledCost")
    assert "not a number" in reject["reason"] and "abc" in reject["row"]


def test_a_reissued_billing_export_replaces_that_period(cli, tmp_path):
    store = tmp_path / "s.db"
    original = focus_csv(
        tmp_path / "sept.csv",
        [ai_row("1.00", "2025-09-03"), ai_row("2.00", "2025-09-04"), ai_row("4.00", "2025-09-05")],
    )
    other_account = focus_csv(tmp_path / "other.csv", [ai_row("8.00", account="acct-2")])
    october = focus_csv(tmp_path / "oct.csv", [ai_row("16.00", "2025-10-02", period="10")])
    for path in (original, other_account, october):
        assert run(cli, store, path).exit_code == 0
    # The provider re-issues September: one row revised, one gone, one new.
    reissued = focus_csv(
        tmp_path / "sept-final.csv",
        [ai_row("1.00", "2025-09-03"), ai_row("2.50", "2025-09-04"), ai_row("0.25", "2025-09-06")],
    )

    result = run(cli, store, reissued)

    file = result.json()["files"][0]
    assert (file["inserted"], file["replaced"], file["duplicates"]) == (2, 2, 1)
    # September of acct-1 is the new file's; acct-2 and October are untouched.
    assert money_total(store) == Decimal("1.00") + Decimal("2.50") + Decimal("0.25") + 8 + 16
    again = run(cli, store, reissued).json()["files"][0]
    assert (again["inserted"], again["replaced"]) == (0, 0)


def test_an_overlapping_api_window_adds_nothing_and_newer_figures_win(cli, tmp_path):
    store = tmp_path / "s.db"
    day = 86_400
    start = 1_756_684_800  # 2025-09-01T00:00:00Z

    def page(days, output):
        return {
            "object": "page",
            "has_more": False,
            "next_page": None,
            "data": [
                {
                    "object": "bucket",
                    "start_time": start + d * day,
                    "end_time": start + (d + 1) * day,
                    "results": [
                        {
                            "object": "organization.usage.completions.result",
                            "input_tokens": 100,
                            "output_tokens": output,
                            "num_model_requests": 1,
                            "model": "gpt-4o-mini-2024-07-18",
                        }
                    ],
                }
                for d in days
            ],
        }

    import json

    first = tmp_path / "w1.json"
    first.write_text(json.dumps(page(range(0, 3), 10)))
    second = tmp_path / "w2.json"
    second.write_text(json.dumps(page(range(1, 5), 20)))  # days 1-2 overlap, revised
    assert run(cli, store, first).exit_code == 0

    summary = run(cli, store, second).json()["files"][0]

    assert (summary["inserted"], summary["replaced"]) == (4, 2)
    assert token_totals(store)["output_tokens"] == 10 + 4 * 20
    assert token_totals(store)["requests"] == 5  # five days, each once


def openai_dashboard_csv() -> str:
    return (
        "start_time,end_time,start_time_iso,end_time_iso,project_id,num_model_requests,model,"
        "input_tokens,output_tokens,input_cached_tokens\n"
        "1756684800,1756771200,2025-09-01T00:00:00+00:00,2025-09-02T00:00:00+00:00,proj_a,3.0,"
        'gpt-4o-mini-2024-07-18,"1,234",56.0,NULL\n'
        "1756771200,1756857600,2025-09-02T00:00:00+00:00,2025-09-03T00:00:00+00:00\n"
    )


@pytest.mark.parametrize("packing", ["bom", "gzip", "zip"])
def test_bom_gzip_zip_thousands_separators_floats_and_null(cli, tmp_path, packing):
    store = tmp_path / "s.db"
    text = openai_dashboard_csv()
    if packing == "bom":
        path = tmp_path / "usage.csv"
        path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    elif packing == "gzip":
        path = tmp_path / "usage.csv.gz"
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path = tmp_path / "usage.zip"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("completions_usage_2025-09-01_2025-09-03.csv", text)

    result = run(cli, store, path)

    assert result.exit_code == 0, result.stderr
    file = result.json()["files"][0]
    assert (file["format"], file["inserted"], file["skipped"]) == ("openai-usage-csv", 1, 1)
    (row,) = store_rows(store)
    assert (row["requests"], row["input_tokens"], row["output_tokens"]) == (3, 1234, 56)
    assert row["cache_read_tokens"] == 0


def test_unknown_file_content_is_a_usage_error(cli, tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("a,b\n1,2\n")
    result = run(cli, tmp_path / "s.db", path)
    assert result.exit_code == 2
    assert "cannot tell the format" in result.stderr and str(path) in result.stderr


def test_json_summary_contract(cli, tmp_path):
    import jsonschema

    money = {"type": ["string", "null"], "pattern": r"^-?\d+(\.\d+)?$"}
    count = {"type": "integer", "minimum": 0}
    counts = ["rows_read", "inserted", "replaced", "duplicates", "rejected", "skipped"]
    schema = {
        "type": "object",
        "required": ["version", "files", "totals", "by_source", "warnings"],
        "properties": {
            "version": {"const": 1},
            "totals": {"type": "object", "required": counts},
            "files": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["path", "format", "status", *counts, "by_source"],
                    "properties": {name: count for name in counts},
                },
            },
            "by_source": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["source", "currency", "billed", "list", "billed_minus_list"],
                    "properties": {"billed": money, "list": money, "billed_minus_list": money},
                },
            },
            "warnings": {"type": "array", "items": {"type": "string"}},
        },
    }
    result = run(cli, tmp_path / "s.db", *ALL_SAMPLES[:2])
    jsonschema.validate(result.json(), schema)


def test_money_keeps_every_digit_beyond_28_significant_digits(cli, tmp_path):
    """Decimal's default context rounds at 28 digits; imports and their totals must not."""
    import json

    page = {
        "data": [
            {
                "starting_at": "2025-09-01T00:00:00Z",
                "ending_at": "2025-09-02T00:00:00Z",
                "results": [
                    {"amount": "123456789012345.67890123456789", "currency": "USD"},
                    {"amount": "0.000000000000000000000000000001", "currency": "USD"},
                ],
            }
        ],
        "has_more": False,
        "next_page": None,
    }
    path = tmp_path / "cost_report.json"
    path.write_text(json.dumps(page))
    store = tmp_path / "s.db"

    result = run(cli, store, path)

    # 31 significant digits (the per-row bound of 1e15 cents leaves room for them all)
    exact = "1234567890123.45678901234567890000000000000001"
    assert result.json()["by_source"][0]["billed"] == exact
    stored = sorted(r["billed_cost"] for r in store_rows(store))
    assert stored == ["0.00000000000000000000000000000001", "1234567890123.4567890123456789"]
