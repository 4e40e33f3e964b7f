"""Multi-part billing exports (issue 13, point 1): a billing period is the union of its parts.

A period is replaced only by a complete newer set; a set not known to be complete only adds.
Expected totals are the sums of the rows the tests write, computed here, never tokcli's output.
"""

from __future__ import annotations

import json
from decimal import Decimal

from test_import_safety import ai_row, focus_csv, run
from test_import_support import (
    exact_decimals,  # noqa: F401  (autouse: 60-digit sums)
    money_total,
    store_dump,
    store_rows,
)


def write_parts(folder, costs_by_part, *, name="part-{:05d}.csv", first=1):
    """One FOCUS export for account acct-1, September 2025, split into parts."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, costs in enumerate(costs_by_part, start=first):
        rows = [ai_row(cost, day=f"2025-09-{10 + index:02d}", qty=str(1000 * (i + 1)))
                for i, cost in enumerate(costs)]  # fmt: skip
        paths.append(focus_csv(folder / name.format(index), rows))
    return paths


def expected(costs_by_part) -> Decimal:
    return sum((Decimal(c) for costs in costs_by_part for c in costs), Decimal(0))


def test_two_parts_of_one_export_import_as_one_set_not_one_replacing_the_other(cli, tmp_path):
    parts = [["4.00", "0.50"], ["100.00", "0.00"]]  # the issue's $104.50 in 4 rows
    paths = write_parts(tmp_path / "export", parts)
    store = tmp_path / "s.db"

    result = run(cli, store, *paths)

    assert result.exit_code == 0, result.stderr
    assert len(store_rows(store)) == 4
    assert money_total(store) == expected(parts) == Decimal("104.50")
    assert result.json()["totals"]["replaced"] == 0


def test_parts_imported_one_by_one_add_up_and_warn(cli, tmp_path):
    parts = [["4.00", "0.50"], ["100.00", "0.00"]]
    first, second = write_parts(tmp_path / "export", parts)
    store = tmp_path / "s.db"

    one = run(cli, store, first)
    two = run(cli, store, second)

    assert (one.exit_code, two.exit_code) == (0, 0)
    assert money_total(store) == expected(parts)
    assert "not known to be a complete export" in two.stderr
    assert two.json()["files"][0]["complete"] is False


def test_folder_then_same_folder_then_newer_complete_set_gives_the_newer_totals(cli, tmp_path):
    """Done-when of issue 13: exactly the newer set's totals, nothing of the old set left."""
    old = [["10.00", "1.00"], ["20.00", "2.00"], ["30.00"]]
    new = [["11.00", "1.10"], ["19.00"], ["33.00", "3.30"]]
    store = tmp_path / "s.db"
    write_parts(tmp_path / "old", old)
    write_parts(tmp_path / "new", new)

    first = run(cli, store, tmp_path / "old")
    assert first.exit_code == 0, first.stderr
    assert money_total(store) == expected(old)
    dump = store_dump(store)

    again = run(cli, store, tmp_path / "old")
    assert again.exit_code == 0, again.stderr
    assert store_dump(store) == dump

    newer = run(cli, store, tmp_path / "new")
    assert newer.exit_code == 0, newer.stderr
    assert money_total(store) == expected(new)
    assert len(store_rows(store)) == sum(len(p) for p in new)
    assert newer.json()["totals"]["replaced"] == sum(len(p) for p in old)


def test_a_set_missing_a_part_named_by_its_manifest_replaces_nothing(cli, tmp_path):
    old = [["10.00"], ["20.00"]]
    store = tmp_path / "s.db"
    write_parts(tmp_path / "old", old)
    assert run(cli, store, tmp_path / "old").exit_code == 0
    folder = tmp_path / "new"
    write_parts(folder, [["1.00"], ["2.00"]])
    manifest = {"dataFiles": [f"s3://bucket/new/part-{n:05d}.csv" for n in (1, 2, 3)]}
    (folder / "export-Manifest.json").write_text(json.dumps(manifest))

    result = run(cli, store, folder)

    assert result.exit_code == 0, result.stderr
    assert "part-00003.csv" in result.stderr
    # both kept: the incomplete set adds its rows and deletes nothing it does not restate
    assert money_total(store) == expected(old) + Decimal("3.00")


def test_a_complete_manifest_set_replaces_the_period(cli, tmp_path):
    store = tmp_path / "s.db"
    write_parts(tmp_path / "old", [["10.00"], ["20.00"]])
    assert run(cli, store, tmp_path / "old").exit_code == 0
    folder = tmp_path / "new"
    write_parts(folder, [["1.00"], ["2.00"]])
    names = [f"part-{n:05d}.csv" for n in (1, 2)]
    (folder / "Manifest.json").write_text(json.dumps({"blobs": [{"blobName": n} for n in names]}))

    result = run(cli, store, folder)

    assert result.exit_code == 0, result.stderr
    assert money_total(store) == Decimal("3.00")


