"""`tokcli export --format focus`: FOCUS 1.2 columns, filters, and the import round trip."""

from __future__ import annotations

import csv
import io
import json
import re

from conftest import FIXTURES, SAMPLES
from test_import_support import (
    exact_decimals,  # noqa: F401  (autouse: 60-digit sums)
    money_total,
    store_dump,
    store_rows,
    token_totals,
)

INPUTS = [
    SAMPLES / "openai-usage-api" / "completions_usage_api.ipynb.usage_data.json",
    SAMPLES / "claude-code-jsonl",
    SAMPLES / "focus" / "focus_sample.csv",
    SAMPLES / "azure-cost-export" / "EA_AmortizedCost_Small.csv",
    FIXTURES / "import" / "anthropic_cost_report.json",
    FIXTURES / "import" / "gcp_billing_export_vertex.jsonl",
]
# The mandatory and conditional columns of FOCUS 1.2 (BILLING-FORMATS.md section 5).
FOCUS_1_2 = {
    "BilledCost", "BillingAccountId", "BillingAccountName", "BillingAccountType",
    "BillingCurrency", "BillingPeriodStart", "BillingPeriodEnd", "ChargeCategory", "ChargeClass",
    "ChargeDescription", "ChargeFrequency", "ChargePeriodStart", "ChargePeriodEnd",
    "CommitmentDiscountCategory", "CommitmentDiscountId", "CommitmentDiscountName",
    "CommitmentDiscountType", "CommitmentDiscountStatus", "CommitmentDiscountQuantity",
    "CommitmentDiscountUnit", "CapacityReservationId", "CapacityReservationStatus",
    "ConsumedQuantity", "ConsumedUnit", "ContractedCost", "ContractedUnitPrice", "EffectiveCost",
    "InvoiceId", "InvoiceIssuerName", "ListCost", "ListUnitPrice", "PricingCategory",
    "PricingCurrency", "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice", "PricingQuantity", "PricingUnit", "ProviderName",
    "PublisherName", "RegionId", "RegionName", "ResourceId", "ResourceName", "ResourceType",
    "ServiceCategory", "ServiceName", "ServiceSubcategory", "SkuId", "SkuPriceId", "SkuMeter",
    "SkuPriceDetails", "SubAccountId", "SubAccountName", "SubAccountType", "Tags",
    "AvailabilityZone",
}  # fmt: skip
FOCUS_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def fill(cli, store):
    for path in INPUTS:
        result = cli("import", path, "--all-services", "--store", store, "--format", "json")
        assert result.exit_code == 0, result.stderr


def per_source(store):
    """Rows, tokens, billed and list cost per source, read straight from SQLite."""
    sources = {r["source"] for r in store_rows(store)}
    return {
        source: (
            len(store_rows(store, f"source = '{source}'")),
            token_totals(store, f"source = '{source}'"),
            money_total(store, "billed_cost", f"source = '{source}'"),
            money_total(store, "list_cost", f"source = '{source}'"),
        )
        for source in sources
    }


def test_export_then_import_gives_the_same_totals(cli, tmp_path):
    original, copy = tmp_path / "a.db", tmp_path / "b.db"
    fill(cli, original)
    exported = tmp_path / "focus.csv"

    result = cli("export", "--format", "focus", "-o", exported, "--store", original,
                 "--summary", "json")  # fmt: skip

    assert result.exit_code == 0, result.stderr
    assert result.json()["rows"] == len(store_rows(original))
    again = cli("import", exported, "--store", copy, "--format", "json")
    assert again.exit_code == 0, again.stderr
    assert again.json()["files"][0]["format"] == "focus"
    assert per_source(copy) == per_source(original)
    assert len(per_source(original)) == 6


def test_importing_an_export_into_its_own_store_adds_nothing(cli, tmp_path):
    store = tmp_path / "a.db"
    fill(cli, store)
    exported = tmp_path / "focus.csv"
    assert cli("export", "-o", exported, "--store", store).exit_code == 0
    before = store_dump(store)

    result = cli("import", exported, "--store", store, "--format", "json")

    assert result.json()["files"][0]["status"] == "unchanged"
    assert store_dump(store) == before


def test_export_writes_focus_1_2_columns_and_values(cli, tmp_path):
    store = tmp_path / "a.db"
    fill(cli, store)

    result = cli("export", "--store", store)  # to stdout: only the CSV

    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert set(rows[0]) >= FOCUS_1_2
    assert all(c in FOCUS_1_2 or c.startswith("x_") for c in rows[0])
    for row in rows:
        for column in ("ChargePeriodStart", "ChargePeriodEnd", "BillingPeriodStart"):
            assert FOCUS_TIME.match(row[column]), (column, row[column])
        assert row["ChargeCategory"] in {"Usage", "Purchase", "Tax", "Credit", "Adjustment"}
        assert row["BilledCost"] and row["ListCost"] and row["EffectiveCost"]
        assert row["Tags"] == "" or isinstance(json.loads(row["Tags"]), dict)
    credits = [r for r in rows if r["ChargeCategory"] == "Credit"]
    assert credits and all(r["BilledCost"].startswith("-") for r in credits)


def test_export_slices_by_date_tag_and_source(cli, tmp_path):
    store = tmp_path / "a.db"
    fill(cli, store)

    def exported(*args):
        result = cli("export", "--store", store, *args)
        assert result.exit_code == 0, result.stderr
        return list(csv.DictReader(io.StringIO(result.stdout)))

    january = exported("--since", "2025-01-20", "--until", "2025-01-31")
    assert january and all(
        "2025-01-20" <= r["ChargePeriodStart"][:10] <= "2025-01-31" for r in january
    )
    search = exported("--where", "team=search")
    assert search and all(json.loads(r["Tags"])["team"] == "search" for r in search)
    claude = exported("--source", "claude-code")
    assert len(claude) == len(store_rows(store, "source = 'claude-code'")) == 7


def test_export_rejects_a_bad_where(cli, tmp_path):
    result = cli("export", "--where", "team", "--store", tmp_path / "a.db")
    assert result.exit_code == 2
    assert "--where: expected key=value" in result.stderr
