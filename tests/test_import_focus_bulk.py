"""The FOCUS bulk path (sources/focus.py `_Bulk`, issue 17) gives what the row-by-row path
gives: the same records (money compared as text), skips, errors and record keys, on the real
FOCUS files in tests/fixtures/samples and on edge cases; and a store filled by the row-by-row
path takes a re-import by the bulk path as all duplicates."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SAMPLES
from tokcli.importers.fields import Occurrences
from tokcli.importers.format import Format, Options, each_row
from tokcli.importers.input_files import Source, csv_rows
from tokcli.importers.sources import focus

REAL_FILES = sorted((SAMPLES / "focus").glob("*.csv")) + sorted(
    (SAMPLES / "focus-ai").glob("*.csv")
)
HEADER = [
    "BilledCost", "BillingAccountId", "BillingCurrency", "BillingPeriodStart",
    "BillingPeriodEnd", "ChargeCategory", "ChargeClass", "ChargeDescription",
    "ChargePeriodStart", "ChargePeriodEnd", "ConsumedQuantity", "ConsumedUnit",
    "PricingQuantity", "PricingUnit", "ProviderName", "ServiceCategory", "ServiceName",
    "SkuId", "SkuMeter", "SubAccountId", "SubAccountName", "Tags",
]  # fmt: skip
GOOD = {
    "BilledCost": "1.25", "BillingAccountId": "acct-1", "BillingCurrency": "USD",
    "BillingPeriodStart": "2025-09-01T00:00:00Z", "BillingPeriodEnd": "2025-10-01T00:00:00Z",
    "ChargeCategory": "Usage", "ChargeClass": "", "ChargeDescription": "Input tokens",
    "ChargePeriodStart": "2025-09-02T00:00:00Z", "ChargePeriodEnd": "2025-09-02T01:00:00Z",
    "ConsumedQuantity": "1000", "ConsumedUnit": "Tokens", "PricingQuantity": "0.001",
    "PricingUnit": "1M Tokens", "ProviderName": "Example Cloud",
    "ServiceCategory": "AI and Machine Learning", "ServiceName": "Example AI", "SkuId": "sku-1",
    "SkuMeter": "Input Tokens", "SubAccountId": "sub-1", "SubAccountName": "Sub one",
    "Tags": '{"team": "search"}',
}  # fmt: skip


ROW_BY_ROW_CALLS: list[str] = []


def row_by_row(source: Source, options: Options):
    """The row-by-row path: what `focus.parse` did for every file before the bulk path."""
    ROW_BY_ROW_CALLS.append(source.name)
    occurrences = options.occurrences or Occurrences()
    return each_row(csv_rows(source), lambda row: focus._convert(row, options, occurrences))


def outcome(parsed) -> dict:
    """Everything a Parsed says, money as its exact text (Decimal 1.0 == 1.00 would hide a
    changed spelling), the row as the reject file would show it."""
    raw = parsed.raw.as_dict() if hasattr(parsed.raw, "as_dict") else parsed.raw
    records = []
    for record in parsed.records:
        fields = asdict(record)
        for name in ("billed_cost", "list_cost"):
            fields[name] = None if fields[name] is None else str(fields[name])
        records.append(fields)
    error = parsed.error
    return {
        "line": parsed.line,
        "skipped": parsed.skipped,
        "error": None if error is None else (type(error).__name__, str(error), error.field),
        "records": records,
        "billing_period": parsed.billing_period,
        "raw": raw if parsed.error is not None else None,
    }


def both_paths(path: Path, all_services: bool = False) -> tuple[list[dict], list[dict]]:
    bulk = [outcome(p) for p in focus.parse(Source(path), Options(all_services=all_services))]
    slow = [outcome(p) for p in row_by_row(Source(path), Options(all_services=all_services))]
    return bulk, slow


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
@pytest.mark.parametrize("all_services", [False, True])
def test_real_focus_files_give_the_same_records_both_ways(path, all_services):
    bulk, slow = both_paths(path, all_services)
    assert bulk == slow
    assert len(bulk) == sum(1 for _ in csv.DictReader(path.open(encoding="utf-8-sig")))


def test_the_real_files_exercise_records_skips_and_the_bulk_path():
    """The comparison above is worth something only if the files hold imported rows, skipped
    rows, and rows the bulk path itself reads (plain numbers, no tokcli columns)."""
    kinds = {"records": 0, "skipped": 0}
    for path in REAL_FILES:
        for parsed in focus.parse(Source(path), Options()):
            kinds["records" if parsed.records else "skipped"] += 1
    assert kinds["records"] > 10 and kinds["skipped"] > 1000
    sample = SAMPLES / "focus-ai" / "multi_model_usage.csv"
    names = next(csv.reader(sample.open(encoding="utf-8-sig")))
    assert focus.TOKCLI_COLUMNS.isdisjoint(names)
    bulk = focus._Bulk(names, Options(), Occurrences())
    cells = next(iter(csv.reader(io.StringIO(sample.read_text().split("\n", 1)[1]))))
    stable_key = focus.stable_key(focus.NAME, *cells)
    assert bulk._quick([*cells, None], stable_key).records  # read the quick way, no fallback


def write_csv(path: Path, rows: list[dict], header=HEADER, *, bom=False, newline="\r\n"):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator=newline)
    writer.writeheader()
    for row in rows:
        writer.writerow({name: row.get(name, "") for name in header})
    path.write_text(("\ufeff" if bom else "") + out.getvalue(), encoding="utf-8")
    return path


EDGE_ROWS = [
    GOOD,
    GOOD,  # an identical line item: numbered #1, as before
    {**GOOD, "BilledCost": "-0.00"},  # negative zero is stored as 0.00
    {**GOOD, "BilledCost": "-3.5", "ChargeCategory": "Usage"},  # a refund
    {**GOOD, "BilledCost": "$1,234.50"},  # a currency symbol and a thousands separator
    {**GOOD, "BilledCost": " 2.5 "},  # spaces around the number
    {**GOOD, "BilledCost": "1e3"},
    {**GOOD, "BilledCost": "0." + "1" * 41},  # more decimals than any export writes
    {**GOOD, "BilledCost": "NaN"},
    {**GOOD, "BilledCost": ""},  # BilledCost is not nullable
    {**GOOD, "BilledCost": "NULL"},
    {**GOOD, "ConsumedQuantity": ""},  # no quantity: no tokens
    {**GOOD, "ConsumedQuantity": "1,500"},
    {**GOOD, "ConsumedQuantity": "2.5e3"},
    {**GOOD, "ConsumedQuantity": "abc"},
    {**GOOD, "ConsumedUnit": "Requests"},  # tokens from PricingQuantity / PricingUnit
    {**GOOD, "ConsumedUnit": "Hours", "PricingUnit": "Hours"},  # no token unit at all
    {**GOOD, "ChargePeriodStart": "9/2/25"},
    {**GOOD, "ChargePeriodStart": "yesterday"},
    {**GOOD, "ChargePeriodEnd": ""},
    {**GOOD, "BillingPeriodEnd": ""},  # an incomplete file: rows only added
    {**GOOD, "BillingPeriodStart": "not a date"},
    {**GOOD, "Tags": '{"team": "a,b", "note": "line one\nline two", "flag": true}'},
    {**GOOD, "Tags": "{not json"},
    {**GOOD, "Tags": '{"owner": " padded ", "empty": "", "team": "x"} '},  # read quickly
    {**GOOD, "Tags": '{"count": 5, "null": null, "team": "x"}'},  # not all text: by _tags
    {**GOOD, "Tags": '{"team": "a", "team": "b"}'},  # a repeated name: the last one counts
    {**GOOD, "Tags": '{"caf\\u00e9": "\\u00fcber", "tab": "a\\tb"}'},  # escapes
    {**GOOD, "Tags": '{"team": {"nested": "x"}}'},  # an object inside: by _tags
    {**GOOD, "Tags": '{"team": "x"} trailing'},  # not JSON: the row's error, as before
    {**GOOD, "Tags": '{"team": "x\u007fy"}'},  # a raw DEL is JSON text
    {**GOOD, "Tags": '["not", "an", "object"]'},
    {**GOOD, "Tags": "{}", "ServiceName": "", "SubAccountName": "  "},
    {**GOOD, "Tags": '"owner": "me"'},  # Azure EA's object without braces
    {**GOOD, "Tags": "NULL", "SubAccountName": "", "SubAccountId": "sub-9"},
    {**GOOD, "ServiceCategory": "Compute"},  # not AI: skipped unless --all-services
    {**GOOD, "ServiceCategory": "Compute", "BilledCost": "bad"},  # skipped before it is read
    {**GOOD, "ChargeCategory": "Credit", "BilledCost": "-1.00"},
    {**GOOD, "ChargeClass": "Correction"},
    {**GOOD, "SkuMeter": "Cached Input Tokens", "ChargeDescription": "cached"},
    {**GOOD, "SkuMeter": "Storage", "ChargeDescription": "GB-month", "SkuId": "x"},
    {**GOOD, "ChargeDescription": 'quoted "text", with a comma'},
    {**GOOD, "BilledCost": "1234567890123456"},  # beyond 1e15
    {**GOOD, "ProviderName": "", "BillingCurrency": "EUR"},
]


@pytest.mark.parametrize("all_services", [False, True])
@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_edge_cases_give_the_same_outcome_both_ways(tmp_path, all_services, bom, newline):
    path = write_csv(tmp_path / "edge.csv", EDGE_ROWS, bom=bom, newline=newline)
    bulk, slow = both_paths(path, all_services)
    assert bulk == slow
    assert len(bulk) == len(EDGE_ROWS)
    assert sum(1 for o in bulk if o["error"]) >= 8 and sum(1 for o in bulk if o["records"]) >= 20


def test_a_tags_cell_msgspec_refuses_is_read_as_json_loads_reads_it(tmp_path):
    """An escaped lone surrogate is JSON text to json.loads (the row-by-row path) and not to
    msgspec: the bulk path hands the cell to `_tags`, and both give the same record."""
    path = write_csv(tmp_path / "lone.csv", [{**GOOD, "Tags": '{"team": "\\ud800x"}'}])
    bulk, slow = both_paths(path)
    assert bulk == slow
    assert bulk[0]["records"][0]["tags"]["team"] == "\ud800x"
    assert focus._plain_tags('{"team": "\\ud800x"}', None, None, None) is None


def test_rows_of_one_billing_period_share_one_object(tmp_path):
    """Rows of different meters (each its own repeated-cells memo) in one billing period carry
    the same BillingPeriod object: the writer then adds it to its set once, not once a row."""
    rows = [GOOD, {**GOOD, "SkuMeter": "Output Tokens"}, {**GOOD, "SkuId": "sku-2"}]
    parsed = list(focus.parse(Source(write_csv(tmp_path / "periods.csv", rows)), Options()))
    first, *others = [p.billing_period for p in parsed]
    assert first is not None and first.account == "acct-1"
    assert all(other is first for other in others)


def test_a_file_without_optional_columns(tmp_path):
    """Columns a file lacks (no Tags, no ChargeClass, no SubAccount...) read as missing."""
    header = ["BilledCost", "BillingCurrency", "ChargePeriodStart", "ChargePeriodEnd",
              "ConsumedQuantity", "ConsumedUnit", "ServiceCategory", "SkuMeter"]  # fmt: skip
    path = write_csv(tmp_path / "narrow.csv", [GOOD, GOOD, {**GOOD, "BilledCost": ""}], header)
    bulk, slow = both_paths(path)
    assert bulk == slow
    assert bulk[0]["records"][0]["input_tokens"] == 1000
    assert bulk[2]["error"][2] == "BilledCost"


def test_a_file_without_a_cost_or_period_column_is_refused_row_by_row(tmp_path):
    header = ["BillingCurrency", "ServiceCategory", "ConsumedQuantity", "ConsumedUnit"]
    path = write_csv(tmp_path / "no-cost.csv", [GOOD], header)
    bulk, slow = both_paths(path)
    assert bulk == slow and bulk[0]["error"][2] == "BilledCost"


def test_short_and_long_rows_are_bad_rows_both_ways(tmp_path):
    path = write_csv(tmp_path / "ragged.csv", [GOOD, GOOD])
    text = path.read_text(encoding="utf-8")
    path.write_text(text + "1.0,acct-1\r\n" + ",".join(["x"] * 30) + "\r\n", encoding="utf-8")
    bulk, slow = both_paths(path)
    assert bulk == slow
    assert [o["error"] is not None for o in bulk] == [False, False, True, True]


def test_money_is_the_decimal_of_the_text(tmp_path):
    """The bulk path keeps every digit as written: the same Decimal text as `money()`."""
    costs = ["0.00000080000", "12", "-7.125", "0.000000000000000000000000000001", "999999999999999"]
    path = write_csv(tmp_path / "money.csv", [{**GOOD, "BilledCost": c} for c in costs])
    bulk, _ = both_paths(path)
    # str() of a Decimal keeps its exponent: 0.00000080000 and 8E-7 would differ.
    assert [o["records"][0]["billed_cost"] for o in bulk] == [str(Decimal(c)) for c in costs]


def test_tokcli_export_files_keep_the_row_by_row_path(tmp_path, monkeypatch):
    """Files carrying tokcli's `x_` columns never reach `_Bulk` (their keys and buckets are
    read from those columns)."""
    header = [*HEADER, "x_RecordKey", "x_InputTokens", "x_Source", "x_Model"]
    row = {**GOOD, "x_RecordKey": "abc", "x_InputTokens": "7", "x_Source": "openai-usage"}
    path = write_csv(tmp_path / "export.csv", [row], header)
    monkeypatch.setattr(focus, "_Bulk", None)  # would fail if used
    (parsed,) = focus.parse(Source(path), Options())
    assert parsed.records[0].record_key == "abc"
    assert parsed.records[0].input_tokens == 7


# --- in the store ---------------------------------------------------------------------------


def stored(store: Path) -> list[tuple]:
    conn = sqlite3.connect(store)
    try:
        usage = conn.execute(
            "SELECT record_key, source, period_start, period_end, provider, model, model_raw, "
            "service_tier, requests, input_tokens, cache_read_tokens, cache_write_5m_tokens, "
            "cache_write_1h_tokens, output_tokens, reasoning_tokens, billed_cost, currency, "
            "list_cost, charge_kind, (SELECT json_group_object(key, value) FROM "
            "(SELECT key, value FROM usage_tags t WHERE t.usage_id = u.id ORDER BY key)) "
            "FROM usage u ORDER BY record_key"
        ).fetchall()
        rollups = conn.execute("SELECT * FROM report_rollup ORDER BY 1, 2, 3, 4, 5, 6").fetchall()
    finally:
        conn.close()
    return usage + rollups


def import_json(cli, *args):
    result = cli("import", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return result.json()["files"][0]


FILES_FOR_STORE = [
    SAMPLES / "focus-ai" / "multi_model_usage.csv",
    SAMPLES / "focus-ai" / "ai_prompt_caching_a.csv",
    SAMPLES / "focus" / "focus_sample.csv",
]


@pytest.mark.parametrize("path", FILES_FOR_STORE, ids=lambda p: p.name)
def test_the_store_holds_the_same_rows_both_ways(cli, tmp_path, monkeypatch, path):
    fast, slow = tmp_path / "fast.db", tmp_path / "slow.db"
    for store in (fast, slow):
        if store == slow:
            slow_format = Format(focus.NAME, focus.FORMAT.title, row_by_row, focus.FORMAT.replace)
            monkeypatch.setattr(focus, "FORMAT", slow_format)
        import_json(cli, path, "--all-services", "--store", store)
    rows = stored(fast)
    assert rows == stored(slow)
    assert len(rows) >= 5


def test_a_store_filled_row_by_row_takes_a_bulk_reimport_as_duplicates(cli, tmp_path, monkeypatch):
    """Idempotent across the change: the record keys are the same, so a file imported by the
    old path adds nothing when the new one imports it again."""
    path = write_csv(tmp_path / "bill.csv", [r for r in EDGE_ROWS if "NaN" not in r.values()])
    store = tmp_path / "usage.db"
    original = focus.FORMAT
    monkeypatch.setattr(
        focus, "FORMAT", Format(focus.NAME, original.title, row_by_row, original.replace)
    )
    first = import_json(cli, path, "--skip-bad-rows", "--store", store)
    assert ROW_BY_ROW_CALLS[-1] == str(path)  # the old path did write the store
    before = stored(store)
    monkeypatch.setattr(focus, "FORMAT", original)
    again = import_json(cli, path, "--skip-bad-rows", "--store", store)
    assert first["inserted"] >= 20
    assert again["inserted"] == 0 and again["duplicates"] == first["inserted"]
    assert again["status"] == "unchanged"
    assert stored(store) == before


def test_reject_file_shows_the_row_by_its_header_names(cli, tmp_path):
    path = write_csv(tmp_path / "bill.csv", [GOOD, {**GOOD, "BilledCost": "twelve"}])
    rejects = tmp_path / "rejects.csv"
    import_json(cli, path, "--skip-bad-rows", "--rejects", rejects, "--store", tmp_path / "s.db")
    (reject,) = list(csv.DictReader(rejects.open(encoding="utf-8")))
    assert reject["line"] == "3" and reject["field"] == "BilledCost"
    assert json.loads(reject["row"])["BilledCost"] == "twelve"


def test_each_row_keeps_its_own_tags_across_imports(cli, tmp_path):
    """The usage ids the insert gives (no SELECT of them) are the ids the tag rows point at:
    every stored row carries the tag of its own line, over two imports into one store."""
    store = tmp_path / "usage.db"
    for part, day in ((1, "02"), (2, "03")):
        rows = [
            {**GOOD, "BilledCost": f"{part}{n}.5", "Tags": json.dumps({"line": f"{part}-{n}"}),
             "ChargePeriodStart": f"2025-09-{day}T00:00:00Z"}
            for n in range(30)
        ]  # fmt: skip
        import_json(cli, write_csv(tmp_path / f"part{part}.csv", rows), "--store", store)
    conn = sqlite3.connect(store)
    try:
        pairs = conn.execute(
            "SELECT u.billed_cost, t.value FROM usage u JOIN usage_tags t "
            "ON t.usage_id = u.id AND t.key = 'line'"
        ).fetchall()
    finally:
        conn.close()
    assert len(pairs) == 60
    assert all(cost == f"{line.replace('-', '')}.5" for cost, line in pairs)


# --- numbering identical rows in flat memory (fields.Occurrences) ---------------------------


def test_occurrences_number_keys_as_one_dict_would_across_spills(monkeypatch):
    """Past SPILL_AT keys the counts move to disk; the numbering stays that of a plain dict,
    for keys seen again after they moved (and for keys still in memory)."""
    import random

    from tokcli.importers import fields

    monkeypatch.setattr(fields, "SPILL_AT", 7)
    rng = random.Random(17)
    bases = [f"{rng.randrange(60):032x}" for _ in range(3000)]
    occurrences, counts, expected = fields.Occurrences(), {}, []
    for base in bases:
        n = counts.get(base, 0)
        counts[base] = n + 1
        expected.append(base if n == 0 else f"{base}#{n}")
    got = [occurrences.key(base) for base in bases]
    assert got == expected
    assert occurrences._disk is not None  # the keys did move to disk
    assert max(counts.values()) > 40  # and came back many times


def test_occurrences_number_keys_as_one_dict_would_when_the_bloom_filter_says_maybe(
    monkeypatch,
):
    """With a Bloom filter of 64 bits every key looks maybe-seen once keys are on disk: each
    is looked up in every run (found or not), and the numbering is still a plain dict's."""
    import random

    from tokcli.importers import fields
    from tokcli.store import scratch

    monkeypatch.setattr(fields, "SPILL_AT", 50)
    monkeypatch.setattr(fields, "BLOOM_BITS", 64)
    monkeypatch.setattr(scratch, "BLOCK_RECORDS", 4)  # many blocks a run, short last blocks
    rng = random.Random(5)
    bases = [f"{rng.randrange(400):032x}" for _ in range(4000)] + ["not hex", "", "é"] * 3
    occurrences, counts, expected = fields.Occurrences(), {}, []
    for base in bases:
        n = counts.get(base, 0)
        counts[base] = n + 1
        expected.append(base if n == 0 else f"{base}#{n}")
    assert [occurrences.key(base) for base in bases] == expected
    assert len(occurrences._disk._runs) > 50


