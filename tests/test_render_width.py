"""Tables fit the terminal: text is cut with "…" or folded into blocks, money is never cut, and a
pipe (no terminal, no COLUMNS) gets every character (issue 12)."""

from __future__ import annotations

import csv
import fcntl
import json
import os
import pty
import struct
import termios
from collections import defaultdict
from decimal import Decimal

import pytest

from conftest import SAMPLES
from tokcli.render import Column, format_table, table_width, text_width

# Two real FOCUS specification examples with distinct rows (ai_model_identity_a.csv repeats
# rows of ai_prompt_caching_a.csv and is replaced by it on import, so it is left out here).
FOCUS_AI = [SAMPLES / "focus-ai" / "multi_model_usage.csv",
            SAMPLES / "focus-ai" / "ai_prompt_caching_a.csv"]  # fmt: skip


def billed_by_model() -> dict[str, Decimal]:
    """BilledCost per ModelId, read straight from the CSVs (not through tokcli)."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for path in FOCUS_AI:
        with path.open(newline="") as handle:
            for row in csv.DictReader(handle):
                if row["ChargeCategory"] == "Usage":
                    model = json.loads(row["SkuPriceDetails"])["ModelId"]
                    totals[model] += Decimal(row["BilledCost"])
    return dict(totals)


def dollars(amount: Decimal) -> str:
    return f"${amount.quantize(Decimal('0.01')):,}"


@pytest.fixture
def wide_report(cli, tmp_path):
    """`report --by model,source` over the real files: 12 columns, ~160 characters wide."""
    store = tmp_path / "s.db"
    assert cli("import", *FOCUS_AI, "--store", store).exit_code == 0

    def run(columns: str | None) -> list[str]:
        env = {"COLUMNS": columns} if columns is not None else None
        result = cli("report", "--by", "model,source", "--store", store, env=env)
        assert result.exit_code == 0, result.stderr
        return result.stdout.splitlines()

    return run


def blocks(lines: list[str]) -> list[list[str]]:
    """The table blocks of a report: each starts with its header line (first cell `model`)."""
    found: list[list[str]] = []
    for line in lines:
        if line.startswith("model "):
            found.append([])
        if found and line.strip() and not line.startswith("note:"):
            found[-1].append(line)
    return found


def test_sixty_columns_every_line_fits_and_every_dollar_is_whole(wide_report):
    expected = billed_by_model()
    assert expected == {"solora-atlas-5.5": Decimal("100.00"),
                        "solora-atlas-5.4-mini": Decimal("4.50"),
                        "solora-reasoning-pro": Decimal("33.90")}  # fmt: skip
    lines = wide_report("60")
    too_long = [line for line in lines if len(line) > 60]
    assert too_long == []
    spend_block = next(b for b in blocks(lines) if " spend" in b[0])
    for model, amount in expected.items():
        row = next(line for line in spend_block if line.startswith(model + " "))
        assert dollars(amount) in row.split(), row  # the model name and its spend, both whole
    # Folding loses no column: every header of the 200-column table is in some 60-column block.
    wide_headers = set(blocks(wide_report("200"))[0][0].split("  ")) - {""}
    narrow_headers = {h for b in blocks(lines) for h in b[0].split("  ")} - {""}
    assert {h.strip() for h in wide_headers} <= {h.strip() for h in narrow_headers}


def test_two_hundred_columns_is_one_block_with_its_bar_chart(wide_report):
    lines = wide_report("200")
    assert len(blocks(lines)) == 1
    assert max(len(line) for line in lines) <= 200
    assert max(len(line) for line in lines) > 120  # the table really is wide
    assert any("█" in line for line in lines)
    assert not any("…" in line for line in lines)
    for model, amount in billed_by_model().items():
        row = next(line for line in lines if line.startswith(model + " "))
        assert dollars(amount) in row.split()


def test_a_pipe_without_columns_gets_whole_lines(wide_report):
    lines = wide_report(None)  # CliRunner's stdout is no terminal; COLUMNS unset
    assert lines == wide_report("1000")
    assert len(blocks(lines)) == 1 and max(len(line) for line in lines) > 120


def test_text_is_cut_with_an_ellipsis_numbers_never():
    columns = [Column("name", "name"), Column("cost", "cost", "money"), Column("n", "n", "int")]
    rows = [{"name": "a-very-long-deployment-name-" * 3, "cost": Decimal("1234567.891"),
             "n": 123456789}]  # fmt: skip
    lines = format_table(rows, columns, width=40).splitlines()
    assert max(len(line) for line in lines) <= 40
    assert "$1,234,567.89" in lines[2] and "123,456,789" in lines[2]
    assert lines[2].startswith("a-very-long… ")  # cut to the 12 characters that fit


def test_a_number_wider_than_the_terminal_is_still_whole():
    columns = [Column("k", "key"), Column("cost", "cost", "money")]
    rows = [{"k": "team-a", "cost": Decimal("123456789012345678.25")}]
    text = format_table(rows, columns, width=10)
    assert "$123,456,789,012,345,678.25" in text


def test_the_width_comes_from_columns_then_the_terminal_then_none():
    class Pipe:
        def isatty(self):
            return False

    assert table_width(Pipe(), {"COLUMNS": "72"}) == 72
    assert table_width(Pipe(), {}) is None
    assert table_width(Pipe(), {"COLUMNS": "wide"}) is None
    leader, follower = pty.openpty()
    try:
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 57, 0, 0))
        with os.fdopen(follower, "w", closefd=False) as terminal:
            assert table_width(terminal, {}) == 57
            assert table_width(terminal, {"COLUMNS": "90"}) == 90
    finally:
        os.close(leader)
        os.close(follower)


def test_wide_characters_count_as_two_columns():
    columns = [Column("team", "team"), Column("spend", "spend", "money")]
    rows = [{"team": "検索チーム-東京-本社-第二開発部", "spend": Decimal("12.5")},
            {"team": "search", "spend": Decimal("3")}]  # fmt: skip
    lines = format_table(rows, columns, width=30).splitlines()
    assert [text_width(line) for line in lines[2:]] == [30, 30]  # cut, and aligned as shown
    assert lines[2].endswith("$12.50") and "…" in lines[2] and lines[3].endswith("$3.00")
    whole = format_table(rows, columns).splitlines()
    assert text_width(whole[2]) == text_width(whole[3])  # aligned without a width too
