"""The bad-input corpus (issues 13 and 21): damaged copies of every kind of input.

Every refused case: exit 2, exactly one line on stderr (`tokcli: error: FILE[:LINE]: ...`), no
traceback, and the store byte-for-byte what it was (an SQL dump compared before and after, on a
store that already holds data). Cases with a documented outcome other than refusal (a negative
cost is a credit, `-0` is 0, a BOM or UTF-16 file is read) assert that outcome. Large inputs
(the 50 MB line, the gzip bomb, 10k tiny files, the symlink loop) are generated in tmp_path.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import sqlite3
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import SAMPLES
from test_import_safety import FOCUS_HEADER, ai_row, focus_csv, run
from test_import_support import (
    exact_decimals,  # noqa: F401  (autouse: 60-digit sums)
    money_total,
    store_dump,
    store_rows,
    token_totals,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "import"
OPENAI_USAGE_CSV = FIXTURES / "completions_usage_2025-10-27_2025-10-28.csv"
AZURE = SAMPLES / "azure-cost-export" / "EA_ActualCost_Small.csv"
SEED = SAMPLES / "openai-usage-api" / "completions_usage_api.ipynb.usage_data.json"


@pytest.fixture
def store(cli, tmp_path):
    """A store that already holds data, so "unchanged" means something."""
    path = tmp_path / "s.db"
    assert run(cli, path, SEED).exit_code == 0
    return path


def assert_refused(result, store, before, *, says: str, where: str | None = None):
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("tokcli: error: "), lines
    assert "Traceback" not in result.stderr
    assert says in lines[0], lines[0]
    if where is not None:
        assert where in lines[0], lines[0]
    assert result.stdout == ""
    assert store_dump(store) == before


def focus_text(rows, header=FOCUS_HEADER) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


# ---- one file, one damage: (name, file name, bytes, what the error says, where) ----------------

GOOD_ROWS = [ai_row("1.50"), ai_row("2.00"), ai_row("3.25")]
GOOD = focus_text(GOOD_ROWS)
USAGE_CSV = OPENAI_USAGE_CSV.read_text(encoding="utf-8")
DEEP_JSON = "[" * 100_000 + "]" * 100_000
LITELLM_LINE = json.dumps({"request_id": "r1", "spend": 0, "startTime": "2025-09-01T00:00:00Z"})


def _with_cost(cost: str, currency: str = "USD") -> str:
    row = ai_row(cost)
    row[2] = currency
    return focus_text([ai_row("1.00"), row])


def _truncated_usage_csv() -> str:
    """The OpenAI dashboard CSV cut off in the middle of its fourth line (a data row)."""
    lines = USAGE_CSV.splitlines()
    return "\n".join(lines[:3]) + "\n" + lines[3][: len(lines[3]) // 2]


REFUSED = [
    ("truncated CSV row", "usage.csv", _truncated_usage_csv(), "short or truncated row", None),
    ("truncated CSV quote", "bill.csv", GOOD + '4.00,acct-1,USD,"2025-09-01', "truncated", None),
    ("truncated JSON", "usage.json", SEED.read_text()[:700], "invalid JSON", None),
    (
        "short row",
        "bill.csv",
        focus_text([*GOOD_ROWS[:1], ai_row("2")[:5], *GOOD_ROWS[1:]]),
        "short or truncated row",
        ":3:",
    ),
    ("long row", "bill.csv", focus_text([[*ai_row("2"), "extra"]]), "cells", ":2:"),
    (
        "duplicated column",
        "bill.csv",
        focus_text([[*ai_row("2"), "x"]], [*FOCUS_HEADER, "Tags"]),
        "duplicated column 'Tags'",
        ":1:",
    ),
    ("NaN", "bill.csv", _with_cost("NaN"), "not a finite number", ":3: BilledCost"),
    ("inf", "bill.csv", _with_cost("inf"), "not a finite number", ":3: BilledCost"),
    ("-Infinity", "bill.csv", _with_cost("-Infinity"), "not a finite number", ":3:"),
    ("1e400", "bill.csv", _with_cost("1e400"), "out of range", ":3: BilledCost"),
    ("beyond 1e15", "bill.csv", _with_cost("1000000000000001"), "out of range", ":3:"),
    ("1e-400", "bill.csv", _with_cost("1e-400"), "decimal places", ":3:"),
    ("bad thousands", "bill.csv", _with_cost("1,23.4"), "not a number", ":3:"),
    ("euro in USD file", "bill.csv", _with_cost("€12"), "contradicts the file's currency", ":3:"),
    ("dollar in EUR file", "bill.csv", _with_cost("$12", "EUR"), "contradicts", ":3:"),
    (
        "unparseable date",
        "bill.csv",
        focus_text([ai_row("1", day="2025-09-31")]),
        "not a date",
        ":2: ChargePeriodStart",
    ),
    (
        "unknown time zone",
        "bill.csv",
        GOOD.replace("2025-09-03T00:00:00Z", "2025-09-03T00:00:00 PST", 1),
        "not a date",
        ":2:",
    ),
    ("empty", "empty.csv", "", "the file is empty", None),
    ("whitespace only", "blank.csv", "\n\n  \n", "the file is empty", None),
    ("binary garbage", "garbage.csv", bytes(range(256)) * 64, "", None),
    ("100k-deep JSON", "deep.json", DEEP_JSON, "nested deeper than 200 levels", None),
    (
        "100k-deep JSON lines",
        "spend.jsonl",
        LITELLM_LINE + "\n" + DEEP_JSON + "\n",
        "nested deeper",
        ":2:",
    ),
]


@pytest.mark.parametrize(
    ("name", "file_name", "content", "says", "where"), REFUSED, ids=[c[0] for c in REFUSED]
)
def test_damaged_input_is_refused_with_one_line_and_the_store_unchanged(
    cli, tmp_path, store, name, file_name, content, says, where
):
    path = tmp_path / file_name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    before = store_dump(store)

    result = run(cli, store, path)

    assert_refused(result, store, before, says=says, where=where)
    assert str(path) in result.stderr


def test_a_truncated_usage_csv_no_longer_deletes_the_rows_it_would_have_replaced(cli, tmp_path):
    """Issue 13 point 2: the half row became a 0-token row and the window replacement deleted
    the good rows. Now: refused, store unchanged."""
    store = tmp_path / "s.db"
    full = tmp_path / "usage.csv"
    full.write_text(USAGE_CSV)
    assert run(cli, store, full).exit_code == 0
    before = store_dump(store)
    cut = tmp_path / "usage-cut.csv"
    cut.write_text(_truncated_usage_csv())

    result = run(cli, store, cut)

    assert_refused(result, store, before, says="short or truncated row", where=f"{cut}:4:")


def test_skip_bad_rows_still_rejects_a_short_row_and_keeps_the_others(cli, tmp_path):
    store = tmp_path / "s.db"
    path = tmp_path / "bill.csv"
    path.write_text(focus_text([ai_row("1.50"), ai_row("9")[:4], ai_row("2.00")]))

    result = run(cli, store, path, "--skip-bad-rows", "--rejects", tmp_path / "r.csv")

    assert result.exit_code == 0, result.stderr
    assert result.json()["files"][0]["rejected"] == 1
    assert money_total(store) == Decimal("3.50")


def test_latin1_bytes_are_reported_with_their_line(cli, tmp_path, store):
    path = tmp_path / "bill.csv"
    text = focus_text([ai_row("1"), ai_row("2"), ai_row("3")])
    lines = text.encode("utf-8").split(b"\n")
    lines[3] = lines[3].replace(b"Example AI", b"Exampl\xe9 AI")  # Latin-1 é on line 4
    path.write_bytes(b"\n".join(lines))
    before = store_dump(store)

    result = run(cli, store, path)

    assert_refused(result, store, before, says="not UTF-8", where=f"{path}:4:")


def test_non_utf8_transcript_line_is_named(cli, tmp_path, store):
    source = (SAMPLES / "claude-code-jsonl" / "short.jsonl").read_bytes().split(b"\n")
    source[1] = source[1] + b"\xff"
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"\n".join(source))
    before = store_dump(store)

    result = run(cli, store, path, "--source", "claude-code")

    assert_refused(result, store, before, says="not UTF-8", where=f"{path}:2:")


def _lone_surrogate_bill(tmp_path):
    """A bill whose third line's Tags cell escapes a lone surrogate: valid JSON, which
    json.loads reads, but no Unicode text, so no store can hold it."""
    rows = [ai_row("1"), ai_row("2"), ai_row("3")]
    rows[1][-1] = '{"team": "\\ud800search"}'
    return focus_csv(tmp_path / "bill.csv", rows)


def test_a_lone_surrogate_in_a_tag_is_a_bad_row_named_by_line_and_field(cli, tmp_path, store):
    path = _lone_surrogate_bill(tmp_path)
    before = store_dump(store)

    result = run(cli, store, path)

    assert_refused(result, store, before, says="not Unicode text", where=f"{path}:3: tags:")


def test_skip_bad_rows_rejects_the_row_with_a_lone_surrogate_and_keeps_the_others(cli, tmp_path):
    path = _lone_surrogate_bill(tmp_path)
    store = tmp_path / "s.db"

    result = run(cli, store, path, "--skip-bad-rows")

    assert result.exit_code == 0, result.stderr
    assert result.json()["totals"]["inserted"] == 2
    assert money_total(store) == Decimal("4")  # the rows of cost 1 and 3
    rejects = tmp_path / "r.csv"
    again = run(cli, tmp_path / "again.db", path, "--skip-bad-rows", "--rejects", rejects)
    assert again.exit_code == 0, again.stderr
    with rejects.open(encoding="utf-8", newline="") as handle:
        ((line, field, reason, _row),) = list(csv.reader(handle))[1:]
    assert (line, field) == ("3", "tags") and "lone surrogate" in reason


def test_a_lone_surrogate_in_a_transcript_is_a_bad_row(cli, tmp_path, store):
    """A Claude Code transcript (the real sample) whose response line escapes a lone surrogate
    in `cwd`, the project tag: the msgspec path refuses the line, json.loads reads it, and the
    row is refused on its line instead of failing the whole store write."""
    lines = (SAMPLES / "claude-code-jsonl" / "short.jsonl").read_text().splitlines()
    numbered = [n for n, line in enumerate(lines, 1) if '"usage"' in line and '"cwd"' in line]
    first = numbered[0]
    escaped = list(lines)
    escaped[first - 1] = escaped[first - 1].replace('"cwd":"', '"cwd":"\\udc80', 1)
    escaped[first - 1] = escaped[first - 1].replace('"cwd": "', '"cwd": "\\udc80', 1)
    assert escaped[first - 1] != lines[first - 1]
    path = tmp_path / "escaped.jsonl"
    path.write_text("\n".join(escaped) + "\n", encoding="utf-8")
    before = store_dump(store)

    result = run(cli, store, path, "--source", "claude-code")

    assert_refused(result, store, before, says="not Unicode text", where=f"{path}:{first}: tags:")


def test_1e400_in_an_azure_export_is_refused_before_commit(cli, tmp_path, store):
    lines = AZURE.read_text(encoding="utf-8-sig").splitlines()
    header = next(csv.reader([lines[0]]))
    rows = list(csv.reader(lines[1:]))
    rows[2][header.index("Cost")] = "1e400"
    path = tmp_path / "azure.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])
    before = store_dump(store)

    result = run(cli, store, path, "--all-services")

    assert_refused(result, store, before, says="out of range", where=f"{path}:4: Cost")


# ---- documented outcomes other than refusal ------------------------------------------------------


def test_negative_cost_is_a_credit_not_an_error(cli, tmp_path):
    """A negative usage cost is a refund or credit line (kept as its own row, never netted)."""
    store = tmp_path / "s.db"
    path = focus_csv(tmp_path / "bill.csv", [ai_row("5.00"), ai_row("-1.25")])
    result = run(cli, store, path)
    assert result.exit_code == 0, result.stderr
    kinds = sorted((r["charge_kind"], Decimal(r["billed_cost"])) for r in store_rows(store))
    assert kinds == [("refund", Decimal("-1.25")), ("usage", Decimal(5))]


def test_negative_zero_thousands_separators_and_matching_symbol_are_read_on_purpose(cli, tmp_path):
    store = tmp_path / "s.db"
    rows = [ai_row("-0"), ai_row("1,234.50"), ai_row("$12"), ai_row("-$0.50")]
    result = run(cli, store, focus_csv(tmp_path / "bill.csv", rows))
    assert result.exit_code == 0, result.stderr
    costs = sorted(Decimal(r["billed_cost"]) for r in store_rows(store))
    assert costs == [Decimal("-0.50"), Decimal(0), Decimal(12), Decimal("1234.50")]
    assert "-0" not in [r["billed_cost"] for r in store_rows(store)]  # -0 is stored as 0


def test_time_zones_are_converted_and_a_missing_zone_is_utc(cli, tmp_path):
    store = tmp_path / "s.db"
    text = focus_text([ai_row("1"), ai_row("2", day="2025-09-04")])
    text = text.replace("2025-09-03T00:00:00Z", "2025-09-03T05:30:00+05:30", 1)
    text = text.replace("2025-09-04T00:00:00Z", "2025-09-04 00:00:00", 1)
    path = tmp_path / "bill.csv"
    path.write_text(text)
    assert run(cli, store, path).exit_code == 0
    starts = sorted(r["period_start"] for r in store_rows(store))
    assert starts == ["2025-09-03T00:00:00Z", "2025-09-04T00:00:00Z"]


def test_utf16_and_utf8_bom_files_are_read(cli, tmp_path):
    text = focus_text(GOOD_ROWS)
    for name, data in (
        ("utf16.csv", text.encode("utf-16")),  # with its BOM
        ("bom.csv", b"\xef\xbb\xbf" + text.encode("utf-8")),
    ):
        store = tmp_path / f"{name}.db"
        path = tmp_path / name
        path.write_bytes(data)
        result = run(cli, store, path)
        assert result.exit_code == 0, result.stderr
        assert money_total(store) == Decimal("6.75")


def test_header_only_file_imports_nothing_and_changes_nothing(cli, tmp_path, store):
    path = tmp_path / "bill.csv"
    path.write_text(focus_text([]))
    before = store_dump(store)
    result = run(cli, store, path)
    assert result.exit_code == 0, result.stderr
    assert result.json()["files"][0]["status"] == "unchanged"
    assert store_dump(store) == before


# ---- limits ----------------------------------------------------------------------------------


def test_a_50_mb_single_line_is_refused_by_the_line_limit(cli, tmp_path, store):
    path = tmp_path / "long.csv"
    with path.open("w") as handle:
        handle.write(",".join(FOCUS_HEADER) + "\n")
        handle.write("1," + "x" * (50 * 1024 * 1024) + "\n")
    before = store_dump(store)
    result = run(cli, store, path)
    assert_refused(result, store, before, says="longer than", where=f"{path}:2:")
    assert "--limit line-length=" in result.stderr


def _bomb(path: Path, size: int) -> Path:
    """A gzip'd FOCUS header followed by one line of `size` zeros: ~1000:1."""
    with gzip.open(path, "wb", compresslevel=9) as handle:
        handle.write((",".join(FOCUS_HEADER) + "\n").encode())
        chunk = b"0" * (1 << 20)
        for _ in range(size >> 20):
            handle.write(chunk)
    return path