def test_part_of_key_joins_files_with_any_names_across_runs(cli, tmp_path):
    store = tmp_path / "s.db"
    a = focus_csv(tmp_path / "a.csv", [ai_row("4.00", day="2025-09-03")])
    b = focus_csv(tmp_path / "b.csv", [ai_row("100.00", day="2025-09-04")])

    one = run(cli, store, a, "--part-of", "sep-export")
    two = run(cli, store, b, "--part-of", "sep-export")

    assert (one.exit_code, two.exit_code) == (0, 0), two.stderr
    assert money_total(store) == Decimal("104.00")
    # without --part-of, b is a re-issued export of the same period and replaces a
    other = tmp_path / "other.db"
    run(cli, other, a)
    run(cli, other, b)
    assert money_total(other) == Decimal("100.00")


def test_a_gap_in_part_numbers_makes_the_set_incomplete(cli, tmp_path):
    store = tmp_path / "s.db"
    write_parts(tmp_path / "old", [["10.00"]])
    assert run(cli, store, tmp_path / "old").exit_code == 0
    folder = tmp_path / "new"
    write_parts(folder, [["1.00"]], first=2)  # part 2 alone: part 1 never arrived

    result = run(cli, store, folder)

    assert result.exit_code == 0, result.stderr
    assert "do not run from 0 or 1" in result.stderr
    assert money_total(store) == Decimal("11.00")


def test_an_identical_line_item_in_two_parts_is_two_rows(cli, tmp_path):
    """Two parts may each hold a line item with the same values: both are charges. Keys number
    identical rows across the whole set, so neither is taken for a duplicate of the other."""
    folder = tmp_path / "export"
    folder.mkdir()
    same = ai_row("7.00")
    focus_csv(folder / "part-00001.csv", [same, ai_row("1.00", day="2025-09-05")])
    focus_csv(folder / "part-00002.csv", [same])
    store = tmp_path / "s.db"

    first = run(cli, store, folder)
    again = run(cli, store, folder)

    assert first.exit_code == 0, first.stderr
    assert len(store_rows(store)) == 3
    assert money_total(store) == Decimal("15.00")
    assert again.json()["totals"]["inserted"] == 0


def test_cur2_layout_manifest_in_the_metadata_twin_folder(cli, tmp_path):
    """CUR 2.0 on S3: export/data/BILLING_PERIOD=…/name-0000N.csv.gz, manifest in
    export/metadata/BILLING_PERIOD=…/name-Manifest.json."""
    period = "BILLING_PERIOD=2025-09"
    store = tmp_path / "s.db"
    old = tmp_path / "old" / "data" / period
    write_parts(old, [["10.00"], ["20.00"]], name="ex-{:05d}.csv")
    assert run(cli, store, tmp_path / "old").exit_code == 0
    root = tmp_path / "new"
    write_parts(root / "data" / period, [["1.00"], ["2.00"]], name="ex-{:05d}.csv")
    (root / "metadata" / period).mkdir(parents=True)
    keys = [f"s3://b/p/ex/data/{period}/ex-{n:05d}.csv" for n in (1, 2, 3)]
    (root / "metadata" / period / "ex-Manifest.json").write_text(json.dumps({"dataFiles": keys}))

    incomplete = run(cli, store, root)

    assert incomplete.exit_code == 0, incomplete.stderr
    assert "ex-00003.csv" in incomplete.stderr
    assert money_total(store) == Decimal("33.00")  # old kept, new added: nothing deleted

    keys.pop()
    (root / "metadata" / period / "ex-Manifest.json").write_text(json.dumps({"dataFiles": keys}))
    complete = run(cli, store, root)
    assert complete.exit_code == 0, complete.stderr
    assert money_total(store) == Decimal("3.00")


def test_legacy_cur_manifest_names_its_assembly_parts_not_older_assemblies(cli, tmp_path):
    """Legacy CUR: PERIOD/name-Manifest.json lists PERIOD/ASSEMBLY/name-N.csv.gz; an older
    assembly folder of the same period holds files with the same names."""
    period = tmp_path / "cur" / "20250901-20251001"
    write_parts(period / "assembly-old", [["50.00"], ["60.00"]], name="cur-{}.csv")
    write_parts(period / "assembly-new", [["5.00"], ["6.00"]], name="cur-{}.csv")
    keys = [f"p/cur/20250901-20251001/assembly-new/cur-{n}.csv" for n in (1, 2)]
    (period / "cur-Manifest.json").write_text(json.dumps({"reportKeys": keys}))
    store = tmp_path / "s.db"

    result = run(
        cli, store, period / "assembly-new" / "cur-1.csv", period / "assembly-new" / "cur-2.csv"
    )

    assert result.exit_code == 0, result.stderr
    assert [len(f["parts"]) for f in result.json()["files"]] == [2]
    assert money_total(store) == Decimal("11.00")


