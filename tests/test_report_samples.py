"""Reports over the real samples (after `tokcli import`) agree with totals computed here from
the raw files with the standard library alone."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import defaultdict
from decimal import Decimal

import pytest

from conftest import SAMPLES

OPENAI_USAGE = SAMPLES / "openai-usage-api" / "completions_usage_api.ipynb.usage_data.json"
FOCUS_SAMPLE = SAMPLES / "focus" / "focus_sample.csv"
AZURE_ACTUAL = SAMPLES / "azure-cost-export" / "EA_ActualCost_Small.csv"


def csv_rows(path):
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def focus_billed_by_day() -> dict[str, Decimal]:
    days: dict[str, Decimal] = defaultdict(Decimal)
    for row in csv_rows(FOCUS_SAMPLE):
        days[row["ChargePeriodStart"][:10]] += Decimal(row["BilledCost"])
    return dict(days)


def azure_cost_by_day() -> dict[str, Decimal]:
    days: dict[str, Decimal] = defaultdict(Decimal)
    for row in csv_rows(AZURE_ACTUAL):
        month, day, year = row["Date"].split("/")
        days[f"{year}-{month}-{day}"] += Decimal(row["Cost"])
    return dict(days)


def openai_by_day() -> dict[str, dict[str, int]]:
    days: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for bucket in json.loads(OPENAI_USAGE.read_text()):
        day = dt.datetime.fromtimestamp(bucket["start_time"], dt.UTC).date().isoformat()
        for result in bucket["results"]:
            days[day]["requests"] += result["num_model_requests"]
            days[day]["input_tokens"] += result["input_tokens"] - result["input_cached_tokens"]
            days[day]["cache_read_tokens"] += result["input_cached_tokens"]
            days[day]["output_tokens"] += result["output_tokens"]
    return {day: dict(values) for day, values in days.items()}


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    """One store holding three real exports, imported through `tokcli import`."""
    from typer.testing import CliRunner

    from tokcli.cli.main import app

    path = tmp_path_factory.mktemp("samples") / "usage.db"
    result = CliRunner().invoke(
        app,
        ["import", str(OPENAI_USAGE), str(FOCUS_SAMPLE), str(AZURE_ACTUAL), "--all-services",
         "--store", str(path), "--format", "json"],
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return path


def report(cli, store, *args) -> dict:
    result = cli("report", "--store", store, *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return result.json()


def test_spend_by_source_matches_the_raw_files(cli, sample_store):
    rows = {r["source"]: r for r in report(cli, sample_store, "--by", "source")["rows"]}
    focus = sum(focus_billed_by_day().values(), Decimal(0))
    azure = sum(azure_cost_by_day().values(), Decimal(0))
    assert Decimal(rows["focus"]["billed_cost"]) == focus
    assert Decimal(rows["azure-cost"]["billed_cost"]) == azure
    openai = openai_by_day()
    for measure in ("requests", "input_tokens", "cache_read_tokens", "output_tokens"):
        assert rows["openai-usage"][measure] == sum(d[measure] for d in openai.values()), measure
    summary = report(cli, sample_store)
    assert Decimal(summary["total"]["spend"]) == focus + azure


@pytest.mark.parametrize(
    "source, expected",
    [("focus", focus_billed_by_day), ("azure-cost", azure_cost_by_day)],
)
def test_daily_billed_cost_matches_the_raw_files(cli, sample_store, source, expected):
    doc = report(cli, sample_store, "--by", "day", "--where", f"source={source}")
    got = {r["day"]: Decimal(r["billed_cost"]) for r in doc["rows"] if r["usage_rows"]}
    assert got == expected()


def test_daily_tokens_match_the_openai_usage_file(cli, sample_store):
    doc = report(cli, sample_store, "--by", "day", "--where", "source=openai-usage")
    got = {
        r["day"]: {m: r[m] for m in ("requests", "input_tokens", "cache_read_tokens",
                                     "output_tokens")}
        for r in doc["rows"] if r["usage_rows"]
    }  # fmt: skip
    assert got == openai_by_day()


def test_tag_with_spaces_and_untagged_add_up(cli, sample_store):
    doc = report(cli, sample_store, "--by", "Cost department")
    total = sum((Decimal(r["spend"]) for r in doc["rows"]), Decimal(0))
    assert total == Decimal(doc["total"]["spend"])
    assert None in {r["Cost department"] for r in doc["rows"]}  # untagged stays visible