def test_a_gzip_bomb_stops_at_the_decompression_ratio(cli, tmp_path, store):
    path = _bomb(tmp_path / "bomb.csv.gz", 80 << 20)
    assert path.stat().st_size < 200_000
    before = store_dump(store)
    # the line limit raised so that the ratio, not the line length, is what stops it
    result = run(cli, store, path, "--limit", "line-length=1000000000")
    assert_refused(result, store, before, says="times its compressed size", where=str(path))
    assert "--limit decompression-ratio=" in result.stderr


def test_the_absolute_decompressed_limit_is_configurable(cli, tmp_path, store):
    path = _bomb(tmp_path / "bomb.csv.gz", 4 << 20)
    config = tmp_path / "tokcli.toml"
    config.write_text("[import.limits]\ndecompressed_bytes = 1000000\n")
    before = store_dump(store)
    result = cli(
        "import", path, "--store", store, "--format", "json",
        "--limit", "line-length=1000000000",
        env={"TOKCLI_CONFIG": str(config)},
    )  # fmt: skip
    assert_refused(result, store, before, says="more than 1,000,000 bytes")


def test_rows_and_json_depth_limits_can_be_lowered_and_say_how_to_raise_them(cli, tmp_path, store):
    before = store_dump(store)
    bill = focus_csv(tmp_path / "bill.csv", GOOD_ROWS)
    result = run(cli, store, bill, "--limit", "rows=2")
    assert_refused(result, store, before, says="more than 2 rows", where=f"{bill}:4:")
    assert "--limit rows=N" in result.stderr
    nested = tmp_path / "nested.json"
    nested.write_text(json.dumps({"a": [[[[[[{"b": 1}]]]]]]}))
    result = run(cli, store, nested, "--limit", "json-depth=5", "--source", "openai-usage")
    assert_refused(result, store, before, says="nested deeper than 5 levels")