def test_key_counts_give_each_key_its_latest_count_across_runs(monkeypatch):
    """store.scratch.KeyCounts against a dict: keys stored in several runs with growing counts,
    keys never stored (below, between and above a run's keys), runs of one record."""
    import random

    from tokcli.store import scratch

    monkeypatch.setattr(scratch, "BLOCK_RECORDS", 3)
    rng = random.Random(11)
    counts = scratch.KeyCounts()
    latest: dict[str, int] = {}
    for _ in range(40):
        size = rng.choice([1, 2, 3, 4, 7, 30])
        batch = {f"k{rng.randrange(150)}": rng.randrange(1, 2**40) for _ in range(size)}
        counts.add_run(batch.items())
        latest.update(batch)
    counts.add_run([])  # nothing to write: no run
    assert len(counts._runs) == 40
    for n in range(200):
        assert counts.get(f"k{n}") == latest.get(f"k{n}", 0)
    counts.close()


def test_key_counts_tell_apart_keys_that_spell_the_same_bytes():
    """A row key (32 lowercase hex digits) is stored as the 16 bytes it spells; any other key
    by its hash, so its uppercase twin, a spaced spelling and a key of digits only stay apart."""
    from tokcli.store import scratch

    row_key = "0123456789abcdef0123456789abcdef"
    twins = [
        row_key, row_key.upper(), "01 23456789abcdef0123456789abcde",
        "01234567890123456789012345678901", bytes.fromhex(row_key).decode("latin-1"),
    ]  # fmt: skip
    assert scratch._digest(row_key) == bytes.fromhex(row_key)
    assert len({scratch._digest(key) for key in twins}) == len(twins)
    counts = scratch.KeyCounts()
    counts.add_run([(key, n) for n, key in enumerate(twins, 1)])
    assert [counts.get(key) for key in twins] == [1, 2, 3, 4, 5]


