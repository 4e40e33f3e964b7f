"""`tokcli report --format html`: one self-contained page with inline SVG charts.

The headless-Chromium check is documented in the README, `tokcli report` (with its screenshot);
these tests check the page itself everywhere: well-formed, no scripts, nothing fetched."""

from __future__ import annotations

import itertools
import re
from decimal import Decimal
from html.parser import HTMLParser

from test_report import record, write_store


class PageChecker(HTMLParser):
    """Collects tags and every attribute that could make a browser fetch something."""

    VOID = frozenset({"meta", "br", "img", "input", "link", "hr"})

    def __init__(self):
        super().__init__()
        self.open: list[str] = []
        self.tags: list[str] = []
        self.fetching: list[str] = []
        self.errors: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "srcset", "action", "data") or (
                value and re.search(r"url\(|@import", value)
            ):
                self.fetching.append(f"{tag} {name}={value}")
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"unexpected </{tag}> (open: {self.open[-3:]})")
            return
        self.open.pop()

    def handle_data(self, data):
        self.text.append(data)


def page(cli, tmp_path, *args) -> tuple[str, PageChecker]:
    out = tmp_path / "report.html"
    result = cli("report", *args, "--format", "html", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""  # the page went to the file
    html = out.read_text(encoding="utf-8")
    checker = PageChecker()
    checker.feed(html)
    checker.close()
    return html, checker


class Elements(HTMLParser):
    """Every element with its attributes and the text inside it (for svg <title> and labels)."""

    def __init__(self):
        super().__init__()
        self.found: list[dict] = []
        self.stack: list[dict] = []

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, **dict(attrs), "text": ""}
        self.found.append(element)
        if tag not in PageChecker.VOID:
            self.stack.append(element)

    def handle_endtag(self, tag):
        if self.stack:
            self.stack.pop()

    def handle_data(self, data):
        for element in self.stack:  # an svg <title> names its parent shape
            element["text"] += data

    def having(self, css: str) -> list[dict]:
        return [e for e in self.found if css in (e.get("class") or "").split()]


def money(text: str) -> Decimal:
    return Decimal(text.replace("$", "").replace(",", ""))


def dashboard_store(tmp_path, monkeypatch):
    """Nov 1..23: team a 10 a day (a spike of 60 planted on Nov 18), team b 5 a day, untagged
    2 a day; the clock is Nov 24, so the month has 30 days and a forecast."""
    records = []
    for day in range(1, 24):
        a = Decimal(60) if day == 18 else Decimal(10)
        records += [
            record(f"a{day}", day, model="gpt-5", billed_cost=a, currency="USD",
                   tags={"team": "a"}),
            record(f"b{day}", day, model="gpt-5", billed_cost=Decimal(5), currency="USD",
                   tags={"team": "b"}),
            record(f"u{day}", day, model="gpt-5", billed_cost=Decimal(2), currency="USD"),
        ]  # fmt: skip
    monkeypatch.setenv("TOKCLI_STORE", str(write_store(tmp_path / "h.db", records)))
    config = tmp_path / "tokcli.toml"
    config.write_text('[[budgets]]\nname = "org"\namount = "800"\n', encoding="utf-8")
    monkeypatch.setenv("TOKCLI_CONFIG", str(config))
    daily = {day: (Decimal(60) if day == 18 else Decimal(10)) + 7 for day in range(1, 24)}
    return records, daily