def test_an_unknown_limit_name_is_a_usage_error(cli, tmp_path):
    result = run(cli, tmp_path / "s.db", SEED, "--limit", "bytes=5")
    assert result.exit_code == 2
    assert "unknown limit 'bytes'" in result.stderr


# ---- archives and folders --------------------------------------------------------------------


def test_a_zip_member_with_dot_dot_is_refused(cli, tmp_path, store):
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("../../evil.csv", GOOD)
    before = store_dump(store)
    result = run(cli, store, path)
    assert_refused(result, store, before, says="points outside the archive", where=str(path))
    assert not (tmp_path.parent / "evil.csv").exists()


def test_a_folder_that_is_a_symlink_loop_is_reported(cli, tmp_path, store):
    folder = tmp_path / "exports"
    folder.mkdir()
    os.symlink(folder, folder / "again")
    before = store_dump(store)
    result = run(cli, store, folder)
    assert_refused(result, store, before, says="symlink loop")


def test_a_path_that_is_a_symlink_to_itself_is_reported(cli, tmp_path, store):
    link = tmp_path / "self"
    os.symlink(link, link)
    before = store_dump(store)
    result = run(cli, store, link)
    assert_refused(result, store, before, says="symlink loop", where=str(link))


def test_a_folder_with_no_data_files_is_reported(cli, tmp_path, store):
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "README.md").write_text("nothing here")
    before = store_dump(store)
    assert_refused(run(cli, store, folder), store, before, says="holds no data files")