def test_azure_partitioned_names_and_dated_names(cli, tmp_path):
    """Azure partitions `part_0_0001.csv`, `part_1_0001.csv` are one complete set; a file named
    with a date stamp (`usage-20250901.csv`) is not a part: a re-issued copy replaces it."""
    store = tmp_path / "s.db"
    write_parts(tmp_path / "azure", [["1.00"], ["2.00"]], name="part_{}_0001.csv", first=0)
    result = run(cli, store, tmp_path / "azure")
    assert result.exit_code == 0, result.stderr
    assert [f["complete"] for f in result.json()["files"]] == [True]
    assert money_total(store) == Decimal("3.00")

    dated = tmp_path / "dated"
    other = tmp_path / "dated.db"
    run(cli, other, focus_csv(tmp_path / "usage-20250901.csv", [ai_row("5.00")]))
    dated.mkdir()
    reissued = focus_csv(dated / "usage-20250901.csv", [ai_row("4.00", day="2025-09-04")])
    result = run(cli, other, reissued)
    assert result.exit_code == 0, result.stderr
    assert money_total(other) == Decimal("4.00")


def _usage_page(results_by_day):
    start = 1_756_684_800  # 2025-09-01T00:00:00Z
    return {
        "object": "page",
        "has_more": False,
        "next_page": None,
        "data": [
            {
                "object": "bucket",
                "start_time": start + d * 86_400,
                "end_time": start + (d + 1) * 86_400,
                "results": [
                    {
                        "object": "organization.usage.completions.result",
                        "input_tokens": 100,
                        "output_tokens": output,
                        "num_model_requests": 1,
                        "model": "gpt-4o-mini-2024-07-18",
                        "project_id": project,
                    }
                    for project, output in results
                ],
            }
            for d, results in enumerate(results_by_day)
        ],
    }


def test_an_api_file_covering_part_of_a_window_keeps_what_it_does_not_restate(cli, tmp_path):
    """A usage export filtered to one project covers the window only partly: it replaces that
    project's rows (newer figures) and keeps the other project's, with a warning."""
    from test_import_support import token_totals

    store = tmp_path / "s.db"
    both = tmp_path / "both.json"
    both.write_text(json.dumps(_usage_page([[("proj_a", 10), ("proj_b", 30)]] * 2)))
    only_a = tmp_path / "only_a.json"
    only_a.write_text(json.dumps(_usage_page([[("proj_a", 11)]] * 2)))
    assert run(cli, store, both).exit_code == 0

    partial = run(cli, store, only_a)

    assert partial.exit_code == 0, partial.stderr
    assert partial.json()["files"][0]["replaced"] == 2
    assert token_totals(store)["output_tokens"] == 2 * 11 + 2 * 30
    assert "not restated by it and were kept" in partial.stderr
    assert "--replace-window" in partial.stderr

    on_purpose = run(cli, store, only_a, "--replace-window")

    assert on_purpose.exit_code == 0, on_purpose.stderr
    assert token_totals(store)["output_tokens"] == 2 * 11


def test_planning_a_set_stats_only_the_entries_named_like_manifests_or_parts(tmp_path, monkeypatch):
    """A file imported from a crowded folder (Downloads) is grouped by the names around it: only
    a name that could be a manifest or a part of its export is looked at on disk (a stat each)."""
    from pathlib import Path

    from tokcli.importers.part_sets import group_parts

    downloads = tmp_path / "Downloads"
    paths = write_parts(downloads / "export", [["4.00"], ["1.00"]])
    for n in range(300):  # the crowd, beside the parts and in the folder above them
        (downloads / f"photo-{n}.jpg").write_bytes(b"x")
        (downloads / "export" / f"notes-{n}.txt").write_text("x")
    (downloads / "export" / "export-Manifest.json").write_text(json.dumps({"reportKeys": []}))
    looked_at: list[str] = []
    is_file = Path.is_file
    monkeypatch.setattr(Path, "is_file", lambda p: looked_at.append(p.name) or is_file(p))
    planned = group_parts(paths, None)
    assert [p.paths for p in planned] == [paths] and planned[0].complete
    assert looked_at and not [name for name in looked_at if name.startswith(("photo", "notes"))]