def test_an_import_whose_keys_spill_to_disk_stores_the_same_keys(cli, tmp_path, monkeypatch):
    from tokcli.importers import fields

    rows = [GOOD, {**GOOD, "BilledCost": "2"}] * 6 + [GOOD]  # GOOD seven times, #0 to #6
    path = write_csv(tmp_path / "repeats.csv", rows)
    import_json(cli, path, "--store", tmp_path / "memory.db")
    monkeypatch.setattr(fields, "SPILL_AT", 2)
    import_json(cli, path, "--store", tmp_path / "spilled.db")
    keys = [row[0] for row in stored(tmp_path / "spilled.db")[:13]]
    assert stored(tmp_path / "spilled.db") == stored(tmp_path / "memory.db")
    assert sum("#" in key for key in keys) == 11  # 6 copies of GOOD, 5 of the other


def _plain_tags_by_json_loads(tags, service, sub_name, sub_id):
    """`focus._plain_tags` as it read a Tags cell with json.loads, before msgspec."""
    if tags is None or tags[:1] != "{":
        return None
    try:
        parsed = json.loads(tags)
    except ValueError:
        return None
    if type(parsed) is not dict or any(type(v) is not str for v in parsed.values()):
        return None
    texts = {name: value.strip() for name, value in parsed.items()}
    if focus.text_or_none(service):
        texts.setdefault("service", focus.text_or_none(service))
    sub_account = focus.text_or_none(sub_name) or focus.text_or_none(sub_id)
    if sub_account:
        texts.setdefault("sub_account", sub_account)
    return texts


