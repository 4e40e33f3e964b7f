"""`tokcli report --format html`: one self-contained page with inline SVG charts.

The headless-Chromium check is documented in the README, `tokcli report` (with its screenshot);
these tests check the page itself everywhere: well-formed, no scripts, nothing fetched."""

from __future__ import annotations

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


def test_page_is_self_contained_with_charts(cli, tmp_path, monkeypatch):
    records = [
        record(f"r{day}", day, model="gpt-5", billed_cost=Decimal(day), tags={"team": "search"})
        for day in range(1, 11)
    ] + [record("u", 4, model="gpt-5", billed_cost=Decimal(7))]  # fmt: skip
    monkeypatch.setenv("TOKCLI_STORE", str(write_store(tmp_path / "h.db", records)))
    html, checker = page(cli, tmp_path, "--by", "team", "--forecast", "--anomalies")
    assert html.startswith("<!DOCTYPE html>")
    assert checker.errors == [] and checker.open == []
    assert "script" not in checker.tags and "link" not in checker.tags and "img" not in checker.tags
    assert checker.fetching == []
    assert checker.tags.count("svg") == 2  # spend per day, spend by team
    assert checker.tags.count("rect") == 30 + 2  # one bar per day of November, one per team
    text = " ".join(checker.text)
    assert "$55.00" in text and "(untagged)" in text and "Forecast" in text


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
