"""`tokcli report`: every view over a store with known rows, against hand-computed figures.

The store (November 2026; the clock is pinned to 2026-11-24T12:00Z by conftest):
- team=search: Nov 1..23, gpt-5 standard, billed $10.00 and list $12.00 a day, 2 requests,
  1,000 input, 3,000 cache-read and 100,000 output tokens (output at $10/MTok = $1.00).
- team=ads: Nov 1..23, claude-sonnet-4-6 batch (anthropic), billed and list $5.00 a day,
  1 request, 2,000 input tokens.
- no team (feature=chat): Nov 10 only, gpt-5-mini standard, billed $2.50, no list cost,
  1 request, 500 input tokens.
Totals: billed 230 + 115 + 2.5 = 347.50; list 276 + 115 = 391.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from tokcli.reporting.query import Selection, fetch
from tokcli.reporting.rollups import refresh
from tokcli.reporting.views import ReportOptions, build_report
from tokcli.store import connect, transaction
from tokcli.store.usage import UsageRecord, insert_usage

D = Decimal


def record(key: str, day: int, **fields) -> UsageRecord:
    start = dt.datetime(2026, fields.pop("month", 11), day, 9, 30, tzinfo=dt.UTC)
    return UsageRecord(
        record_key=key,
        source=fields.pop("source", "test"),
        period_start=start,
        period_end=start + dt.timedelta(hours=1),
        **fields,
    )


def known_records() -> list[UsageRecord]:
    records = []
    for day in range(1, 24):
        records.append(
            record(f"search-{day}", day, provider="openai", model="gpt-5", requests=2,
                   input_tokens=1000, cache_read_tokens=3000, output_tokens=100_000,
                   billed_cost=D("10.00"), list_cost=D("12.00"), currency="USD",
                   tags={"team": "search", "env": "prod"})
        )  # fmt: skip
        records.append(
            record(f"ads-{day}", day, provider="anthropic", model="claude-sonnet-4-6",
                   service_tier="batch", requests=1, input_tokens=2000, billed_cost=D("5.00"),
                   list_cost=D("5.00"), currency="USD", tags={"team": "ads", "env": "prod"})
        )  # fmt: skip
    records.append(
        record("chat-10", 10, provider="openai", model="gpt-5-mini", requests=1,
               input_tokens=500, billed_cost=D("2.50"), currency="USD",
               tags={"feature": "chat"})
    )  # fmt: skip
    return records


def write_store(path: Path, records: list[UsageRecord]) -> Path:
    conn = connect(path)
    with transaction(conn):
        insert_usage(conn, records)
    conn.close()
    return path


@pytest.fixture
def store(tmp_path, monkeypatch) -> Path:
    path = write_store(tmp_path / "usage.db", known_records())
    monkeypatch.setenv("TOKCLI_STORE", str(path))
    return path


def report_json(cli, *args) -> dict:
    result = cli("report", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return result.json()


def spend_by(doc: dict, key: str) -> dict:
    return {row[key]: row["spend"] for row in doc["rows"]}


# ---- the JSON contract and the grouped views --------------------------------------------------


def test_by_team_json_contract(cli, store):
    doc = report_json(cli, "--by", "team")
    assert doc["version"] == 1 and doc["group_by"] == ["team"]
    assert doc["currency"] == "USD" and doc["cost_basis"] == "auto"
    search, ads, untagged = doc["rows"]
    assert search == {
        "team": "search", "currency": "USD", "basis": "billed", "billed_cost": "230",
        "list_cost": "276", "requests": 46,
        "input_tokens": 23000, "cache_read_tokens": 69000, "cache_write_tokens": 0,
        "output_tokens": 2_300_000, "reasoning_tokens": 0, "usage_rows": 23, "spend": "230",
        "share": "0.6619", "output_cost": "23", "output_share": "0.0833",
    }  # fmt: skip
    assert (ads["team"], ads["billed_cost"], ads["list_cost"], ads["requests"]) == (
        "ads", "115", "115", 23,
    )  # fmt: skip
    # untagged spend is its own row, never hidden; it has no list cost at all: null, not "0"
    assert untagged["team"] is None and untagged["billed_cost"] == "2.5"
    assert untagged["list_cost"] is None and untagged["share"] == "0.0072"
    assert doc["total"]["billed_cost"] == "347.5" and doc["total"]["list_cost"] == "391"
    assert doc["total"]["requests"] == 70 and doc["total"]["usage_rows"] == 47
    assert doc["usage_rows_without_cost"] == {"billed_cost": 0, "list_cost": 1}


def test_by_model_provider_tier_source(cli, store):
    assert spend_by(report_json(cli, "--by", "model"), "model") == {
        "gpt-5": "230", "claude-sonnet-4-6": "115", "gpt-5-mini": "2.5",
    }  # fmt: skip
    assert spend_by(report_json(cli, "--by", "provider"), "provider") == {
        "openai": "232.5", "anthropic": "115",
    }  # fmt: skip
    assert spend_by(report_json(cli, "--by", "tier"), "tier") == {
        "standard": "232.5", "batch": "115",
    }  # fmt: skip
    assert spend_by(report_json(cli, "--by", "source"), "source") == {"test": "347.5"}


def test_by_day_week_month(cli, store):
    days = report_json(cli, "--by", "day", "--since", "2026-11-09", "--until", "2026-11-11")
    assert [(r["day"], r["spend"]) for r in days["rows"]] == [
        ("2026-11-09", "15"), ("2026-11-10", "17.5"), ("2026-11-11", "15"),
    ]  # fmt: skip
    weeks = report_json(cli, "--by", "week")
    assert [(r["week"], r["spend"]) for r in weeks["rows"]] == [
        ("2026-W44", "15"), ("2026-W45", "105"), ("2026-W46", "107.5"),
        ("2026-W47", "105"), ("2026-W48", "15"),
    ]  # fmt: skip
    months = report_json(cli, "--by", "month")
    assert [(r["month"], r["spend"]) for r in months["rows"]] == [("2026-11", "347.5")]


def test_time_series_fills_empty_days_with_zero(cli, store):
    doc = report_json(cli, "--by", "day", "--since", "2026-11-22", "--until", "2026-11-25")
    assert [(r["day"], r["spend"], r["usage_rows"]) for r in doc["rows"]] == [
        ("2026-11-22", "15", 2), ("2026-11-23", "15", 2),
        ("2026-11-24", "0", 0), ("2026-11-25", "0", 0),
    ]  # fmt: skip


def test_month_option_limits_the_range(cli, store):
    doc = report_json(cli, "--by", "team", "--month", "2026-11")
    assert (doc["since"], doc["until"]) == ("2026-11-01", "2026-11-30")
    assert doc["total"]["spend"] == "347.5"
    empty = report_json(cli, "--by", "team", "--month", "2026-10")
    assert empty["rows"] == [] and empty["total"]["spend"] == "0"


def test_two_keys_and_filters(cli, store):
    doc = report_json(cli, "--by", "team,model")
    assert [(r["team"], r["model"], r["spend"]) for r in doc["rows"]] == [
        ("search", "gpt-5", "230"), ("ads", "claude-sonnet-4-6", "115"),
        (None, "gpt-5-mini", "2.5"),
    ]  # fmt: skip
    openai = report_json(cli, "--by", "team", "--where", "provider=openai")
    assert spend_by(openai, "team") == {"search": "230", None: "2.5"}
    search = report_json(cli, "--by", "day", "--where", "team=search", "--since", "2026-11-22")
    assert [(r["day"], r["spend"]) for r in search["rows"]] == [
        ("2026-11-22", "10"), ("2026-11-23", "10"),
    ]  # fmt: skip
    both = report_json(cli, "--by", "model", "--where", "team=ads", "--where", "env=prod")
    assert spend_by(both, "model") == {"claude-sonnet-4-6": "115"}


def test_other_tag_key_leaves_the_rest_untagged(cli, store):
    assert spend_by(report_json(cli, "--by", "feature"), "feature") == {
        "chat": "2.5", None: "345",
    }  # fmt: skip


def test_list_cost_basis(cli, store):
    doc = report_json(cli, "--by", "team", "--cost", "list")
    assert spend_by(doc, "team") == {"search": "276", "ads": "115", None: "0"}
    assert doc["currency"] == "USD" and doc["total"]["spend"] == "391"
    table = cli("report", "--by", "team", "--cost", "list").stdout
    assert "note: 1 usage rows carry no list cost and count as 0" in table
    only_untagged = cli("report", "--cost", "list", "--where", "feature=chat").stdout
    assert "note: no usage row carries a list cost; try --cost billed or auto" in only_untagged


def test_top_folds_the_rest_into_other_untagged_included(cli, store):
    # --top N gives at most N + 1 rows: untagged groups are ranked and folded like any other
    doc = report_json(cli, "--by", "team", "--top", "1")
    assert spend_by(doc, "team") == {"search": "230", "(other)": "117.5"}
    assert len(doc["rows"]) == 2
    models = report_json(cli, "--by", "model", "--top", "1")
    assert spend_by(models, "model") == {"gpt-5": "230", "(other)": "117.5"}
    assert models["total"]["spend"] == "347.5"


def test_summary_view(cli, store):
    doc = report_json(cli)
    assert doc["group_by"] == [] and len(doc["rows"]) == 1
    assert doc["rows"][0]["spend"] == "347.5"
    summary = doc["summary"]
    # cache hit rate: 69,000 cache reads / (23,000 + 46,000 + 500 + 69,000) input tokens
    assert summary["cache_hit_rate"] == "0.4982"
    assert summary["batch_share"] == "0.3309"  # 115 / 347.5
    assert summary["cost_per_request"] == "4.964286"  # 347.5 / 70
    assert summary["top_models"][0] == {
        "model": "gpt-5", "currency": "USD", "spend": "230", "share": "0.6619",
    }  # fmt: skip
    assert [(t["team"], t["spend"]) for t in summary["top_teams"]] == [
        ("search", "230"), ("ads", "115"), (None, "2.5"),
    ]  # fmt: skip


def test_summary_table_is_readable(cli, store):
    result = cli("report")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert any(line.startswith("spend") and "$347.50" in line for line in lines)
    assert any("cache hit rate" in line and "49.8%" in line for line in lines)
    assert "top teams" in result.stdout and "(untagged)" in result.stdout


def test_table_has_bars_and_sparkline_without_colour(cli, store):
    result = cli("report", "--by", "day", "--since", "2026-11-08", "--until", "2026-11-10")
    assert result.exit_code == 0
    assert "\x1b[" not in result.stdout
    rows = [line for line in result.stdout.splitlines() if line.startswith("2026-11-")]
    assert len(rows) == 3
    # Nov 10 ($17.50) is the largest day: the full 24 characters; $15.00 is 6/7 of it,
    # 20.57 characters: 20 full blocks and 4/8 of one.
    assert rows[2].endswith("█" * 24)
    assert rows[0].rstrip().endswith("█" * 20 + "▌")
    assert "note: daily spend 2026-11-08" in result.stdout


def test_csv_and_markdown_carry_the_contract_columns(cli, store):
    result = cli("report", "--by", "team", "--format", "csv")
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "team,currency,basis,billed_cost,list_cost,requests,input_tokens,cache_read_tokens,"
        "cache_write_tokens,output_tokens,reasoning_tokens,usage_rows,spend,share,output_share"
    )
    assert lines[1].startswith("search,USD,billed,230,276,46,23000,69000,0,2300000,0,23,230,")
    assert lines[3].startswith(",USD,billed,2.5,,1,500,")  # untagged: empty key, no list cost
    markdown = cli("report", "--by", "team", "--format", "markdown").stdout
    assert "| team | basis | billed | list | requests |" in markdown
    assert "| (untagged) | billed | $2.50 | - |" in markdown


def test_csv_escapes_formula_cells(cli, tmp_path, monkeypatch):
    path = write_store(tmp_path / "evil.db", [
        record("x", 3, model="gpt-5", billed_cost=D("1"), tags={"team": "=HYPERLINK(\"x\")"}),
        record("y", 3, model="gpt-5", billed_cost=D("-2"), tags={"team": "@SUM(A1)"}),
    ])  # fmt: skip
    monkeypatch.setenv("TOKCLI_STORE", str(path))
    text = cli("report", "--by", "team", "--format", "csv").stdout
    assert "'=HYPERLINK" in text and "'@SUM(A1)" in text
    assert ",-2," in text  # a negative amount stays a number


def test_output_share_needs_prices(cli, store):
    rows = {r["model"]: r for r in report_json(cli, "--by", "model")["rows"]}
    assert rows["gpt-5"]["output_share"] == "0.0833"  # $23 of output in $276 list cost
    assert rows["claude-sonnet-4-6"]["output_share"] == "0"  # no output tokens
    assert rows["gpt-5-mini"]["output_share"] is None  # no list cost to compare with


# ---- forecast, anomalies, allocation through the CLI ------------------------------------------


def test_forecast_overall_and_per_group(cli, store):
    doc = report_json(cli, "--by", "team", "--forecast")
    forecast = doc["forecast"]
    assert (forecast["period_start"], forecast["period_end"]) == ("2026-11-01", "2026-11-30")
    assert (forecast["complete_days"], forecast["days"], forecast["actual"]) == (23, 30, "347.5")
    # linear: 347.5 + 347.5 / 23 * 7; weighted (day i weighs i, sum of weights 276):
    # 347.5 + 7 * (15 * 276 + 10 * 2.5) / 276
    assert forecast["forecast_linear"] == "453.26087"
    assert forecast["forecast_weighted"] == "453.134058"
    rows = {r["team"]: r for r in doc["rows"]}
    assert rows["search"]["forecast_linear"] == rows["search"]["forecast_weighted"] == "300"
    assert rows["ads"]["forecast_weighted"] == "150"
    assert rows[None]["forecast_linear"] == "3.26087"  # 2.5 + 2.5 / 23 * 7
    assert rows[None]["forecast_weighted"] == "3.134058"  # 2.5 + 7 * 10 * 2.5 / 276


def test_forecast_of_a_past_month_is_its_actual(cli, store):
    doc = report_json(cli, "--by", "team", "--forecast", "--month", "2026-10")
    assert doc["forecast"]["forecast_weighted"] == "0" and doc["rows"] == []


def test_allocation_to_the_cent(cli, store):
    doc = report_json(cli, "--by", "team", "--allocate-shared", "100.00")
    # exact shares of 10,000 cents: 6618.71, 3309.35, 71.94 -> floors 9,998; the two cents left
    # go to the largest remainders (untagged .94, search .71)
    assert [(r["team"], r["shared_cost"], r["spend_with_shared"]) for r in doc["rows"]] == [
        ("search", "66.19", "296.19"), ("ads", "33.09", "148.09"), (None, "0.72", "3.22"),
    ]  # fmt: skip
    allocation = doc["allocation"]
    assert allocation["allocated"] == allocation["shared"] == "100"
    assert allocation["untagged_share"] == "0.72"


def test_anomalies_spike_and_week_over_week(cli, tmp_path, monkeypatch):
    records = []
    for day in range(2, 23):  # Mon Nov 2 .. Sun Nov 22: three complete ISO weeks
        cost = D("50") if day == 18 else D("10")
        records.append(record(f"a-{day}", day, model="gpt-5", billed_cost=cost,
                              tags={"team": "a"}))  # fmt: skip
        records.append(record(f"b-{day}", day, model="gpt-5", billed_cost=D("5"),
                              tags={"team": "b"}))  # fmt: skip
    monkeypatch.setenv("TOKCLI_STORE", str(write_store(tmp_path / "a.db", records)))
    range_ = ("--since", "2026-11-02", "--until", "2026-11-22")
    doc = report_json(cli, "--by", "team", "--anomalies", *range_)
    assert doc["anomalies"]["items"] == [
        {"team": "a", "currency": "USD", "kind": "spike", "period": "2026-11-18", "spend": "50",
         "baseline": "10", "jump": "40", "ratio": "5"},
        {"team": "a", "currency": "USD", "kind": "week-over-week", "period": "2026-W47",
         "spend": "110", "baseline": "70", "jump": "40", "ratio": "1.57"},
    ]  # fmt: skip
    quieter = report_json(cli, "--by", "team", "--anomalies", "--k", "6", "--wow", "60", *range_)
    assert quieter["anomalies"]["items"] == []
    table = cli("report", "--by", "team", "--anomalies", *range_).stdout
    assert "anomalies (k=3" in table and "2026-11-18" in table and "5.00x" in table


# ---- bad input: one line on stderr, exit 2, nothing on stdout ---------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        (["--by", "team=search"], "--by: 'team=search' is not a key"),
        (["--by", "nosuchtag"], "unknown key 'nosuchtag'"),
        (["--by", "team,team"], "--by: a key is repeated"),
        (["--by", "day,month"], "--by: use one of day, week, month"),
        (["--since", "2026-02-30"], "--since: expected a date YYYY-MM-DD"),
        (["--since", "2026-11-10", "--until", "2026-11-01"], "is after --until"),
        (["--month", "2026-13"], "--month: expected YYYY-MM"),
        (["--month", "2026-11", "--since", "2026-11-01"], "--month cannot be combined"),
        (["--where", "team"], "--where: expected key=value"),
        (["--where", "day=2026-11-01"], "--where: day is a time key"),
        (["--cost", "street"], "--cost: expected auto, billed or list"),
        (["--by", "team", "--allocate-shared", "10.005"], "whole cents"),
        # Beyond 28 digits quantize itself fails: refused as too large, not an internal error.
        (["--by", "team", "--allocate-shared", "123456789012345678901234567890.01"], "to 1e15"),
        (["--by", "team", "--allocate-shared", "1000000000000000.01"], "to 1e15"),
        (["--by", "team", "--allocate-shared", "ten"], "expected an amount such as 1200.00"),
        (["--by", "day", "--forecast"], "--forecast: group by tags or dimensions"),
        (["--k", "0", "--anomalies"], "--k: must be greater than 0"),
    ],
)
def test_bad_input_exits_2(cli, store, args, message):
    result = cli("report", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr


# ---- rollups stay exact when other writers change the store -----------------------------------

SELECTIONS = [
    Selection(("team",)),
    Selection(("day",)),
    Selection(("team", "month")),
    Selection(("model", "tier")),
    Selection(("feature", "week"), dt.date(2026, 11, 5), dt.date(2026, 11, 20)),
    Selection(("day",), where=(("team", "search"),)),
    Selection(("provider",), where=(("model", "gpt-5"),)),
    Selection(("team", "model")),
    Selection(("tier", "team", "day"), where=(("model", "gpt-5-mini"),)),
    Selection(("team",), where=(("tier", "batch"),)),
    Selection(("team", "provider")),
]


def folded(conn, selection: Selection, use_rollups: bool) -> list[dict]:
    rows = fetch(conn, selection, use_rollups=use_rollups)
    doc = build_report(rows, ReportOptions(selection, today=dt.date(2026, 11, 24)), None)
    return doc["rows"]


@pytest.mark.parametrize("selection", SELECTIONS, ids=lambda s: ",".join(s.group_by))
def test_rollups_equal_raw_sums(store, selection):
    conn = connect(store)
    refresh(conn)
    assert folded(conn, selection, True) == folded(conn, selection, False)


def test_rollups_follow_inserts_deletes_and_updates(store):
    conn = connect(store)
    assert refresh(conn) == 0  # the import kept every day's rollup current: nothing to rebuild

    def tables():
        return [sorted(tuple(r) for r in conn.execute(f"SELECT * FROM {t}"))
                for t in ("report_rollup", "report_tag_rollup")]  # fmt: skip

    kept = tables()
    with transaction(conn):  # a rebuild of every day finds the same sums, text for text
        conn.execute("INSERT INTO report_dirty_days (day) "
                     "SELECT DISTINCT substr(period_start, 1, 10) FROM usage")  # fmt: skip
    assert refresh(conn) == 23
    assert tables() == kept
    assert refresh(conn) == 0
    by_team = Selection(("team",))

    def team_spend():
        refresh(conn)
        return {r["team"]: r["spend"] for r in folded(conn, by_team, True)}

    with transaction(conn):  # another writer (import/batch) adds a row
        insert_usage(conn, [record("late", 5, model="gpt-5", billed_cost=D("0.01"),
                                   tags={"team": "ads"})])  # fmt: skip
    assert team_spend() == {"search": D("230"), "ads": D("115.01"), None: D("2.5")}
    with transaction(conn):  # a tag removed: the spend moves to untagged
        conn.execute("DELETE FROM usage_tags WHERE usage_id = "
                     "(SELECT id FROM usage WHERE record_key = 'late')")  # fmt: skip
    assert team_spend() == {"search": D("230"), "ads": D("115"), None: D("2.51")}
    with transaction(conn):  # a row moved to another day, then rows deleted (tags cascade)
        conn.execute(
            "UPDATE usage SET period_start = '2026-10-31T10:00:00Z' WHERE record_key = 'late'"
        )
        conn.execute("DELETE FROM usage WHERE record_key LIKE 'search-%'")
    assert team_spend() == {"ads": D("115"), None: D("2.51")}
    october = folded(conn, Selection(("day",), dt.date(2026, 10, 31), dt.date(2026, 10, 31)), True)
    assert october[0]["spend"] == D("0.01")
    assert conn.execute("SELECT COUNT(*) FROM report_dirty_days").fetchone()[0] == 0


def test_many_decimal_places_stay_exact(cli, tmp_path, monkeypatch):
    records = [
        record(f"r{i}", 1 + i % 3, model="gpt-5", billed_cost=D("0.000000000000000000001"),
               tags={"team": "t"})
        for i in range(30)
    ] + [record("big", 2, model="gpt-5", billed_cost=D("123456789012345678901234.5"))]  # fmt: skip
    monkeypatch.setenv("TOKCLI_STORE", str(write_store(tmp_path / "p.db", records)))
    doc = report_json(cli, "--by", "team")
    assert spend_by(doc, "team") == {
        "t": "0.00000000000000000003", None: "123456789012345678901234.5",
    }  # fmt: skip
    assert doc["total"]["spend"] == "123456789012345678901234.50000000000000000003"


def test_report_on_an_empty_store(cli):
    doc = report_json(cli, "--by", "day")
    assert doc["rows"] == [] and doc["total"]["spend"] == "0"
    assert report_json(cli)["summary"]["cost_per_request"] is None


def test_subprocess_json_and_stdout_only_data(tokcli_process, store):
    result = tokcli_process("report", "--by", "team", "--format", "json",
                            env={"TOKCLI_STORE": str(store)})  # fmt: skip
    assert result.exit_code == 0 and result.stderr == ""
    assert result.json()["total"]["spend"] == "347.5"


def test_report_modules_import_no_heavy_libraries(tokcli_process):
    import subprocess
    import sys

    code = (
        "import sys, tokcli.cli.report, tokcli.cli.budget, tokcli.reporting.views, "
        "tokcli.reporting.budgets, tokcli.reporting.html, tokcli.reporting.rollups; "
        "print(sorted(m for m in ('pandas', 'rich', 'jinja2', 'httpx', 'tiktoken') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_top_with_forecast_sums_the_folded_groups(cli, store):
    doc = report_json(cli, "--by", "team", "--top", "1", "--forecast")
    assert {r["team"]: r["forecast_weighted"] for r in doc["rows"]} == {
        "search": "300", "(other)": "153.134058",  # ads 150 + untagged 3.134058
    }  # fmt: skip


@pytest.mark.parametrize("key", ["team", "feature", "model", "tier", "provider"])
def test_summary_totals_in_sqlite_equal_the_fine_rows(store, key):
    from tokcli.reporting.query import totals_by
    from tokcli.reporting.totals import Totals

    conn = connect(store)
    refresh(conn)
    selection = Selection((key,), dt.date(2026, 11, 3), dt.date(2026, 11, 20))
    expected = {}
    for row in fetch(conn, selection):
        cell = expected.setdefault((row.group[0], row.currency), Totals())
        cell.add(row.totals)
    expected = {key: totals.as_dict() for key, totals in expected.items()}
    assert {v: t.as_dict() for v, t in totals_by(conn, selection).items()} == expected


def test_summary_with_a_filter(cli, store):
    summary = report_json(cli, "--where", "env=prod")["summary"]
    assert [(t["team"], t["spend"]) for t in summary["top_teams"]] == [
        ("search", "230"), ("ads", "115"),
    ]  # fmt: skip
    assert summary["batch_share"] == "0.3333"  # 115 / 345


def test_a_missing_pricing_override_is_an_error_even_on_an_empty_store(cli, tmp_path, isolated_env):
    """The registry is loaded only when there are rows to price (start-up, issue 17), but a
    named override file that does not exist is still refused."""
    store = tmp_path / "empty.db"
    assert cli("report", "--store", store).exit_code == 0
    (isolated_env / "tokcli.toml").write_text('[pricing]\noverrides = ["negotiated.yaml"]\n')
    result = cli("report", "--store", store)
    assert result.exit_code == 2
    assert "negotiated.yaml: pricing override file not found" in result.stderr