_JSON_TEXTS = st.text(st.characters(codec="utf-8"), max_size=8) | st.sampled_from(
    ["", " x ", "\ud800", "\u0000", "a\tb", "\u007f"]
)
_VALUES = _JSON_TEXTS | st.integers() | st.none() | st.booleans() | st.floats(allow_nan=True)


@st.composite
def tags_cells(draw):
    """A Tags cell: a JSON object (names and values of any JSON type, some names repeated),
    written compact or spaced, ASCII-escaped or not, sometimes cut short or with text after."""
    names = draw(st.lists(_JSON_TEXTS, max_size=5))
    items = [(name, draw(_VALUES)) for name in names]
    if items and draw(st.booleans()):
        items.append((items[0][0], draw(_VALUES)))  # a repeated name
    ascii_only = draw(st.booleans())
    body = ", ".join(
        f"{json.dumps(n, ensure_ascii=ascii_only)}: {json.dumps(v, ensure_ascii=ascii_only)}"
        for n, v in items
    )
    cell = "{" + body + "}" + draw(st.sampled_from(["", " ", "\n", " x", "}"]))
    cut = draw(st.integers(0, len(cell)))
    return cell if draw(st.booleans()) else cell[:cut]


@settings(max_examples=400, deadline=None)
@given(tags_cells(), st.sampled_from([None, "", " Example AI "]), st.sampled_from([None, "s"]))
def test_plain_tags_read_each_cell_as_json_loads_did(cell, service, sub_name):
    """Whatever msgspec reads of a Tags cell is what json.loads read; a cell it leaves (None:
    a value that is no text, a surrogate) gets from `_tags`, the row-by-row reading, the
    tags the json.loads reading gave."""
    expected = _plain_tags_by_json_loads(cell, service, sub_name, "sub-1")
    got = focus._plain_tags(cell, service, sub_name, "sub-1")
    if got is not None:
        assert got == expected
    elif expected is not None:
        row = {"Tags": cell, "ServiceName": service, "SubAccountName": sub_name,
               "SubAccountId": "sub-1"}  # fmt: skip
        assert focus._tags(row, exported_by_tokcli=False) == expected


def test_plain_tags_take_most_cells_the_quick_way():
    """The property above is worth something only if msgspec reads the usual cells."""
    cells = ['{"team": "search", "env": "prod"}', '{ "owner" : " me " }', "{}"]
    assert [focus._plain_tags(c, None, None, None) for c in cells] == [
        {"team": "search", "env": "prod"},
        {"owner": "me"},
        {},
    ]
