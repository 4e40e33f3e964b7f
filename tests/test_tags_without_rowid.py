"""SQLite keeps the usage rows' tags in one B-tree (migration m0019, issue 17).

The upgrade copies every tag row of a real FOCUS export (1,000 rows, 5,215 tags under 32 keys)
into the new table: the same rows, the same reports by tag keys, and what the old table did on a
delete (the tags go with their row, the day is marked for its rebuild) still done.
"""

from __future__ import annotations

import sqlite3

import pytest

from conftest import SAMPLES
from tokcli.reporting.query import Selection, fetch
from tokcli.reporting.rollups import refresh
from tokcli.store import connect, schema_version, transaction

pytestmark = pytest.mark.sqlite_only(reason="SQLite's table layout (rowid or not)")

FOCUS = SAMPLES / "focus" / "focus_sample.csv"
USAGE_COPIED = "INSERT INTO usage SELECT * FROM imported.usage"
TAGS_COPIED = "INSERT INTO usage_tags SELECT * FROM imported.usage_tags"
DAYS_MARKED = (
    "INSERT OR IGNORE INTO report_dirty_days SELECT substr(period_start, 1, 10) FROM usage"
)


def tag_rows(conn) -> list[tuple[int, str, str]]:
    rows = conn.execute("SELECT usage_id, key, value FROM usage_tags ORDER BY usage_id, key")
    return [tuple(row) for row in rows]


def canonical(rows) -> list[tuple]:
    # An untagged group holds None, which does not compare with text: sorted by repr.
    made = [(f.group, f.day, f.model, f.tier, f.currency, f.totals.rollup_values()) for f in rows]
    return sorted(made, key=repr)


def table_sql(conn, name: str) -> str:
    return conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()[0]


@pytest.fixture
def upgraded(cli, tmp_path):
    """A store at schema 18 holding the FOCUS sample's rows and tags, then upgraded; with the
    tag rows as the old table held them and the report by two tag keys it gave."""
    imported = tmp_path / "imported.db"
    result = cli("import", FOCUS, "--all-services", "--store", imported, "-f", "json")
    assert result.exit_code == 0 and result.json()["totals"]["inserted"] == 1000
    old_path = tmp_path / "old.db"
    old = connect(old_path, migrate_to=18)
    assert "WITHOUT ROWID" not in table_sql(old, "usage_tags")
    old.execute("ATTACH DATABASE ? AS imported", (str(imported),))
    with transaction(old):
        old.execute("INSERT INTO imports SELECT * FROM imported.imports")
        old.execute(USAGE_COPIED)
        old.execute(TAGS_COPIED)
        old.execute(DAYS_MARKED)  # rows copied in SQL mark no day: the rebuild below sums them
    old.execute("DETACH DATABASE imported")
    refresh(old)
    before = tag_rows(old)
    selection = Selection(group_by=("environment", "application"))
    report_before = canonical(fetch(old, selection))
    assert report_before == canonical(fetch(old, selection, use_rollups=False))
    assert len(report_before) > 100
    old.close()
    conn = connect(old_path)
    yield conn, before, selection, report_before
    conn.close()


def test_the_upgrade_keeps_every_tag_row(upgraded):
    conn, before, _, _ = upgraded
    assert schema_version(conn) >= 19
    assert "WITHOUT ROWID" in table_sql(conn, "usage_tags")
    assert tag_rows(conn) == before
    assert len(before) == 5215 and len({key for _, key, _ in before}) == 32


def test_reports_by_tag_keys_are_unchanged(upgraded):
    conn, _, selection, report_before = upgraded
    refresh(conn)
    assert canonical(fetch(conn, selection)) == report_before
    assert canonical(fetch(conn, selection, use_rollups=False)) == report_before


def test_the_lookup_index_and_the_triggers_are_back(upgraded):
    conn, _, _, _ = upgraded
    plan = " ".join(
        str(row[-1])
        for row in conn.execute(
            "EXPLAIN QUERY PLAN SELECT usage_id FROM usage_tags WHERE key = 'env' AND value = 'x'"
        )
    )
    assert "usage_tags_lookup" in plan
    triggers = {
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'usage_tags'"
        )
    }
    assert triggers == {"report_tags_deleted", "report_tags_updated"}


def test_a_deleted_row_takes_its_tags_and_marks_its_day(upgraded):
    conn, before, _, _ = upgraded
    usage_id = before[0][0]
    day = conn.execute(
        "SELECT substr(period_start, 1, 10) FROM usage WHERE id = ?", (usage_id,)
    ).fetchone()[0]
    refresh(conn)
    assert conn.execute("SELECT COUNT(*) FROM report_dirty_days").fetchone()[0] == 0
    with transaction(conn):
        conn.execute("DELETE FROM usage WHERE id = ?", (usage_id,))
    left = conn.execute("SELECT COUNT(*) FROM usage_tags WHERE usage_id = ?", (usage_id,))
    assert left.fetchone()[0] == 0
    dirty = [row[0] for row in conn.execute("SELECT day FROM report_dirty_days")]
    assert dirty == [day]


def test_a_tag_for_a_row_that_does_not_exist_is_refused(upgraded):
    conn, _, _, _ = upgraded
    with pytest.raises(sqlite3.IntegrityError), transaction(conn):
        conn.execute("INSERT INTO usage_tags VALUES (999999, 'team', 'x')")


def test_a_second_tag_of_the_same_key_on_a_row_is_refused(upgraded):
    conn, before, _, _ = upgraded
    usage_id, key, _ = before[0]
    with pytest.raises(sqlite3.IntegrityError), transaction(conn):
        conn.execute("INSERT INTO usage_tags VALUES (?, ?, 'another')", (usage_id, key))