def test_one_bad_file_among_good_ones_is_named_and_the_others_are_imported(cli, tmp_path):
    store = tmp_path / "s.db"
    good = focus_csv(tmp_path / "a.csv", [ai_row("1.50")])
    bad = tmp_path / "b.csv"
    bad.write_text(_with_cost("NaN"))
    other = focus_csv(tmp_path / "c.csv", [ai_row("2.00", account="acct-2")])

    result = run(cli, store, good, bad, other)

    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("tokcli: error:")]
    assert errors == [f"tokcli: error: {bad}:3: BilledCost: not a finite number: 'NaN'"]
    assert money_total(store) == Decimal("3.50")
    assert [Path(f["path"]).name for f in result.json()["files"]] == ["a.csv", "c.csv"]


def test_a_folder_of_10k_tiny_parts_imports_as_one_set(cli, tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    header = ",".join(FOCUS_HEADER) + "\n"
    expected = Decimal(0)
    for n in range(1, 10_001):
        cost = Decimal(n) / 100
        expected += cost
        row = ai_row(str(cost), day=f"2025-09-{n % 28 + 1:02d}", qty=str(n))
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(row)
        (folder / f"part-{n:05d}.csv").write_text(header + buffer.getvalue())
    store = tmp_path / "s.db"

    result = run(cli, store, folder)

    assert result.exit_code == 0, result.stderr
    assert len(result.json()["files"]) == 1
    assert money_total(store) == expected
    assert token_totals(store)["input_tokens"] == sum(range(1, 10_001))
    with sqlite3.connect(store) as conn:
        assert conn.execute("SELECT count(*) FROM imports").fetchone()[0] == 1


def _multi_member_bomb(path: Path, members: int) -> Path:
    """A FOCUS header, then `members` gzip members of 64 MiB of zeros each (one long line):
    ~65 KB on disk per 64 MiB inflated."""
    block = gzip.compress(b"0" * (64 << 20), compresslevel=9)
    with path.open("wb") as handle:
        handle.write(gzip.compress((",".join(FOCUS_HEADER) + "\n").encode()))
        for _ in range(members):
            handle.write(block)
    return path


def test_a_2_gib_bomb_is_refused_within_a_memory_cap(tmp_path):
    """Run the real CLI with its address space capped at 1.5 GiB: a 2 GiB gzip bomb must stop
    with a limit's message, not with MemoryError or after inflating it all. (The ratio limit
    on its own is test_a_gzip_bomb_stops_at_the_decompression_ratio.)"""
    import resource
    import subprocess
    import sys

    bomb = _multi_member_bomb(tmp_path / "bomb.csv.gz", 32)
    cap = 1536 << 20

    def capped():
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    args = [sys.executable, "-m", "tokcli", "import", str(bomb), "--store", str(tmp_path / "s.db")]
    proc = subprocess.run(
        args, capture_output=True, text=True, preexec_fn=capped, timeout=120, env=os.environ
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "longer than" in lines[0]
