"""The default cost basis, unusable stored values, --top and empty days.

- Usage-only sources (real Claude Code transcripts, the real OpenAI usage API sample) never
  read as $0 in a plain `report`: rows without a billed cost are valued at list cost, and each
  group says which basis its spend is on. Expected list prices are computed here from the raw
  transcripts with Anthropic's published per-MTok prices for Claude Opus 4.6.
- A store an older tokcli wrote with a cost of "1e400" or "NaN" still reports, naming the row.
"""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal

import pytest

from conftest import SAMPLES
from test_report import record, write_store

D = Decimal
CLAUDE_CODE = SAMPLES / "claude-code-jsonl"
OPENAI_USAGE = SAMPLES / "openai-usage-api" / "completions_usage_api.ipynb.usage_data.json"
# Anthropic's list prices for Claude Opus 4.6, USD per million tokens (platform.claude.com
# pricing page): input 5, output 25, cache read 0.50, cache write 5 minutes 6.25, 1 hour 10.
OPUS_4_6 = {"input": D("5"), "output": D("25"), "cache_read": D("0.50"),
            "cache_5m": D("6.25"), "cache_1h": D("10")}  # fmt: skip


def claude_code_list_cost() -> Decimal:
    """One priced response per (message id, request id): the largest snapshot; a sidechain copy
    of a main-chain message counts once."""
    best: dict[tuple, tuple[int, bool, dict]] = {}
    for path in sorted(CLAUDE_CODE.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            message = entry.get("message")
            if entry.get("type") != "assistant" or not isinstance(message, dict):
                continue
            usage = message.get("usage")
            if not usage:
                continue
            assert message["model"] == "claude-opus-4-6"
            key = (message["id"], entry.get("requestId"))
            size = sum(v for v in usage.values() if isinstance(v, int))
            if key not in best or size > best[key][0]:
                best[key] = (size, entry.get("isSidechain") is True, usage)
    main = {key[0] for key, (_, side, _) in best.items() if not side}
    total = D(0)
    for key, (_, side, usage) in best.items():
        if side and key[0] in main:
            continue
        split = usage["cache_creation"]
        total += (
            usage["input_tokens"] * OPUS_4_6["input"]
            + usage["output_tokens"] * OPUS_4_6["output"]
            + usage["cache_read_input_tokens"] * OPUS_4_6["cache_read"]
            + split["ephemeral_5m_input_tokens"] * OPUS_4_6["cache_5m"]
            + split["ephemeral_1h_input_tokens"] * OPUS_4_6["cache_1h"]
        ) / 1_000_000
    return total


@pytest.fixture
def usage_only(tmp_path, monkeypatch, cli):
    path = tmp_path / "usage.db"
    monkeypatch.setenv("TOKCLI_STORE", str(path))
    result = cli("import", CLAUDE_CODE, OPENAI_USAGE)
    assert result.exit_code == 0, result.stderr
    return path


def test_plain_report_values_usage_only_sources_at_list_cost(cli, usage_only):
    expected = claude_code_list_cost()
    assert expected > 0
    doc = cli("report", "--format", "json").json()
    assert doc["cost_basis"] == "auto"
    assert D(doc["total"]["spend"]) == expected and doc["total"]["basis"] == "list"
    table = cli("report").stdout
    assert f"${expected:,.2f}" in table and "spend                      $0.00" not in table
    by_source = cli("report", "--by", "source", "--format", "json").json()
    rows = {r["source"]: r for r in by_source["rows"]}
    assert D(rows["claude-code"]["spend"]) == expected
    assert rows["claude-code"]["basis"] == "list"
    # The OpenAI usage sample names no model (model: null in every bucket): no list price can
    # exist, and the report says so rather than inventing one.
    openai = rows["openai-usage"]
    assert (openai["basis"], openai["list_cost"], openai["spend"]) == ("none", None, "0")
    assert openai["requests"] == sum(
        r["num_model_requests"]
        for bucket in json.loads(OPENAI_USAGE.read_text(encoding="utf-8"))
        for r in bucket["results"]
    )


def test_billed_and_list_bases_keep_their_meaning(cli, usage_only):
    billed = cli("report", "--cost", "billed", "--format", "json").json()
    assert billed["total"]["spend"] == "0" and billed["total"]["billed_cost"] is None
    listed = cli("report", "--cost", "list", "--format", "json").json()
    assert D(listed["total"]["spend"]) == claude_code_list_cost()


def test_mixed_basis_is_labelled_per_group(cli, tmp_path, monkeypatch):
    path = write_store(tmp_path / "m.db", [
        record("b", 3, model="gpt-5", billed_cost=D("4"), list_cost=D("5"), currency="USD",
               tags={"team": "a"}),
        record("l", 3, model="gpt-5", list_cost=D("2"), tags={"team": "a"}),
        record("x", 4, model="gpt-5", list_cost=D("1"), tags={"team": "b"}),
    ])  # fmt: skip
    monkeypatch.setenv("TOKCLI_STORE", str(path))
    doc = cli("report", "--by", "team", "--format", "json").json()
    rows = {r["team"]: r for r in doc["rows"]}
    assert (rows["a"]["basis"], rows["a"]["spend"]) == ("mixed", "6")  # 4 billed + 2 list
    assert (rows["b"]["basis"], rows["b"]["spend"]) == ("list", "1")
    assert doc["total"]["spend"] == "7" and doc["total"]["basis"] == "mixed"
    table = cli("report", "--by", "team").stdout
    assert "basis" in table.splitlines()[0] and "mixed" in table


# ---- a store that already holds a value no report can use -----------------------------------


@pytest.fixture
def poisoned(tmp_path, monkeypatch):
    path = write_store(tmp_path / "p.db", [
        record(f"r{day}", day, model="gpt-5", billed_cost=D("10"), currency="USD",
               tags={"team": "a"})
        for day in (3, 4, 5, 6)
    ])  # fmt: skip
    conn = sqlite3.connect(path)  # what an older tokcli could write
    conn.execute("UPDATE usage SET billed_cost = '1e400' WHERE record_key = 'r4'")
    conn.execute("UPDATE usage SET billed_cost = 'NaN' WHERE record_key = 'r5'")
    conn.execute("UPDATE usage SET list_cost = 'abc' WHERE record_key = 'r6'")
    conn.execute("UPDATE usage SET output_tokens = 'lots' WHERE record_key = 'r3'")
    conn.commit()
    ids = dict(conn.execute("SELECT record_key, id FROM usage"))
    conn.close()
    monkeypatch.setenv("TOKCLI_STORE", str(path))
    return path, ids


@pytest.mark.parametrize("args", [(), ("--by", "team"), ("--by", "day"), ("--by", "team,model")])
def test_unusable_stored_values_are_skipped_and_named(cli, poisoned, args):
    _, ids = poisoned
    result = cli("report", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    for key, column, value in (
        ("r4", "billed_cost", "1e400"), ("r5", "billed_cost", "NaN"),
        ("r6", "list_cost", "abc"), ("r3", "output_tokens", "lots"),
    ):  # fmt: skip
        assert f"usage row id {ids[key]} (table usage" in result.stderr
        assert f"{column} '{value}'" in result.stderr
    doc = result.json()
    assert sum(D(r["spend"]) for r in doc["rows"]) == D("20")  # r3 and r6; r4, r5 unknown


def test_unusable_values_when_summing_usage_rows_directly(poisoned):
    """The path a read-only store takes (its rollups cannot be rebuilt)."""
    from tokcli.reporting.query import Selection, fetch
    from tokcli.store import connect

    path, ids = poisoned
    conn = connect(path)
    bad: list = []
    rows = fetch(conn, Selection(("team",)), use_rollups=False, bad=bad)
    conn.close()
    assert sorted((b.usage_id, b.column, b.value) for b in bad) == sorted([
        (ids["r4"], "billed_cost", "1e400"), (ids["r5"], "billed_cost", "NaN"),
        (ids["r6"], "list_cost", "abc"), (ids["r3"], "output_tokens", "lots"),
    ])  # fmt: skip
    assert sum(r.totals.billed_cost for r in rows) == D("20")
    assert sum(r.totals.billed_rows for r in rows) == 2


def test_budget_check_on_a_poisoned_store(cli, poisoned, tmp_path, monkeypatch):
    config = tmp_path / "tokcli.toml"
    config.write_text('[[budgets]]\namount = "1000"\n', encoding="utf-8")
    monkeypatch.setenv("TOKCLI_CONFIG", str(config))
    result = cli("budget", "check", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["budgets"][0]["spend"] == "20"


# ---- --top folds the rest; empty days are zero -----------------------------------------------


def test_top_folds_everything_else_into_one_other_row(cli, tmp_path, monkeypatch):
    records = []
    for index in range(8):
        team = f"t{index}" if index < 6 else None
        for feature in ("x", None):
            tags = {k: v for k, v in (("team", team), ("feature", feature)) if v}
            records.append(record(f"r{index}{feature}", 3, model="gpt-5", currency="USD",
                                  billed_cost=D(10 + index), tags=tags))  # fmt: skip
    monkeypatch.setenv("TOKCLI_STORE", str(write_store(tmp_path / "t.db", records)))
    doc = cli("report", "--by", "team,feature", "--top", "3", "--format", "json").json()
    assert len(doc["rows"]) == 4  # three groups and (other)
    assert doc["rows"][-1]["team"] == "(other)" and doc["rows"][-1]["feature"] == "(other)"
    assert sum(D(r["spend"]) for r in doc["rows"]) == sum(r.billed_cost for r in records)


def test_empty_days_are_zero_not_null(cli, tmp_path, monkeypatch):
    path = write_store(tmp_path / "d.db", [
        record("a", 3, model="gpt-5", billed_cost=D("2"), currency="USD"),
        record("b", 6, model="gpt-5", billed_cost=D("3"), currency="USD"),
    ])  # fmt: skip
    monkeypatch.setenv("TOKCLI_STORE", str(path))
    doc = cli("report", "--by", "day", "--format", "json").json()
    days = {r["day"]: r for r in doc["rows"]}
    assert list(days) == ["2026-11-03", "2026-11-04", "2026-11-05", "2026-11-06"]
    for day in ("2026-11-04", "2026-11-05"):
        assert (days[day]["billed_cost"], days[day]["spend"]) == ("0", "0")
    daily = {p["day"]: p["spend"] for p in doc["daily"]}
    assert {d: r["spend"] for d, r in days.items()} == daily


@pytest.mark.parametrize(
    "group_by", [(), ("team",), ("team", "model"), ("model",), ("day",), ("team", "provider")]
)
def test_rollups_value_unbilled_rows_exactly_as_the_usage_rows(tmp_path, group_by):
    """The rollups' unbilled list measures (migration 0009) give the same default-basis spend
    as summing the usage rows, tagged, untagged and per currency."""
    from tokcli.reporting.query import Selection, fetch
    from tokcli.reporting.rollups import refresh
    from tokcli.reporting.views import ReportOptions, build_report
    from tokcli.store import connect

    records = []
    for day in (3, 4):
        records += [
            record(f"b{day}", day, model="gpt-5", provider="openai", billed_cost=D("4.1"),
                   list_cost=D("5.03"), currency="EUR", tags={"team": "a"}),
            record(f"l{day}", day, model="gpt-5", provider="openai", list_cost=D("2.007"),
                   tags={"team": "a"}),
            record(f"u{day}", day, model="claude-opus-4-6", provider="anthropic",
                   list_cost=D("0.3")),
            record(f"n{day}", day, model="claude-opus-4-6", provider="anthropic",
                   billed_cost=D("1.5"), currency="USD", tags={"team": "b"}),
        ]  # fmt: skip
    conn = connect(write_store(tmp_path / "r.db", records))
    refresh(conn)
    selection = Selection(group_by)
    options = ReportOptions(selection, today=records[0].period_start.date())
    docs = [
        build_report(fetch(conn, selection, use_rollups=flag), options, None)
        for flag in (True, False)
    ]
    assert docs[0] == docs[1]
    totals = {t["currency"]: t["spend"] for t in docs[0]["totals"]}
    assert totals == {"EUR": D("8.2"), "USD": D("2.007") * 2 + D("0.6") + D("3")}
