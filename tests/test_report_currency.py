"""Money never crosses currencies: a store with USD, EUR and JPY spend reports each currency on
its own (json, table, markdown, csv), or converts with the rates the user gives. Every expected
figure is computed here from the records the store was written from."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest

from test_report import record, write_store

D = Decimal

# (key, day, team, currency, billed) -- the example: USD 100, EUR 100, USD -30, JPY 5000
ROWS = [
    ("u1", 3, "search", "USD", D("100")),
    ("e1", 4, "ads", "EUR", D("100")),
    ("u2", 5, "search", "USD", D("-30")),
    ("j1", 6, "tokyo", "JPY", D("5000")),
    ("u3", 6, "ads", "USD", D("12.5")),
]


def mixed_records():
    return [
        record(key, day, provider="openai", model="gpt-5", requests=1, billed_cost=amount,
               currency=currency, tags={"team": team})
        for key, day, team, currency, amount in ROWS
    ]  # fmt: skip


def expected_totals() -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for _, _, _, currency, amount in ROWS:
        totals[currency] += amount
    return dict(totals)


@pytest.fixture
def mixed(tmp_path, monkeypatch):
    path = write_store(tmp_path / "mixed.db", mixed_records())
    monkeypatch.setenv("TOKCLI_STORE", str(path))
    return path


def report_json(cli, *args) -> dict:
    result = cli("report", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return result.json()


def test_json_totals_are_per_currency_never_summed(cli, mixed):
    doc = report_json(cli, "--by", "team")
    expected = expected_totals()
    assert doc["currencies"] == sorted(expected)
    assert doc["currency"] is None and doc["total"] is None  # no single total exists
    assert {t["currency"]: D(t["spend"]) for t in doc["totals"]} == expected
    assert {t["currency"]: D(t["billed_cost"]) for t in doc["totals"]} == expected
    assert "5170" not in doc["totals"].__repr__()
    # every row carries its currency; shares add up to 1 within each currency
    for currency, total in expected.items():
        rows = [r for r in doc["rows"] if r["currency"] == currency]
        assert sum(D(r["spend"]) for r in rows) == total
        assert sum(D(r["share"]) for r in rows) == 1
    tokyo = next(r for r in doc["rows"] if r["team"] == "tokyo")
    assert (tokyo["currency"], tokyo["spend"], tokyo["share"]) == ("JPY", "5000", "1")
    # ads spends in two currencies: two rows, one per currency, never one sum
    ads = {r["currency"]: r["spend"] for r in doc["rows"] if r["team"] == "ads"}
    assert ads == {"EUR": "100", "USD": "12.5"}


def test_table_has_one_section_per_currency_with_its_own_symbol(cli, mixed):
    result = cli("report", "--by", "team")
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    for heading in ("spend in EUR", "spend in JPY", "spend in USD"):
        assert heading in text
    assert "¥5,000" in text and "$5,000" not in text and "$5,170" not in text
    assert "€100.00" in text and "$100.00" not in text.split("spend in USD")[0]
    usd = sum(v for c, v in expected_totals().items() if c == "USD")
    assert f"${usd:,.2f}" in text  # the USD total, on its own
    assert "never added together" in text
    markdown = cli("report", "--by", "team", "--format", "markdown").stdout
    assert "### spend in EUR" in markdown and "**spend in JPY**" in markdown
    assert "| tokyo | billed | ¥5,000 |" in markdown


def test_csv_carries_the_currency_of_every_row(cli, mixed):
    import csv
    import io

    text = cli("report", "--by", "team", "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        sums[row["currency"]] += D(row["spend"])
    assert dict(sums) == expected_totals()


def test_summary_and_day_series_are_per_currency(cli, mixed):
    doc = report_json(cli)
    assert {t["currency"]: D(t["spend"]) for t in doc["totals"]} == expected_totals()
    per = {c["currency"]: c for c in doc["summary"]["currencies"]}
    assert per["JPY"]["top_teams"] == [
        {"team": "tokyo", "currency": "JPY", "spend": "5000", "share": "1"}
    ]
    table = cli("report").stdout
    assert "spend (JPY)" in table and "¥5,000" in table and "$5,170" not in table
    days = report_json(cli, "--by", "day")
    for point in days["daily"]:
        day = point["day"]
        want = sum(
            (a for _, d, _, c, a in ROWS if c == point["currency"] and f"2026-11-{d:02d}" == day),
            D(0),
        )
        assert D(point["spend"]) == want


def test_fx_converts_every_amount_and_records_the_rates(cli, mixed):
    rates = {"EUR": D("1.08"), "JPY": D("0.0066")}
    doc = report_json(cli, "--by", "team", "--fx", "EUR=1.08,JPY=0.0066")
    want = sum(a * (rates.get(c, D(1))) for _, _, _, c, a in ROWS)
    assert doc["currencies"] == ["USD"] and doc["currency"] == "USD"
    assert D(doc["total"]["spend"]) == want  # 70 + 12.5 + 108 + 33 = 223.5
    assert D(doc["total"]["billed_cost"]) == want
    assert doc["fx"]["target"] == "USD"
    assert doc["fx"]["rates"] == {"EUR": "1.08", "JPY": "0.0066"}
    ads = next(r for r in doc["rows"] if r["team"] == "ads")
    assert D(ads["spend"]) == D("100") * D("1.08") + D("12.5")
    table = cli("report", "--by", "team", "--fx", "EUR=1.08,JPY=0.0066").stdout
    assert "1 EUR = 1.08 USD" in table and "1 JPY = 0.0066 USD" in table
    to_eur = report_json(cli, "--fx", "USD=0.9,JPY=0.006", "--fx-to", "EUR")
    assert D(to_eur["total"]["spend"]) == D("82.5") * D("0.9") + 100 + D("5000") * D("0.006")


def test_fx_files_toml_and_csv(cli, mixed, tmp_path):
    toml = tmp_path / "rates.toml"
    toml.write_text('target = "USD"\n[rates]\nEUR = "1.08"\nJPY = "0.0066"\n', encoding="utf-8")
    csv_file = tmp_path / "rates.csv"
    csv_file.write_text("currency,rate\nEUR,1.08\nJPY,0.0066\n", encoding="utf-8")
    by_flag = report_json(cli, "--fx", "EUR=1.08,JPY=0.0066")["total"]["spend"]
    for path in (toml, csv_file):
        doc = report_json(cli, "--fx-file", path)
        assert doc["total"]["spend"] == by_flag
        assert doc["fx"]["source"] == str(path)


def test_fx_without_a_rate_for_a_currency_is_an_error_naming_it(cli, mixed):
    result = cli("report", "--by", "team", "--fx", "EUR=1.08")
    assert result.exit_code == 2 and result.stdout == ""
    assert "no rate for JPY" in result.stderr and result.stderr.count("\n") == 1
    bad = cli("report", "--fx", "EUR=lots")
    assert bad.exit_code == 2 and "--fx" in bad.stderr
    negative = cli("report", "--fx", "EUR=-1")
    assert negative.exit_code == 2 and "greater than 0" in negative.stderr


def test_allocation_is_per_currency(cli, mixed):
    result = cli("report", "--by", "team", "--allocate-shared", "10.00", "--format", "json")
    assert result.exit_code == 2 and "several currencies" in result.stderr
    doc = report_json(cli, "--by", "team", "--allocate-shared", "10.00EUR")
    assert doc["allocation"]["currency"] == "EUR"
    shared = {r["team"]: r.get("shared_cost") for r in doc["rows"] if r["currency"] == "EUR"}
    assert shared == {"ads": "10"}
    assert all("shared_cost" not in r for r in doc["rows"] if r["currency"] != "EUR")


def test_forecast_and_anomaly_baselines_are_per_currency(cli, tmp_path, monkeypatch):
    records = []
    for day in range(2, 23):  # EUR: 10 a day with a spike to 50 on the 18th; USD: 1000 a day
        records.append(
            record(
                f"e{day}",
                day,
                model="gpt-5",
                currency="EUR",
                billed_cost=D("50") if day == 18 else D("10"),
                tags={"team": "a"},
            )
        )
        records.append(record(f"u{day}", day, model="gpt-5", currency="USD",
                              billed_cost=D("1000"), tags={"team": "a"}))  # fmt: skip
    monkeypatch.setenv("TOKCLI_STORE", str(write_store(tmp_path / "f.db", records)))
    doc = report_json(cli, "--by", "team", "--anomalies", "--since", "2026-11-02",
                      "--until", "2026-11-22")  # fmt: skip
    spikes = [i for i in doc["anomalies"]["items"] if i["kind"] == "spike"]
    # summed across currencies the day would be 1050 against a 1010 baseline: no spike at all
    assert spikes == [{"team": "a", "currency": "EUR", "kind": "spike", "period": "2026-11-18",
                       "spend": "50", "baseline": "10", "jump": "40", "ratio": "5"}]  # fmt: skip
    forecast = report_json(cli, "--by", "team", "--forecast")["forecast"]
    by_currency = {f["currency"]: f for f in forecast["by_currency"]}
    assert D(by_currency["EUR"]["actual"]) == sum(
        (r.billed_cost for r in records if r.currency == "EUR"), D(0)
    )
    assert D(by_currency["USD"]["actual"]) == D("1000") * 21
    assert "forecast_weighted" not in forecast  # no single figure across currencies


def budget_config(tmp_path, text: str):
    path = tmp_path / "tokcli.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_budget_in_usd_against_eur_spend_needs_a_rate(cli, mixed, tmp_path, monkeypatch):
    monkeypatch.setenv("TOKCLI_CONFIG", str(budget_config(tmp_path, (
        '[[budgets]]\nname = "ads"\nscope = { team = "ads" }\namount = "1000"\n'
    ))))  # fmt: skip
    result = cli("budget", "check")
    assert result.exit_code == 2, result.stdout
    assert "'ads' is in USD" in result.stderr and "EUR" in result.stderr
    assert result.stderr.count("\n") == 1


def test_budget_converts_with_its_rates_or_uses_its_currency(cli, mixed, tmp_path, monkeypatch):
    monkeypatch.setenv("TOKCLI_CONFIG", str(budget_config(tmp_path, (
        '[[budgets]]\nname = "ads"\nscope = { team = "ads" }\namount = "100"\n'
        'fx = { EUR = "1.08" }\n'
        '[[budgets]]\nname = "tokyo"\nscope = { team = "tokyo" }\namount = "4000"\n'
        'currency = "JPY"\n'
    ))))  # fmt: skip
    result = cli("budget", "check", "--format", "json")
    assert result.exit_code == 1  # both are over
    budgets = {b["name"]: b for b in result.json()["budgets"]}
    assert D(budgets["ads"]["spend"]) == D("100") * D("1.08") + D("12.5")
    assert budgets["ads"]["currency"] == "USD" and budgets["ads"]["fx"]["rates"] == {"EUR": "1.08"}
    assert (budgets["tokyo"]["currency"], budgets["tokyo"]["spend"]) == ("JPY", "5000")
    table = cli("budget", "check").stdout
    assert "¥5,000" in table and "¥4,000" in table and "$5,000" not in table


def test_money_text_never_puts_a_dollar_on_another_currency():
    from tokcli.reporting.valuation import money_text

    assert money_text(D("5000"), "JPY") == "¥5,000"
    assert money_text(D("1234.5"), "EUR") == "€1,234.50"
    assert money_text(D("-3"), "CHF") == "-CHF 3.00"
    assert money_text(D("12"), "USD") == "$12.00"
