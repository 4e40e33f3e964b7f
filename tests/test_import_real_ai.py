"""Real AI-billing files written by others (issue 13): the FOCUS specification's AI examples
(tests/fixtures/samples/focus-ai, SOURCES.md there). Totals per model and per token bucket are
computed here from the raw CSV with csv/json, independently of tokcli's importer."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from decimal import Decimal

import pytest

from conftest import SAMPLES
from test_import_safety import run
from test_import_support import (
    TOKEN_COLUMNS,
    exact_decimals,  # noqa: F401  (autouse: 60-digit sums)
    store_rows,
)

FOCUS_AI = SAMPLES / "focus-ai"
# What each SkuMeter names, in the spec's own words (independent of tokcli's meter parsing).
METER_BUCKETS = {
    "Input Tokens": "input_tokens",
    "Output Tokens": "output_tokens",
    "Cache Write Input Tokens": "cache_write_5m_tokens",
    "Cache Read Input Tokens": "cache_read_tokens",
}


def expected_from_file(path):
    """{model: (billed, {bucket: tokens})} from the raw file."""
    billed: dict[str, Decimal] = defaultdict(Decimal)
    tokens: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(TOKEN_COLUMNS, 0))
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            model = json.loads(row["SkuPriceDetails"])["ModelId"]
            billed[model] += Decimal(row["BilledCost"])
            assert row["ConsumedUnit"] == "Tokens"
            bucket = METER_BUCKETS[row["SkuMeter"]]
            tokens[model][bucket] += int(Decimal(row["ConsumedQuantity"]))
    return {model: (billed[model], tokens[model]) for model in billed}


def imported_by_model(store):
    billed: dict[str, Decimal] = defaultdict(Decimal)
    tokens: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(TOKEN_COLUMNS, 0))
    for row in store_rows(store):
        billed[row["model_raw"]] += Decimal(row["billed_cost"])
        for bucket in TOKEN_COLUMNS:
            tokens[row["model_raw"]][bucket] += row[bucket]
    return {model: (billed[model], tokens[model]) for model in billed}


@pytest.mark.parametrize(
    "name", ["ai_model_identity_a.csv", "ai_prompt_caching_a.csv", "multi_model_usage.csv"]
)
def test_focus_ai_examples_match_per_model_and_per_bucket(cli, tmp_path, name):
    store = tmp_path / "s.db"
    result = run(cli, store, FOCUS_AI / name)
    assert result.exit_code == 0, result.stderr
    assert imported_by_model(store) == expected_from_file(FOCUS_AI / name)


def test_a_model_named_reasoning_keeps_its_input_and_output_tokens(cli, tmp_path):
    """Issue 13 point 4: "Solora Reasoning Pro" is a name, not a token kind."""
    store = tmp_path / "s.db"
    assert run(cli, store, FOCUS_AI / "ai_model_identity_a.csv").exit_code == 0
    rows = store_rows(store)
    assert sum(r["reasoning_tokens"] for r in rows) == 0
    assert sum(r["input_tokens"] for r in rows) == 5_000_000
    assert sum(r["output_tokens"] for r in rows) == 1_500_000


def test_focus_rows_from_other_tools_get_their_model_and_unknown_models_are_named(cli, tmp_path):
    """Issue 13 point 5: the model comes from SkuPriceDetails (or a vendor's x_ column); a
    model the registry does not know is named in a warning, never silently merged."""
    store = tmp_path / "s.db"
    result = run(cli, store, FOCUS_AI / "multi_model_usage.csv")
    models = {r["model_raw"] for r in store_rows(store)}
    assert models == {"solora-atlas-5.5", "solora-atlas-5.4-mini"}
    assert "solora-atlas-5.5" in result.stderr and "solora-atlas-5.4-mini" in result.stderr


def test_a_vendor_x_model_column_names_the_model_and_resolves_through_the_registry(cli, tmp_path):
    source = (FOCUS_AI / "ai_model_identity_a.csv").read_text(encoding="utf-8")
    lines = source.splitlines()
    # a vendor file: no SkuPriceDetails model, an x_Model column instead
    rows = list(csv.reader(lines))
    header = rows[0]
    details = header.index("SkuPriceDetails")
    out = [[*header, "x_Model"]]
    for row in rows[1:]:
        row[details] = ""
        out.append([*row, "claude-sonnet-4-5"])
    path = tmp_path / "vendor.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(out)
    store = tmp_path / "s.db"

    result = run(cli, store, path)

    assert result.exit_code == 0, result.stderr
    stored = {(r["model_raw"], r["model"]) for r in store_rows(store)}
    assert len(stored) == 1
    raw, canonical = stored.pop()
    assert raw == "claude-sonnet-4-5"
    assert canonical == "claude-sonnet-4-5"
    assert all(r["list_cost"] is not None for r in store_rows(store))


def test_token_rows_without_a_model_are_warned_about_at_import(cli, tmp_path):
    source = (FOCUS_AI / "ai_model_identity_a.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(source.splitlines()))
    details = rows[0].index("SkuPriceDetails")
    for row in rows[1:]:
        row[details] = ""
    path = tmp_path / "anonymous.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)

    result = run(cli, tmp_path / "s.db", path)

    assert result.exit_code == 0, result.stderr
    assert "2 rows with token usage name no model" in result.stderr
    assert any("no model" in w for w in result.json()["warnings"])