def test_page_is_a_self_contained_dashboard(cli, tmp_path, monkeypatch):
    _, daily = dashboard_store(tmp_path, monkeypatch)
    html, checker = page(cli, tmp_path, "--by", "team", "--month", "2026-11", "--forecast",
                         "--anomalies")  # fmt: skip
    assert html.startswith("<!DOCTYPE html>")
    assert checker.errors == [] and checker.open == []
    assert "script" not in checker.tags and "link" not in checker.tags and "img" not in checker.tags
    assert checker.fetching == [] and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )
    assert "https://" not in html
    elements = Elements()
    elements.feed(html)
    # one bar per day of the month, none missing after the 25th
    bars = elements.having("day-bar")
    assert [b["data-day"] for b in bars] == [f"2026-11-{d:02d}" for d in range(1, 31)]
    assert [money(b["data-spend"]) for b in bars[:23]] == [daily[d] for d in range(1, 24)]
    assert all(money(b["data-spend"]) == 0 for b in bars[23:])
    # a y-axis in dollars: $0.00 up to the first round step at or above the biggest day
    labels = [money(t["text"]) for t in elements.having("y-label")]
    first_chart = labels[: labels.index(Decimal(0), 1)] if labels.count(Decimal(0)) > 1 else labels
    steps = {b - a for a, b in itertools.pairwise(first_chart)}
    assert first_chart[0] == 0 and len(steps) == 1
    assert first_chart[-1] >= max(daily.values()) > first_chart[-2]
    # stacked by team: a series per team (untagged included), each day's pieces add up
    pieces = elements.having("series")
    assert {e["data-group"] for e in pieces} == {"a", "b", "(untagged)"}
    by_group: dict[str, Decimal] = {}
    for piece in pieces:
        by_group[piece["data-group"]] = by_group.get(piece["data-group"], 0) + money(
            piece["data-spend"]
        )
    assert by_group == {"a": Decimal(10) * 22 + 60, "b": Decimal(5) * 23, "(untagged)": 46}
    # budget and forecast lines, an anomaly marker on the planted spike
    assert [e["data-budget"] for e in elements.having("budget")] == ["org"]
    assert len(elements.having("forecast")) == 1
    markers = elements.having("anomaly")
    assert len(markers) == 1 and "2026-11-18" in markers[0]["text"]
    assert "$1,110.00" not in html  # no cross-currency or wrong totals; the total is below
    assert f"${sum(daily.values()):,.2f}" in html


def test_page_has_no_budget_line_when_none_applies(cli, tmp_path, monkeypatch):
    dashboard_store(tmp_path, monkeypatch)
    html, _ = page(cli, tmp_path, "--by", "team", "--where", "team=a", "--month", "2026-11")
    elements = Elements()
    elements.feed(html)
    assert elements.having("budget") == []  # the org budget does not scope team=a
    assert elements.having("forecast") == []  # no --forecast asked


def test_page_has_one_section_per_currency(cli, tmp_path, monkeypatch):
    records = [
        record("u", 3, model="gpt-5", billed_cost=Decimal(100), currency="USD"),
        record("j", 4, model="gpt-5", billed_cost=Decimal(5000), currency="JPY",
               tags={"team": "tokyo"}),
    ]  # fmt: skip
    monkeypatch.setenv("TOKCLI_STORE", str(write_store(tmp_path / "c.db", records)))
    html, _ = page(cli, tmp_path, "--by", "team")
    elements = Elements()
    elements.feed(html)
    sections = [e["data-currency"] for e in elements.having("currency")]
    assert sections == ["JPY", "USD"]
    assert "¥5,000" in html and "$5,000" not in html and "$5,100" not in html
    assert any(t["text"].startswith("¥") for t in elements.having("y-label"))


def test_page_escapes_data(cli, tmp_path, monkeypatch):
    evil = '<script>alert("x")</script>'
    records = [record("e", 3, model="gpt-5", billed_cost=Decimal(1), tags={"team": evil})]
    monkeypatch.setenv("TOKCLI_STORE", str(write_store(tmp_path / "e.db", records)))
    html, checker = page(cli, tmp_path, "--by", "team")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "script" not in checker.tags and checker.errors == []


def test_html_to_stdout_and_day_series(cli, tmp_path, monkeypatch):
    records = [record(f"d{d}", d, model="gpt-5", billed_cost=Decimal(1)) for d in (1, 2, 5)]
    monkeypatch.setenv("TOKCLI_STORE", str(write_store(tmp_path / "d.db", records)))
    result = cli("report", "--by", "day", "--format", "html")
    assert result.exit_code == 0 and result.stdout.startswith("<!DOCTYPE html>")
    assert result.stdout.count('class="zero"') == 2  # Nov 3 and 4 drawn as empty days
    assert result.stdout.count('class="day-bar"') == 5
